"""Repositories with several modules: a module is loaded only when the change reaches it.

Each test checks the product's default run against the reference of plain builds of
both revisions (tests/reference.py).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

import pytest

from escape_guard.config import Config
from escape_guard.errors import BuildError
from escape_guard.model import Report
from escape_guard.pipeline import DiffOptions, run_diff
from escape_guard.render import json as json_report
from escape_guard.render import markdown
from tests.conftest import Repo
from tests.goproxy import Proxy, releases
from tests.reference import BuildOptions, project, reference

pytestmark = pytest.mark.go

ROOT_MOD = "module example.com/lib\n\ngo 1.22\n"
LIB = """package lib

// Keep looks at p and forgets it.
func Keep(p *int) int {
	return *p
}
"""
APP = """package app

import "example.com/lib"

func Use() int {
	v := 1
	return lib.Keep(&v)
}
"""
# A benchmarks module as libraries keep them: tests only, comparing with competitors the
# test's proxy does not serve. Its go line is older than module graph pruning (1.17), so the
# go command loads every requirement's go.mod to list even its own package.
BENCH_MOD = """module example.com/lib/benchmarks

go 1.16

require (
	example.com/lib v0.0.0
	github.com/competitor/fastlog v1.4.0
)

replace example.com/lib => ../
"""
BENCH_TEST = """package benchmarks

import (
	"testing"

	"example.com/lib"
	"github.com/competitor/fastlog"
)

func BenchmarkKeep(b *testing.B) {
	v := 1
	for range b.N {
		lib.Keep(&v)
		fastlog.Info("x")
	}
}
"""
LEAKS = LIB.replace("func Keep(p *int) int {\n", "func Keep(p *int) int {\n\tkept = p\n") + (
    "\nvar kept *int\n"
)


def diff(repo: Repo, **options: object) -> Report:
    settings: dict[str, object] = {"env": repo.env, **options}
    return run_diff(DiffOptions(repo=str(repo.path), base="main", head="feature", **settings))  # type: ignore[arg-type]


def branch(repo: Repo, base: Mapping[str, str], head: Mapping[str, str | None]) -> None:
    repo.commit(dict(base))
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit(dict(head))


def test_a_tests_only_module_the_change_does_not_need_is_not_loaded(repo: Repo) -> None:
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "app/app.go": APP,
            "benchmarks/go.mod": BENCH_MOD,
            "benchmarks/bench_test.go": BENCH_TEST,
        },
        {"lib.go": LEAKS},
    )
    report = diff(repo)
    root_only = BuildOptions(modules=[""])
    assert project(report) == reference(repo.path, "main", "feature", repo.env, options=root_only)
    assert any(f.record.path == "app/app.go" for f in report.indirect)
    assert not any("benchmarks" in note for note in report.notes)


# A module of examples that builds against the library's working copy.
EXAMPLES_MOD = """module example.com/lib/examples

go 1.22

require example.com/lib v0.0.0

replace example.com/lib => ../
"""
EXAMPLE = """package examples

import "example.com/lib"

func Example() int {
	w := 2
	return lib.Keep(&w)
}
"""


def test_a_module_that_builds_against_the_changed_one_is_loaded_and_said(repo: Repo) -> None:
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "examples/go.mod": EXAMPLES_MOD,
            "examples/example.go": EXAMPLE,
        },
        {"lib.go": LEAKS},
    )
    report = diff(repo)
    assert project(report) == reference(repo.path, "main", "feature", repo.env)
    assert [f.record.path for f in report.indirect] == ["examples/example.go"]
    assert (
        "also loaded module `example.com/lib/examples` (`examples`): it requires "
        "`example.com/lib` through `replace example.com/lib => ../`, and its packages import it"
    ) in report.notes


# Requires a competitor the proxy does not serve, before module graph pruning.
UNPRUNED_EXAMPLES_MOD = EXAMPLES_MOD.replace("go 1.22", "go 1.16").replace(
    "require example.com/lib v0.0.0",
    "require (\n\texample.com/lib v0.0.0\n\tgithub.com/competitor/fastlog v1.4.0\n)",
)


@pytest.mark.parametrize(
    ("gomod", "said"),
    [
        (UNPRUNED_EXAMPLES_MOD, "github.com/competitor/fastlog@v1.4.0"),
        (EXAMPLES_MOD + "retract [v1.0.0\n", "errors parsing go.mod: go.mod:8: expected"),
    ],
    ids=["a requirement not served", "a broken go.mod"],
)
def test_a_reached_module_that_cannot_be_loaded_is_named_and_the_run_goes_on(
    repo: Repo, gomod: str, said: str
) -> None:
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "app/app.go": APP,
            "examples/go.mod": gomod,
            "examples/example.go": EXAMPLE,
        },
        {"lib.go": LEAKS},
    )
    report = diff(repo)
    root_only = BuildOptions(modules=[""])
    assert project(report) == reference(repo.path, "main", "feature", repo.env, options=root_only)
    assert [f.record.path for f in report.indirect] == ["app/app.go"]
    (gone,) = report.not_analysed
    assert gone.module == "example.com/lib/examples"
    assert gone.directory == "examples"
    assert gone.packages == ("examples",)
    assert gone.revisions == ("base", "head")
    assert said in gone.error
    assert gone.sentence() in report.notes
    assert json_report.load_report(json_report.render(report)).not_analysed == (gone,)
    assert json_report.to_dict(report)["not_analysed"][0]["packages"] == ["examples"]
    assert "could not be loaded at the base and the head" in markdown.render(report)


def test_a_module_the_change_is_in_that_cannot_be_loaded_stops_the_run(repo: Repo) -> None:
    unpruned = UNPRUNED_EXAMPLES_MOD
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "examples/go.mod": unpruned,
            "examples/example.go": EXAMPLE,
        },
        {"examples/go.mod": unpruned.replace("v1.4.0", "v1.5.0"), "lib.go": LEAKS},
    )
    with pytest.raises(BuildError) as raised:
        diff(repo)
    message = str(raised.value)
    assert "module `example.com/lib/examples` (`examples`) at the base (" in message
    assert "github.com/competitor/fastlog" in message


ADDS = EXAMPLE.replace(
    "func Example() int {", "var sink *int\n\nfunc Example() int {\n\tn := 3\n\tsink = &n"
)


def test_the_default_pattern_covers_every_module_and_an_import_path_one_module(
    repo: Repo,
) -> None:
    """``./...`` is every module's ``./...``, as multi-module repositories expect; the root
    module's import path pattern is what ``go build ./...`` at the root builds."""
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "examples/go.mod": EXAMPLES_MOD,
            "examples/example.go": EXAMPLE,
        },
        {"examples/example.go": ADDS},
    )
    every = diff(repo)
    assert project(every) == reference(repo.path, "main", "feature", repo.env)
    assert [(f.record.path, f.record.expression) for f in every.new] == [
        ("examples/example.go", "n")
    ]
    root = diff(repo, config=Config(packages=("example.com/lib/...",)))
    assert project(root) == reference(
        repo.path, "main", "feature", repo.env, options=BuildOptions(modules=[""])
    )
    assert root.new == []


