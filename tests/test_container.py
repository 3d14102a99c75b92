"""The shipped image, built from the Dockerfile and run as GitHub runs a container action.

The image is built with buildah on local stand-ins of its base images (tests/container.py,
scripts/local-base.sh) and each step starts a new container of it against the fake GitHub
API on loopback, on the bundled demo pull request (examples/demo).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.action_harness import REPOSITORY, ActionHarness, Result
from tests.conftest import ROOT
from tests.container import RUNNER_UID, ContainerLauncher, cache_outputs, image, owned_by_others
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.go

DEMO = ROOT / "examples" / "demo"
RUNNER = ["setpriv", f"--reuid={RUNNER_UID}", f"--regid={RUNNER_UID}", "--clear-groups"]


@pytest.fixture(scope="session")
def launcher() -> ContainerLauncher:
    return ContainerLauncher(image())


@pytest.fixture
def gh(tmp_path: Path, go_env: dict[str, str], fake_github: FakeGitHub) -> ActionHarness:
    """The demo's base on main, its head on the pull request's branch."""
    _reachable_by_runner(tmp_path)
    harness = ActionHarness(tmp_path, go_env, fake_github)
    harness.origin.commit(_tree(DEMO / "base"), "base")
    harness.origin.git("switch", "--quiet", "-c", "feature")
    harness.origin.commit(_tree(DEMO / "head", removed_from=DEMO / "base"), "head")
    return harness


def _tree(root: Path, removed_from: Path | None = None) -> dict[str, str | None]:
    files: dict[str, str | None] = {}
    if removed_from is not None:
        files = {str(p.relative_to(removed_from)): None for p in _files(removed_from)}
    files.update({str(p.relative_to(root)): p.read_text() for p in _files(root)})
    return files


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def _synchronize(gh: ActionHarness) -> dict[str, Any]:
    payload = gh.open_pull(7)
    payload["action"] = "synchronize"
    return payload


def _reachable_by_runner(path: Path) -> None:
    """The runner's user reaches ``path``: pytest's own directories are root's alone (and
    another pytest session starting makes them so again)."""
    for directory in [path, *path.parents][:4]:
        directory.chmod(directory.stat().st_mode | 0o011)


def _as_runner(workspace: Path, *args: str) -> str:
    """A command of a later step of the job, run as the runner's user."""
    _reachable_by_runner(workspace.parent)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workspace), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(
        [*RUNNER, *args], cwd=workspace, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _assert_handed_back(result: Result) -> None:
    """Nothing in the workspace is root's, the tree and index are as checked out, and the
    runner's user can clean it for the next job (a go-cache directory, module cache included)."""
    assert owned_by_others(result.workspace, RUNNER_UID) == []
    status = _as_runner(result.workspace, "git", "status", "--porcelain", "--untracked-files=all")
    assert status == ""
    # The next job's actions/checkout starts by cleaning the workspace as the runner's user.
    _as_runner(result.workspace, "git", "clean", "-ffdx")
    _as_runner(result.workspace, "git", "reset", "--hard", "--quiet")
    assert sorted(p.name for p in result.workspace.iterdir()) == sorted(
        [*_as_runner(result.workspace, "git", "ls-tree", "--name-only", "HEAD").split(), ".git"]
    )


def test_pull_request_rerun_and_fix_in_the_container(
    gh: ActionHarness, launcher: ContainerLauncher
) -> None:
    payload = gh.open_pull(7)
    result = gh.run("pull_request", payload, launcher=launcher)
    assert result.code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (review,) = gh.server.reviews(REPOSITORY, 7)
    comments = gh.server.review_comments(REPOSITORY, 7)
    assert {(c.path, c.side) for c in comments} == {("logfmt/record.go", "RIGHT")}
    assert any("`r` is moved to the heap" in c.body for c in comments)
    (check,) = gh.server.check_runs(REPOSITORY)
    assert (check.status, check.conclusion) == ("completed", "failure")
    # Outputs and the job summary came through the file-commands mount.
    new = int(result.outputs["new-escapes"])
    assert new == len(result.report()["new"]) >= 2
    assert f"{new} new heap escapes" in result.summary
    # The image's prebuilt standard library was used: what was compiled in the container is
    # the demo's own packages at two revisions, fewer than the standard ones they import.
    assert 0 < launcher.compiled < _standard_imports(gh.origin.path, gh.env), launcher.compiled
    # The publisher loaded and read the pull request beside the compile, in the image too.
    timing = re.search(r"time to review [^\n]*", result.stdout)
    assert timing and "; 7 requests, 4 of them read ahead" in timing.group(0), result.stdout
    _assert_handed_back(result)

    # A re-run of the same commit updates what it posted; nothing is posted twice.
    result = gh.run("pull_request", payload, launcher=launcher)
    assert result.code == 1, result.stdout + result.stderr
    assert [r.id for r in gh.server.reviews(REPOSITORY, 7)] == [review.id]
    assert len(gh.server.review_comments(REPOSITORY, 7)) == len(comments)
    assert len(gh.server.issue_comments(REPOSITORY, 7)) == 1
    _assert_handed_back(result)

    # A push that takes the change back: no new escape, the comments go, the check passes.
    gh.origin.commit(_tree(DEMO / "base", removed_from=DEMO / "head"), "take the change back")
    result = gh.run("pull_request", _synchronize(gh), launcher=launcher)
    assert result.code == 0, result.stdout + result.stderr
    assert gh.server.review_comments(REPOSITORY, 7) == []
    assert gh.server.check_runs(REPOSITORY)[-1].conclusion == "success"
    assert result.outputs["new-escapes"] == "0"
    _assert_handed_back(result)
    assert gh.server.violations == []


def test_go_cache_in_the_workspace_is_kept_and_reused(
    gh: ActionHarness, launcher: ContainerLauncher
) -> None:
    payload = gh.open_pull(7)
    inputs = {"go-cache": ".go-cache"}
    first = gh.clone()
    result = gh.run("pull_request", payload, workspace=first, inputs=inputs, launcher=launcher)
    assert result.code == 1, result.stdout + result.stderr
    cache = first / ".go-cache"
    # It started as a copy of the image's cache: the standard library was not compiled.
    kept = cache_outputs(cache)
    assert launcher.image_outputs < kept
    assert len(kept - launcher.image_outputs) < _standard_imports(gh.origin.path, gh.env)
    # actions/cache restores the directory into the next job's workspace.
    second = gh.clone()
    shutil.copytree(cache, second / ".go-cache", symlinks=True)
    _assert_handed_back(result)
    result = gh.run("pull_request", payload, workspace=second, inputs=inputs, launcher=launcher)
    assert result.code == 1, result.stdout + result.stderr
    # Everything the second run compiled was in the kept cache.
    assert cache_outputs(second / ".go-cache") == kept
    _assert_handed_back(result)


def test_fork_pull_request_with_a_read_only_token_in_the_container(
    gh: ActionHarness, launcher: ContainerLauncher
) -> None:
    payload = gh.open_pull(7)
    gh.server.read_only = True
    result = gh.run("pull_request", payload, launcher=launcher)
    assert result.code == 1, result.stdout + result.stderr
    assert gh.server.reviews(REPOSITORY, 7) == []
    assert "::error file=logfmt/record.go,line=" in result.stdout
    assert "new heap escapes" in result.summary
    assert "Traceback" not in result.stderr
    _assert_handed_back(result)


def _standard_imports(tree: Path, env: dict[str, str]) -> int:
    listing = subprocess.run(
        ["go", "list", "-deps", "-f", "{{if .Standard}}{{.ImportPath}}{{end}}", "./..."],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    return len(listing.stdout.split())
