"""What a run as root writes in the runner's directories goes back to their owner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from escape_guard.action.ownership import hand_back

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")


def test_files_written_as_root_go_to_the_directory_owner(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".git" / "objects" / "ab").mkdir(parents=True)
    os.chown(workspace, 1001, 1001)
    os.chown(workspace / ".git", 1001, 1001)
    written = [
        workspace / ".escape-guard",
        workspace / ".escape-guard" / "report.json",
        workspace / ".git" / "objects" / "ab" / "cdef",
    ]
    written[0].mkdir()
    for path in written[1:]:
        path.write_text("x")
    (workspace / "link").symlink_to("/etc/passwd")  # the link is given, never its target
    messages: list[str] = []

    hand_back([str(workspace), str(tmp_path / "missing")], messages.append)

    for path in [*written, workspace / ".git" / "objects", workspace / "link"]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (1001, 1001), path
    assert Path("/etc/passwd").stat().st_uid == 0
    assert messages == [f"gave 6 files written as root in {workspace} to uid 1001"]


def test_a_directory_of_roots_own_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    os.chown(tmp_path / "file", 1001, 1001)
    messages: list[str] = []
    hand_back([str(tmp_path)], messages.append)
    assert (tmp_path / "file").stat().st_uid == 1001
    assert messages == []
