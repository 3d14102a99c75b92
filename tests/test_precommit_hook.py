"""The pre-commit hook (.pre-commit-hooks.yaml), run by the real pre-commit.

pre-commit installs escape-guard from a snapshot of this working tree into a virtualenv of its
own (pip, from PyPI for the dependencies) and runs the hook as a push would: in a Go
repository whose origin has main, on a branch that adds a heap escape and on one that does not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from escape_guard.cli import main, pushed_commit
from tests.conftest import ROOT, Repo, go_environment

pytestmark = pytest.mark.go

PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
GO_MOD = "module example.com/m\n\ngo 1.21\n"
LIB = "package m\n\n// Sum adds numbers.\nfunc Sum(xs []int) int {\n\tt := 0\n\tfor _, x := range xs {\n\t\tt += x\n\t}\n\treturn t\n}\n"  # noqa: E501
ESCAPE = "\nvar last *int\n\n// Track keeps n.\nfunc Track(n int) {\n\ts := n\n\tlast = &s\n}\n"
CLEAN = "\n// Twice doubles n.\nfunc Twice(n int) int {\n\treturn 2 * n\n}\n"
FINDING = "moved to heap: s in Track"


@pytest.fixture(scope="session")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The tests' Go environment, with `go` but not this virtualenv's escape-guard on PATH."""
    bindir = tmp_path_factory.mktemp("bin")
    (bindir / "go").symlink_to(Path(sys.executable).parent / "go")
    env = go_environment()
    env["PATH"] = os.pathsep.join([str(bindir), "/usr/local/bin", "/usr/bin", "/bin"])
    # One store for the session: pre-commit run installs the hook's virtualenv once.
    env["PRE_COMMIT_HOME"] = str(tmp_path_factory.mktemp("pre-commit-home"))
    for name in [n for n in env if n.startswith(("PRE_COMMIT", "VIRTUAL_ENV"))]:
        if name != "PRE_COMMIT_HOME":
            del env[name]
    return env


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, hook_env: dict[str, str]) -> Repo:
    """This working tree as one commit: pre-commit installs hooks from a commit.

    try-repo on the worktree itself would take HEAD plus staged and modified tracked files,
    but leave out untracked ones (a new module not yet added, say).
    """
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    repo = Repo(tmp_path_factory.mktemp("hook-repo") / "escape-guard", hook_env)
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (repo.path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo.path / rel)
    repo.commit(message="snapshot")
    return repo


@pytest.fixture
def project(tmp_path: Path, hook_env: dict[str, str], hook_repo: Repo) -> Repo:
    """A Go team's clone: main pushed to origin, branch `escape` and branch `clean` on it."""
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(tmp_path / "origin")],
        check=True,
    )
    repo = Repo(tmp_path / "project", hook_env)
    config = {
        "repos": [
            {
                "repo": str(hook_repo.path),
                "rev": hook_repo.git("rev-parse", "HEAD"),
                "hooks": [{"id": "escape-guard"}],
            }
        ]
    }
    repo.commit(
        {"go.mod": GO_MOD, "m.go": LIB, ".pre-commit-config.yaml": yaml.safe_dump(config)}, "m"
    )
    repo.git("remote", "add", "origin", str(tmp_path / "origin"))
    repo.git("push", "--quiet", "origin", "main")
    repo.git("remote", "set-head", "origin", "--auto")
    for branch, code in (("escape", ESCAPE), ("clean", CLEAN)):
        repo.git("switch", "--quiet", "-c", branch, "main")
        repo.commit({"m.go": LIB + code}, f"add {branch}")
    return repo


def _pre_commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, *args],
        cwd=repo.path,
        env=repo.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _try_repo(project: Repo, hook_repo: Repo, branch: str) -> subprocess.CompletedProcess[str]:
    """The hook as a push of BRANCH runs it (pre-commit names the pushed range)."""
    return _pre_commit(
        project,
        "try-repo",
        str(hook_repo.path),
        "escape-guard",
        "--hook-stage",
        "pre-push",
        "--from-ref",
        "main",
        "--to-ref",
        branch,
    )


def test_try_repo_fails_on_a_new_escape_and_passes_without(project: Repo, hook_repo: Repo) -> None:
    project.git("switch", "--quiet", "main")  # the pushed branch, not the checked-out one
    failed = _try_repo(project, hook_repo, "escape")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "escape-guard (new heap escapes)" in failed.stdout
    assert "Failed" in failed.stdout and "exit code: 1" in failed.stdout
    assert "1 new heap escape" in failed.stdout and FINDING in failed.stdout
    assert "merge base" in failed.stdout and "of origin/HEAD" in failed.stdout
    passed = _try_repo(project, hook_repo, "clean")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "escape-guard (new heap escapes)" in passed.stdout and "Passed" in passed.stdout


def test_installed_hook_stops_the_push_that_adds_an_escape(project: Repo) -> None:
    installed = _pre_commit(project, "install", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # Checked out: the clean branch, with a staged escape that is not part of any push.
    project.write({"m.go": LIB + CLEAN + ESCAPE})
    project.git("add", "m.go")

    def push(branch: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(project.path), "push", "origin", branch],
            env=project.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    clean = push("clean")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout + clean.stderr
    rejected = push("escape")
    output = rejected.stdout + rejected.stderr
    assert rejected.returncode != 0, output
    assert FINDING in output and "error: failed to push" in output
    assert project.git("ls-remote", "origin", "refs/heads/escape") == ""
    assert project.git("diff", "--cached", "--name-only") == "m.go"  # left as it was
    # A push with no file escape analysis reads does not run the hook at all.
    project.git("stash", "--quiet")
    project.git("switch", "--quiet", "-c", "docs", "main")
    project.commit({"README.md": "docs\n"}, "docs")
    docs = push("docs")
    assert docs.returncode == 0, docs.stdout + docs.stderr
    assert "(no files to check)Skipped" in docs.stdout + docs.stderr


def test_a_pushed_commit_is_the_default_head() -> None:
    assert pushed_commit({"PRE_COMMIT_TO_REF": "abc123", "PRE_COMMIT_FROM_REF": "0ab"}) == "abc123"
    assert pushed_commit({"PRE_COMMIT_TO_REF": ""}) is None
    assert pushed_commit({}) is None


def test_manifest_is_valid_for_pre_commit() -> None:
    checked = subprocess.run(
        [PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["entry"], hook["stages"]) == (
        "escape-guard",
        "escape-guard diff",
        ["pre-push"],
    )


def test_a_clone_without_the_remote_default_branch_is_told_how_to_set_it(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.commit({"go.mod": GO_MOD, "m.go": LIB}, "m")
    code = main(["diff", "--repo", str(repo.path), "--base", "origin/HEAD"])
    assert code == 4
    err = capsys.readouterr().err
    assert "unknown revision 'origin/HEAD'" in err
    assert "git remote set-head origin --auto" in err and "Traceback" not in err
