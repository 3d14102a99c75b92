"""What the repository edge asks git, and how many git processes it takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from escape_guard import git as git_module
from escape_guard.errors import GitError
from escape_guard.git import Git, TreeEntry
from tests.conftest import Repo


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every git command ``Git.run`` starts, as its arguments after the repository."""
    seen: list[tuple[str, ...]] = []
    real = git_module.run

    def counting(args: Sequence[str], **kwargs: Any) -> Any:
        seen.append(tuple(args[3:]))
        return real(args, **kwargs)

    monkeypatch.setattr(git_module, "run", counting)
    return seen


def test_two_names_resolve_with_one_git_process(
    repo: Repo, commands: list[tuple[str, ...]]
) -> None:
    first = repo.commit({"a.go": "package a\n"}, "base")
    second = repo.commit({"b.go": "package a\n"}, "head")
    git = Git(str(repo.path), repo.env)
    assert git.resolve_all("HEAD", "main~1") == [second, first]
    assert len(commands) == 1, commands


def test_a_name_that_looks_like_an_option_is_resolved_alone_and_named(repo: Repo) -> None:
    repo.commit({"a.go": "package a\n"}, "base")
    git = Git(str(repo.path), repo.env)
    with pytest.raises(GitError, match="unknown revision '--all'"):
        git.resolve_all("HEAD", "--all")


def test_a_commits_tree_is_listed_once_for_every_stage_that_reads_it(
    repo: Repo, commands: list[tuple[str, ...]]
) -> None:
    sha = repo.commit({"go.mod": "module m\n", "pkg/run.sh": "#!/bin/sh\n"}, "base")
    (repo.path / "pkg/run.sh").chmod(0o755)
    executable = repo.commit(message="executable")
    git = Git(str(repo.path), repo.env)
    assert git.files(sha) == ["go.mod", "pkg/run.sh"]
    entries = git.tree(sha)
    assert [e.path for e in entries] == ["go.mod", "pkg/run.sh"]
    assert entries[1].mode == "100644"
    assert entries[0].object == repo.git("rev-parse", f"{sha}:go.mod")
    assert git.tree(executable)[1] == TreeEntry(
        "pkg/run.sh", "100755", repo.git("rev-parse", f"{executable}:pkg/run.sh")
    )
    assert [c[-1] for c in commands if "ls-tree" in c] == [sha, executable]
