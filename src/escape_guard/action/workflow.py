"""Talking to the runner: workflow commands, step outputs and the job summary."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from escape_guard.model import Finding, Kind, Report, Status, sort_findings
from escape_guard.records.hints import inlined_note, subject

# The runner shows at most 10 error and 10 warning annotations per step and drops the rest
# silently: emit that many, the last one saying how many more there are and where.
MAX_ANNOTATIONS = 10
# GitHub rejects a job summary over 1 MiB.
MAX_STEP_SUMMARY = 1024 * 1024 - 1024


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Runner:
    """Writes workflow commands to the log and files the runner reads."""

    def __init__(self, env: Mapping[str, str], out: TextIO | None = None) -> None:
        self._env = env
        self._out = out or sys.stdout
        self._written: Counter[str] = Counter()  # workflow commands written, by name

    def log(self, message: str) -> None:
        print(message, file=self._out, flush=True)

    def command(self, name: str, message: str, **props: str | int) -> None:
        self._written[name] += 1
        rendered = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v != "")
        self.log(f"::{name}{' ' + rendered if rendered else ''}::{escape_data(message)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log group that ends with how long the phase took."""
        self.log(f"::group::{title}")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.log(f"{title}: {time.perf_counter() - start:.1f} s")
            self.log("::endgroup::")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        path = self._env.get("GITHUB_OUTPUT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as fh:
            for name, value in outputs.items():
                if "\n" in value:
                    delimiter = f"ghadelimiter_{uuid.uuid4()}"
                    fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
                else:
                    fh.write(f"{name}={value}\n")

    def summary(self, markdown: str) -> None:
        path = self._env.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        if len(markdown.encode()) > MAX_STEP_SUMMARY:
            markdown = markdown.encode()[:MAX_STEP_SUMMARY].decode("utf-8", "ignore")
            markdown += "\n\n… the summary was cut at GitHub's 1 MiB limit; see the JSON report.\n"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n")

    def annotate(
        self, report: Report, *, include_indirect: bool, skip: Collection[Finding] = ()
    ) -> int:
        """Annotations for new (error) and, if asked, indirect (warning) escapes.

        ``skip``: findings with an inline comment, which says it on the same line already.
        Returns how many annotations were written.
        """
        statuses = (Status.NEW, Status.INDIRECT) if include_indirect else (Status.NEW,)
        written = 0
        for status in statuses:
            wanted = [f for f in sort_findings(report.with_status(status)) if f not in skip]
            # Warnings written before (a read-only token's, say) count against the same cap.
            level = "error" if status is Status.NEW else "warning"
            shown = wanted[: max(MAX_ANNOTATIONS - self._written[level], 1)]
            for index, finding in enumerate(shown, 1):
                more = len(wanted) - len(shown) if index == len(shown) else 0
                self._annotation(finding, more)
            written += len(shown)
        return written

    def _annotation(self, finding: Finding, more: int = 0) -> None:
        r = finding.record
        new = finding.status is Status.NEW
        what = f"{r.message} ({inlined_note(r)})" if r.inside else r.message
        if r.kind is Kind.MOVED:
            what = f"{subject(r, finding.source, code=str)} is moved to the heap"
        where = f" in {r.function}" if r.function else ""
        tail = ""
        if more:
            noun = "new heap escape" if new else "indirect heap escape"
            tail = (
                f"\n… and {more} more {noun}{'' if more == 1 else 's'}, not annotated here "
                f"(GitHub shows {MAX_ANNOTATIONS} per step): see the check run or the job summary"
            )
        self.command(
            "error" if new else "warning",
            f"{what}{where}{tail}",
            file=r.path,
            line=finding.anchor_line,
            col=r.column if r.column and finding.anchor_line == r.line else "",
            title="New heap escape" if new else "Indirect heap escape",
        )
