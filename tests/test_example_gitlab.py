"""examples/gitlab/.gitlab-ci.yml: a GitLab CI configuration whose command line the CLI accepts.

Checked against the GitLab CI schema check-jsonschema ships (``vendor.gitlab-ci``).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from escape_guard.cli import build_parser
from tests.test_action_metadata import check_schema

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "gitlab" / ".gitlab-ci.yml"
# What GitLab sets in a merge request pipeline, for the variables the command line names.
VARIABLES = {"CI_MERGE_REQUEST_DIFF_BASE_SHA": "1" * 40, "CI_COMMIT_SHA": "2" * 40}


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return loaded


def test_valid_against_the_gitlab_ci_schema() -> None:
    result = check_schema("vendor.gitlab-ci", EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


def _argv(line: str) -> list[str]:
    for name, value in VARIABLES.items():
        line = line.replace(f'"${name}"', value)
    assert "$" not in line, line
    return shlex.split(line)


def test_the_merge_request_job_runs_diff_and_uploads_its_report(pipeline: dict[str, Any]) -> None:
    job = pipeline["escape-guard"]
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["GIT_DEPTH"] == "0"
    [line] = job["script"]
    program, *arguments = _argv(line)
    assert program == "/opt/escape-guard/bin/escape-guard"
    args = build_parser().parse_args(arguments)
    assert (args.command, args.base, args.head) == ("diff", "1" * 40, "2" * 40)
    assert args.format == "codequality"
    template = pipeline[job["extends"]]
    assert template["artifacts"]["reports"]["codequality"] == args.output
    assert template["artifacts"]["when"] == "always"  # exit 1 still uploads the report
    assert template["image"]["entrypoint"] == [""]


def test_the_default_branch_publishes_an_empty_report_to_compare_with(
    pipeline: dict[str, Any],
) -> None:
    job = pipeline["escape-guard-baseline"]
    assert job["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    report = pipeline[job["extends"]]["artifacts"]["reports"]["codequality"]
    assert job["script"] == [f"echo '[]' > {report}"]