WORK = "go 1.22\n\nuse (\n\t.\n\t./examples\n)\n"


def test_a_go_work_joins_the_modules_it_uses_and_no_other(repo: Repo) -> None:
    """In workspace mode every used module builds against the others' working copies (no
    replace needed); a module the go.work does not use is never loaded."""
    examples = EXAMPLES_MOD.replace("\nreplace example.com/lib => ../\n", "")
    tools = BENCH_MOD.replace("benchmarks", "tools")  # would not load: never asked to
    branch(
        repo,
        {
            "go.work": WORK,
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "examples/go.mod": examples,
            "examples/example.go": EXAMPLE,
            "tools/go.mod": tools,
            "tools/tool.go": EXAMPLE.replace("package examples", "package tools"),
        },
        {"lib.go": LEAKS},
    )
    env = {k: v for k, v in repo.env.items() if k != "GOFLAGS"}  # -mod=mod: not in a workspace
    report = diff(repo, env=env)
    used = BuildOptions(modules=["", "examples"])
    assert project(report) == reference(repo.path, "main", "feature", env, options=used)
    assert [f.record.path for f in report.indirect] == ["examples/example.go"]
    assert (
        "also loaded module `example.com/lib/examples` (`examples`): the go.work uses it beside "
        "`example.com/lib`, and its packages import it"
    ) in report.notes
    assert report.not_analysed == ()


def test_with_real_dependencies_the_benchmarks_module_stays_unloaded(
    repo: Repo, goproxy: Proxy, proxy_env: dict[str, str]
) -> None:
    """The root module requires real golang.org/x code from the test's module proxy; the
    benchmarks module requires competitors that proxy does not serve."""
    text = "golang.org/x/text"
    older = releases()[0]
    gomod = f"{ROOT_MOD}\nrequire {text} {goproxy.version(text, older)}\n"
    normed = LIB.replace(
        "package lib\n", 'package lib\n\nimport "golang.org/x/text/unicode/norm"\n'
    )
    normed += "\nfunc Normal(s string) string {\n\treturn norm.NFC.String(s)\n}\n"
    repo.env = dict(proxy_env)
    repo.write({"go.mod": gomod, "lib.go": normed, "app/app.go": APP})
    subprocess.run(["go", "mod", "tidy"], cwd=repo.path, env=proxy_env, check=True)
    branch(
        repo,
        {"benchmarks/go.mod": BENCH_MOD, "benchmarks/bench_test.go": BENCH_TEST},
        {
            "lib.go": normed.replace(
                "func Keep(p *int) int {\n", "func Keep(p *int) int {\n\tkept = p\n"
            )
            + "\nvar kept *int\n"
        },
    )
    report = diff(repo)
    root_only = BuildOptions(modules=[""])
    assert project(report) == reference(repo.path, "main", "feature", proxy_env, options=root_only)
    assert [f.record.path for f in report.indirect] == ["app/app.go"]
    assert report.not_analysed == ()


def test_every_package_leaves_out_a_module_of_tests_only(repo: Repo) -> None:
    """``--all-packages`` builds every module with Go files to compile; ``go build ./...`` in
    a module of tests only compiles nothing and would only load its requirements."""
    branch(
        repo,
        {
            "go.mod": ROOT_MOD,
            "lib.go": LIB,
            "app/app.go": APP,
            "benchmarks/go.mod": BENCH_MOD,
            "benchmarks/bench_test.go": BENCH_TEST,
        },
        {"lib.go": LEAKS},
    )
    report = diff(repo, all_packages=True)
    root_only = BuildOptions(modules=[""])
    assert project(report) == reference(repo.path, "main", "feature", repo.env, options=root_only)
    assert [f.record.path for f in report.indirect] == ["app/app.go"]
