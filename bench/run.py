"""escape-guard's wall time against the naive way and against the compiler floor.

    python bench/run.py                  # 22 and 44 packages, 5 runs (~10 min on 2 cores)
    python bench/run.py --quick          # 2 runs, 1 cold run (~4 min)
    python bench/run.py --runs 9 --save samples.json

The first invocation for a toolchain also prepares the standard-library caches (~1 minute).

The workload is ``bench/workload.py``'s module of standard-library code with its ``leaf``,
``deep``, ``ten``, ``deep-body`` and ``deep-leak`` scenario branches (see there; its ``main``
has small helper files in the deep package and its direct importers, which deep-body and
deep-leak edit), and ``bench/consumer.py``'s module using golang.org/x code with its
``bump`` branch. Every measured run starts from a fresh copy of a prepared build cache holding
only the standard library, built with ``go build -trimpath std``, with ``go build std``, or
both (the first two kept in ``--std-cache`` and reused by later invocations with the same
toolchain; the third their union, made by hard links). Measured, for each scenario of the
standard-library module:

- escape-guard: ``escape-guard diff --repo R --base main --head S --format json`` as a
  subprocess (interpreter start, worktrees, builds, comparison, report), from the cache
  holding both builds of the standard library, so that it finds the one its builds use
  whether it builds a revision with ``-trimpath`` (in a worktree) or without (in place);
- naive: two worktrees, ``go build -gcflags=-m ./...`` in one then the other, ``diff`` of the
  two outputs, worktrees added and removed inside the timing. It is measured twice: from the
  ``-trimpath`` standard library (naive=, which it cannot use, so it compiles the parts it
  needs: the figure of the README's first naive column, from when every escape-guard build
  used ``-trimpath`` and that was escape-guard's cache), and from the standard library built
  without ``-trimpath`` (naive*, the naive way at its best);
- floor: the compiler invocations a comparison cannot avoid, ``go build -gcflags=-m <packages>``
  in a base then a head worktree made beforehand, one after the other, from the cache naive*
  starts from; only the two go commands are timed. The packages are the changed ones, and for
  deep-leak every package importing the deep package too (their locals move to the heap, so
  they must be compiled). Each worktree compiles the packages' dependencies in the module for
  itself, as the cache keys on the directory;
- floor side by side (floor‖): the same two go commands started together;
- shared floor (shared): the floor's two commands with ``-trimpath``, from the ``-trimpath``
  standard library: the head finds the dependencies the base compiled, so this is the least
  compile work two go commands can do, a tighter reference than the floor.

deep-body leaves out both naive ways and floor‖ (its naive way costs what deep's does: both
revisions build everything), deep-leak the floor and floor‖ (the shared floor is the tighter
reference), to keep the run within about ten minutes.

The scenarios, and what each checks besides the times (the findings table compares
escape-guard's new and indirect escapes with the heap lines the naive way's diff adds, and
lists escape-guard's "also compiled" notes, the packages it compiled besides the changed):

- leaf, deep, ten: as before; deep's new exported function and one-line variable are nothing
  an importer can use, so escape-guard should compile no importer (no note);
- deep-body: a body-only change of the deep package's never-inlined ``BenchBody``, one new
  escape; no importer should be compiled; its time against the leaf scenario's (run by run,
  target ≤ 1.2×);
- deep-leak: ``BenchKeep`` keeps its parameter, so each direct importer's ``BenchUse`` moves
  ``v`` to the heap: as many indirect escapes as direct importers, found by default; its time
  against the naive way (target ≤ 0.5×);
- the user's cache (leaf): escape-guard from a cache filled by ``go build ./...`` of the
  module at main, without ``-trimpath``, over a standard library built likewise (what a
  developer's machine holds), against escape-guard from the usual cache;
- the dependency bump: ``bench/consumer.py``'s module bumps golang.org/x/crypto from the
  older Go release's version to the newer's; one indirect escape. escape-guard, the naive way
  (as above) and ``go build ./...`` of the consumer in a head worktree made beforehand, each
  from one prepared cache holding the standard library built with and without ``-trimpath``
  (so that no way compiles standard-library code), with the module cache filled beforehand
  and ``GOPROXY=off``: downloads are not measured.

escape-guard is timed as installed (its modules byte-compiled first), as a user runs it.

For the leaf scenario also: escape-guard on the module with twice the packages (same change),
from the user's cache, and from an empty build cache (cold). Figures are medians; a ratio is
the median of the ratios of runs made together (run i of one way against run i of the other).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from consumer import Consumer, make_consumer, remove
from workload import DEFAULT_PACKAGES, MIN_PACKAGES, Workload, go_binary, go_env, make_workload

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("leaf", "deep", "ten", "deep-body", "deep-leak")
WAYS = ("eg", "naive=", "naive*", "floor", "floor‖", "shared", "eg+main")
# Ways a scenario leaves out to keep the run short: deep-body's naive way is deep's (both
# revisions build everything); deep-leak keeps the shared floor, the tighter reference.
# eg+main, escape-guard after the default branch's run, is measured on leaf and ten.
SKIPPED = {
    "deep": ("eg+main",),
    "deep-body": ("naive=", "naive*", "floor‖", "eg+main"),
    "deep-leak": ("floor", "floor‖", "eg+main"),
}
# escape-guard / naive (naive= and naive*), by scenario
TARGET_NAIVE = {"leaf": 0.25, "deep-leak": 0.5}
TARGET_FLOOR = 0.9  # escape-guard / floor (the two go commands one after the other)
TARGET_MAIN = 0.6  # escape-guard after the default branch's run / floor: the head alone
TARGET_SIZE = 1.2  # escape-guard at 2N packages / at N, leaf scenario (strictly below)
TARGET_BODY = 1.2  # escape-guard on deep-body / on leaf
ALSO = "also compiled"  # how escape-guard's notes name the packages compiled besides the changed
MAX_PACKAGES = 62  # copyable standard-library packages of Go 1.27
_ATTEMPTS = 3
# Prepared caches: the standard library built with the flags of escape-guard and the floor,
# and with the naive way's (none).
STD_FLAGS = {"trimpath": ("-trimpath",), "plain": ()}


@dataclass
class Sample:
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    new: int | None = None  # new escapes escape-guard reported; for naive: heap lines added
    indirect: int | None = None  # indirect escapes escape-guard reported
    also: list[str] = field(default_factory=list)  # escape-guard's "also compiled" notes
    # escape-guard's report: packages its go commands compiled, {"base": n, "head": n, ...}
    compiled: dict[str, int] = field(default_factory=dict)


@dataclass
class Series:
    """Samples of one way of doing one scenario, in run order."""

    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    def phase(self, name: str) -> float:
        return statistics.median(s.phases.get(name, 0.0) for s in self.samples)

    def ratios(self, other: Series) -> list[float]:
        """Run-by-run ratios (self / other), for the runs both have."""
        pairs = zip(self.samples, other.samples, strict=False)
        return [a.seconds / b.seconds for a, b in pairs]


class Bench:
    """The ways to compare, each run from a freshly reset build cache."""

    def __init__(self, tmp: Path, std_caches: Mapping[str, Path], env: Mapping[str, str]) -> None:
        self.tmp = tmp
        self.std_caches = dict(std_caches)
        self.env = dict(env)
        self.run_cache = tmp / "gocache"
        self.escape_guard = _venv_tool("escape-guard")
        self.failures: list[str] = []

    def reset_cache(self, kind: str = "trimpath") -> dict[str, str]:
        """The environment of a run: GOCACHE a fresh copy of a prepared cache, or empty."""
        if self.run_cache.exists():
            shutil.rmtree(self.run_cache)
        if kind == "cold":
            self.run_cache.mkdir()
        else:
            _link_copy(self.std_caches[kind], self.run_cache)
        return dict(self.env, GOCACHE=str(self.run_cache))

    def prepared_env(self, kind: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """``reset_cache(kind)``'s environment with ``extra`` over it."""
        return dict(self.reset_cache(kind), **(extra or {}))

    def escape_guard_run(
        self,
        repo: Path,
        head: str,
        *,
        cache: str = "both",
        extra: Mapping[str, str] | None = None,
        base: str = "main",
        flags: Sequence[str] = (),
    ) -> Sample:
        """One timed run; a failed run is recorded in ``failures`` and run again (twice)."""
        cmd = [self.escape_guard, "diff", "--repo", str(repo), "--base", base]
        cmd += ["--head", head, "--format", "json", *flags]
        for _ in range(_ATTEMPTS):
            env = self.prepared_env(cache, extra)
            start = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - start
            report = _report(proc) if proc.returncode in (0, 1) else None  # 1: new escapes
            if report is not None:
                summary = report["summary"]
                also = [note for note in report["notes"] if note.startswith(ALSO)]
                timings, compiled = dict(report["timings"]), dict(report.get("compiled", {}))
                new, indirect = summary["new"], summary["indirect"]
                return Sample(seconds, timings, new, indirect, also, compiled)
            self.failures.append(f"{head}: exit {proc.returncode}: {proc.stderr.strip()}")
        raise RuntimeError(f"{' '.join(cmd)} failed {_ATTEMPTS} times:\n{self.failures[-1]}")

    def naive_run(
        self,
        repo: Path,
        head: str,
        *,
        cache: str,
        extra: Mapping[str, str] | None = None,
        modules: Sequence[str] = ("",),
    ) -> Sample:
        """Two worktrees, ``go build -gcflags=-m ./...`` in each (in each of ``modules``, the
        module directories), a diff; ``new`` counts the heap lines the head's output adds
        (the naive way's finding)."""
        env = self.prepared_env(cache, extra)
        trees = (self.tmp / "naive-base", self.tmp / "naive-head")
        git = _git(repo, env)
        start = time.perf_counter()
        for tree, rev in zip(trees, ("main", head), strict=True):
            git("worktree", "add", "--detach", "--quiet", str(tree), rev)
        outputs = {
            m: [self.tmp / f"{t.name}-{i}.txt" for t in trees] for i, m in enumerate(modules)
        }
        for side, tree in enumerate(trees):
            for module, output in outputs.items():
                _go(
                    ["build", "-gcflags=-m", "./..."],
                    cwd=tree / module,
                    env=env,
                    stderr=str(output[side]),
                )
        for base, head_output in outputs.values():
            subprocess.run(["diff", base, head_output], stdout=subprocess.DEVNULL, check=False)
        for tree in trees:
            git("worktree", "remove", "--force", str(tree))
        seconds = time.perf_counter() - start
        return Sample(seconds, new=sum(added_heap_lines(*o) for o in outputs.values()))

    def build_run(
        self, tree: Path, *, cache: str, extra: Mapping[str, str] | None = None
    ) -> Sample:
        """``go build ./...`` in ``tree``, the plain build of one revision."""
        env = self.prepared_env(cache, extra)
        start = time.perf_counter()
        _go(["build", "./..."], cwd=tree, env=env)
        return Sample(time.perf_counter() - start)

    def user_cache(self, wl: Workload) -> None:
        """The "user" cache: a developer's, filled by ``go build ./...`` of main without
        -trimpath over the standard library built likewise."""
        path = self.tmp / "user-cache"
        _link_copy(self.std_caches["plain"], path)
        _go(["build", "./..."], cwd=wl.repo, env=dict(self.env, GOCACHE=str(path)))
        self.std_caches["user"] = path

    def main_cache(self, wl: Workload, *, extra: Mapping[str, str] | None = None) -> Sample:
        """The "main" cache: the one the default branch's run leaves, as the action's run on
        the push that made main does (``--all-packages``, main~1 against main) from the
        standard library built the plain way (what the image holds). Its run is returned."""
        path = self.tmp / "main-cache"
        run = self.escape_guard_run(
            wl.repo, "main", cache="plain", base="main~1", flags=("--all-packages",), extra=extra
        )
        shutil.copytree(self.run_cache, path)
        self.std_caches["main"] = path
        return run

    def both_cache(self) -> None:
        """The "both" cache: the standard library built with and without -trimpath, one
        prepared cache that every way of the dependency bump starts from."""
        path = self.tmp / "both-cache"
        _link_copy(self.std_caches["trimpath"], path)
        _link_merge(self.std_caches["plain"], path)
        self.std_caches["both"] = path

    def floor_run(
        self,
        trees: Sequence[Path],
        packages: Sequence[str] | Mapping[str, Sequence[str]],
        *,
        together: bool,
        shared: bool,
        extra: Mapping[str, str] | None = None,
    ) -> Sample:
        """``packages``: import paths, or by module directory (one go command in each)."""
        env = self.prepared_env("trimpath" if shared else "plain", extra)
        by_module = packages if isinstance(packages, Mapping) else {"": packages}
        flags = STD_FLAGS["trimpath" if shared else "plain"]
        steps = _Steps()
        for module, named in by_module.items():
            args = ["build", *flags, "-gcflags=-m", *named]
            outputs = [str(self.tmp / f"floor-{i}.txt") for i in range(len(trees))]
            dirs = [tree / module for tree in trees]
            if together:
                with steps(f"both {module}".rstrip()):
                    _go_together(args, dirs, env=env, outputs=outputs)
            else:
                for name, tree, output in zip(("base", "head"), dirs, outputs, strict=True):
                    with steps(f"{name} {module}".rstrip()):
                        _go(args, cwd=tree, env=env, stderr=output)
        return steps.sample()

    def worktrees(self, wl: Workload, scenario: str) -> tuple[Path, Path]:
        """A base and a head worktree for the floor, made once per scenario, untimed."""
        trees = (self.tmp / f"{wl.repo.name}-main", self.tmp / f"{wl.repo.name}-{scenario}")
        git = _git(wl.repo, self.env)
        for tree, rev in zip(trees, ("main", scenario), strict=True):
            if not tree.exists():
                git("worktree", "add", "--detach", "--quiet", str(tree), rev)
        return trees

    def fixed_costs(self, small: Workload, large: Workload, runs: int) -> dict[str, float]:
        """Median seconds of steps every escape-guard run pays besides the compiler."""
        env = dict(self.env, GOCACHE=str(self.std_caches["trimpath"]))
        git = _git(small.repo, env)

        def worktree(wl: Workload) -> Callable[[], None]:
            def add_remove() -> None:
                tree = str(self.tmp / "probe-tree")
                in_repo = _git(wl.repo, env)
                in_repo("worktree", "add", "--detach", "--quiet", tree, "main")
                in_repo("worktree", "remove", "--force", tree)
                in_repo("worktree", "prune")

            return add_remove

        steps: dict[str, Callable[[], object]] = {
            "interpreter and imports (escape-guard --version)": lambda: _run(
                [self.escape_guard, "--version"], env=env
            ),
            "go env GOVERSION": lambda: _go(["env", "GOVERSION"], cwd=small.repo, env=env),
            "git diff main..leaf": lambda: git("diff", "--find-renames", "main", "leaf"),
        }
        for wl in (small, large):
            files = len(_git(wl.repo, env)("ls-files").split())
            steps[f"git worktree add + remove + prune, {files} files"] = worktree(wl)
        return {name: _median_time(step, max(runs, 3)) for name, step in steps.items()}


