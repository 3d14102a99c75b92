"""The check run: a conclusion a branch rule can require, the summary, and annotations.

Each run creates a new check run, already completed (GitHub shows the latest per name), so a
failure halfway never leaves one pending. GitHub takes 50 annotations per request: the first
50 go with the create, the rest in updates of 50. Summaries are capped in bytes too
("summary exceeds a maximum bytesize of 65535").
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

from escape_guard.config import FAILING
from escape_guard.config import failing as failing_findings
from escape_guard.judgement.suppress import DIRECTIVE
from escape_guard.model import Finding, Report, Status, sort_findings
from escape_guard.publish.client import Api
from escape_guard.publish.summary import FAILURE_HEADLINE, failure_block
from escape_guard.records.hints import hint, inlined_note
from escape_guard.render.links import Links
from escape_guard.render.markdown import headline, render_bytes, within_bytes
from escape_guard.render.mdsafe import shorten

NAME = "escape-guard"
MAX_SUMMARY = 65535
PER_REQUEST = 50
MAX_ANNOTATIONS = 500  # ten requests; the summary and the review list every finding anyway
_MAX_TITLE = 255
_MAX_TEXT = 60_000  # annotation message and raw_details: 64 KB each
_TITLES = {Status.NEW: "New heap allocation", Status.INDIRECT: "Heap allocation caused elsewhere"}


class CheckOutput(NamedTuple):
    conclusion: str  # "success" or "failure"
    title: str
    summary: str
    annotations: tuple[dict[str, Any], ...] = ()


def failing(fail_on: str) -> tuple[Status, ...]:
    """The statuses that fail the check: ``new``, ``indirect`` (new and indirect), ``none``."""
    return FAILING.get(fail_on, (Status.NEW,))


def report_output(
    report: Report,
    fail_on: str,
    *,
    links: Links | None = None,
    skip: Collection[Finding] = (),
) -> CheckOutput:
    """Failure when a finding fails per FAIL_ON, else success (no Go changes included).

    ``skip``: findings that have an inline comment; an annotation on the same line of the
    Files tab would say it twice.
    """
    conclusion = "failure" if failing_findings(report, fail_on) else "success"
    summary = render_bytes(report, max_bytes=MAX_SUMMARY, links=links)
    notes = tuple(n for f, n in _annotations(report, fail_on) if f not in skip)
    return CheckOutput(conclusion, headline(report), summary, notes)


def failure_output(message: str) -> CheckOutput:
    """A run that could not compare: failure, with the reason as the summary."""
    summary = within_bytes(lambda limit: failure_block(message, limit), MAX_SUMMARY)
    return CheckOutput("failure", FAILURE_HEADLINE, summary)


def check_annotations(report: Report, fail_on: str) -> list[dict[str, Any]]:
    """One annotation per new (and indirect) escape on a repository file; failing ones fail."""
    return [note for _, note in _annotations(report, fail_on)]


def _annotations(report: Report, fail_on: str) -> list[tuple[Finding, dict[str, Any]]]:
    fails = failing_findings(report, fail_on)
    found = sort_findings(report.with_status(Status.NEW, Status.INDIRECT))
    placed = [f for f in found if f.record.in_repo and f.record.path and f.anchor_line > 0]
    return [(f, _annotation(f, f in fails)) for f in placed]


def publish_check(
    api: Api,
    repo_path: str,
    head_sha: str,
    output: CheckOutput,
    *,
    details_url: str = "",
    log: Callable[[str], None],
) -> int:
    """Create the completed check run, then add the annotations beyond the first 50."""
    notes = output.annotations[:MAX_ANNOTATIONS]
    if len(output.annotations) > len(notes):
        log(f"escape-guard: annotating {len(notes)} of {len(output.annotations)} escapes")
    chunks = [notes[i : i + PER_REQUEST] for i in range(0, len(notes), PER_REQUEST)] or [()]
    request: dict[str, Any] = {
        "name": NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": output.conclusion,
        "output": _output(output, chunks[0]),
    }
    if details_url.startswith(("https://", "http://")):
        request["details_url"] = details_url
    run_id = int(api.post(f"{repo_path}/check-runs", request)["id"])
    for chunk in chunks[1:]:
        api.patch(f"{repo_path}/check-runs/{run_id}", {"output": _output(output, chunk)})
    log(f"escape-guard: check run {run_id} concluded {output.conclusion}")
    return run_id


def _output(output: CheckOutput, notes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"title": output.title, "summary": output.summary, "annotations": list(notes)}


def _annotation(finding: Finding, fails: bool) -> dict[str, Any]:
    record = finding.record
    title = _TITLES.get(finding.status, "Heap allocation")
    where = f" in {record.function}" if record.function else ""
    whose = inlined_note(record, finding.source)
    lines = [f"{record.message} ({whose})" if whose else record.message, hint(record)]
    if finding.status is Status.NEW:
        lines.append(f"Accept it with {DIRECTIVE} on this line if it is intended.")
    note: dict[str, Any] = {
        "path": record.path,
        "start_line": finding.anchor_line,
        "end_line": finding.anchor_line,
        "annotation_level": "failure" if fails else "warning",
        "title": shorten(title + where, _MAX_TITLE),
        "message": shorten("\n".join(line for line in lines if line), _MAX_TEXT),
    }
    if record.explanation:
        note["raw_details"] = shorten("\n".join(record.explanation), _MAX_TEXT)
    return note
