"""``//escape-guard:ignore`` comments that accept an escape in the source."""

from __future__ import annotations

from collections.abc import Sequence

DIRECTIVE = "//escape-guard:ignore"


def suppression(lines: Sequence[str], line: int) -> str | None:
    """The reason given by a directive on ``line`` (1-based) or alone on the line above.

    Returns None when the line is not suppressed, "" when the directive gives no reason.
    """
    if 1 <= line <= len(lines):
        reason = _directive(lines[line - 1])
        if reason is not None:
            return reason
    if 2 <= line <= len(lines) + 1:
        above = lines[line - 2]
        if above.lstrip().startswith(DIRECTIVE):
            return _directive(above)
    return None


def _directive(text: str) -> str | None:
    at = text.find(DIRECTIVE)
    if at < 0:
        return None
    rest = text[at + len(DIRECTIVE) :]
    if rest and not rest[0].isspace():
        return None  # e.g. "//escape-guard:ignored" is not the directive
    return rest.strip()