def _report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any] | None:
    """The JSON report on stdout; None when there is none (a crash also exits 1)."""
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return None
    return report if isinstance(report, dict) else None


class _Steps:
    """Times consecutive steps of one run; the sample is their sum."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = time.perf_counter() - start

    def sample(self) -> Sample:
        return Sample(sum(self.phases.values()), dict(self.phases))


def _link_copy(source: Path, target: Path) -> None:
    """A copy of a build cache whose entries are hard links to the prepared ones.

    Ten times faster than copying 185 MB. The go command never writes into an existing
    entry (outputs are named by their content, and an index entry is written only when it was
    missing): new entries go into the copy's own directories, and the prepared cache only sees
    its files' modification times refreshed. trim.txt, rewritten in place, is copied.
    """
    subprocess.run(["cp", "-al", str(source), str(target)], check=True)
    trim = target / "trim.txt"
    if trim.exists():
        trim.unlink()
        shutil.copy2(source / "trim.txt", trim)


def _link_merge(source: Path, target: Path) -> None:
    """Hard-link into ``target`` the cache entries of ``source`` it does not have."""
    for directory, _, names in os.walk(source):
        into = target / Path(directory).relative_to(source)
        into.mkdir(exist_ok=True)
        for name in names:
            if not (into / name).exists():
                os.link(Path(directory) / name, into / name)


_HEAP = re.compile(r": (?:moved to heap: |.* escapes to heap$)")


def added_heap_lines(base: Path, head: Path) -> int:
    """Heap lines of the head's ``-m`` output that the base's lacks (as multisets)."""

    def heap(path: Path) -> Counter[str]:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return Counter(line for line in lines if _HEAP.search(line))

    return sum((heap(head) - heap(base)).values())


def _median_time(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _venv_tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed: pip install -e . in this virtual environment")
    return found


def _run(
    cmd: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, stderr: str = ""
) -> str:
    """Run to completion; stderr to the file ``stderr`` names (else captured); stdout back."""
    with open(stderr or os.devnull, "wb") as sink:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=sink if stderr else subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace") if proc.stderr else f"(see {stderr})"
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{detail}")
    return proc.stdout.decode(errors="replace")


def _go(args: Sequence[str], *, cwd: Path, env: Mapping[str, str], stderr: str = "") -> str:
    return _run([go_binary(), *args], cwd=cwd, env=env, stderr=stderr)


def _go_together(
    args: Sequence[str], trees: Sequence[Path], *, env: Mapping[str, str], outputs: Sequence[str]
) -> None:
    sinks = [open(output, "wb") for output in outputs]  # noqa: SIM115 - closed below
    try:
        procs = [
            subprocess.Popen([go_binary(), *args], cwd=tree, env=dict(env), stderr=sink)
            for tree, sink in zip(trees, sinks, strict=True)
        ]
        codes = [proc.wait() for proc in procs]
    finally:
        for sink in sinks:
            sink.close()
    if any(codes):
        raise RuntimeError(f"go {' '.join(args)} exited {codes}")


def _git(repo: Path, env: Mapping[str, str]) -> Callable[..., str]:
    def git(*args: str) -> str:
        return _run(["git", "-C", str(repo), *args], env=env)

    return git


# --- setup -----------------------------------------------------------------------------------


def byte_compile(*sources: Path) -> None:
    """escape-guard's sources (``sources``, default ``src/``) byte-compiled, as pip installs a
    package: with PYTHONDONTWRITEBYTECODE set, an editable install is compiled in every run."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *map(str, sources or [ROOT / "src"])],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare_std_caches(directory: Path, env: Mapping[str, str]) -> dict[str, Path]:
    """The prepared caches, built unless an earlier invocation left them complete."""
    caches = {}
    for kind, flags in STD_FLAGS.items():
        path = directory / kind
        ready = directory / f"{kind}.ready"
        if not ready.exists():
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            with tempfile.TemporaryDirectory() as cwd:  # outside any module
                _go(["build", *flags, "std"], cwd=Path(cwd), env=dict(env, GOCACHE=str(path)))
            ready.write_text("", encoding="utf-8")
        caches[kind] = path
    return caches


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Results:
    scenarios: dict[str, dict[str, Series]] = field(default_factory=dict)
    doubled: Series = field(default_factory=Series)
    cold: Series = field(default_factory=Series)
    user: Series = field(default_factory=Series)  # leaf, from the user's own cache
    bump: dict[str, Series] = field(default_factory=dict)
    fixed: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    main_run: Sample | None = None  # the default branch's run that made the "main" cache


