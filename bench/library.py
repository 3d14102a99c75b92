"""escape-guard on a library whose core every package imports, against the naive way.

    python bench/library.py              # 5 runs of each way (~6 min on 2 cores)
    python bench/library.py --quick      # 2 runs (~3 min)

The workload is ``bench/libmodule.py``'s logging library (18 packages in two modules, real
golang.org/x code) with its ``field``, ``inline`` and ``rewrite`` branches, each a change of
``core`` that every importer sees. Measured for each, the same way as ``bench/run.py``'s
scenarios (its ``Bench``), run by run interleaved:

- eg: ``escape-guard diff`` from a build cache holding only the standard library (built with
  and without ``-trimpath``);
- naive: two worktrees, ``go build -gcflags=-m ./...`` in each module of one then the other,
  a diff, from the standard library built the plain way;
- floor: ``go build -gcflags=-m`` of every package (all of them import core) in a base then a
  head worktree made beforehand, one go command per module and revision;
- eg+main: escape-guard from the cache the default branch's run left (``main~1`` → ``main``
  with ``--all-packages``, from the plain standard library): the base's packages are hits.

Then one traced run of eg and of eg+main per branch: every go command escape-guard starts
writes ``-debug-trace``, and the table says, per round (a go command naming a changed package
is the first round's, one naming none the second's, ``go list`` the import graph's), its
start-up and package loading, its compiles, and the time a revision's go command waited for
the other's. This machine's cores are what it has (``os.cpu_count()``); the four-core column
is an estimate from the same traces, not a measurement (see ``_four_cores``).

The environment of every go command: ``GOPROXY=off`` over a module cache filled beforehand,
``GOFLAGS`` empty, ``GOTOOLCHAIN=local``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gotrace import GoCommand, traced_run
from libmodule import BRANCHES, CONTRIB, Library, import_path, make_library
from run import (
    ROOT,
    Bench,
    Sample,
    Series,
    _found,
    _go,
    _ratio,
    _revision,
    _s,
    _table,
    byte_compile,
    prepare_std_caches,
)
from tests.goproxy import remove_modcache
from workload import go_binary, go_env

WAYS = ("eg", "naive", "floor", "eg+main")
TARGET_NAIVE = 0.9  # eg / naive, from the standard library only
TARGET_MAIN = 0.5  # eg+main / naive


@dataclass
class Results:
    branches: dict[str, dict[str, Series]] = field(default_factory=dict)
    traced: dict[tuple[str, str], list[GoCommand]] = field(default_factory=dict)
    main_run: Sample | None = None


def measure(bench: Bench, library: Library, *, runs: int, log: Callable[[str], None]) -> Results:
    results = Results()
    for branch in BRANCHES:
        series = results.branches.setdefault(branch, {w: Series() for w in WAYS})
        ways = _ways(bench, library, branch)
        for i in range(runs):
            log(f"{branch}: run {i + 1}/{runs}")
            for way, run in ways.items():
                series[way].samples.append(run())
    for branch in BRANCHES:
        for way, cache in (("eg", "both"), ("eg+main", "main")):
            log(f"{branch}: traced {way} run")
            results.traced[(branch, way)] = traced_run(
                bench, library.repo, branch, cache=cache, extra=library.settings
            )
    return results


def _ways(bench: Bench, library: Library, branch: str) -> dict[str, Callable[[], Sample]]:
    repo, extra = library.repo, library.settings
    trees = bench.worktrees(library, branch)  # type: ignore[arg-type] - it has .repo
    packages = _by_module(library)
    return {
        "eg": lambda: bench.escape_guard_run(repo, branch, extra=extra),
        "naive": lambda: bench.naive_run(
            repo, branch, cache="plain", extra=extra, modules=library.modules
        ),
        "floor": lambda: bench.floor_run(
            trees, packages, together=False, shared=False, extra=extra
        ),
        "eg+main": lambda: bench.escape_guard_run(repo, branch, cache="main", extra=extra),
    }


def _by_module(library: Library) -> dict[str, list[str]]:
    """Every package's import path, by the directory of its module."""
    found: dict[str, list[str]] = {}
    for directory in library.packages:
        module = CONTRIB if directory.startswith(f"{CONTRIB}/") else ""
        found.setdefault(module, []).append(import_path(directory))
    return found


# --- the tables ------------------------------------------------------------------------------


def render(results: Results, library: Library, *, info: Mapping[str, str]) -> str:
    out = [
        f"workload: bench/libmodule.py, {len(library.packages)} packages in "
        f"{len(library.modules)} modules, core imported by all; {info['go']}; "
        f"{info['cpus']} CPUs; {info['runs']} runs; took {info['took']}",
        f"escape-guard at {info['revision']}",
        "",
        "wall time, seconds (median)",
        _table(
            ["branch", *WAYS],
            [[b, *(_s(s[w].median) for w in WAYS)] for b, s in results.branches.items()],
        ),
        "",
        "ratios: median of run-by-run ratios [lowest–highest]",
        _table(
            ["branch", "eg/naive", "eg+main/naive", "eg/floor", "eg+main/floor"],
            [_ratios(branch, series) for branch, series in results.branches.items()],
        ),
        f"targets: eg/naive ≤ {TARGET_NAIVE}, eg+main/naive ≤ {TARGET_MAIN}",
        "",
        _findings(results),
        "",
        _main_run(results.main_run),
        "",
        _where(results, cpus=info["cpus"]),
    ]
    return "\n".join(out)


