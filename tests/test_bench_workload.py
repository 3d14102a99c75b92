"""The benchmark workloads: real standard-library code as a module (bench/workload.py), and
a consumer of golang.org/x code with a dependency bump (bench/consumer.py).

One 10-package workload is built for the whole module; every check that needs Go reads it or
builds a scenario branch with the suite's build cache. The helper sources, the scenario edits
and the naive way's count are checked without Go.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = 10


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


workload = _load("workload")
consumer = _load("consumer")
bench_run = _load("run")
DEEP_IMPORT = f"{workload.MODULE}/{workload.PREFIX}/io"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, go_env: dict[str, str]) -> Any:
    repo = tmp_path_factory.mktemp("bench") / "std"
    return workload.make_workload(repo, packages=PACKAGES, env=go_env, gocache=go_env["GOCACHE"])


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _git(made: Any, env: dict[str, str], *args: str) -> str:
    result = _run(["git", *args], made.repo, env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _go_list(made: Any, env: dict[str, str]) -> list[dict[str, Any]]:
    result = _run(["go", "list", "-json", "./..."], made.repo, env)
    assert result.returncode == 0, result.stderr
    return list(workload._json_stream(result.stdout))


@pytest.mark.go
def test_the_module_holds_at_least_ten_packages_of_real_code(
    made: Any, go_env: dict[str, str]
) -> None:
    listed = _go_list(made, go_env)
    assert len(listed) == len(made.packages) >= PACKAGES
    assert {p["ImportPath"] for p in listed} == {made.module_path(p) for p in made.packages}
    assert made.lines >= 20_000  # the unicode tables come early in the order
    assert not list(made.repo.rglob("*_test.go"))
    assert not [p for p in made.repo.rglob("testdata") if p.is_dir()]


@pytest.mark.go
def test_no_copy_imports_internal_vendor_or_the_original_of_a_copy(
    made: Any, go_env: dict[str, str]
) -> None:
    copied = set(made.packages)
    for package in _go_list(made, go_env):
        for imported in package.get("Imports", []):
            assert not re.search(r"(^|/)(internal|vendor)(/|$)", imported), package["ImportPath"]
            assert imported not in copied, f"{package['ImportPath']} still imports std {imported}"
        assert not package.get("SFiles") and not package.get("CgoFiles")


@pytest.mark.go
def test_the_selection_is_a_deterministic_prefix(made: Any, go_env: dict[str, str]) -> None:
    env = workload.go_env(go_env)
    order = workload.selection_order(workload.std_packages(env))
    assert order == workload.selection_order(workload.std_packages(env))
    assert list(made.packages) == order[:PACKAGES]
    position = {path: i for i, path in enumerate(order)}
    candidates = workload.std_packages(env)
    for path in order:  # every package comes after the copyable packages it imports
        for dep in candidates[path].imports:
            assert position.get(dep, -1) < position[path], (path, dep)


@pytest.mark.go
@pytest.mark.parametrize("scenario", ["main", "leaf", "deep", "ten", "deep-body", "deep-leak"])
def test_every_branch_builds(made: Any, go_env: dict[str, str], scenario: str) -> None:
    tree = made.repo.parent / f"tree-{scenario}"
    _git(made, go_env, "worktree", "add", "--detach", "--quiet", str(tree), scenario)
    result = _run(["go", "build", "-trimpath", "./..."], tree, go_env)
    assert result.returncode == 0, result.stderr


@pytest.mark.go
@pytest.mark.parametrize(("scenario", "count"), [("leaf", 1), ("deep", 1), ("ten", 10)])
def test_each_scenario_adds_one_escape_to_each_package_it_claims(
    made: Any, go_env: dict[str, str], scenario: str, count: int
) -> None:
    assert _git(made, go_env, "rev-list", "--count", f"main..{scenario}").strip() == "1"
    names = _git(made, go_env, "diff", "--name-only", f"main...{scenario}").split()
    changed = sorted({str(Path(name).parent) for name in names})
    claimed = sorted(p.removeprefix(workload.MODULE + "/") for p in made.changed(scenario))
    assert changed == claimed
    assert len(claimed) == count
    tree = made.repo.parent / f"escapes-{scenario}"
    _git(made, go_env, "worktree", "add", "--detach", "--quiet", str(tree), scenario)
    cmd = ["go", "build", "-trimpath", "-gcflags=-m", *made.changed(scenario)]
    result = _run(cmd, tree, go_env)
    assert result.returncode == 0, result.stderr
    for name in names:  # `moved to heap: v` at the added `v := n + k` line
        lines = (tree / name).read_text(encoding="utf-8").splitlines()
        number = next(i for i, line in enumerate(lines, 1) if line.startswith("\tv := n + "))
        assert f"{workload.MODULE}/{name}:{number}:2: moved to heap: v" in result.stderr


@pytest.mark.go
def test_the_leaf_is_imported_by_no_package_and_the_deep_package_by_most(made: Any) -> None:
    candidates = workload.std_packages(workload.go_env())
    importers = workload.transitive_importers(list(made.packages), candidates)
    (leaf,) = made.scenarios["leaf"]
    (deep,) = made.scenarios["deep"]
    assert importers[leaf] == set()
    assert len(importers[deep]) == max(len(v) for v in importers.values())


def test_fewer_than_ten_packages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 10"):
        workload.make_workload(tmp_path / "small", packages=9)


@pytest.mark.go
def test_deep_body_changes_a_never_inlined_body_on_main_and_gains_one_escape(
    made: Any, go_env: dict[str, str]
) -> None:
    (deep,) = made.scenarios["deep-body"]
    helper = f"{workload.PREFIX}/{deep}/{workload.DEEP_FILE}"
    assert _git(made, go_env, "diff", "--name-only", "main...deep-body").split() == [helper]
    assert made.expected("deep-body") == (1, 0)
    outputs = {}
    for revision in ("main", "deep-body"):
        tree = made.repo.parent / f"body-{revision}"
        _git(made, go_env, "worktree", "add", "--detach", "--quiet", str(tree), revision)
        cmd = ["go", "build", "-trimpath", "-gcflags=-m", made.module_path(deep)]
        result = _run(cmd, tree, go_env)
        assert result.returncode == 0, result.stderr
        outputs[revision] = result.stderr
    for output in outputs.values():  # importers can neither inline nor see the body
        assert "can inline BenchBody" not in output
    heap = {
        revision: [line for line in output.splitlines() if helper in line and "heap" in line]
        for revision, output in outputs.items()
    }
    signature = workload.BODY_ESCAPE.splitlines()[0]
    number = workload.deep_source("io").splitlines().index(signature) + 2  # v := n * 2
    moved = f"{workload.MODULE}/{helper}:{number}:2: moved to heap: v"
    assert heap == {"main": [], "deep-body": [moved]}


@pytest.mark.go
def test_deep_leak_moves_every_direct_importers_local_to_the_heap(
    made: Any, go_env: dict[str, str]
) -> None:
    (deep,) = made.scenarios["deep-leak"]
    helper = f"{workload.PREFIX}/{deep}/{workload.DEEP_FILE}"
    assert _git(made, go_env, "diff", "--name-only", "main...deep-leak").split() == [helper]
    assert made.keep_users and set(made.keep_users) <= set(made.deep_importers)
    assert made.expected("deep-leak") == (0, len(made.keep_users))
    assert set(made.reached("deep-leak")) == {
        made.module_path(p) for p in (deep, *made.deep_importers)
    }
    users = [made.module_path(p) for p in made.keep_users]
    moved = {}
    for revision in ("main", "deep-leak"):
        tree = made.repo.parent / f"leak-{revision}"
        _git(made, go_env, "worktree", "add", "--detach", "--quiet", str(tree), revision)
        result = _run(["go", "build", "-trimpath", "-gcflags=-m", *users], tree, go_env)
        assert result.returncode == 0, result.stderr
        moved[revision] = {
            line.split(":")[0].rsplit("/", 1)[0]
            for line in result.stderr.splitlines()
            if line.endswith("moved to heap: v") and f"/{workload.KEEP_FILE}:" in line
        }
    assert moved["main"] == set()
    assert moved["deep-leak"] == set(users)


def test_the_helpers_import_the_deep_package_under_an_alias(tmp_path: Path) -> None:
    deep, user = tmp_path / workload.PREFIX / "io", tmp_path / workload.PREFIX / "image/png"
    for directory, name in ((deep, "io"), (user, "png")):
        directory.mkdir(parents=True)
        header = "// Copyright\n\n//go:build !js\n\n"
        (directory / "a.go").write_text(f'{header}package {name}\n\nimport "io"\n')
    workload.add_helpers(tmp_path, "io", ["image/png"])
    assert (deep / workload.DEEP_FILE).read_text() == workload.deep_source("io")
    keep = (user / workload.KEEP_FILE).read_text()
    assert keep.startswith("package png\n")
    assert f'import benchdeep "{DEEP_IMPORT}"' in keep
    assert "\tv := 1\n\treturn benchdeep.BenchKeep(&v)\n" in keep

    workload.add_escape(tmp_path, "image/png", 1)  # never into a helper file
    assert "BenchEscape" in (user / "a.go").read_text()
    assert "BenchEscape" not in keep


def test_the_deep_edits_change_one_function_each(tmp_path: Path) -> None:
    directory = tmp_path / workload.PREFIX / "io"
    directory.mkdir(parents=True)
    file = directory / workload.DEEP_FILE
    main = workload.deep_source("io")
    assert "//go:noinline\nfunc BenchBody(" in main
    for edit, old, new in (
        (workload.change_body, workload.BODY_MAIN, workload.BODY_ESCAPE),
        (workload.make_keep_leak, workload.KEEP_MAIN, workload.KEEP_LEAK),
    ):
        file.write_text(main)
        edit(tmp_path, "io")
        assert file.read_text() == main.replace(old, new)
    with pytest.raises(ValueError, match="BenchKeep"):
        workload.make_keep_leak(tmp_path, "io")  # already leaking


def test_direct_importers_are_the_selected_packages_importing_the_target() -> None:
    def std(path: str, *imports: str) -> Any:
        return workload.StdPackage(path, "", (), imports)

    pkgs = {p.path: p for p in (std("io"), std("bufio", "io"), std("png", "bufio", "io"))}
    pkgs["csv"] = std("csv", "bufio")
    assert workload.direct_importers(["io", "bufio", "csv", "png"], pkgs, "io") == (
        "bufio",
        "png",
    )


def test_the_naive_way_counts_the_heap_lines_the_head_adds(tmp_path: Path) -> None:
    base, head = tmp_path / "base.txt", tmp_path / "head.txt"
    common = "# m/a\na.go:3:6: can inline F\na.go:4:2: moved to heap: x\n"
    base.write_text(common + "b.go:5:9: &T{} escapes to heap\n")
    head.write_text(
        common
        + "b.go:5:9: &T{} escapes to heap\nb.go:5:9: &T{} escapes to heap\n"
        + "c.go:7:2: moved to heap: v\nc.go:8:3: leaking param: p\nc.go:9:3: s does not escape\n"
    )
    assert bench_run.added_heap_lines(base, head) == 2
    assert bench_run.added_heap_lines(head, base) == 0


def test_a_merged_cache_links_the_entries_of_both(tmp_path: Path) -> None:
    first, second, merged = tmp_path / "first", tmp_path / "second", tmp_path / "merged"
    for cache, entry in ((first, "0a/aa-d"), (second, "0b/bb-d")):
        (cache / entry).parent.mkdir(parents=True)
        (cache / entry).write_text(entry)
        (cache / "trim.txt").write_text(cache.name)
    merged.mkdir()
    for cache in (first, second):
        bench_run._link_merge(cache, merged)
    assert sorted(p.relative_to(merged).as_posix() for p in merged.rglob("*-d")) == [
        "0a/aa-d",
        "0b/bb-d",
    ]
    assert (merged / "trim.txt").read_text() == "first"  # an entry it has is kept
    assert (merged / "0b/bb-d").stat().st_ino == (second / "0b/bb-d").stat().st_ino


def test_the_consumer_requires_the_x_modules_at_the_given_versions() -> None:
    versions = {m: f"v0.{i}.0" for i, m in enumerate(consumer.REQUIRED)}
    text = consumer.go_mod(versions)
    assert text.startswith(f"module {consumer.MODULE}\n\ngo {consumer.GO_LINE}\n")
    for module, version in versions.items():
        assert f"\t{module} {version}\n" in text
    imported = {m for source in consumer.SOURCES.values() for m in consumer.REQUIRED if m in source}
    assert imported == set(consumer.REQUIRED)
    assert consumer.ESCAPE_LINE in consumer.SOURCES[consumer.ESCAPE_FILE]


@pytest.mark.go
def test_the_bump_moves_the_nonce_to_the_heap_from_a_warm_module_cache(
    tmp_path: Path, go_env: dict[str, str]
) -> None:
    made_consumer = consumer.make_consumer(tmp_path, go_env)
    try:
        env = dict(go_env, **made_consumer.settings)  # GOPROXY=off: all of it is cached
        assert env["GOPROXY"] == "off"
        repo = made_consumer.repo
        changed = _run(["git", "diff", "--name-only", "main...bump"], repo, env).stdout.split()
        assert changed == ["go.mod", "go.sum"]
        lines = consumer.SOURCES[consumer.ESCAPE_FILE].splitlines()
        number = lines.index(consumer.ESCAPE_LINE) + 1
        moved = f"{consumer.ESCAPE_FILE}:{number}:6: moved to heap: nonce"
        found = {}
        for revision in ("main", "bump"):
            _run(["git", "checkout", "--quiet", revision], repo, env)
            result = _run(["go", "build", "-trimpath", "-gcflags=-m", "./..."], repo, env)
            assert result.returncode == 0, result.stderr
            found[revision] = moved in result.stderr
        assert found == {"main": False, "bump": True}
    finally:
        consumer.remove(made_consumer)


def test_the_report_renders_every_scenario_with_the_ways_each_leaves_out(tmp_path: Path) -> None:
    def series(seconds: float, **fields: Any) -> Any:
        phases = {"base": seconds / 2, "head": seconds / 2, "build": seconds}
        return bench_run.Series([bench_run.Sample(seconds, dict(phases), **fields)])

    scenarios = {name: ("io",) for name in bench_run.SCENARIOS}
    small = workload.Workload(tmp_path, ("io", "bufio"), 10, scenarios, ("bufio",), ("bufio",))
    results = bench_run.Results()
    for name in bench_run.SCENARIOS:
        new, indirect = small.expected(name)
        results.scenarios[name] = {
            way: bench_run.Series()
            if way in bench_run.SKIPPED.get(name, ())
            else series(1.0, new=new if way == "eg" else new + indirect, indirect=indirect)
            for way in bench_run.WAYS
        }
    results.doubled = results.cold = results.user = series(1.0, new=1, indirect=0)
    results.bump = {way: series(2.0, new=0, indirect=1) for way in ("eg", "naive", "build")}
    results.bump["naive"] = series(2.0, new=1)
    made = consumer.Consumer(tmp_path, tmp_path, None, (consumer.CRYPTO, "v1", "v2"), {})
    info = dict.fromkeys(("go", "cpus", "runs", "cold_runs", "others", "took", "revision"), "x")

    text = bench_run.render(results, small, small, made, info=info)

    for name in (*bench_run.SCENARIOS, "user (leaf)", "dependency bump"):
        assert f"\n{name} " in text
    assert "≠" not in text.replace("a≠b!", "")  # every count is the expected one
    assert "deep-body                  1.00     1.00 [1.00–1.00] met" in text