def measure(
    bench: Bench,
    small: Workload,
    large: Workload,
    consumer: Consumer,
    *,
    runs: int,
    cold_runs: int,
    log: Callable[[str], None],
) -> Results:
    results = Results()
    for scenario in SCENARIOS:
        series = results.scenarios.setdefault(scenario, {w: Series() for w in WAYS})
        trees = bench.worktrees(small, scenario)
        reached = small.reached(scenario)
        repo = small.repo
        ways: dict[str, Callable[[], Sample]] = {
            "eg": lambda: bench.escape_guard_run(repo, scenario),  # noqa: B023 - called now
            "naive=": lambda: bench.naive_run(repo, scenario, cache="trimpath"),  # noqa: B023
            "naive*": lambda: bench.naive_run(repo, scenario, cache="plain"),  # noqa: B023
            "floor": lambda: bench.floor_run(trees, reached, together=False, shared=False),  # noqa: B023
            "floor‖": lambda: bench.floor_run(trees, reached, together=True, shared=False),  # noqa: B023
            "shared": lambda: bench.floor_run(trees, reached, together=False, shared=True),  # noqa: B023
            "eg+main": lambda: bench.escape_guard_run(repo, scenario, cache="main"),  # noqa: B023
        }
        ways = {way: run for way, run in ways.items() if way not in SKIPPED.get(scenario, ())}
        for i in range(runs):
            log(f"{scenario}: run {i + 1}/{runs}")
            # Interleaved, so that a slow moment of the machine hits every way alike.
            for way, run in ways.items():
                series[way].samples.append(run())
            if scenario == "leaf":
                _leaf_extras(bench, small, large, results, cold=i < cold_runs)
    measure_bump(bench, consumer, results, runs=runs, log=log)
    log("fixed costs")
    results.fixed = bench.fixed_costs(small, large, runs)
    results.failures = bench.failures
    return results


