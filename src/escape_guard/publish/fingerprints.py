"""Fingerprints that recognise an escape across runs, and the hidden markers carrying them.

The bot knows its own comments by an HTML comment in their bodies, never by login (a
GITHUB_TOKEN cannot ask who it is)::

    <!-- escape-guard:finding 3f9a0c41d2 -->        an inline comment on one escape
    <!-- escape-guard:resolved 3f9a0c41d2 -->       the same comment once the escape is gone
    <!-- escape-guard:review 3f9a0c41d2 77e0.1 -->  a review; the escapes listed in its body
    <!-- escape-guard:summary -->                   the one summary comment

A fingerprint hashes the finding's status and identity (path, function, kind, expression with
compiler numbering folded), so it survives line shifts and renumbering; ``.N`` tells apart
the N-th copy of the same identity, counted in line order. When one of two identical escapes
goes away, the survivor takes the first fingerprint: the count of comments stays right even
if the remaining one sits on the other line.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

from escape_guard.model import Finding, sort_findings
from escape_guard.normalize import identity

FINDING, RESOLVED, REVIEW, SUMMARY = "finding", "resolved", "review", "summary"
_HEX = 10  # 40 bits: collisions among one pull request's escapes are negligible
_MARKER = re.compile(r"<!-- escape-guard:(?P<kind>[a-z]+)(?P<values>(?: [0-9a-f]+(?:\.\d+)?)*) -->")


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


def marker(kind: str, values: Iterable[str] = ()) -> str:
    """The hidden marker ``<!-- escape-guard:KIND v1 v2 -->``."""
    return "<!-- escape-guard:" + " ".join([kind, *values]) + " -->"


def markers(body: str, kind: str) -> list[str]:
    """The values of every KIND marker in BODY (empty list: none, or only bare markers)."""
    return [v for m in _MARKER.finditer(body) if m["kind"] == kind for v in m["values"].split()]


def has_marker(body: str, kind: str) -> bool:
    return any(m["kind"] == kind for m in _MARKER.finditer(body))


def without_markers(body: str) -> str:
    """BODY with its markers taken out."""
    return _MARKER.sub("", body)
