"""Combining the JSON reports of several shards into one report.

Each shard builds a deterministic share of the affected packages (``diff --shard K/N``),
so a function moved from a package of one shard into a package of another leaves a
NEW finding in one report and a FIXED one in the other. Merging pairs them again, with
the same rule the comparison uses for moves across files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from escape_guard.errors import UsageError
from escape_guard.model import Finding, Report, Status, sort_findings
from escape_guard.records.normalize import identity


def select_shard(packages: Sequence[str], shard: tuple[int, int]) -> list[str]:
    """Shard K of N (1-based): every N-th package of the sorted list, starting at the K-th."""
    index, count = shard
    return sorted(packages)[index - 1 :: count]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → (2, 4); UsageError for anything else."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit()) or not 1 <= int(index) <= int(count):
        raise UsageError(f"--shard: expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return int(index), int(count)


def merge_reports(reports: Sequence[Report]) -> Report:
    """One report from the shards' reports of the same comparison."""
    if not reports:
        raise UsageError("merge: no reports given")
    first = reports[0]
    for other in reports[1:]:
        if (other.merge_base, other.head.sha) != (first.merge_base, first.head.sha):
            raise UsageError(
                "merge: the reports compare different revisions "
                f"({first.merge_base[:12]}..{first.head.sha[:12]} and "
                f"{other.merge_base[:12]}..{other.head.sha[:12]}); merge the shards of one run"
            )
    findings = _pair_moves(_once([f for r in reports for f in r.findings]))
    return first._replace(
        findings=tuple(sort_findings(findings)),
        go_version=next((r.go_version for r in reports if r.go_version), ""),
        packages=tuple(dict.fromkeys(p for r in reports for p in r.packages)),
        timings=_slowest(reports),
        compiled=_summed(reports),
        notes=tuple(dict.fromkeys(n for r in reports for n in r.notes)),
        not_analysed=tuple(dict.fromkeys(n for r in reports for n in r.not_analysed)),
        profiles=tuple(dict.fromkeys(p for r in reports for p in r.profiles)),
    )


def _summed(reports: Sequence[Report]) -> tuple[tuple[str, int], ...]:
    """The shards' compiled counts added up: each shard's go commands compiled for itself."""
    total: dict[str, int] = {}
    for report in reports:
        for side, count in report.compiled:
            total[side] = total.get(side, 0) + count
    return tuple(total.items())


def _once(findings: list[Finding]) -> list[Finding]:
    """Each finding once: two shards whose changes reach the same importer both compile it."""
    seen: set[tuple[object, ...]] = set()
    kept: list[Finding] = []
    for finding in findings:
        r = finding.record
        key = (finding.status, r.path, r.line, r.column, r.message)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _pair_moves(findings: list[Finding]) -> list[Finding]:
    fixed: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i, finding in enumerate(findings):
        if finding.status is Status.FIXED and finding.record.function:
            fixed[_move_key(finding)].append(i)
    dropped: set[int] = set()
    result = list(findings)
    for i, finding in enumerate(findings):
        if finding.status is Status.NEW and finding.record.function and fixed[_move_key(finding)]:
            dropped.add(fixed[_move_key(finding)].pop())
            result[i] = finding._replace(status=Status.UNCHANGED, anchor=0)
    return [f for i, f in enumerate(result) if i not in dropped]


def _move_key(finding: Finding) -> tuple[object, ...]:
    key = identity(finding.record)
    return (key.function, key.kind, key.expression)


def _slowest(reports: Sequence[Report]) -> tuple[tuple[str, float], ...]:
    """Shards run side by side: a phase took as long as its slowest shard."""
    slowest: dict[str, float] = {}
    for report in reports:
        for phase, seconds in report.timings:
            slowest[phase] = max(seconds, slowest.get(phase, 0.0))
    return tuple(slowest.items())