def _leaf_extras(
    bench: Bench, small: Workload, large: Workload, results: Results, *, cold: bool
) -> None:
    """The leaf change on the doubled module, from the user's cache and from an empty one."""
    results.doubled.samples.append(bench.escape_guard_run(large.repo, "leaf"))
    results.user.samples.append(bench.escape_guard_run(small.repo, "leaf", cache="user"))
    if cold:
        results.cold.samples.append(bench.escape_guard_run(small.repo, "leaf", cache="cold"))


def measure_bump(
    bench: Bench, consumer: Consumer, results: Results, *, runs: int, log: Callable[[str], None]
) -> None:
    """escape-guard, the naive way and a plain build of the head on the dependency bump."""
    head = bench.tmp / "consumer-bump"
    _git(consumer.repo, bench.env)("worktree", "add", "--detach", "--quiet", str(head), "bump")
    repo, extra = consumer.repo, consumer.settings
    ways: dict[str, Callable[[], Sample]] = {
        "eg": lambda: bench.escape_guard_run(repo, "bump", cache="both", extra=extra),
        "naive": lambda: bench.naive_run(repo, "bump", cache="both", extra=extra),
        "build": lambda: bench.build_run(head, cache="both", extra=extra),
    }
    results.bump = {way: Series() for way in ways}
    for i in range(runs):
        log(f"dependency bump: run {i + 1}/{runs}")
        for way, run in ways.items():
            results.bump[way].samples.append(run())


