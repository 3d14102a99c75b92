"""The history corpus (``bench/corpus.py``): the comparison replayed on real changes, and the
reference classifier it is measured against.

Each step of the standard library's history (go1.24 → go1.25 → go1.26 → go1.27, 22
packages) is kept in ``tests/corpus/inputs/`` as the records escape-guard compared, the diff
and the source files attribution reads. Replaying them through ``compare`` and
``attribute`` must give the findings ``tests/corpus/expected.json`` holds, which the script
wrote and which ``tests/corpus/DISAGREEMENTS.md`` measures against the reference.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from escape_guard.builds.checkout import Tree
from escape_guard.diffmap import parse_diff
from escape_guard.judgement.compare import compare
from escape_guard.judgement.verdict import attribute
from escape_guard.model import EscapeRecord, Kind, Status
from escape_guard.records.normalize import identity
from escape_guard.sources import SourceCache
from tests.corpus import reference

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
STATUSES = {Status.NEW, Status.FIXED, Status.INDIRECT, Status.INDIRECT_FIXED}


def _record(row: list[Any]) -> EscapeRecord:
    path, line, column, kind, expression, function, package, in_repo, message = row
    if not message:
        message = (
            f"moved to heap: {expression}" if kind == "moved" else f"{expression} escapes to heap"
        )
    return EscapeRecord(
        path, line, column, Kind(kind), expression, message, function, package, (), in_repo
    )


def _sources(root: Path, files: dict[str, list[str]]) -> SourceCache:
    for path, lines in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return SourceCache(Tree(str(root)))


@pytest.mark.parametrize("pair", EXPECTED["pairs"], ids=lambda p: f"{p['base']}-{p['head']}")
def test_the_comparison_on_the_standard_library_history(
    tmp_path: Path, pair: dict[str, Any]
) -> None:
    name = f"{pair['base']}-{pair['head']}.json.gz"
    inputs = json.loads(gzip.decompress((CORPUS / "inputs" / name).read_bytes()))
    base = [_record(row) for row in inputs["base"]]
    head = [_record(row) for row in inputs["head"]]
    linemap = parse_diff(inputs["diff"])
    head_sources = _sources(tmp_path / "head", inputs["sources"]["head"])
    base_sources = _sources(tmp_path / "base", inputs["sources"]["base"])

    findings = compare(base, head, linemap, key=identity)
    findings = [attribute(f, linemap, head_sources, base_sources) for f in findings]

    rows = sorted(
        [f.status.value, f.record.path, f.record.line, f.record.column, f.record.kind.value,
         f.record.expression]
        for f in findings
        if f.status in STATUSES
    )  # fmt: skip
    assert rows == pair["product"]


def test_every_disagreement_is_judged() -> None:
    judged = (CORPUS / "DISAGREEMENTS.md").read_text(encoding="utf-8")
    for pair in EXPECTED["pairs"]:
        for item in pair["disagreements"]:
            assert json.dumps(item["key"], ensure_ascii=False) in judged, item


# --- the reference classifier on cases small enough to check by eye --------------------------

BASE_GO = """package p

func F() {
	a := 1
	b := 2
}

func G() {
	c := 3
}
"""


def _classify(
    base: list[reference.Record], head: list[reference.Record], diff: str, head_text: str
) -> Counter[tuple[object, ...]]:
    files = {"base": BASE_GO.splitlines(), "head": head_text.splitlines()}
    return reference.classify(
        base, head, diff, lambda _path: files["base"], lambda _path: files["head"]
    )


def _rec(
    line: int, kind: str = "moved", expression: str = "a", column: int = 2
) -> reference.Record:
    return reference.Record("p/p.go", line, column, kind, expression)


EDIT_LINE_5 = """diff --git a/p/p.go b/p/p.go
--- a/p/p.go
+++ b/p/p.go
@@ -5 +5 @@ func F() {
-	b := 2
+	b := 2 + a
"""
INSERT_AFTER_2 = """diff --git a/p/p.go b/p/p.go
--- a/p/p.go
+++ b/p/p.go
@@ -2,0 +3,2 @@ package p
+// x
+
"""


def test_reference_new_and_fixed_count_per_function_on_changed_lines() -> None:
    head_text = BASE_GO.replace("b := 2", "b := 2 + a")
    assert _classify([_rec(5, expression="b")], [], EDIT_LINE_5, head_text) == {
        ("fixed", "p", "F", "moved", "b"): 1
    }
    assert _classify([], [_rec(5, expression="b")], EDIT_LINE_5, head_text) == {
        ("new", "p", "F", "moved", "b"): 1
    }
    assert (
        _classify([_rec(5, expression="b")], [_rec(5, expression="b")], EDIT_LINE_5, head_text)
        == {}
    )


def test_reference_compares_kept_lines_by_position_and_kind() -> None:
    head_text = BASE_GO.replace("package p\n", "package p\n// x\n\n")
    renamed = [_rec(6, "escape", "~r0")]  # line 4 moved down by 2, another name
    assert _classify([_rec(4, "escape", "F()")], renamed, INSERT_AFTER_2, head_text) == {}
    assert _classify([_rec(4)], [], INSERT_AFTER_2, head_text) == {
        ("indirect-fixed", "p/p.go", 4, "moved"): 1
    }
    assert _classify([], [_rec(11)], INSERT_AFTER_2, head_text) == {
        ("indirect", "p/p.go", 11, "moved"): 1
    }


def test_reference_reads_the_compiler_output_plainly() -> None:
    output = "\n".join(
        [
            "# example.com/std/p",
            "p/p.go:4:2: moved to heap: a",
            "p/p.go:4:2: moved to heap: a",  # repeated verbatim: one record
            "./p/p.go:5:7: &T{...} escapes to heap",
            "p/p.go:5:7: &T{...} does not escape",
            "/x/go/src/slices/slices.go:9:3: append escapes to heap",
            "<autogenerated>:1: p escapes to heap",
        ]
    )
    assert reference.parse(output) == [
        reference.Record("p/p.go", 4, 2, "moved", "a"),
        reference.Record("p/p.go", 5, 7, "escape", "&T{...}"),
        reference.Record("$GOROOT/slices/slices.go", 9, 3, "escape", "append"),
        reference.Record("<autogenerated>", 1, 0, "escape", "p"),
    ]
