"""``//escape-guard:ignore`` comments that accept an escape in the source.

The directive is honoured with a space after ``//`` or after the colon
(``// escape-guard:ignore``, ``//escape-guard: ignore``), as people write comments.
A name that is almost right (``//escapeguard:ignore``, ``//escape_guard:ignore``,
``//Escape-Guard:ignore``, ``//escape-guard:ignored``) is not guessed at: it accepts
nothing, and ``misspelled`` finds it so the report can name the spelling to use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

DIRECTIVE = "//escape-guard:ignore"

_DIRECTIVE = re.compile(r"//[ \t]*escape-guard:[ \t]*ignore(?=\s|$)")
# Anything that reads like an escape-guard directive, whatever its spelling.
_LOOKALIKE = re.compile(r"//[ \t]*escape[-_ ]?guard[ \t]*:[ \t]*\w*", re.IGNORECASE)


def suppression(lines: Sequence[str], line: int) -> str | None:
    """The reason given by a directive on ``line`` (1-based) or alone on the line above.

    Returns None when the line is not suppressed, "" when the directive gives no reason.
    """
    if 1 <= line <= len(lines):
        reason = _directive(lines[line - 1])
        if reason is not None:
            return reason
    above = _comment_above(lines, line)
    if above is not None and _DIRECTIVE.match(above):
        return _directive(above)
    return None


def misspelled(lines: Sequence[str], line: int) -> str | None:
    """A near-miss directive on ``line`` or alone on the line above; None when there is none."""
    found = _lookalikes(lines[line - 1]) if 1 <= line <= len(lines) else []
    above = _comment_above(lines, line)
    if above is not None:
        found += [m for m in _lookalikes(above) if m.start() == 0]
    return found[0].group().strip() if found else None


def _lookalikes(text: str) -> list[re.Match[str]]:
    return [m for m in _LOOKALIKE.finditer(text) if not _DIRECTIVE.match(text, m.start())]


def _comment_above(lines: Sequence[str], line: int) -> str | None:
    if 2 <= line <= len(lines) + 1:
        above = lines[line - 2].lstrip()
        if above.startswith("//"):
            return above
    return None


def _directive(text: str) -> str | None:
    match = _DIRECTIVE.search(text)
    if match is None:
        return None  # e.g. "//escape-guard:ignored" is not the directive
    return text[match.end() :].strip()