# --- the tables ------------------------------------------------------------------------------


def _s(seconds: float) -> str:
    return f"{seconds:.2f}"


def _median(series: Series) -> str:
    return _s(series.median) if series.samples else "–"


def _phase(series: Series, name: str) -> str:
    return _s(series.phase(name)) if series.samples else "–"


def _ratio(values: Sequence[float], target: float | None = None, *, strict: bool = False) -> str:
    """Median ratio, its range over the runs, and whether the median meets the target."""
    if not values:
        return "–"
    median = statistics.median(values)
    cell = f"{median:.2f} [{min(values):.2f}–{max(values):.2f}]"
    if target is None:
        return cell
    met = median < target if strict else median <= target
    return f"{cell} {'met' if met else 'MISSED'}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    header = "  ".join(c.ljust(w) for c, w in zip(headers, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    return "\n".join(line.rstrip() for line in [header, rule, *lines])


def _found(series: Series, expected: int, *, indirect: bool = False) -> str:
    """The count every run found, or the counts and the expected one when they differ."""
    found = sorted({s.indirect if indirect else s.new for s in series.samples}, key=str)
    return str(expected) if found == [expected] else f"{found}≠{expected}!"


def render(
    results: Results,
    small: Workload,
    large: Workload,
    consumer: Consumer,
    *,
    info: Mapping[str, str],
) -> str:
    out = [
        f"workload: {len(small.packages)} packages, {small.lines:,} lines (doubled: "
        f"{len(large.packages)} packages, {large.lines:,} lines); {info['go']}; "
        f"{info['cpus']} CPUs; {info['runs']} runs, {info['cold_runs']} cold",
        f"CPU time of other processes during the benchmark: {info['others']} "
        "(other work on the machine skews every figure)",
        "every run starts from GOCACHE = the standard library only: escape-guard and the "
        "dependency bump's ways: `go build std` and `go build -trimpath std`; naive=, shared: "
        "`go build -trimpath std`; naive*, floor, floor‖: `go build std`; cold: empty; user's "
        "cache: `go build std` then `go build ./...` of main",
        f"escape-guard at {info['revision']}; the benchmark took {info['took']} (setup included)",
        "",
        "wall time, seconds (median)",
        _table(
            ["scenario", "changed", "compiled", *WAYS],
            [
                [
                    scenario,
                    str(len(small.scenarios[scenario])),
                    str(len(small.reached(scenario))),
                    *(_median(series[w]) for w in WAYS),
                ]
                for scenario, series in results.scenarios.items()
            ],
        ),
        "(compiled: the packages a comparison compiles with -m, the floors' packages)",
        "",
        "ratios: median of run-by-run ratios [lowest–highest]",
        _table(
            ["scenario", "eg/naive=", "eg/naive*", "eg/floor", "eg/floor‖", "eg/shared"],
            [_ratios(scenario, series) for scenario, series in results.scenarios.items()],
        ),
        "targets: eg/naive ≤ 0.25 on leaf, ≤ 0.5 on deep-leak; eg/floor ≤ 0.9",
        "",
        _against_leaf(results),
        "",
        _main_warm(results),
        "",
        _findings(results, small, consumer),
        "",
        _size_and_cold(results, small, large),
        "",
        _bump(results, consumer),
        "",
        _profile(results),
        "",
        _failures(results.failures),
    ]
    return "\n".join(out)


