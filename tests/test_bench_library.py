"""The library benchmark's workload (bench/libmodule.py): it builds, and each of its three
changes of core gives the findings the naive way finds, every importer of core reached.

The library is made small (a few generated functions a package) with the suite's proxy,
module cache and build cache; the edits themselves are checked without Go.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from escape_guard.pipeline import DiffOptions, run_diff
from tests.goproxy import Proxy
from tests.test_bench_workload import _load

libmodule = _load("libmodule")
IMPORTERS = len(libmodule.IMPORTERS)
# (new, indirect) findings of each branch: what the naive way's diff adds, every heap line
# on a changed line new and every other one indirect.
EXPECTED = {
    # each importer's make([]core.Entry, 0, 600), in Batch and where Chain inlines a Batch
    "field": (0, 51),
    "inline": (1, IMPORTERS),  # Int's boxed v, and where each importer inlines Int
    "rewrite": (4, IMPORTERS + 1),  # the pool, AppendInt, Clone; each importer's []core.Field
}


@pytest.mark.parametrize("branch", libmodule.BRANCHES)
def test_an_edit_keeps_the_lines_of_what_it_does_not_change(branch: str) -> None:
    main = {f"core/{name}": text for name, text in libmodule.core_files(1).items()}
    for path, text in libmodule.branch_edits(branch).items():
        if path in main:
            old, new = main[path].splitlines(), text.splitlines()
            assert len(new) - len(old) == (1 if branch == "field" else 0)


@pytest.fixture(scope="module")
def library(
    tmp_path_factory: pytest.TempPathFactory,
    goproxy: Proxy,
    proxy_env: dict[str, str],
) -> Any:
    return libmodule.make_library(
        tmp_path_factory.mktemp("library"),
        proxy_env,
        proxy=goproxy,
        modcache=Path(proxy_env["GOMODCACHE"]),
        functions=(3, 1),
    )


@pytest.mark.go
@pytest.mark.parametrize("branch", libmodule.BRANCHES)
def test_each_change_of_core_reaches_every_importer(
    library: Any, proxy_env: dict[str, str], branch: str
) -> None:
    env = dict(proxy_env, **library.settings)
    report = run_diff(DiffOptions(repo=str(library.repo), base="main", head=branch, env=env))
    counts = Counter(f.status.value for f in report.findings)
    assert (counts["new"], counts["indirect"]) == EXPECTED[branch]
    reached = {posixpath.dirname(f.record.path) for f in report.findings}
    assert reached - {"core"} == set(libmodule.IMPORTERS)  # every importer of core
