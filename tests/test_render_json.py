from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from escape_guard import __version__
from escape_guard.errors import EscapeGuardError
from escape_guard.model import Kind, Report, Revision, Status
from escape_guard.render.json import load_report, render
from tests.factories import GRAB_EXPLANATION, finding, mixed_report, report

DOC = Path(__file__).resolve().parent.parent / "docs" / "json-report.md"


def canonical(r: Report) -> Report:
    """Findings in the order load_report returns them: by status list, then position."""
    order = [
        Status.NEW,
        Status.FIXED,
        Status.INDIRECT,
        Status.ACCEPTED,
        Status.UNCHANGED,
        Status.IGNORED,
    ]
    rank = {s: i for i, s in enumerate(order)}
    findings = sorted(
        r.findings,
        key=lambda f: (
            rank[f.status],
            f.record.path,
            f.record.line,
            f.record.column,
            f.record.message,
        ),
    )
    return r._replace(findings=tuple(findings))


def doc_example() -> Report:
    """The report whose JSON docs/json-report.md shows."""
    return report(
        finding(
            source="v := 1",
            line=12,
            column=2,
            path="app/main.go",
            explanation=(
                "flow: {heap} ← &v:",
                "  from &v (address-of) at app/main.go:13:12",
                "  from sinkInt = &v (assign) at app/main.go:13:10",
            ),
        ),
        finding(
            status=Status.FIXED,
            path="lib/old.go",
            line=7,
            column=9,
            kind=Kind.ESCAPE,
            expression="&T{...}",
            function="NewT",
            source="return &T{}",
        ),
        finding(
            status=Status.ACCEPTED,
            path="app/cache.go",
            line=3,
            column=12,
            kind=Kind.ESCAPE,
            expression="make([]byte, n)",
            function="newCache",
            reason="sized by config",
            source="buf := make([]byte, n) //escape-guard:ignore",
        ),
        base=Revision("main", "9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912"),
        head=Revision("feature", "4b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"),
        merge_base="9f2c1e0a7b3d4c5e6f708192a3b4c5d6e7f80912",
        timings=(("resolve revisions", 0.04), ("build", 2.31), ("compare", 0.01)),
    )


def test_contract_top_level_in_fixed_order() -> None:
    data = json.loads(render(mixed_report()))
    assert list(data) == [
        "version",
        "tool",
        "base",
        "head",
        "merge_base",
        "go_version",
        "packages",
        "new",
        "fixed",
        "indirect",
        "accepted",
        "unchanged",
        "ignored",
        "indirect_fixed",
        "summary",
        "timings",
        "notes",
    ]
    assert data["version"] == 1
    assert data["base"] == {"ref": "main", "sha": "1" * 40}
    assert data["head"] == {"ref": "feature", "sha": "2" * 40}
    assert data["merge_base"] == "3" * 40
    assert data["go_version"] == "go1.27.3"
    assert data["packages"] == ["./..."]
    assert data["summary"] == {
        "new": 2,
        "fixed": 1,
        "indirect": 1,
        "accepted": 1,
        "unchanged": 1,
        "ignored": 0,
        "indirect_fixed": 0,
    }
    assert data["timings"] == {"build": 1.5, "compare": 0.25}


def test_finding_fields() -> None:
    data = json.loads(render(mixed_report()))
    moved, escape = data["new"]
    assert moved == {
        "path": "app/main.go",
        "line": 29,
        "column": 2,
        "kind": "moved",
        "expression": "v",
        "function": "grab",
        "message": "moved to heap: v",
        "package": "example.com/app",
        "in_repo": True,
        "explanation": list(GRAB_EXPLANATION),
        "source": "sinkInt = &v",
    }
    assert escape["kind"] == "escape"
    assert "explanation" not in escape  # only when available
    assert "reason" not in escape  # accepted (and ignored) only
    assert data["accepted"][0]["reason"] == "sized by config"
    no_source = json.loads(render(report(finding(source=""))))["new"][0]
    assert "source" not in no_source


