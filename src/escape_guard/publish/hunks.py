"""Which head lines a review comment may sit on, from the pull request's file patches.

GitHub rejects a whole review when one comment is outside the diff ("Pull request review
thread line must be part of the diff"), so every comment is checked against the hunks of
``GET /pulls/{n}/files`` first. A RIGHT-side comment may sit on an added or a context line
of a hunk. A file GitHub sends without ``patch`` (too large to show) takes no comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,\d+)? @@")

Commentable = Mapping[str, frozenset[int]]
"""Head path → the head lines a comment may anchor to."""


def right_lines(patch: str) -> frozenset[int]:
    """The head-side line numbers (added and context lines) inside the hunks of PATCH."""
    lines: set[int] = set()
    current: int | None = None
    for text in patch.splitlines():
        header = _HUNK.match(text)
        if header:
            current = int(header["start"])
        elif current is None or text.startswith(("-", "\\")):
            continue  # before the first hunk; a removed line; "\ No newline at end of file"
        else:
            lines.add(current)  # "+" added or " " context (an empty context line is "")
            current += 1
    return frozenset(lines)


def commentable(files: Iterable[Mapping[str, Any]]) -> dict[str, frozenset[int]]:
    """Commentable head lines per path, from the items of ``GET /pulls/{n}/files``."""
    out: dict[str, frozenset[int]] = {}
    for item in files:
        patch = item.get("patch")
        if item.get("status") != "removed":
            lines = right_lines(patch) if isinstance(patch, str) else frozenset()
            out[str(item["filename"])] = lines
    return out


def can_comment(lines: Commentable, path: str, line: int) -> bool:
    return line in lines.get(path, frozenset())
