"""Attribution of escapes at unchanged declarations, and accept/ignore verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.builds.checkout import Tree
from escape_guard.config import Accept, Config
from escape_guard.diffmap import parse_diff
from escape_guard.judgement.verdict import attribute, verdict
from escape_guard.model import Kind, Status
from escape_guard.sources import SourceCache
from tests.factories import finding, record

SOURCE = """package m

var sink *int

func Sum(xs []int) int {
	s := 0
	if len(xs) > 3 {
		sink = &s
	}
	return s
}

func Other() int {
	t := 1 //escape-guard:ignore measured
	return t
}
"""
# Lines 7-9 of SOURCE were added.
DIFF = """diff --git a/m.go b/m.go
--- a/m.go
+++ b/m.go
@@ -6,0 +7,3 @@ func Sum(xs []int) int {
+	if len(xs) > 3 {
+		sink = &s
+	}
"""


@pytest.fixture
def head(tmp_path: Path) -> SourceCache:
    (tmp_path / "m.go").write_text(SOURCE)
    return SourceCache(Tree(str(tmp_path)))


def _indirect(**fields: object) -> object:
    base = {"path": "m.go", "line": 6, "kind": Kind.MOVED, "expression": "s", "function": "Sum"}
    return finding(record(**{**base, **fields}), status=Status.INDIRECT)  # type: ignore[arg-type]


def test_variable_named_on_an_added_line_makes_it_new(head: SourceCache) -> None:
    result = attribute(_indirect(), parse_diff(DIFF), head)  # type: ignore[arg-type]
    assert (result.status, result.anchor) == (Status.NEW, 8)


def test_flow_explanation_decides_when_present(head: SourceCache) -> None:
    flow = ("flow: {heap} ← &s:", "  from &s (address-of) at m.go:8:10")
    assert attribute(_indirect(explanation=flow), parse_diff(DIFF), head).anchor == 8  # type: ignore[arg-type]
    elsewhere = ("flow: {heap} ← &s:", "  from &s (address-of) at other.go:8:10")
    result = attribute(_indirect(explanation=elsewhere), parse_diff(DIFF), head)  # type: ignore[arg-type]
    assert result.status is Status.INDIRECT


def test_no_added_line_in_the_function_stays_indirect(head: SourceCache) -> None:
    result = attribute(
        _indirect(line=14, expression="t", function="Other"),  # type: ignore[arg-type]
        parse_diff(DIFF),
        head,
    )
    assert result.status is Status.INDIRECT


def test_suppression_comment_then_config(head: SourceCache) -> None:
    new = finding(record(path="m.go", line=14, expression="t", function="Other"))
    assert verdict(new, Config(), head, head).status is Status.ACCEPTED
    assert verdict(new, Config(), head, head).reason == "measured"
    other = finding(record(path="m.go", line=6, expression="s", function="Sum"))
    config = Config(accept=(Accept(path="*.go", function="Sum", reason="ok"),))
    assert (
        verdict(other, config, head, head).status,
        verdict(other, config, head, head).reason,
    ) == (Status.ACCEPTED, "ok")
    assert verdict(other, Config(ignore=("m.go",)), head, head).status is Status.IGNORED
    assert verdict(other, Config(), head, head).source == "s := 0"


# The reverse change: lines 7-9 of SOURCE (the base) were removed.
REMOVAL = """diff --git a/m.go b/m.go
--- a/m.go
+++ b/m.go
@@ -7,3 +6,0 @@ func Sum(xs []int) int {
-	if len(xs) > 3 {
-		sink = &s
-	}
"""


def _gone(**fields: object) -> object:
    base = {"path": "m.go", "line": 6, "kind": Kind.MOVED, "expression": "s", "function": "Sum"}
    return finding(record(**{**base, **fields}), status=Status.INDIRECT_FIXED)  # type: ignore[arg-type]


def test_variable_named_on_a_removed_line_was_fixed(head: SourceCache) -> None:
    """``head`` holds SOURCE, which is the base here."""
    linemap = parse_diff(REMOVAL)
    result = attribute(_gone(), linemap, head, head)  # type: ignore[arg-type]
    assert (result.status, result.anchor) == (Status.FIXED, 0)


def test_gone_without_a_removed_line_naming_it_stays_apart(head: SourceCache) -> None:
    linemap = parse_diff(REMOVAL)
    other = _gone(line=14, expression="t", function="Other")
    assert attribute(other, linemap, head, head).status is Status.INDIRECT_FIXED  # type: ignore[arg-type]
    assert attribute(_gone(), linemap, head).status is Status.INDIRECT_FIXED  # type: ignore[arg-type]
