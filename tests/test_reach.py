"""The contract: findings equal comparing what ``go build ./...`` compiles at both revisions.

Every test here builds its reference the plain way (tests/reference.py: both revisions
exported, ``go build -gcflags=-m ./...`` in each) and checks the product's default run —
which compiles only what the change reaches — against it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from escape_guard.builds import analysis, compile, golist
from escape_guard.errors import UsageError
from escape_guard.model import Report
from escape_guard.pipeline import DiffOptions, run_diff
from tests.conftest import Repo
from tests.goproxy import SEAL, Proxy, releases
from tests.reference import BuildOptions, Row, project, reference

pytestmark = pytest.mark.go

GO_MOD = "module example.com/m\n\ngo 1.21\n"
LIB = """package lib

// Keep looks at p and forgets it.
func Keep(p *int) int {
	return *p
}

// Count allocates nothing.
//
//go:noinline
func Count(xs []int) int {
	n := 0
	for _, x := range xs {
		if x > 0 {
			n++
		}
	}
	for _, x := range xs {
		if x < 0 {
			n--
		}
	}
	for _, x := range xs {
		if x == 0 {
			n *= 2
		}
	}
	return n
}
"""
APP = """package app

import "example.com/m/lib"

func Use() int {
	v := 1
	return lib.Keep(&v)
}

func Counted() int {
	xs := []int{1, 2, 3}
	return lib.Count(xs)
}
"""
CMD = """package main

import "example.com/m/app"