def test_accepted_always_carries_a_reason() -> None:
    data = json.loads(render(report(finding(status=Status.ACCEPTED, reason=""))))
    assert data["accepted"][0]["reason"] == ""


def test_deterministic_whatever_the_finding_order() -> None:
    r = mixed_report()
    shuffled = list(r.findings)
    random.Random(7).shuffle(shuffled)
    assert render(r._replace(findings=tuple(shuffled))) == render(r)


@pytest.mark.parametrize("make", [mixed_report, doc_example, report])
def test_round_trip_is_lossless(make: object) -> None:
    original = make()  # type: ignore[operator]
    text = render(original)
    loaded = load_report(text)
    assert loaded == canonical(original)
    assert render(loaded) == text


def test_round_trip_keeps_odd_values() -> None:
    odd = report(
        finding(
            path="",
            line=1,
            column=1,
            function="",
            package="",
            in_repo=False,
            expression="",
            message="weird \u202e `x` <b>",
            source="",
            reason="",
        ),
        finding(status=Status.IGNORED, reason="vendor/**", path="vendor/x.go"),
        go_version="",
        packages=(),
        timings=(("build", 3),),
        notes=("a note", "ünïcode ✓"),
        head=Revision("working tree", "abc"),
    )
    loaded = load_report(render(odd))
    assert loaded == canonical(odd)._replace(timings=(("build", 3.0),))


def test_reader_ignores_unknown_keys_and_missing_optional_lists() -> None:
    data = json.loads(render(mixed_report()))
    data["future"] = {"anything": 1}
    data["new"][0]["severity"] = "high"
    for key in ("unchanged", "ignored", "notes", "timings", "packages", "go_version"):
        del data[key]
    loaded = load_report(json.dumps(data))
    assert len(loaded.new) == 2 and loaded.notes == () and loaded.timings == ()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=2), "unsupported version 2"),
        (lambda d: d.pop("head"), "head: expected an object"),
        (lambda d: d["new"][0].update(kind="leak"), r"new\[0\]: unknown kind 'leak'"),
        (lambda d: d["new"][0].update(line="29"), r"new\[0\]\.line: expected an integer"),
        (lambda d: d.update(fixed={}), "fixed: expected a list"),
        (lambda d: d.update(timings={"build": "fast"}), "timings.build: expected seconds"),
    ],
)
def test_reader_rejects_what_it_cannot_trust(mutate: object, message: str) -> None:
    data = json.loads(render(mixed_report()))
    mutate(data)  # type: ignore[operator]
    with pytest.raises(EscapeGuardError, match=message):
        load_report(json.dumps(data))


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]"])
def test_reader_rejects_non_reports(text: str) -> None:
    with pytest.raises(EscapeGuardError, match="not an escape-guard JSON report"):
        load_report(text)


def test_documented_example_is_what_the_renderer_writes() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/json-report.md has no json example"
    # The example shows version 0.1.0 of the tool; the rest must match byte for byte.
    written = render(doc_example()).replace(f'"version": "{__version__}"', '"version": "0.1.0"')
    assert blocks[0] == written
    assert load_report(blocks[0]) == canonical(doc_example())
    assert "render(report)" in DOC.read_text(encoding="utf-8")


def test_gone_from_unchanged_lines_round_trips_apart_from_fixed() -> None:
    gone = finding(status=Status.INDIRECT_FIXED, path="a.go", line=8, expression="&Buf{...}")
    original = report(finding(status=Status.FIXED), gone)
    data = json.loads(render(original))
    assert (data["summary"]["fixed"], data["summary"]["indirect_fixed"]) == (1, 1)
    assert [f["line"] for f in data["indirect_fixed"]] == [8]
    assert load_report(render(original)).indirect_fixed == [gone]


def test_the_working_tree_head_says_what_it_is_on_and_reads_back() -> None:
    tree = Revision("working tree", "4" * 40, on="2" * 40)
    r = report(finding(), head=tree)
    data = json.loads(render(r))
    assert data["head"] == {"ref": "working tree", "sha": "4" * 40, "on": "2" * 40}
    assert load_report(render(r)).head == tree
    assert "on" not in json.loads(render(report(finding())))["head"]
