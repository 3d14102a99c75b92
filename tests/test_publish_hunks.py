"""Commentable lines from GitHub's file patches, and fingerprints that survive line shifts."""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.fingerprints import fingerprint, fingerprinted
from escape_guard.model import Kind, Status
from escape_guard.publish.fingerprints import FINDING, marker, markers, without_markers
from escape_guard.publish.hunks import can_comment, commentable, right_lines
from tests.conftest import Repo, go_environment
from tests.factories import finding

PATCH = """\
@@ -1,4 +1,5 @@
 package main
+import "fmt"
\x20
 func main() {
-\tprintln(1)
+\tfmt.Println(1)
@@ -20,3 +21,4 @@ func other() {
 \ta := 1
 \tb := 2
+\tsink = &a
 }
\\ No newline at end of file"""


def test_right_lines_are_added_and_context_lines_inside_hunks() -> None:
    assert sorted(right_lines(PATCH)) == [1, 2, 3, 4, 5, 21, 22, 23, 24]


def test_right_lines_of_a_real_git_diff(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo", go_environment())
    base = repo.commit({"a.go": "".join(f"line {n}\n" for n in range(1, 41))})
    lines = [f"line {n}\n" for n in range(1, 41)]
    lines[4] = "changed 5\n"
    lines[29:31] = ["new 30\n", "new 31\n", "new 32\n"]
    head = repo.commit({"a.go": "".join(lines)})
    patch = repo.git("diff", base, head).split("\n@@", 1)[1]
    assert sorted(right_lines("@@" + patch)) == [*range(2, 9), *range(27, 36)]


def test_files_without_a_patch_take_no_comments() -> None:
    files = [
        {"filename": "app/main.go", "status": "modified", "patch": PATCH},
        {"filename": "big/generated.go", "status": "modified"},  # too large: no patch
        {"filename": "old.go", "status": "removed", "patch": "@@ -1 +0,0 @@\n-package old"},
    ]
    lines = commentable(files)
    assert set(lines) == {"app/main.go", "big/generated.go"}
    assert can_comment(lines, "app/main.go", 23)
    assert not can_comment(lines, "app/main.go", 10)
    assert not can_comment(lines, "big/generated.go", 1)
    assert not can_comment(lines, "old.go", 1)
    assert not can_comment(lines, "", 1)


def test_fingerprints_ignore_lines_and_compiler_numbering() -> None:
    here = finding(line=10, column=3, expression="v·3")
    there = finding(line=99, column=7, expression="v·4")
    assert fingerprint(here) == fingerprint(there)
    assert len(fingerprint(here)) == 10


@pytest.mark.parametrize(
    "change",
    [
        {"path": "app/other.go"},
        {"function": "other"},
        {"kind": Kind.ESCAPE},
        {"expression": "w"},
    ],
)
def test_fingerprints_tell_escapes_apart(change: dict[str, object]) -> None:
    assert fingerprint(finding()) != fingerprint(finding(**change))


def test_a_status_change_is_a_new_fingerprint() -> None:
    # An indirect escape whose line is then edited becomes new: its comment says other things.
    assert fingerprint(finding()) != fingerprint(finding(status=Status.INDIRECT))


def test_identical_escapes_are_numbered_in_line_order() -> None:
    later, earlier = finding(line=20), finding(line=10)
    (first, a), (second, b) = fingerprinted([later, earlier])
    assert (a.record.line, b.record.line) == (10, 20)
    assert second == f"{first}.1"


def test_markers_round_trip() -> None:
    body = "text\n" + marker(FINDING, ["abc0123456", "abc0123456.2"]) + "\n"
    assert markers(body, FINDING) == ["abc0123456", "abc0123456.2"]
    assert markers(body, "summary") == []
    assert without_markers(body) == "text\n\n"
    assert markers("<!-- escape-guard:finding <script> -->", FINDING) == []
