"""Fingerprints that recognise an escape across runs and across line moves.

A fingerprint hashes the finding's status and identity (path, function, kind, expression with
compiler numbering folded), so it survives line shifts and renumbering; ``.N`` tells apart
the N-th copy of the same identity, counted in line order. When one of two identical escapes
goes away, the survivor takes the first fingerprint: the count of comments stays right even
if the remaining one sits on the other line.

The bot's comments carry them (``publish.fingerprints``), and so do the reports that code
review tools compare between runs (GitLab Code Quality).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable

from escape_guard.model import Finding, sort_findings
from escape_guard.records.normalize import identity

_HEX = 10  # 40 bits: collisions among one pull request's escapes are negligible


def fingerprint(finding: Finding, occurrence: int = 0) -> str:
    """``<hex>`` for the first finding with this status and identity, ``<hex>.N`` after."""
    key = identity(finding.record)
    parts = (finding.status.value, key.path, key.function, key.kind.value, key.expression)
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:_HEX]
    return digest if occurrence == 0 else f"{digest}.{occurrence}"


def fingerprinted(findings: Iterable[Finding]) -> list[tuple[str, Finding]]:
    """Each finding with its fingerprint, in presentation order."""
    seen: Counter[str] = Counter()
    out = []
    for finding in sort_findings(findings):
        base = fingerprint(finding)
        out.append((fingerprint(finding, seen[base]), finding))
        seen[base] += 1
    return out
