"""The benchmark workload (bench/workload.py): real standard-library code as a module.

One 10-package workload is built for the whole module; every check reads it or builds a
scenario branch with the suite's build cache.
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

pytestmark = pytest.mark.go


def _load_workload() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_workload", ROOT / "bench" / "workload.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


workload = _load_workload()


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


def test_the_module_holds_at_least_ten_packages_of_real_code(
    made: Any, go_env: dict[str, str]
) -> None:
    listed = _go_list(made, go_env)
    assert len(listed) == len(made.packages) >= PACKAGES
    assert {p["ImportPath"] for p in listed} == {made.module_path(p) for p in made.packages}
    assert made.lines >= 20_000  # the unicode tables come early in the order
    assert not list(made.repo.rglob("*_test.go"))
    assert not [p for p in made.repo.rglob("testdata") if p.is_dir()]


def test_no_copy_imports_internal_vendor_or_the_original_of_a_copy(
    made: Any, go_env: dict[str, str]
) -> None:
    copied = set(made.packages)
    for package in _go_list(made, go_env):
        for imported in package.get("Imports", []):
            assert not re.search(r"(^|/)(internal|vendor)(/|$)", imported), package["ImportPath"]
            assert imported not in copied, f"{package['ImportPath']} still imports std {imported}"
        assert not package.get("SFiles") and not package.get("CgoFiles")


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


@pytest.mark.parametrize("scenario", ["main", "leaf", "deep", "ten"])
def test_every_branch_builds(made: Any, go_env: dict[str, str], scenario: str) -> None:
    tree = made.repo.parent / f"tree-{scenario}"
    _git(made, go_env, "worktree", "add", "--detach", "--quiet", str(tree), scenario)
    result = _run(["go", "build", "-trimpath", "./..."], tree, go_env)
    assert result.returncode == 0, result.stderr


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
