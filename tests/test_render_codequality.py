"""GitLab Code Quality: the issues, their severities, and fingerprints that survive line moves."""

from __future__ import annotations

import json
from typing import Any

from escape_guard.model import Kind, Report, Status
from escape_guard.render.codequality import render
from tests.conftest import ROOT
from tests.factories import GRAB_EXPLANATION, finding, mixed_report, off_lines_report, report

# GitLab's severities (https://docs.gitlab.com/ci/testing/code_quality/), lowest first.
SEVERITIES = ("info", "minor", "major", "critical", "blocker")
KEYS = ["description", "check_name", "fingerprint", "severity", "location"]


def issues(r: Report) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(render(r))
    return data


def where(found: list[dict[str, Any]]) -> list[tuple[str, int, str, str]]:
    return [
        (i["location"]["path"], i["location"]["lines"]["begin"], i["severity"], i["check_name"])
        for i in found
    ]


def test_every_issue_has_the_fields_gitlab_reads() -> None:
    found = issues(mixed_report())
    assert found, "mixed_report has new and indirect findings"
    for issue in found:
        assert list(issue) == KEYS
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in SEVERITIES
        assert list(issue["location"]) == ["path", "lines"]
        assert list(issue["location"]["lines"]) == ["begin"]
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and not isinstance(begin, bool) and begin >= 1


def test_new_findings_are_major_indirect_info_and_fixed_ones_absent() -> None:
    found = issues(mixed_report())
    assert where(found) == [
        ("app/main.go", 29, "major", "new-heap-escape"),
        ("app/main.go", 40, "major", "new-heap-escape"),
        ("lib/buf.go", 12, "info", "indirect-heap-escape"),
    ]
    paths = {i["location"]["path"] for i in found}
    assert not paths & {"lib/old.go", "app/cache.go", "app/util.go"}  # fixed, accepted, unchanged


def test_a_report_without_new_or_indirect_findings_is_an_empty_array() -> None:
    assert render(report(finding(status=Status.FIXED))) == "[]\n"
    assert issues(report()) == []


def test_description_is_one_plain_line_without_the_explanation() -> None:
    [issue] = issues(report(finding(explanation=GRAB_EXPLANATION)))
    assert issue["description"].startswith(
        "New heap allocation in grab: `v` is moved to the heap. The address of `v` is stored"
    )
    assert "\n" not in issue["description"] and "flow:" not in issue["description"]


def test_an_issue_is_on_the_line_that_introduces_the_escape() -> None:
    anchored = finding(line=29)._replace(anchor=31)
    assert where(issues(report(anchored))) == [("app/main.go", 31, "major", "new-heap-escape")]


def test_fingerprints_survive_a_move_to_another_line() -> None:
    [before] = issues(report(finding(line=29, column=2)))
    [after] = issues(report(finding(line=71, column=9)))
    assert after["location"]["lines"]["begin"] == 71
    assert after["fingerprint"] == before["fingerprint"]


def test_different_findings_have_different_fingerprints() -> None:
    base = finding()
    others = [
        finding(path="app/other.go"),
        finding(function="grab2"),
        finding(expression="w"),
        finding(kind=Kind.ESCAPE),
        finding(status=Status.INDIRECT),
    ]
    prints = [i["fingerprint"] for i in issues(report(base, *others))]
    assert len(set(prints)) == len(prints) == 1 + len(others)
    assert len({i["fingerprint"] for i in issues(mixed_report())}) == 3


def test_identical_escapes_are_told_apart_in_line_order() -> None:
    first, second = finding(line=10), finding(line=20)
    prints = [i["fingerprint"] for i in issues(report(second, first))]
    assert prints[1] == f"{prints[0]}.1"
    # The survivor of the two keeps the first fingerprint, wherever it is.
    [survivor] = issues(report(second))
    assert survivor["fingerprint"] == prints[0]


def test_findings_without_a_repository_line_are_left_out() -> None:
    paths = [i["location"]["path"] for i in issues(off_lines_report())]
    assert paths == ["dir with space/ü.go"]


def test_the_readme_sample_has_the_fields_written() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("**`--format codequality`**", 1)[1]
    [sample] = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    anchored = finding(path="logfmt/record.go", line=23, expression="rec", function="Format")
    [written] = issues(report(anchored._replace(anchor=25)))
    assert list(sample) == list(written)
    assert {k: v for k, v in sample.items() if k not in ("description", "fingerprint")} == {
        k: v for k, v in written.items() if k not in ("description", "fingerprint")
    }
