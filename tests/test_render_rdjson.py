"""reviewdog's rdjson, validated against its JSON schema (tests/fixtures/rdjson/README.md)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from escape_guard.model import Kind, Report, Status
from escape_guard.render import sarif
from escape_guard.render.rdjson import render
from tests import schemas
from tests.conftest import ROOT
from tests.factories import (
    GRAB_EXPLANATION,
    edge_reports,
    finding,
    mixed_report,
    off_lines_report,
    report,
)
from tests.schemas import errors

SCHEMA_PATH = schemas.FIXTURES / "rdjson" / "DiagnosticResult.json"


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """SCHEMA refusing the properties it does not define (as published it allows any)."""
    strict = copy.deepcopy(schema)
    for definition in strict["definitions"].values():
        definition["additionalProperties"] = False
    return strict


@pytest.fixture(scope="module", params=["published", "strict"])
def validator(request: pytest.FixtureRequest) -> Any:
    schema = schemas.load(SCHEMA_PATH)
    return schemas.validator(schema if request.param == "published" else _strict(schema))


def rdjson(r: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(r))
    return data


def positions(data: dict[str, Any]) -> list[tuple[str, dict[str, int], str, str]]:
    return [
        (d["location"]["path"], d["location"]["range"]["start"], d["severity"], d["code"]["value"])
        for d in data["diagnostics"]
    ]


ANCHORED = finding(explanation=GRAB_EXPLANATION)._replace(anchor=31)
SCHEMA_CASES = {**edge_reports(), "anchored": report(ANCHORED)}


@pytest.mark.parametrize("r", SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_valid_against_the_rdjson_schema(validator: Any, r: Report) -> None:
    assert errors(validator, rdjson(r)) == []


def test_the_schema_catches_mistakes() -> None:
    published = schemas.load(SCHEMA_PATH)
    data = rdjson(mixed_report())
    data["severity"] = "FATAL"
    data["diagnostics"][0]["location"]["range"]["start"]["line"] = "29"
    assert len(errors(schemas.validator(published), data)) >= 2
    misspelt = rdjson(mixed_report())
    misspelt["diagnostics"][0]["originalOutput"] = misspelt["diagnostics"][0].pop("original_output")
    assert errors(schemas.validator(published), misspelt) == []  # as published: anything goes
    assert errors(schemas.validator(_strict(published)), misspelt) != []


def test_new_and_indirect_findings_only_fixed_and_accepted_are_not_diagnostics() -> None:
    data = rdjson(mixed_report())
    assert positions(data) == [
        ("app/main.go", {"line": 29, "column": 2}, "ERROR", "new-heap-escape"),
        ("app/main.go", {"line": 40, "column": 14}, "ERROR", "new-heap-escape"),
        ("lib/buf.go", {"line": 12, "column": 9}, "INFO", "indirect-heap-escape"),
    ]
    paths = {d["location"]["path"] for d in data["diagnostics"]}
    assert not paths & {"lib/old.go", "app/cache.go", "app/util.go"}  # fixed, accepted, unchanged
    assert data["severity"] == "ERROR"


def test_source_and_code_name_the_tool_and_the_rule() -> None:
    data = rdjson(mixed_report())
    assert data["source"] == {"name": "escape-guard", "url": sarif.INFORMATION_URI}
    for diagnostic in data["diagnostics"]:
        assert diagnostic["source"] == data["source"]
        assert diagnostic["code"]["url"] == "https://go.dev/doc/faq#stack_or_heap"


def test_overall_severity_follows_the_verdict() -> None:
    indirect = finding(status=Status.INDIRECT)
    assert rdjson(report(indirect))["severity"] == "INFO"
    fixed = rdjson(report(finding(status=Status.FIXED)))
    assert (fixed["severity"], fixed["diagnostics"]) == ("INFO", [])


def test_message_reads_like_the_sarif_result_and_keeps_the_compiler_line() -> None:
    r = report(finding(explanation=GRAB_EXPLANATION))
    [diagnostic] = rdjson(r)["diagnostics"]
    [result] = json.loads(sarif.render(r))["runs"][0]["results"]
    assert diagnostic["message"] == result["message"]["text"]
    assert diagnostic["message"].startswith(
        "New heap allocation in grab: `v` is moved to the heap. The address of `v` is stored"
    )
    assert diagnostic["message"].endswith("\n".join(GRAB_EXPLANATION))
    assert diagnostic["original_output"] == "app/main.go:29:2: moved to heap: v"


def test_indirect_message_says_the_cause_is_elsewhere() -> None:
    indirect = finding(status=Status.INDIRECT, kind=Kind.ESCAPE, expression="&T{...}")
    [diagnostic] = rdjson(report(indirect))["diagnostics"]
    assert diagnostic["message"].startswith(
        "Heap allocation caused elsewhere in grab: `&T{...}` escapes to the heap."
    )


def test_a_diagnostic_sits_on_the_line_that_introduces_the_escape() -> None:
    # `moved to heap: v` at v's unchanged declaration (29), its address taken on added line 31:
    # the action comments on 31, and reviewdog's -filter-mode=added keeps only added lines.
    anchored = finding(line=29, column=2)._replace(anchor=31)
    [diagnostic] = rdjson(report(anchored))["diagnostics"]
    assert diagnostic["location"] == {"path": "app/main.go", "range": {"start": {"line": 31}}}
    assert diagnostic["original_output"].startswith("app/main.go:29:2: ")


def test_findings_without_a_repository_line_are_left_out() -> None:
    paths = [d["location"]["path"] for d in rdjson(off_lines_report())["diagnostics"]]
    assert paths == ["dir with space/ü.go"]


def test_the_readme_sample_has_the_fields_written() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**`--format rdjson`**", 1)[1].split("**`--format codequality`**")[0]
    sample = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    anchored = finding(path="logfmt/record.go", line=23, expression="rec", function="Format")
    [written] = rdjson(report(anchored._replace(anchor=25)))["diagnostics"]
    assert list(sample) == list(written)
    assert {k: v for k, v in sample.items() if k != "message"} == {
        k: v for k, v in written.items() if k != "message"
    }
