"""A pull request's base costs nothing after the default branch's run on the same cache.

The default branch's run (a push) builds every package of the pushed commit; a pull request
based on that commit then finds every package of its base in the build cache, named on the
command line or only a dependency, and compiles its head alone: counted from the go
command's ``-v`` output (``Report.compiled``), not assumed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.builds.compiled import named_by
from escape_guard.builds.modules import Module, Step
from escape_guard.model import Report, Status
from escape_guard.pipeline import DiffOptions, run_diff
from tests.conftest import Repo

pytestmark = pytest.mark.go

GO_MOD = "module example.com/m\n\ngo 1.21\n"
# No imports: an empty build cache needs nothing of the standard library for them.
DEP = (
    "package dep\n\ntype T struct{ B []byte }\n\n"
    "//go:noinline\nfunc New(n int) *T {\n\treturn &T{B: make([]byte, n)}\n}\n"
)
TOP = (
    'package top\n\nimport "example.com/m/dep"\n\n'
    "func Use(n int) int {\n\treturn len(dep.New(n).B)\n}\n"
)
TOP_ESCAPES = (
    'package top\n\nimport "example.com/m/dep"\n\nvar kept *int\n\n'
    "func Use(n int) int {\n\tv := len(dep.New(n).B)\n\tkept = &v\n\treturn v\n}\n"
)
OTHER = (
    "package other\n\nfunc Sum(xs []int) (s int) {\n"
    "\tfor _, x := range xs {\n\t\ts += x\n\t}\n\treturn s\n}\n"
)


def _compiled(report: Report) -> dict[str, int]:
    return dict(report.compiled)


def test_the_base_is_all_cache_hits_after_the_default_branch_run(
    repo: Repo, tmp_path: Path
) -> None:
    env = {**repo.env, "GOCACHE": str(tmp_path / "kept-cache")}
    before = repo.commit({"go.mod": GO_MOD, "dep/dep.go": DEP, "other/other.go": OTHER})
    pushed = repo.commit({"top/top.go": TOP})
    # The default branch's run on the push: every package of the pushed commit, as a base.
    push = run_diff(
        DiffOptions(repo=str(repo.path), base=before, head=pushed, all_packages=True, env=env)
    )
    # From an empty cache: dep and other for the commit before, found again for the pushed
    # one, which adds top.
    assert _compiled(push) == {"base": 2, "head": 1, "other": 0}

    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"top/top.go": TOP_ESCAPES})
    pull = run_diff(
        DiffOptions(repo=str(repo.path), base="main", head="feature", explain=True, env=env)
    )
    assert _compiled(pull) == {"base": 0, "head": 1, "other": 0}
    new = [(f.record.path, f.record.message) for f in pull.findings if f.status is Status.NEW]
    assert new == [("top/top.go", "moved to heap: v")]
    # dep's diagnostics are printed (replayed from the cache) but are not the comparison's.
    assert {f.record.path for f in pull.findings} == {"top/top.go"}


def test_without_the_default_branch_run_the_base_is_compiled(repo: Repo, tmp_path: Path) -> None:
    env = {**repo.env, "GOCACHE": str(tmp_path / "empty-cache")}
    repo.commit({"go.mod": GO_MOD, "dep/dep.go": DEP, "top/top.go": TOP})
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"top/top.go": TOP_ESCAPES})
    pull = run_diff(DiffOptions(repo=str(repo.path), base="main", head="feature", env=env))
    # top at the base and at the head, dep once for both.
    assert _compiled(pull) == {"base": 2, "head": 1, "other": 0}


def test_the_named_packages_diagnostics_are_kept_and_a_dependencys_dropped() -> None:
    root, tools = Module("example.com/m", ""), Module("example.com/m/tools", "tools")
    named = named_by(Step(root, ("./top", "./lib/...")), [root, tools])
    assert named("example.com/m/top")
    assert named("example.com/m/top [example.com/m/cmd/app]")  # built with app's profile
    assert named("example.com/m/lib/deep")
    assert not named("example.com/m/dep")  # only a dependency: its replayed -m output
    assert not named("example.com/m/tools/gen")  # another module of the repository
    assert named("slices")  # a generic instantiation printed under a standard package
    assert named("")
