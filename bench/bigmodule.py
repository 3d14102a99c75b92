"""escape-guard on a module of 300 packages and more, against the same change in 22.

    python bench/bigmodule.py               # 14 copies of the 22 packages: 308, 5 runs
    python bench/bigmodule.py --copies 20 --runs 3

The module is ``bench/workload.py``'s (its ``main`` and ``leaf`` branch), with its ``pkg/`` tree
copied ``--copies - 1`` more times as ``pkg1/``, ``pkg2/``… (imports rewritten to stay inside
each copy): the same leaf change, the same packages to compile, in a module whose listing,
diff and line map are 14 times larger. Every run starts from a fresh copy of a cache holding
the standard library built with and without ``-trimpath``, as ``bench/run.py``'s runs do;
the two modules' runs alternate. Printed for each: the wall time, the build phase (the go
commands and escape-guard's planning around them), the time outside the build phase
(interpreter start, revisions, diff and line map, comparison, report), and the peak resident
memory of escape-guard's own process and of the largest of its children (the go commands,
git). Targets: outside the build at most 1 s and 10% of the run; the large module's run at
most 1.2× the small one's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import (
    ROOT,
    _go,
    _link_copy,
    _link_merge,
    _report,
    _venv_tool,
    byte_compile,
    prepare_std_caches,
)
from workload import MODULE, PREFIX, go_env, make_workload

TARGET_OUTSIDE = 1.0  # seconds outside the build phase
TARGET_OUTSIDE_SHARE = 0.10
TARGET_SIZE = 1.2  # the large module's leaf run / the small one's
# Run escape-guard's entry point and report the peak memory of its process and its children.
_MEASURED = """
import resource, sys
from escape_guard.cli import main
code = main(sys.argv[1:])
peaks = [resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print("peak-rss", *peaks, file=sys.stderr)
sys.exit(code)
"""


def copy_module(small: Path, large: Path, copies: int, env: dict[str, str]) -> int:
    """``small``'s main with its packages copied; the leaf branch's change; package count."""
    shutil.copytree(small, large, ignore=shutil.ignore_patterns(".git"))
    git = _git(small, env)
    git("checkout", "--quiet", "main")
    tree = large / PREFIX
    for number in range(1, copies):
        target = large / f"{PREFIX}{number}"
        shutil.copytree(tree, target)
        for file in target.rglob("*.go"):
            text = file.read_text(encoding="utf-8")
            file.write_text(text.replace(f'"{MODULE}/{PREFIX}/', f'"{MODULE}/{PREFIX}{number}/'))
    big = _git(large, env)
    big("init", "--quiet", "--initial-branch=main")
    big("add", "-A")
    big("commit", "--quiet", "-m", "the workload's packages, copied")
    big("checkout", "--quiet", "-b", "leaf")
    for path in git("diff", "--name-only", "main", "leaf").split():
        (large / path).write_text(git("show", f"leaf:{path}"), encoding="utf-8")
    big("commit", "--quiet", "-a", "-m", "leaf: one new escape")
    big("checkout", "--quiet", "main")
    return sum(1 for d in large.rglob("*") if d.is_dir() and any(d.glob("*.go")))


def _git(repo: Path, env: dict[str, str]) -> Callable[..., str]:
    def git(*args: str) -> str:
        out = subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
        )
        return out.stdout if args[0] == "show" else out.stdout.strip()

    return git


def measured_run(repo: Path, cache: Path, scratch: Path, env: dict[str, str]) -> dict[str, float]:
    """One leaf run from a fresh copy of ``cache``: wall, build phase, peaks in MB."""
    run_cache = scratch / "gocache"
    shutil.rmtree(run_cache, ignore_errors=True)
    _link_copy(cache, run_cache)
    python = str(Path(_venv_tool("escape-guard")).parent / "python")
    cmd = [python, "-c", _MEASURED, "diff", "--repo", str(repo), "--base", "main"]
    cmd += ["--head", "leaf", "--format", "json"]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, env=dict(env, GOCACHE=str(run_cache)), capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    report = _report(proc) if proc.returncode in (0, 1) else None
    if report is None or report["summary"]["new"] != 1:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}")
    peaks = next(line for line in proc.stderr.splitlines() if line.startswith("peak-rss"))
    own, children = (int(v) / 1024 for v in peaks.split()[1:])
    build = dict(report["timings"]).get("build", 0.0)
    return {"wall": wall, "build": build, "outside": wall - build, "own": own, "go": children}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=14)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = go_env()
    version = _go(["env", "GOVERSION"], cwd=ROOT, env=env).strip()
    byte_compile()
    std = prepare_std_caches(ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-big-") as scratch_dir:
        scratch = Path(scratch_dir)
        both = scratch / "both-cache"
        _link_copy(std["trimpath"], both)
        _link_merge(std["plain"], both)
        # The workload's compile checks write into the cache they are given: a copy, never the
        # prepared one, whose entries every other bench's runs start from.
        checks = scratch / "check-cache"
        _link_copy(std["trimpath"], checks)
        small = make_workload(scratch / "small", env=env, gocache=str(checks))
        count = copy_module(small.repo, scratch / "large", args.copies, env)
        repos = {"small": small.repo, "large": scratch / "large"}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in repos}
        for _ in range(args.runs):
            for name, repo in repos.items():
                runs[name].append(measured_run(repo, both, scratch, env))
    print(render(runs, len(small.packages), count, version, args.runs))
    return 0


def render(
    runs: dict[str, list[dict[str, float]]], small: int, large: int, version: str, count: int
) -> str:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    lines = [
        f"{version}; {os.cpu_count()} CPUs; {count} runs each, alternating; medians",
        "module     packages  wall s  build s  outside s  outside %  own MB  go MB",
    ]
    for name, packages in (("small", small), ("large", large)):
        wall, outside = median(name, "wall"), median(name, "outside")
        lines.append(
            f"{name:<9}  {packages:>8}  {wall:6.2f}  {median(name, 'build'):7.2f}  "
            f"{outside:9.2f}  {100 * outside / wall:8.1f}%  {median(name, 'own'):6.0f}  "
            f"{median(name, 'go'):5.0f}"
        )
    ratios = [b["wall"] / a["wall"] for a, b in zip(runs["small"], runs["large"], strict=True)]
    ratio = statistics.median(ratios)
    lines.append(
        f"large / small, run by run: {ratio:.2f} [{min(ratios):.2f}–{max(ratios):.2f}] "
        f"(target ≤ {TARGET_SIZE}); outside the build: target ≤ {TARGET_OUTSIDE} s and "
        f"≤ {TARGET_OUTSIDE_SHARE:.0%} of the run"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