def _failures(failures: Sequence[str]) -> str:
    if not failures:
        return "escape-guard failed in no run"
    shown = "\n".join(f"  {failure}" for failure in failures)
    return f"escape-guard runs that failed and were run again ({len(failures)}):\n{shown}"


def _ratios(scenario: str, series: Mapping[str, Series]) -> list[str]:
    eg = series["eg"]
    naive_target = TARGET_NAIVE.get(scenario)
    return [
        scenario,
        *(_ratio(eg.ratios(series[w]), naive_target) for w in ("naive=", "naive*")),
        _ratio(eg.ratios(series["floor"]), TARGET_FLOOR),
        *(_ratio(eg.ratios(series[w])) for w in ("floor‖", "shared")),
    ]


def _main_warm(results: Results) -> str:
    """Pull requests after the default branch's run, and what their go commands compiled."""
    rows = []
    for scenario, series in results.scenarios.items():
        warm = series["eg+main"]
        if not warm.samples:
            continue
        base = max(s.compiled.get("base", -1) for s in warm.samples)
        head = statistics.median(s.compiled.get("head", 0) for s in warm.samples)
        rows.append(
            [
                scenario,
                _s(warm.median),
                _ratio(warm.ratios(series["floor"]), TARGET_MAIN),
                _ratio(warm.ratios(series["eg"])),
                str(base),
                f"{head:g}",
            ]
        )
    made = results.main_run
    run = (
        f"the default branch's run (main~1 → main, --all-packages, from `go build std`): "
        f"{_s(made.seconds)} s, compiled {made.compiled}"
        if made
        else "no default-branch run"
    )
    table = _table(
        ["after main's run", "seconds", "/floor", "/eg", "base compiled (max)", "head compiled"],
        rows,
    )
    return (
        f"{run}\n{table}\n(eg+main: the pull request from the cache that run left; compiled: "
        f"the repository's packages its go commands compiled, from their -v output; "
        f"target: /floor ≤ {TARGET_MAIN}, base compiled 0)"
    )


