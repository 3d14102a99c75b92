"""The dependency bump alone: escape-guard against the naive way, with where its time goes.

    python bench/bump.py [--runs N]

The scenario is ``bench/run.py``'s (``bench/consumer.py``: a module of five packages using
x/crypto, x/net and x/text; the branch ``bump`` moves golang.org/x/crypto to the newer
release's version). Every way starts from the same prepared cache (the standard library built
with and without -trimpath) with a warm module cache and ``GOPROXY=off``. The ways are run
one after the other in each round, so a slower moment of the machine falls on all of them.

After the table, one traced run of escape-guard: each go command it started, when, how long
its loading took and which packages it compiled (from the go command's ``-debug-trace``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consumer import make_consumer, remove
from gotrace import GoCommand, traced_run
from run import (
    ROOT,
    Bench,
    Results,
    _bump,
    _go,
    _revision,
    _s,
    _table,
    byte_compile,
    measure_bump,
    prepare_std_caches,
)
from workload import go_binary, go_env


def _commands(commands: list[GoCommand]) -> str:
    if not commands:
        return "(no go command traced)"
    zero = min(c.start for c in commands)
    rows = []
    for c in commands:
        compiled = sorted({p.split(" ")[0] for p, _, _ in c.compiles})
        rows.append(
            [
                c.kind,
                _s(c.start - zero),
                _s(c.end - c.start),
                _s(c.loaded - c.start) if c.kind == "build" else "–",
                _s(c.work),
                f"{len(compiled)}: " + ", ".join(p.rsplit("/", 2)[-1] for p in compiled[:8]),
            ]
        )
    return _table(["go", "starts", "takes", "loads", "compiles", "packages compiled"], rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each way (default 5)")
    args = parser.parse_args()
    env = go_env()
    if not shutil.which(go_binary(), path=env["PATH"]):
        parser.error("no go toolchain: run it with the project's environment")
    version = _go(["env", "GOVERSION"], cwd=ROOT, env=env).strip()
    began = time.perf_counter()
    byte_compile()
    std = prepare_std_caches(ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-bump-") as scratch:
        bench = Bench(Path(scratch), std, env)
        bench.both_cache()
        consumer = make_consumer(bench.tmp / "bump", env)
        try:
            results = Results()
            measure_bump(
                bench, consumer, results, runs=args.runs,
                log=lambda m: print(f"bench: {m}", file=sys.stderr, flush=True),
            )  # fmt: skip
            traced = traced_run(bench, consumer.repo, "bump", cache="both", extra=consumer.settings)
        finally:
            remove(consumer)
        eg = results.bump["eg"]
        phases = ["resolve revisions", "build", "compare"]
        outside = statistics.median(x.seconds - sum(x.phases.values()) for x in eg.samples)
        print(f"{version}; {os.cpu_count()} CPUs; {args.runs} runs; escape-guard at {_revision()}")
        print(f"took {time.perf_counter() - began:.0f} s\n")
        print(_bump(results, consumer))
        print()
        row = ["bump", *(_s(eg.phase(p)) for p in phases), _s(outside)]
        print(_table(["escape-guard phases", *phases, "outside"], [row]))
        print("(outside: interpreter start, imports, the report)")
        print(f"\nnotes: {eg.samples[-1].also}\n\none traced run of escape-guard:")
        print(_commands(traced))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
