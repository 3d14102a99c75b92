"""One report from the comparisons of several platforms (``--platform``, repeatable).

Each platform is compared on its own (GOOS/GOARCH in the go command's environment). A finding
that every platform reports alike is one finding; one that only some report carries their
names. A changed file is "not analysed" only when no platform compiles it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from escape_guard.model import Finding, Report

_NOT_ANALYSED = re.compile(r"^not analysed: `(?P<path>[^`]+)` (?P<why>.*) \(built for [^)]*\)$")


def parse_platform(text: str) -> str:
    """``GOOS/GOARCH`` checked for shape; raises ValueError with a usable message."""
    goos, slash, goarch = text.partition("/")
    if not slash or not goos.isalnum() or not goarch.isalnum():
        raise ValueError(f"expected GOOS/GOARCH (e.g. linux/amd64), got {text!r}")
    return f"{goos}/{goarch}"


def merge_platforms(reports: Sequence[tuple[str, Report]]) -> Report:
    """The reports of one comparison built for each platform, as one report."""
    names = tuple(name for name, _ in reports)
    first = reports[0][1]
    seen: dict[tuple[object, ...], tuple[Finding, list[str]]] = {}
    for name, report in reports:
        for finding in report.findings:
            key = (finding.status, finding.record._replace(explanation=()))
            if key not in seen:
                seen[key] = (finding, [])
            seen[key][1].append(name)
    findings = tuple(
        finding if len(held) == len(names) else finding._replace(platforms=tuple(held))
        for finding, held in seen.values()
    )
    timings: dict[str, float] = {}
    for _, report in reports:
        for phase, seconds in report.timings:
            timings[phase] = timings.get(phase, 0.0) + seconds
    return first._replace(
        findings=findings,
        timings=tuple(timings.items()),
        notes=_notes(reports, names),
        platforms=names,
        not_analysed=tuple(dict.fromkeys(n for _, r in reports for n in r.not_analysed)),
        profiles=tuple(dict.fromkeys(p for _, r in reports for p in r.profiles)),
    )


def _notes(reports: Sequence[tuple[str, Report]], names: tuple[str, ...]) -> tuple[str, ...]:
    """Every platform's notes once; a file is "not analysed" only when no platform compiles it."""
    notes: dict[str, None] = {}
    excluded: dict[str, list[str]] = {}
    for name, report in reports:
        for note in report.notes:
            match = _NOT_ANALYSED.match(note)
            if match is None:
                notes.setdefault(note)
            else:
                excluded.setdefault(match["path"], []).append(f"{match['why']} on {name}")
    for path, whys in excluded.items():
        if len(whys) == len(names):
            notes.setdefault(f"not analysed: `{path}` is compiled for no platform built: "
                             + "; ".join(whys))  # fmt: skip
    return tuple(notes)