func main() {
	println(app.Use())
}
"""


class Compiled:
    """The package patterns of every go build the product runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.patterns: list[str] = []
        self.commands: list[set[str]] = []  # the packages each go build named
        real = compile.run_build

        def spy(cmd: list[str], *args: object, **kwargs: object) -> object:
            named = [a for a in cmd if a.startswith("./")]
            self.patterns += named
            self.commands.append(_packages(named))
            return real(cmd, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(compile, "run_build", spy)
        monkeypatch.setattr(analysis, "run_build", spy)

    def packages(self) -> set[str]:
        return _packages(self.patterns)


class Listed:
    """The directories (relative to the repository) of every go list the product runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.dirs: list[str] = []
        real = golist.run

        def spy(cmd: list[str], **kwargs: Any) -> Any:
            self.dirs.append(os.path.relpath(os.path.realpath(kwargs["cwd"]), root.resolve()))
            return real(cmd, **kwargs)

        monkeypatch.setattr(golist, "run", spy)


def _packages(patterns: list[str]) -> set[str]:
    return {p.removeprefix("./").removeprefix("_escape_guard_head/") for p in patterns}


def diff(repo: Repo, env: Mapping[str, str] | None = None) -> Report:
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=env or repo.env)
    return run_diff(options)


def branch(repo: Repo, base: Mapping[str, str], head: Mapping[str, str | None]) -> None:
    repo.commit(dict(base))
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit(dict(head))


def _lib_changed(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, changed: str, **files: str
) -> tuple[Report, Compiled]:
    """The report on lib/lib.go changed to ``changed``, checked against the reference, and
    what its go commands compiled. ``files``: lib, app and main at the base (LIB, APP, CMD)."""
    at_base = {"lib": LIB, "app": APP, "main": CMD, **files}
    base = {"lib/lib.go": at_base["lib"], "app/app.go": at_base["app"]}
    base["cmd/c/main.go"] = at_base["main"]
    branch(repo, {"go.mod": GO_MOD, **base}, {"lib/lib.go": changed})
    compiled = Compiled(monkeypatch)
    report = diff(repo)
    assert project(report) == reference(repo.path, "main", "feature", repo.env)
    return report, compiled


def test_a_callee_that_starts_leaking_moves_a_callers_local_in_an_untouched_package(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaks = LIB.replace("func Keep(p *int) int {\n", "func Keep(p *int) int {\n\tkept = p\n")
    listed = Listed(monkeypatch, repo.path)
    report, compiled = _lib_changed(repo, monkeypatch, leaks + "\nvar kept *int\n")
    # Only a function's body changed: go list reads the same at both revisions, once
    assert listed.dirs == ["."]
    assert project(report) == [
        Row("indirect", "app/app.go", 6, "moved", "v"),
        Row("indirect", "cmd/c/main.go", 6, "moved", "app.v"),  # app.Use inlined into main
    ]
    # Keep is small enough to inline: its importers are compiled with it, in one round
    assert any("`app`" in n and "body of `Keep`, which importers may" in n for n in report.notes)
    assert compiled.packages() == {"lib", "app", "cmd/c"}  # every importer, directly or not
    assert all("lib" in named for named in compiled.commands)


def test_a_changed_import_lists_each_revision_for_its_importers(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head's lib imports a package the base's does not: the revisions' graphs differ,
    so each is listed (and the findings stay the reference's)."""
    leaks = LIB.replace("func Keep(p *int) int {\n", "func Keep(p *int) int {\n\tkept = p\n")
    leaks = leaks.replace("package lib\n", 'package lib\n\nimport "os"\n\nvar _ = os.Args\n')
    listed = Listed(monkeypatch, repo.path)
    report, _ = _lib_changed(repo, monkeypatch, leaks + "\nvar kept *int\n")
    assert Row("indirect", "app/app.go", 6, "moved", "v") in project(report)
    assert listed.dirs == [".", "."]


def test_a_leak_that_only_compiled_facts_show_compiles_importers_in_a_second_round(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeps = LIB.replace("\tn := 0\n", "\tcounted = xs\n\tn := 0\n", 1)  # Count: never inlined
    report, compiled = _lib_changed(repo, monkeypatch, keeps + "\nvar counted []int\n")
    assert Row("indirect", "app/app.go", 11, "escape", "[]int{...}") in project(report)
    assert compiled.commands[0] == {"lib"}  # the sources show nothing importers see
    assert {"app", "cmd/c"} <= set().union(*compiled.commands[1:])
    assert all("lib" not in named for named in compiled.commands[1:])
    second = [n for n in report.notes if "in a second round" in n]
    assert len(second) == 1 and "`app`" in second[0] and "leaking param: xs" in second[0]


def test_a_change_the_sources_show_compiles_importers_with_the_changed_package(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = CMD.replace("example.com/m/app", "example.com/m/lib").replace("app.Use()", "lib.Size")
    grown = SIZED.replace("64", "1 << 20")
    report, compiled = _lib_changed(repo, monkeypatch, grown, lib=SIZED, app=BUFFER, main=main)
    assert project(report) == [Row("indirect", "app/app.go", 6, "escape", "make([]byte, 1048576)")]
    assert len(compiled.commands) == 1  # one go command, both revisions, every package
    assert compiled.commands[0] == {"lib", "app", "cmd/c"}
    assert any(n.startswith("also compiled `app`, `cmd/c`: ") for n in report.notes)
    assert not any("second round" in n for n in report.notes)


def test_importers_of_a_body_that_changed_without_its_exports_are_not_compiled(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = LIB.replace("n *= 2", "n *= 3\n\t\t\tn += len(xs)")
    report, compiled = _lib_changed(repo, monkeypatch, body)
    assert project(report) == []
    assert compiled.packages() == {"lib"}
    assert not any(n.startswith("also compiled") for n in report.notes)


GENERIC = """package lib

// Box returns v as it is.
func Box[T any](v T) T {
	return v
}

var last any
"""
GENERIC_ESCAPES = """package lib

// Box returns v as it is, and keeps a pointer to it.
func Box[T any](v T) T {
	last = &v
	return v
}

var last any
"""
USER = """package app

import "example.com/m/lib"

func Boxed() int {
	return lib.Box(3)
}
"""


def test_an_escape_in_a_generic_body_is_found_where_it_is_instantiated(repo: Repo) -> None:
    branch(
        repo,
        {"go.mod": GO_MOD, "lib/lib.go": GENERIC, "app/app.go": USER},
        {"lib/lib.go": GENERIC_ESCAPES},
    )
    report = diff(repo)
    rows = reference(repo.path, "main", "feature", repo.env)
    assert project(report) == rows
    # v of Box is printed where Box is instantiated, at Box's (unchanged) parameter line
    assert Row("indirect", "lib/lib.go", 4, "moved", "lib.v") in rows
    assert any("`app`" in n and "generic `Box`" in n for n in report.notes)


SIZED = """package lib

// Size is how much a buffer holds.
const Size = 64
"""
BUFFER = """package app

import "example.com/m/lib"

func Sum() int {
	buf := make([]byte, lib.Size)
	n := 0
	for _, b := range buf {
		n += int(b)
	}
	return n
}
"""


def test_a_constant_that_changes_moves_an_importers_buffer_to_the_heap(repo: Repo) -> None:
    branch(
        repo,
        {"go.mod": GO_MOD, "lib/lib.go": SIZED, "app/app.go": BUFFER},
        {"lib/lib.go": SIZED.replace("64", "1 << 20")},
    )
    report = diff(repo)
    assert project(report) == reference(repo.path, "main", "feature", repo.env)
    assert project(report) == [Row("indirect", "app/app.go", 6, "escape", "make([]byte, 1048576)")]
    assert any("package-level declarations changed" in n for n in report.notes)


CRYPTO = "golang.org/x/crypto"


def _go(repo: Repo, env: Mapping[str, str], *args: str) -> None:
    subprocess.run(["go", "-C", str(repo.path), *args], env=env, check=True, capture_output=True)


def _consumer(repo: Repo, goproxy: Proxy, env: Mapping[str, str]) -> str:
    """A module using x/crypto at the older release's version, committed with its go.sum."""
    older, newer = releases()
    gomod = (
        f"module example.com/m\n\ngo 1.25.0\n\nrequire {CRYPTO} {goproxy.version(CRYPTO, older)}\n"
    )
    repo.write({"go.mod": gomod, "seal.go": SEAL, "other/other.go": "package other\n"})
    _go(repo, env, "mod", "tidy")
    return f"{CRYPTO}@{goproxy.version(CRYPTO, newer)}"


def test_a_dependency_bump_alone_is_analysed_and_said(
    repo: Repo, goproxy: Proxy, proxy_env: dict[str, str]
) -> None:
    bump = _consumer(repo, goproxy, proxy_env)
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    _go(repo, proxy_env, "get", bump)
    repo.commit()
    before = (repo.path / "go.mod").read_bytes(), (repo.path / "go.sum").read_bytes()

    report = diff(repo, proxy_env)

    rows = reference(repo.path, "main", "feature", proxy_env)
    assert project(report) == rows == [Row("indirect", "seal.go", 10, "moved", "nonce")]
    old, new = goproxy.versions[CRYPTO]
    assert any(f"went from {old} to {new}" in n and "`.`" in n for n in report.notes)
    assert not any("`other`" in n for n in report.notes)  # imports nothing that changed
    after = (repo.path / "go.mod").read_bytes(), (repo.path / "go.sum").read_bytes()
    assert after == before


def _vendor_env(env: Mapping[str, str]) -> dict[str, str]:
    return {**env, "GOFLAGS": ""}  # the go command's own choice: vendor/ when it is there


def test_a_vendored_bump_is_analysed_in_vendor_mode(
    repo: Repo, goproxy: Proxy, proxy_env: dict[str, str]
) -> None:
    env = _vendor_env(proxy_env)
    bump = _consumer(repo, goproxy, env)
    _go(repo, env, "mod", "vendor")
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    _go(repo, env, "get", bump)
    _go(repo, env, "mod", "vendor")
    repo.commit()

    report = diff(repo, env)

    rows = reference(repo.path, "main", "feature", env)
    assert project(report) == rows == [Row("indirect", "seal.go", 10, "moved", "nonce")]
    # vendor/modules.txt is read by the go command directly: each revision is checked out
    assert any("checked out into a worktree" in n for n in report.notes)


def test_an_edit_of_vendored_code_is_analysed(
    repo: Repo, goproxy: Proxy, proxy_env: dict[str, str]
) -> None:
    env = _vendor_env(proxy_env)
    _consumer(repo, goproxy, env)
    _go(repo, env, "mod", "vendor")
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    vendored = repo.path / "vendor" / CRYPTO / "chacha20poly1305" / "chacha20poly1305.go"
    text = vendored.read_text()
    assert "\nfunc New(" in text
    repo.commit({str(vendored.relative_to(repo.path)): text.replace(
        "\nfunc New(", "\n//go:noinline\nfunc New(", 1
    )})  # fmt: skip

    report = diff(repo, env)

    rows = reference(repo.path, "main", "feature", env)
    assert project(report) == rows == [Row("indirect", "seal.go", 10, "moved", "nonce")]
    assert any("vendored code of `golang.org/x/crypto/chacha20poly1305`" in n for n in report.notes)


PGO = Path(__file__).parent / "fixtures" / "pgo"


def _profiled(repo: Repo, *, profile: bool) -> None:
    """The PGO fixture's module; ``profile``: with cmd/app's default.pgo."""
    repo.write(
        {
            "go.mod": GO_MOD,
            "lib/lib.go": (PGO / "lib.go.txt").read_text(),
            "cmd/app/main.go": (PGO / "main.go.txt").read_text(),
            "other/other.go": "package other\n",
        }
    )
    if profile:
        (repo.path / "cmd" / "app" / "default.pgo").write_bytes((PGO / "default.pgo").read_bytes())


def test_a_profile_added_to_a_main_is_analysed_as_the_go_command_applies_it(repo: Repo) -> None:
    _profiled(repo, profile=False)
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    _profiled(repo, profile=True)
    repo.commit()

    report = diff(repo)

    # With the profile, Fill is inlined into the hot loop, where its buffer escapes.
    rows = reference(repo.path, "main", "feature", repo.env)
    assert project(report) == rows
    assert Row("indirect", "cmd/app/main.go", 28, "escape", "make([]byte, 16)") in rows
    assert any("`cmd/app`" in n and "default.pgo changed" in n for n in report.notes)


def test_a_package_built_for_a_profiled_main_is_compiled_with_the_profile(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _profiled(repo, profile=True)
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    lib = (PGO / "lib.go.txt").read_text()
    repo.commit({"lib/lib.go": lib.replace("b[i] ^= 7", "b[i] ^= 5")})
    compiled = Compiled(monkeypatch)

    report = diff(repo)

    assert project(report) == reference(repo.path, "main", "feature", repo.env) == []
    assert compiled.packages() == {"lib", "cmd/app"}
    assert any("`cmd/app`" in n and "default.pgo applies to `lib`" in n for n in report.notes)


def test_pgo_off_builds_without_profiles_and_a_missing_profile_is_a_usage_error(
    repo: Repo,
) -> None:
    _profiled(repo, profile=False)
    repo.commit()
    repo.git("checkout", "--quiet", "-b", "feature")
    _profiled(repo, profile=True)
    repo.commit()
    options = DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env)

    report = run_diff(replace(options, pgo="off"))

    off = reference(
        repo.path, "main", "feature", repo.env, options=BuildOptions(flags=["-pgo=off"])
    )
    assert project(report) == off == []
    with pytest.raises(UsageError, match=r"--pgo missing\.pgo: no such file"):
        run_diff(replace(options, pgo="missing.pgo"))


def test_a_changed_go_line_compiles_the_module_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch(
        repo,
        {"go.mod": GO_MOD, "lib/lib.go": LIB, "app/app.go": APP},
        {"go.mod": GO_MOD.replace("go 1.21", "go 1.22")},
    )
    compiled = Compiled(monkeypatch)
    report = diff(repo)
    assert project(report) == reference(repo.path, "main", "feature", repo.env)
    assert compiled.packages() == {"lib", "app"}
    assert any("go line of `example.com/m` went from 1.21 to 1.22" in n for n in report.notes)
