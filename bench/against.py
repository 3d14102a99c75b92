"""escape-guard at another commit against the working copy, on one workload and cache state.

    python bench/against.py f2d389d              # leaf, deep and ten, 5 runs each
    python bench/against.py v1.2.0 --runs 9 --scenarios leaf deep

Figures from different days are not comparable: the machine, the workload (``bench/workload.py``
changes with the scenarios it needs) and the caches change. This measures both versions of
escape-guard side by side instead: the other commit's sources in a temporary worktree, run with
the same interpreter, on the same workload, each run from the same fresh cache state (the
standard library built with and without ``-trimpath``, as ``bench/run.py`` prepares it),
alternating so that a slow moment of the machine hits both alike. It prints the medians and
the median of the run-by-run ratios (working copy / other).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _go, _link_copy, _link_merge, byte_compile, prepare_std_caches
from workload import go_env, make_workload

ROOT = Path(__file__).resolve().parent.parent


def _time(
    src: Path, repo: Path, head: str, *, env: dict[str, str], cache: Path, std: dict[str, Path]
) -> float:
    shutil.rmtree(cache, ignore_errors=True)
    _link_copy(std["trimpath"], cache)
    _link_merge(std["plain"], cache)
    run_env = dict(env, GOCACHE=str(cache), PYTHONPATH=str(src))
    cmd = [sys.executable, "-m", "escape_guard", "diff", "--repo", str(repo), "--base", "main"]
    start = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "--head", head, "--format", "json"],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{src}: exit {proc.returncode}: {proc.stderr}")
    json.loads(proc.stdout)  # a report, not an error
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "commit", help="the other version of escape-guard (a commit of this repository)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["leaf", "deep", "ten"])
    args = parser.parse_args(argv)
    env = go_env()
    version = _go(["env", "GOVERSION"], cwd=ROOT, env=env).strip()
    std = prepare_std_caches(ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-against-") as scratch:
        tmp = Path(scratch)
        other = tmp / "other"
        subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(other),
                args.commit,
            ],
            check=True,
        )
        try:
            workload = make_workload(tmp / "std22", env=env)
            versions = {args.commit: other / "src", "working copy": ROOT / "src"}
            byte_compile(*versions.values())  # both alike
            print(f"{version}; {os.cpu_count()} CPUs; {args.runs} runs; seconds (median)")
            header = f"{'scenario':<10} {args.commit:>14} {'working copy':>14}"
            print(f"{header}  working copy / {args.commit}")
            for scenario in args.scenarios:
                samples: dict[str, list[float]] = {name: [] for name in versions}
                for _ in range(args.runs):
                    for name, src in versions.items():
                        samples[name].append(
                            _time(
                                src,
                                workload.repo,
                                scenario,
                                env=env,
                                cache=tmp / "gocache",
                                std=std,
                            )
                        )
                old, new = samples[args.commit], samples["working copy"]
                ratios = [b / a for a, b in zip(old, new, strict=True)]
                medians = f"{statistics.median(old):>14.2f} {statistics.median(new):>14.2f}"
                spread = f"[{min(ratios):.2f}–{max(ratios):.2f}]"
                print(f"{scenario:<10} {medians}  {statistics.median(ratios):.2f} {spread}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
