"""The go commands of a comparison: flags, environment, schedule and stopping."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from escape_guard.builds.checkout import Tree
from escape_guard.builds.compile import (
    BuildCancelled,
    Builds,
    BuildSpec,
    Started,
    _Announcements,
    build_environment,
    build_revision,
    go_command,
)
from escape_guard.errors import BuildError
from escape_guard.proc import run
from tests.conftest import Repo

GO_MOD = "module example.com/m\n\ngo 1.21\n"
DEP = "package dep\n\n// Box allocates.\nfunc Box(v int) any {\n\treturn v\n}\n"
TOP = (
    'package top\n\nimport "example.com/m/dep"\n\n'
    "// Use boxes.\nfunc Use() any {\n\treturn dep.Box(1)\n}\n"
)


def test_overlay_is_a_flag_and_compilations_are_announced() -> None:
    cmd = go_command(BuildSpec(), ["./a"], overlay="/tmp/o.json")
    assert cmd[:2] == ["go", "build"] and cmd[-1] == "./a"
    assert "-overlay=/tmp/o.json" in cmd and "-v" in cmd
    plain = go_command(BuildSpec(), ["./a"])
    assert not any(flag.startswith("-overlay") for flag in plain) and "-v" in plain


@pytest.mark.go
def test_the_module_compiles_with_diagnostics_and_without_debugging_information(
    repo: Repo, go_env: dict[str, str]
) -> None:
    uses_fmt = 'package dep\n\nimport "fmt"\n\nvar _ = fmt.Sprint\n'
    repo.commit({"go.mod": GO_MOD, "dep/dep.go": DEP, "dep/fmt.go": uses_fmt, "top/top.go": TOP})
    env = {**go_env, "GOCACHE": str(repo.path.parent / "empty-cache")}
    cmd = go_command(BuildSpec(), ["./top"], modules=["example.com/m"])
    # -n prints every compilation the build needs from an empty cache, without running it.
    dry = run([cmd[0], cmd[1], "-n", *cmd[2:]], cwd=str(repo.path), env=env).stderr
    flags = {
        line.split(" -p ")[1].split()[0]: line
        for line in dry.splitlines()
        if "/compile " in line and " -p " in line
    }
    # A dependency in the module compiles as a named package does: one cache entry for both.
    assert "-m -dwarf=false" in flags["example.com/m/top"]
    assert "-m -dwarf=false" in flags["example.com/m/dep"]
    std = [pkg for pkg in flags if not pkg.startswith("example.com/")]
    assert "fmt" in std
    for pkg in std:  # the standard library's cache keys stay those of a plain build
        assert "-dwarf=false" not in flags[pkg], pkg

    # Debugging information is no input of escape analysis: the diagnostics are the same.
    def diagnostics(*gcflags: str) -> str:
        cmd = ["go", "build", "-trimpath", *gcflags, "./top", "./dep"]
        return run(cmd, cwd=str(repo.path), env=go_env).stderr

    assert "escapes to heap" in diagnostics("-gcflags=-m")
    assert diagnostics("-gcflags=-m") == diagnostics("-gcflags=-m -dwarf=false")


def test_the_compiler_gets_a_thriftier_collector_unless_the_user_chose() -> None:
    assert build_environment({"PATH": "/bin"}) == {"PATH": "/bin", "GOGC": "400"}
    assert build_environment({"GOGC": "off"})["GOGC"] == "off"


def test_announcements_wait_for_every_package_across_blocks() -> None:
    told: list[str] = []
    watch = _Announcements({b"example.com/m/a", b"example.com/m/b"}, lambda: told.append("x"))
    watch.feed(b"example.com/m/dep\nexample.com/m/a\nexample.com/")
    assert told == []
    watch.feed(b"m/a/inner.go:3:6: can inline f\nexample.com/m")  # not a -v line
    assert told == []
    watch.feed(b"/b\n")
    assert told == ["x"]
    watch.feed(b"example.com/m/b\n")
    assert told == ["x"]  # once


@pytest.mark.go
def test_told_once_the_packages_compile_and_before_the_build_returns(
    repo: Repo, go_env: dict[str, str]
) -> None:
    repo.commit({"go.mod": GO_MOD, "dep/dep.go": DEP, "top/top.go": TOP})
    # A cache of its own, so that the dependency is compiled and announced first.
    env = {**go_env, "GOCACHE": str(repo.path.parent / "gocache")}

    def build_top() -> list[str]:
        told = _Told()
        built = build_revision(
            Tree(str(repo.path)),
            BuildSpec(env=env),
            label="head",
            packages=frozenset({"top"}),
            started=told,
        )
        assert {r.path for _, r in built.records} == {"example.com/m/top/top.go"}
        return told.said

    assert build_top() == ["started .", "ended"]
    # Cached now: nothing is compiled, nothing announced; still told once, at the end.
    assert build_top() == ["started .", "ended"]


class _Told(Started):
    """Says what a build told it, and what it waited for."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[str] = []

    def module(self, directory: str) -> None:
        self.said.append(f"started {directory or '.'}")
        super().module(directory)

    def ended(self) -> None:
        self.said.append("ended")
        super().ended()

    def wait(self, directory: str) -> None:
        self.said.append(f"waits for {directory or '.'}")