def _ratios(branch: str, series: Mapping[str, Series]) -> list[str]:
    eg, warm, naive, floor = (series[w] for w in ("eg", "eg+main", "naive", "floor"))
    return [
        branch,
        _ratio(eg.ratios(naive), TARGET_NAIVE),
        _ratio(warm.ratios(naive), TARGET_MAIN),
        _ratio(eg.ratios(floor)),
        _ratio(warm.ratios(floor)),
    ]


def _findings(results: Results) -> str:
    rows = []
    notes: list[str] = []
    for branch, series in results.branches.items():
        naive = series["naive"].samples[0].new or 0
        for way in ("eg", "eg+main"):
            found = {(s.new or 0) + (s.indirect or 0) for s in series[way].samples}
            rows.append(
                [
                    f"{branch} ({way})",
                    _found(series[way], series[way].samples[0].new or 0),
                    _found(series[way], series[way].samples[0].indirect or 0, indirect=True),
                    _found(series["naive"], naive),
                    "yes" if found == {naive} else f"NO: {sorted(found)}≠{naive}",
                ]
            )
        said = sorted({n for s in series["eg"].samples for n in s.also})
        notes += [f"  {branch}: {note}" for note in said]
    table = _table(
        ["findings", "eg new", "eg indirect", "naive diff", "new+indirect = naive"], rows
    )
    listed = "\n".join(notes) or "  none"
    return (
        f"{table}\nescape-guard's notes on what it compiled besides the changed packages:\n{listed}"
    )


def _main_run(run: Sample | None) -> str:
    if run is None:
        return "no default-branch run"
    return (
        f"the default branch's run (main~1 → main, --all-packages, from `go build std`): "
        f"{_s(run.seconds)} s, compiled {run.compiled}"
    )


def _where(results: Results, *, cpus: str) -> str:
    """Per traced run and round: start-up and loading, compiles, waiting for the other side."""
    rows = []
    for (branch, way), commands in results.traced.items():
        first = min((c.start for c in commands), default=0.0)
        for command in commands:
            rows.append(
                [
                    f"{branch} ({way})",
                    "graph" if command.kind == "list" else str(command.round),
                    f"{command.side} {_module_of(command.cwd)}".rstrip(),
                    _s(command.start - first),
                    _s(command.loaded - command.start),
                    _s(command.compiling),
                    _s(command.work),
                    str(len(command.compiles)),
                    _s(command.end - command.start),
                    _s(_four_cores(command)),
                ]
            )
    headers = ["traced run", "round", "go command", "starts at", "start-up+load"]
    headers += ["compiling", "compile work", "compiles", f"wall ({cpus} CPUs)", "4 CPUs (est.)"]
    return (
        f"where the time goes (one traced run each; seconds)\n{_table(headers, rows)}\n"
        "(starts at: after the run's first go command started, so a later start of one "
        "revision's command is the wait for the other's; start-up+load: process start to the "
        "end of package loading; compiling: first compile's start to last's end; compile work: "
        "the compiles' durations summed; compiles: actions of 30 ms or more, the rest are cache "
        "hits; 4 CPUs: an estimate, see bench/library.py's _four_cores)"
    )


def _module_of(cwd: str) -> str:
    return CONTRIB if Path(cwd).name == CONTRIB else ""


def _four_cores(command: GoCommand) -> float:
    """The command's wall time with four CPUs, estimated (this machine cannot measure it).

    Start-up and loading are one thread's and stay; compiles scale with CPUs until the
    longest chain binds: the compile of core (which its importers wait for) plus the longest
    other one. Compile durations measured with two CPUs busy are taken as CPU time.
    """
    if command.kind == "list" or not command.compiles:
        return command.end - command.start
    core = command.longest("/core")
    chain = core + max(
        (e - s for p, s, e in command.compiles if not p.endswith("/core")), default=0
    )
    after = command.end - max(c[2] for c in command.compiles)
    return command.loaded - command.start + max(command.work / 4, chain) + after


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, help="runs per way (default 5; --quick: 2)")
    parser.add_argument("--quick", action="store_true", help="fewer runs (about 3 minutes)")
    parser.add_argument("--std-cache", type=Path, metavar="DIR", help="as bench/run.py's")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.quick else 5)
    env = go_env()
    if not shutil.which(go_binary(), path=env["PATH"]):
        parser.error("no go toolchain: run it with the project's environment")
    version = _go(["env", "GOVERSION"], cwd=ROOT, env=env).strip()

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    began = time.perf_counter()
    log("preparing the standard-library caches")
    byte_compile()
    std = prepare_std_caches(args.std_cache or ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-library-") as scratch:
        bench = Bench(Path(scratch), std, env)
        bench.both_cache()
        log("creating the library")
        library = make_library(bench.tmp / "lib", env)
        try:
            main_run = bench.main_cache(library, extra=library.settings)  # type: ignore[arg-type]
            results = measure(bench, library, runs=runs, log=log)
        finally:
            remove_modcache(library.modcache)
        results.main_run = main_run
        info = {
            "go": version,
            "cpus": str(os.cpu_count()),
            "runs": str(runs),
            "took": f"{(time.perf_counter() - began) / 60:.1f} min",
            "revision": _revision(),
        }
        print(render(results, library, info=info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
