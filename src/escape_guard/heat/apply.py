"""Heat onto findings, the notes about it, and the threshold: pure functions over a Report."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from escape_guard.heat.match import heat_of
from escape_guard.heat.pprof import ProfileTable
from escape_guard.model import Finding, Profile, Report, Status

# The findings a reviewer acts on: the others (fixed, unchanged, ...) carry no heat.
HEATED = (Status.NEW, Status.INDIRECT)

# (finding) -> the profile that applies to its package and whether the package is a main one
Lookup = Callable[[Finding], tuple[ProfileTable, bool] | None]


def with_heat(findings: Sequence[Finding], lookup: Lookup) -> list[Finding]:
    """Each new and indirect finding with its function's share of the profile that applies."""
    out = []
    for finding in findings:
        found = lookup(finding) if finding.status in HEATED else None
        if found is None:
            out.append(finding)
            continue
        table, main = found
        record = finding.record
        out.append(
            finding._replace(heat=heat_of(table, record.package, record.function, main=main))
        )
    return out


def heat_notes(report: Report, *, searched: str) -> list[str]:
    """What the summary says: the profiles used, or that none was found, and the threshold."""
    notes = [_used(p) for p in report.profiles]
    if not report.profiles and report.min_heat is not None:
        notes.append(
            f"--min-heat {report.min_heat:g}%: no CPU profile was found ({searched}), so every "
            "new escape fails the check as without a threshold"
        )
    cold = [f for f in report.with_status(Status.NEW) if report.below_min_heat(f)]
    if report.profiles and report.min_heat is not None:
        notes.append(
            f"{len(cold)} of {len(report.new)} new heap escape(s) are in functions below "
            f"--min-heat {report.min_heat:g}% of CPU samples (cumulative): reported, not failing"
        )
    return notes


def _used(profile: Profile) -> str:
    how = "given with --profile" if profile.source == "--profile" else f"the {profile.source}"
    return (
        f"heat from the CPU profile `{profile.path}` ({how}, {profile.samples} samples): each "
        "new and indirect escape shows its function's share of them"
    )
