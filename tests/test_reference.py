"""The reference findings (tests/reference.py) say what a comparison must report."""

from __future__ import annotations

import subprocess

import pytest

from escape_guard.model import Finding, Kind, Report, Revision, Status
from escape_guard.pipeline import DiffOptions, run_diff
from tests.conftest import Repo
from tests.factories import record
from tests.goproxy import SEAL, Proxy, releases
from tests.reference import BuildOptions, Row, find_modules, project, reference

pytestmark = pytest.mark.go

GO_MOD = "module example.com/m\n\ngo 1.21\n"
MAIN = """package main

var sink *int

//go:noinline
func keep() {
	v := 1
	sink = &v
}

func main() {
	keep()
}
"""
# The head adds an escape in a new function and removes the one in keep.
MAIN_HEAD = """package main

var sink *int

//go:noinline
func keep() {
	v := 1
	_ = v
}

//go:noinline
func grab() *[4]int {
	return &[4]int{1, 2, 3, 4}
}

func main() {
	keep()
	sink = &grab()[0]
}
"""


def test_an_added_escape_is_new_and_a_removed_one_fixed(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "main.go": MAIN})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"main.go": MAIN_HEAD})

    rows = reference(repo.path, "main", "feature", repo.env)

    assert rows == [
        Row("fixed", "main.go", 7, "moved", "v"),
        Row("new", "main.go", 13, "escape", "&[4]int{...}"),
    ]
    report = run_diff(DiffOptions(repo=str(repo.path), base="main", head="feature", env=repo.env))
    assert project(report) == rows


LIB = """package lib

// Keep looks at p and forgets it.
func Keep(p *int) int {
	return *p
}
"""
LIB_LEAKS = """package lib

var kept *int

// Keep remembers p.
func Keep(p *int) int {
	kept = p
	return *p
}
"""
APP = """package app

import "example.com/m/lib"

func Use() int {
	v := 1
	return lib.Keep(&v)
}
"""


def test_a_callee_that_starts_leaking_moves_an_unchanged_callers_local(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "lib/lib.go": LIB, "app/app.go": APP})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"lib/lib.go": LIB_LEAKS})

    rows = reference(repo.path, "main", "feature", repo.env)

    # app/ did not change: its v moves to the heap because of lib's change.
    assert rows == [Row("indirect", "app/app.go", 6, "moved", "v")]


def test_a_dependency_bump_moves_an_unchanged_local(
    repo: Repo, goproxy: Proxy, proxy_env: dict[str, str]
) -> None:
    older, newer = releases()
    crypto = "golang.org/x/crypto"
    gomod = (
        f"module example.com/m\n\ngo 1.25.0\n\nrequire {crypto} {goproxy.version(crypto, older)}\n"
    )
    repo.write({"go.mod": gomod, "seal.go": SEAL})
    go = ["go", "-C", str(repo.path)]
    subprocess.run([*go, "mod", "tidy"], env=proxy_env, check=True, capture_output=True)
    repo.commit()  # with its go.sum, as a real repository has it
    repo.git("checkout", "--quiet", "-b", "feature")
    bump = f"{crypto}@{goproxy.version(crypto, newer)}"
    subprocess.run([*go, "get", bump], env=proxy_env, check=True, capture_output=True)
    repo.commit()

    rows = reference(repo.path, "main", "feature", proxy_env)

    # At the older x/crypto, chacha20poly1305.New inlines and Seal is devirtualized.
    assert rows == [Row("indirect", "seal.go", 10, "moved", "nonce")]


NESTED_GO_MOD = "module example.com/tool\n\ngo 1.21\n"
TOOL = """package tool

var sink []byte

func Fill(n int) {
	sink = make([]byte, n)
}
"""


def test_nested_modules_are_built_too(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "main.go": MAIN, "tools/go.mod": NESTED_GO_MOD})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"tools/tool.go": TOOL})

    rows = reference(repo.path, "main", "feature", repo.env)

    assert rows == [Row("new", "tools/tool.go", 6, "escape", "make([]byte, n)")]
    assert find_modules(repo.path) == {"example.com/m": "", "example.com/tool": "tools"}


TAGGED = """//go:build special

package main

func tagged() *int {
	v := 2
	return &v
}
"""


def test_build_options_choose_the_files_compiled(repo: Repo) -> None:
    repo.commit({"go.mod": GO_MOD, "main.go": MAIN})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"tagged.go": TAGGED})

    assert reference(repo.path, "main", "feature", repo.env) == []
    tagged = reference(
        repo.path, "main", "feature", repo.env, options=BuildOptions(tags=("special",))
    )
    assert tagged == [Row("new", "tagged.go", 6, "moved", "v")]


def test_project_keeps_the_statuses_that_carry_meaning() -> None:
    def finding(status: Status, line: int) -> Finding:
        return Finding(record(path="a.go", line=line, kind=Kind.MOVED, expression="v"), status)

    statuses = [Status.UNCHANGED, Status.NEW, Status.INDIRECT, Status.FIXED, Status.ACCEPTED]
    findings = tuple(finding(s, line) for line, s in enumerate(statuses, 1))
    report = Report(Revision("main", "a"), Revision("HEAD", "b"), "a", findings)

    assert project(report) == [
        Row("new", "a.go", 2, "moved", "v"),
        Row("indirect", "a.go", 3, "moved", "v"),
        Row("fixed", "a.go", 4, "moved", "v"),
    ]