@pytest.mark.go
def test_each_module_waits_for_the_other_revisions_and_is_told_apart(
    repo: Repo, go_env: dict[str, str]
) -> None:
    sub = "package sub\n\nfunc Sum(xs []int) (n int) {\n\tfor _, x := range xs {\n\t\tn += x\n"
    sub += "\t}\n\treturn\n}\n"
    repo.commit(
        {
            "go.mod": GO_MOD,
            "dep/dep.go": DEP,
            "top/top.go": TOP,
            "sub/go.mod": "module example.com/sub\n\ngo 1.21\n",
            "sub/sub.go": sub,
        }
    )
    env = {**go_env, "GOCACHE": str(repo.path.parent / "gocache")}
    told = _Told()
    build_revision(
        Tree(str(repo.path)),
        BuildSpec(env=env),
        label="head",
        packages=frozenset({"top", "sub"}),
        started=told,
        after=told,
    )
    # Before each module's go command, the wait for the other revision's; the root's told
    # once its package compiles, the standard-library-only one at once; then the end.
    pairs = [told.said[i : i + 2] for i in range(0, 4, 2)]
    assert sorted(pairs) == [["waits for .", "started ."], ["waits for sub", "started sub"]]
    assert told.said[4:] == ["ended"]


def test_a_wait_ends_when_the_module_started_or_the_build_ended() -> None:
    started = Started()
    waiting = threading.Thread(target=started.wait, args=("sub",))
    waiting.start()
    started.module("")
    waiting.join(timeout=0.2)
    assert waiting.is_alive()  # another module's news
    started.module("sub")
    waiting.join(timeout=10)
    assert not waiting.is_alive()
    ended = Started()
    waiting = threading.Thread(target=ended.wait, args=("sub",))
    waiting.start()
    ended.ended()
    waiting.join(timeout=10)
    assert not waiting.is_alive()


@pytest.mark.go
def test_announcements_are_not_mistaken_for_errors(repo: Repo, go_env: dict[str, str]) -> None:
    broken = TOP.replace("dep.Box(1)", "dep.Box(undefinedName)")
    repo.commit({"go.mod": GO_MOD, "dep/dep.go": DEP, "top/top.go": broken})
    env = {**go_env, "GOCACHE": str(repo.path.parent / "gocache")}
    with pytest.raises(BuildError) as caught:
        build_revision(
            Tree(str(repo.path)),
            BuildSpec(env=env),
            label="head revision",
            packages=frozenset({"top"}),
            started=Started(),
        )
    shown = caught.value.message.splitlines()[1:]
    assert any("undefined: undefinedName" in line for line in shown)
    assert all(" " in line.strip() for line in shown)  # no bare import paths from -v


def test_a_stopped_comparison_starts_no_more_builds(tmp_path: Path) -> None:
    builds = Builds()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    with builds.start(sleeper, cwd=str(tmp_path), env=os.environ) as proc:
        builds.stop()
        assert proc.wait(timeout=10) != 0
    with pytest.raises(BuildCancelled), builds.start(sleeper, cwd=str(tmp_path), env=os.environ):
        pass


USER = (
    'package user\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\n// Say formats.\n'
    "func Say(s string) string {\n\treturn fmt.Sprint(strings.ToUpper(s))\n}\n"
)


@pytest.mark.go
def test_in_place_builds_hit_what_a_plain_go_build_left_in_the_cache(repo: Repo) -> None:
    """A developer's cache holds the standard library built the ordinary way: a revision seen
    in place is built without -trimpath, so it compiles none of it again."""
    repo.commit({"go.mod": GO_MOD, "user/user.go": USER})
    run(["go", "build", "./..."], cwd=repo.path, env=repo.env)  # what the user's cache holds
    in_place = Tree(str(repo.path), how="in place")
    cmd = go_command(BuildSpec(), ["./user"], trimpath=False)
    assert "-trimpath" not in cmd
    compiled = run(cmd, cwd=repo.path, env=repo.env).stderr.split("\n")
    assert "example.com/m/user" in compiled  # with -m: compiled, its diagnostics printed
    assert not {"fmt", "strings", "runtime"} & set(compiled)  # from the user's cache
    spec = BuildSpec(env=repo.env)
    records = build_revision(in_place, spec, label="head", packages=["user"]).records
    assert {r.path for _, r in records} == {"user/user.go"}  # printed relative to the module
    worktree = go_command(BuildSpec(), ["./user"])
    assert "-trimpath" in worktree  # a checked-out revision: paths independent of its place
