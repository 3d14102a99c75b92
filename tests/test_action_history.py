"""Fetching what a shallow checkout lacks, against a real origin over file://."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from escape_guard.action.history import ensure_history
from escape_guard.errors import GitError
from escape_guard.git import Git
from tests.conftest import Repo


def _clone(origin: Repo, dest: Path, *args: str) -> Git:
    subprocess.run(
        ["git", "clone", "--quiet", "--no-local", *args, f"file://{origin.path}", str(dest)],
        env=origin.env,
        check=True,
        capture_output=True,
    )
    return Git.discover(str(dest), env=origin.env)


@pytest.fixture
def origin(repo: Repo) -> Repo:
    for i in range(30):
        repo.commit({"f.txt": f"{i}\n"}, f"main {i}")
    repo.git("switch", "--quiet", "-c", "feature", "HEAD~20")
    for i in range(12):
        repo.commit({"g.txt": f"{i}\n"}, f"feature {i}")
    return repo


def test_deepens_until_the_merge_base(origin: Repo, tmp_path: Path) -> None:
    git = _clone(origin, tmp_path / "ws", "--depth=1", "--branch=feature")
    logs: list[str] = []
    merge_base = ensure_history(git, origin.git("rev-parse", "main"), "HEAD", log=logs.append)
    assert merge_base == origin.git("merge-base", "main", "feature")
    assert any("deepening" in line for line in logs)
    assert any("fetching" in line for line in logs)  # main's tip was not in the clone


def test_remote_branch_name_is_fetched(origin: Repo, tmp_path: Path) -> None:
    git = _clone(origin, tmp_path / "ws", "--depth=1", "--single-branch", "--branch=feature")
    merge_base = ensure_history(git, "origin/main", "HEAD", log=lambda _: None)
    assert merge_base == origin.git("merge-base", "main", "feature")


def test_unreachable_commit_is_a_clear_error(origin: Repo, tmp_path: Path) -> None:
    git = _clone(origin, tmp_path / "ws", "--depth=1")
    with pytest.raises(GitError, match="could not fetch"):
        ensure_history(git, "0123456789abcdef0123456789abcdef01234567", "HEAD", log=lambda _: None)
