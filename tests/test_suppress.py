from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.builds.checkout import Tree
from escape_guard.judgement.suppress import misspelled, suppression
from escape_guard.judgement.verdict import directive_notes
from escape_guard.model import Status
from escape_guard.sources import SourceCache
from tests.factories import finding, record

LINES = [
    "func f() {",
    "\tv := 1 //escape-guard:ignore kept for the pool",
    "\t//escape-guard:ignore",
    "\tw := 2",
    "\tx := 3 // escape-guard:ignore a space after the slashes is honoured",
    "\t//escape-guard:ignored",
    "\ty := 4",
    "\tz := 5 // explained //escape-guard:ignore",
    "\ta := 6 //escape-guard: ignore after the colon too",
    "\t// escape-guard: ignore",
    "\tb := 7",
    "\t// an explanation that mentions //escape-guard:ignore in passing",
    "\tc := 8",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (1, None),
        (2, "kept for the pool"),
        (3, ""),  # the directive line itself
        (4, ""),  # the line below a directive-only line
        (5, "a space after the slashes is honoured"),
        (6, None),
        (7, None),  # "ignored" is another word
        (8, ""),
        (9, "after the colon too"),
        (11, ""),  # below "// escape-guard: ignore"
        (13, None),  # the comment above does not start with the directive
        (99, None),
    ],
)
def test_suppression(line: int, expected: str | None) -> None:
    assert suppression(LINES, line) == expected


def test_trailing_directive_does_not_cover_the_next_line() -> None:
    assert suppression(["a := 1 //escape-guard:ignore", "b := 2"], 2) is None


@pytest.mark.parametrize(
    "comment",
    [
        "//escapeguard:ignore",
        "//escape_guard:ignore",
        "//Escape-Guard:ignore",
        "//ESCAPE-GUARD:IGNORE",
        "//escape-guard:ignored",
        "// escape guard: ignore",
    ],
)
def test_near_misses_accept_nothing_and_are_found(comment: str) -> None:
    trailing = [f"v := 1 {comment} pooled"]
    above = [comment, "v := 1"]
    assert suppression(trailing, 1) is None
    assert suppression(above, 2) is None
    assert misspelled(trailing, 1) == comment
    assert misspelled(above, 2) == comment


@pytest.mark.parametrize(
    "text", ["v := 1 //escape-guard:ignore", "v := 1 // escape-guard: ignore", "v := 1 // guard"]
)
def test_directives_and_plain_comments_are_no_misspelling(text: str) -> None:
    assert misspelled([text], 1) is None


def test_notes_name_the_misspelling_and_the_spelling_to_use(tmp_path: Path) -> None:
    (tmp_path / "m.go").write_text("package m\n\nfunc f() {\n\tv := 1 //escapeguard:ignore\n}\n")
    head = SourceCache(Tree(str(tmp_path)))
    found = finding(record(path="m.go", line=4, function="f"))
    fixed = finding(record(path="m.go", line=4, function="f"), status=Status.FIXED)
    assert directive_notes([found, fixed, found], head) == [
        'm.go:4: "//escapeguard:ignore" is not escape-guard\'s directive, so the escape there '
        "is not accepted: write //escape-guard:ignore"
    ]
