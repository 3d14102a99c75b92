"""SARIF output, validated against the SARIF 2.1.0 schema (tests/fixtures/sarif/README.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from escape_guard import __version__
from escape_guard.model import Kind, Report, Revision, Status
from escape_guard.render.sarif import FINGERPRINT, fingerprint, render
from tests import schemas
from tests.factories import GRAB_EXPLANATION, edge_reports, finding, mixed_report, report
from tests.schemas import errors

SCHEMA_PATH = schemas.FIXTURES / "sarif" / "sarif-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> Any:
    return schemas.validator(schemas.load(SCHEMA_PATH))


def sarif(r: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(r))
    return data


NO_REASON = finding(status=Status.ACCEPTED, reason="")
SCHEMA_CASES = {**edge_reports(), "accepted-no-reason": report(NO_REASON)}


@pytest.mark.parametrize("r", SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_valid_against_the_sarif_schema(validator: Any, r: Report) -> None:
    assert errors(validator, sarif(r)) == []


def test_the_schema_catches_mistakes(validator: Any) -> None:
    data = sarif(mixed_report())
    data["version"] = "2.0.0"
    data["runs"][0]["results"][0]["level"] = "fatal"
    del data["runs"][0]["tool"]["driver"]["name"]
    found = errors(validator, data)
    assert len(found) >= 3, found


def test_driver_and_rules() -> None:
    data = sarif(mixed_report())
    assert data["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert data["version"] == "2.1.0"
    [run] = data["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "escape-guard"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert list(rules) == ["new-heap-escape", "indirect-heap-escape"]
    assert rules["new-heap-escape"]["defaultConfiguration"]["level"] == "warning"
    assert rules["indirect-heap-escape"]["defaultConfiguration"]["level"] == "note"
    for rule in rules.values():
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["shortDescription"]["text"]


def test_results_for_new_indirect_and_accepted_only() -> None:
    results = sarif(mixed_report())["runs"][0]["results"]
    summary = [(r["ruleId"], r["level"], "suppressions" in r) for r in results]
    assert summary == [
        ("new-heap-escape", "warning", True),  # app/cache.go, accepted
        ("new-heap-escape", "warning", False),  # app/main.go:29
        ("new-heap-escape", "warning", False),  # app/main.go:40
        ("indirect-heap-escape", "note", False),  # lib/buf.go
    ]
    rules = sarif(mixed_report())["runs"][0]["tool"]["driver"]["rules"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_result_location_message_and_fingerprint() -> None:
    r = report(finding(explanation=GRAB_EXPLANATION))
    [result] = sarif(r)["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "app/main.go", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 29, "startColumn": 2},
    }
    assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "example.com/app.grab"
    )
    assert result["message"]["text"].startswith(
        "New heap allocation in grab: `v` is moved to the heap. The address of `v` is stored"
    )
    assert result["partialFingerprints"] == {FINGERPRINT: fingerprint(r.findings[0])}


def test_explanation_is_shown_in_the_message_and_kept_as_a_property() -> None:
    [result] = sarif(report(finding(explanation=GRAB_EXPLANATION)))["runs"][0]["results"]
    flow = "\n".join(GRAB_EXPLANATION)
    assert result["message"]["text"].endswith(
        f"must outlive the call.\n\nCompiler's explanation:\n{flow}"
    )
    assert result["properties"]["explanation"] == list(GRAB_EXPLANATION)
    [plain] = sarif(report(finding()))["runs"][0]["results"]
    assert "explanation" not in plain["properties"] and "\n" not in plain["message"]["text"]


def test_fingerprints_survive_line_shifts_but_not_identity_changes() -> None:
    base = finding()
    shifted = finding(line=base.record.line + 40, column=9)
    assert fingerprint(shifted) == fingerprint(base)
    for change in (
        {"path": "app/other.go"},
        {"function": "grab2"},
        {"expression": "w"},
        {"kind": Kind.ESCAPE},
    ):
        assert fingerprint(finding(**change)) != fingerprint(base), change


def test_identical_escapes_get_distinct_fingerprints_in_line_order() -> None:
    first, second = finding(line=10), finding(line=20)
    prints = [
        r["partialFingerprints"][FINGERPRINT]
        for r in sarif(report(second, first))["runs"][0]["results"]
    ]
    assert prints == [fingerprint(first, 1), fingerprint(first, 2)]
    assert prints[0].endswith(":1") and prints[1].endswith(":2")


def test_findings_outside_the_repository_are_counted_not_located() -> None:
    r = report(
        finding(path="", in_repo=False),
        finding(path="/usr/lib/go/src/x.go", in_repo=False),
        finding(),
    )
    [run] = sarif(r)["runs"]
    assert [
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for res in run["results"]
    ] == ["app/main.go"]
    assert run["properties"]["findingsOutsideRepository"] == 2


def test_accepted_results_are_suppressed_with_the_reason() -> None:
    in_source = finding(
        status=Status.ACCEPTED, reason="hot path", source="v := 1 //escape-guard:ignore hot path"
    )
    by_config = finding(
        status=Status.ACCEPTED, reason="accepted in .escape-guard.yml", source="v := 1", line=40
    )
    results = sarif(report(in_source, by_config))["runs"][0]["results"]
    assert [r["suppressions"] for r in results] == [
        [{"kind": "inSource", "status": "accepted", "justification": "hot path"}],
        [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "accepted in .escape-guard.yml",
            }
        ],
    ]


def test_notes_become_tool_notifications() -> None:
    [run] = sarif(report(notes=("no Go files changed: nothing was built",)))["runs"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [
        {"level": "note", "message": {"text": "no Go files changed: nothing was built"}}
    ]
    assert run["results"] == []


def test_paths_are_uri_references() -> None:
    [result] = sarif(report(finding(path="dir with space/ü#1.go")))["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/%C3%BC%231.go"


def test_a_working_tree_head_names_its_commit() -> None:
    tree = report(finding(), head=Revision("working tree", "4" * 40, on="2" * 40))
    head = sarif(tree)["runs"][0]["properties"]["head"]
    assert head == {"ref": "working tree", "sha": "4" * 40, "on": "2" * 40}