def _against_leaf(results: Results) -> str:
    leaf = results.scenarios["leaf"]["eg"]
    rows = [["leaf", _s(leaf.median), "1"]]
    for scenario in ("deep", "deep-body", "deep-leak"):
        eg = results.scenarios[scenario]["eg"]
        target = TARGET_BODY if scenario == "deep-body" else None
        rows.append([scenario, _s(eg.median), _ratio(eg.ratios(leaf), target)])
    table = _table(["escape-guard against leaf", "seconds", "ratio"], rows)
    return f"{table}\ntarget: deep-body ≤ {TARGET_BODY} × leaf"


def _findings(results: Results, small: Workload, consumer: Consumer) -> str:
    rows = []
    notes: list[str] = []
    expected = {s: small.expected(s) for s in SCENARIOS} | {"bump": (0, 1)}
    runs = {s: (w["eg"], w["naive="]) for s, w in results.scenarios.items()}
    runs["user (leaf)"] = (results.user, results.scenarios["leaf"]["naive="])
    expected["user (leaf)"] = expected["leaf"]
    runs["bump"] = (results.bump["eg"], results.bump["naive"])
    for name, (eg, naive) in runs.items():
        new, indirect = expected[name]
        also = sorted({note for sample in eg.samples for note in sample.also})
        notes += [f"  {name}: {note}" for note in also]
        rows.append(
            [
                name,
                _found(eg, new),
                _found(eg, indirect, indirect=True),
                _found(naive, new + indirect) if naive.samples else "–",
                f"{len(also)} (below)" if also else "none",
            ]
        )
    table = _table(
        ["findings", "eg new", "eg indirect", "naive diff", "also compiled (notes)"], rows
    )
    listed = "\n".join(notes) if notes else "  none"
    return (
        f"{table}\n(a figure is what every run found; a≠b! when a run found a, b expected; "
        f"naive diff: heap lines the head's `go build -gcflags=-m ./...` adds)\n"
        f"escape-guard's notes on packages compiled besides the changed ones:\n{listed}"
    )


def _bump(results: Results, consumer: Consumer) -> str:
    module, old, new = consumer.bump
    eg = results.bump["eg"]
    rows = [
        ["escape-guard", _s(eg.median), "1"],
        ["naive (two worktrees, go build -gcflags=-m ./...)", _s(results.bump["naive"].median)],
        ["go build ./... at the head", _s(results.bump["build"].median)],
    ]
    rows[1].append(_ratio(eg.ratios(results.bump["naive"])))
    rows[2].append(_ratio(eg.ratios(results.bump["build"])))
    table = _table(["dependency bump", "seconds", "escape-guard / it"], rows)
    return (
        f"dependency bump: {module} {old} → {new} in a module of {len(consumer.packages)} "
        "packages using x/crypto, x/net and x/text\n"
        "(every run from GOCACHE = the standard library built with and without -trimpath, "
        "a warm module cache, GOPROXY=off)\n"
        f"{table}"
    )


def _size_and_cold(results: Results, small: Workload, large: Workload) -> str:
    leaf = results.scenarios["leaf"]["eg"]
    size = _ratio(results.doubled.ratios(leaf), TARGET_SIZE, strict=True) + " (target < 1.2)"
    rows = [
        [f"{len(small.packages)} packages, std built", "1", _s(leaf.median), "1"],
        [
            f"{len(large.packages)} packages, std built",
            _found(results.doubled, 1),
            _s(results.doubled.median),
            size,
        ],
        [
            f"{len(small.packages)} packages, cold (empty GOCACHE)",
            _found(results.cold, 1),
            _s(results.cold.median),
            _ratio(results.cold.ratios(leaf)),
        ],
        [
            f"{len(small.packages)} packages, user's cache (`go build ./...` of main)",
            _found(results.user, 1),
            _s(results.user.median),
            _ratio(results.user.ratios(leaf)),
        ],
    ]
    return _table(["escape-guard, leaf scenario", "new found", "seconds", "ratio"], rows)


