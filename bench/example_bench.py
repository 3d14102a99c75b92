"""How long `escape-guard diff` takes on the bundled example, and how long the Go builds alone take.

    .venv/bin/python bench/example_bench.py [--runs 5]

Builds the demo repository (examples/demo: base on main, head on feature) in a temporary
directory, warms the build cache once, then reports medians over several runs of:
  * escape-guard diff --base main (the whole job: git, worktrees, builds, parse, compare)
  * the two Go builds alone, one after the other: `go build -trimpath -gcflags=-m` of the
    changed packages in a worktree of each revision (what the comparison cannot avoid).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "demo"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))

from run import byte_compile  # noqa: E402 - beside this file
from workload import go_binary  # noqa: E402


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def make_repo(where: Path) -> Path:
    repo = where / "demo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "--initial-branch=main")
    shutil.copytree(EXAMPLE / "base", repo, dirs_exist_ok=True)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "base")
    _git(repo, "switch", "--quiet", "-c", "feature")
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(EXAMPLE / "head", repo, dirs_exist_ok=True)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "head")
    return repo


def timed(cmd: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def go_builds_alone(repo: Path, scratch: Path) -> float:
    """Both revisions' builds of the changed packages, one after the other."""
    packages = sorted(
        {
            str(Path(p).parent)
            for p in _git(repo, "diff", "--name-only", "main", "feature").splitlines()
            if p.endswith(".go")
        }
    )
    total = 0.0
    for rev in ("main", "feature"):
        tree = scratch / rev
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), rev)
        try:
            total += timed(
                [
                    "go",
                    "build",
                    "-trimpath",
                    "-o",
                    os.devnull,
                    "-gcflags=-m",
                    *[f"./{p}" for p in packages],
                ],
                cwd=tree,
            )
        finally:
            _git(repo, "worktree", "remove", "--force", str(tree))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    byte_compile()
    go_bin = Path(go_binary()).parent
    os.environ["PATH"] = os.pathsep.join([str(go_bin), str(BIN), os.environ["PATH"]])
    os.environ.update(GOTOOLCHAIN="local", GOPROXY="off", GOFLAGS="-mod=mod")
    with tempfile.TemporaryDirectory(prefix="escape-guard-bench-") as tmp:
        scratch = Path(tmp)
        os.environ.setdefault("GOCACHE", str(scratch / "gocache"))
        repo = make_repo(scratch)
        diff = [
            str(BIN / "escape-guard"),
            "diff",
            "--repo",
            str(repo),
            "--base",
            "main",
            "--format",
            "json",
        ]
        timed(diff)  # warm the cache: both measurements start from the same warm cache
        eg = [timed(diff) for _ in range(args.runs)]
        go = [go_builds_alone(repo, scratch) for _ in range(args.runs)]
    eg_med, go_med = statistics.median(eg), statistics.median(go)
    print(f"{'measurement':<44}{'median':>10}{'min':>10}")
    print(f"{'escape-guard diff (example, warm cache)':<44}{eg_med:>9.3f}s{min(eg):>9.3f}s")
    print(f"{'go builds alone (changed pkgs, base+head)':<44}{go_med:>9.3f}s{min(go):>9.3f}s")
    print(f"{'ratio escape-guard / go builds':<44}{eg_med / go_med:>10.2f}")
    version = subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=False
    )
    print(f"(runs: {args.runs}; Go toolchain: {version.stdout.strip()})")


if __name__ == "__main__":
    main()
