from __future__ import annotations

import pytest

from escape_guard.suppress import suppression

LINES = [
    "func f() {",
    "\tv := 1 //escape-guard:ignore kept for the pool",
    "\t//escape-guard:ignore",
    "\tw := 2",
    "\tx := 3 // escape-guard:ignore is not the directive",
    "\t//escape-guard:ignored",
    "\ty := 4",
    "\tz := 5 // explained //escape-guard:ignore",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (1, None),
        (2, "kept for the pool"),
        (3, ""),  # the directive line itself
        (4, ""),  # the line below a directive-only line
        (5, None),  # a space after // breaks the directive, as with //go: directives
        (6, None),
        (7, None),  # "ignored" is another word
        (8, ""),
        (99, None),
    ],
)
def test_suppression(line: int, expected: str | None) -> None:
    assert suppression(LINES, line) == expected


def test_trailing_directive_does_not_cover_the_next_line() -> None:
    assert suppression(["a := 1 //escape-guard:ignore", "b := 2"], 2) is None