def _profile(results: Results) -> str:
    phases = ("resolve revisions", "build", "compare")
    rows = []
    for scenario, series in results.scenarios.items():
        eg = series["eg"]
        outside = statistics.median(s.seconds - sum(s.phases.values()) for s in eg.samples)
        build_over = statistics.median(
            s.phases.get("build", 0.0) - f.seconds
            for s, f in zip(eg.samples, series["shared"].samples, strict=True)
        )
        row = [scenario, _s(eg.median), *(_s(eg.phase(p)) for p in phases), _s(outside)]
        rows.append([*row, _s(build_over)])
    table = _table(
        ["escape-guard phases", "wall", "resolve", "build", "compare", "outside", "build-shared"],
        rows,
    )
    steps = _table(
        ["go commands", "floor: base", "floor: head", "shared: base", "shared: head"],
        [
            [
                scenario,
                *(_phase(series[w], p) for w in ("floor", "shared") for p in ("base", "head")),
            ]
            for scenario, series in results.scenarios.items()
        ],
    )
    fixed = "\n".join(f"  {name}: {v:.3f} s" for name, v in results.fixed.items())
    return (
        f"{table}\n(outside: interpreter start, imports, report; "
        f"build-shared: the build phase beyond the shared floor's two go commands)\n\n"
        f"{steps}\n(floor: each worktree compiles the changed packages' dependencies in the "
        f"module; shared: the base compiles them, the head finds them cached)\n\n"
        f"fixed costs, median:\n{fixed}"
    )


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=DEFAULT_PACKAGES, metavar="N")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5; --quick: 2)")
    parser.add_argument("--cold-runs", type=int, help="cold runs (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="fewer runs (about 4 minutes)")
    parser.add_argument(
        "--std-cache",
        type=Path,
        metavar="DIR",
        help="where the prepared standard-library caches are kept "
        "(default: .cache/bench/<go version>)",
    )
    parser.add_argument("--save", type=Path, metavar="FILE", help="write every sample as JSON")
    args = parser.parse_args(argv)
    if args.packages < MIN_PACKAGES or 2 * args.packages > MAX_PACKAGES:
        parser.error(f"--packages: from {MIN_PACKAGES} to {MAX_PACKAGES // 2} (2N is measured too)")
    runs = args.runs or (2 if args.quick else 5)
    cold_runs = min(runs, args.cold_runs or (1 if args.quick else 3))
    env = go_env()
    if not shutil.which(go_binary(), path=env["PATH"]):
        parser.error(
            "no go toolchain: run it with the project's environment (. .venv/bin/activate)"
        )
    version = _go(["env", "GOVERSION"], cwd=ROOT, env=env).strip()

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    busy_start = _busy_seconds()
    began = time.perf_counter()
    byte_compile()
    log("preparing the standard-library caches")
    std = prepare_std_caches(args.std_cache or ROOT / ".cache" / "bench" / version, env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-bench-") as scratch:
        bench = Bench(Path(scratch), std, env)
        small, large = (
            _workload(bench, count, log) for count in (args.packages, 2 * args.packages)
        )
        log("preparing the user's cache and the dependency bump's consumer module")
        bench.user_cache(small)
        bench.both_cache()
        main_run = bench.main_cache(small)
        consumer = make_consumer(bench.tmp / "bump", env)
        try:
            results = measure(
                bench, small, large, consumer, runs=runs, cold_runs=cold_runs, log=log
            )
        finally:
            remove(consumer)
        results.main_run = main_run
        info = {
            "go": version,
            "cpus": str(os.cpu_count()),
            "runs": str(runs),
            "cold_runs": str(cold_runs),
            "others": _others(busy_start),
            "took": f"{(time.perf_counter() - began) / 60:.1f} min",
            "revision": _revision(),
        }
        print(render(results, small, large, consumer, info=info))
        if args.save:
            raw = _raw(results, small, large, consumer)
            args.save.write_text(json.dumps(raw, indent=1), "utf-8")
    return 0


def _revision() -> str:
    """The commit escape-guard's sources are at, and whether they differ from it."""
    git = _git(ROOT, os.environ)
    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        dirty = git("status", "--porcelain", "--", "src").strip()
    except RuntimeError:
        return "an unknown commit"
    return f"{commit} with uncommitted changes in src/" if dirty else commit


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _others(busy_start: float | None) -> str:
    """Busy CPU time of the machine minus this process's and its children's."""
    busy_end = _busy_seconds()
    if busy_start is None or busy_end is None:
        return "unknown"
    ours = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    return f"{max(busy_end - busy_start - ours, 0.0):.0f} s"


def _workload(bench: Bench, count: int, log: Callable[[str], None]) -> Workload:
    log(f"creating the {count}-package workload")
    gocache = bench.reset_cache()["GOCACHE"]  # compile-check the copies against the std cache
    return make_workload(bench.tmp / f"std{count}", packages=count, env=bench.env, gocache=gocache)


def _raw(
    results: Results, small: Workload, large: Workload, consumer: Consumer
) -> dict[str, object]:
    def samples(series: Series) -> list[dict[str, object]]:
        return [vars(sample) for sample in series.samples]

    return {
        "workloads": [small.to_json(), large.to_json()],
        "consumer": consumer.to_json(),
        "user": samples(results.user),
        "bump": {way: samples(s) for way, s in results.bump.items()},
        "scenarios": {
            name: {way: samples(s) for way, s in ways.items()}
            for name, ways in results.scenarios.items()
        },
        "doubled": samples(results.doubled),
        "cold": samples(results.cold),
        "fixed_costs": results.fixed,
        "failures": results.failures,
    }


if __name__ == "__main__":
    raise SystemExit(main())
