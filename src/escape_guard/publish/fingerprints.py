"""The hidden markers that carry fingerprints (``escape_guard.fingerprints``) in comments.

The bot knows its own comments by an HTML comment in their bodies, never by login (a
GITHUB_TOKEN cannot ask who it is)::

    <!-- escape-guard:finding 3f9a0c41d2 -->        an inline comment on one escape
    <!-- escape-guard:resolved 3f9a0c41d2 -->       the same comment once the escape is gone
    <!-- escape-guard:review 3f9a0c41d2 77e0.1 -->  a review; the escapes listed in its body
    <!-- escape-guard:summary -->                   the one summary comment
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FINDING, RESOLVED, REVIEW, SUMMARY = "finding", "resolved", "review", "summary"
_MARKER = re.compile(r"<!-- escape-guard:(?P<kind>[a-z]+)(?P<values>(?: [0-9a-f]+(?:\.\d+)?)*) -->")


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
