"""Where a comparison's go commands spend their time, from the go command's own traces.

``tracing_go`` puts a ``go`` ahead of the real one on PATH that runs ``go build`` and
``go list`` with ``-debug-trace`` (a Chrome trace of the command's loading and actions) and
writes, for each command, its directory, arguments, start and end; ``read_traces`` turns the
files into one ``GoCommand`` per command, in start order.

A command's rounds: ``go list`` loads the import graphs; each build starting after a
``go list`` that ran since the previous builds began opens a new round (the first round is
the builds before the graphs are needed, or after them when they are needed first).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from workload import go_binary

if TYPE_CHECKING:
    from run import Bench

_WRAPPER = """#!/bin/sh
log="{traces}/$(date +%s%N)-$$"
case "$1" in
build|list)
  sub=$1; shift
  printf '%s\\n' "$PWD" "$sub" "$@" > "$log.args"
  date +%s%N > "$log.start"
  "{go}" "$sub" -debug-trace="$log.json" "$@"
  code=$?
  date +%s%N > "$log.end"
  exit $code;;
esac
exec "{go}" "$@"
"""
_ACTION = "Executing action (build "
_COMPILED = 0.03  # seconds: shorter actions are cache hits


class GoCommand(NamedTuple):
    kind: str  # build | list
    round: int  # 0 for go list
    cwd: str
    start: float  # seconds since the epoch
    loaded: float  # when package loading ended
    compiles: tuple[tuple[str, float, float], ...]  # (package, start, end) of each compile
    end: float

    @property
    def side(self) -> str:
        """Whose packages it builds: the base's or the head's worktree, or both in place."""
        parts = Path(self.cwd).parts
        return "head" if "head" in parts else "base" if "base" in parts else "both"

    @property
    def work(self) -> float:
        """Seconds of compiling, summed over the compiles (some ran side by side)."""
        return sum(end - start for _, start, end in self.compiles)

    @property
    def compiling(self) -> float:
        """Seconds from the first compile's start to the last one's end."""
        if not self.compiles:
            return 0.0
        return max(c[2] for c in self.compiles) - min(c[1] for c in self.compiles)

    def longest(self, package: str) -> float:
        return max((e - s for p, s, e in self.compiles if p.endswith(package)), default=0.0)


@contextmanager
def tracing_go(traces: Path, go: str) -> Iterator[str]:
    """A directory to put first on PATH: its ``go`` traces into ``traces``."""
    bindir = traces / "bin"
    bindir.mkdir(parents=True)
    wrapper = bindir / "go"
    wrapper.write_text(_WRAPPER.format(traces=traces, go=go), encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    yield str(bindir)


def traced_run(
    bench: Bench, repo: Path, head: str, *, cache: str, extra: Mapping[str, str]
) -> list[GoCommand]:
    """The go commands of one ``bench.escape_guard_run`` of ``head``, from their traces."""
    traces = bench.tmp / "traces"
    shutil.rmtree(traces, ignore_errors=True)
    with tracing_go(traces, go_binary()) as path:
        env = dict(extra, PATH=path + os.pathsep + bench.env["PATH"])
        bench.escape_guard_run(repo, head, cache=cache, extra=env)
    return read_traces(traces)


def read_traces(traces: Path) -> list[GoCommand]:
    commands = [_command(Path(str(args)[: -len(".args")])) for args in traces.glob("*.args")]
    commands.sort(key=lambda c: c.start)
    return _rounds(commands)


def _command(stem: Path) -> GoCommand:
    lines = stem.with_suffix(".args").read_text(encoding="utf-8").splitlines()
    cwd, kind = lines[0], lines[1]
    start = int(stem.with_suffix(".start").read_text()) / 1e9
    end = int(stem.with_suffix(".end").read_text()) / 1e9
    events = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8") or "[]")
    loaded, compiles = end, []
    begun: dict[str, list[float]] = {}
    for event in events:
        name, ts = event.get("name", ""), event.get("ts", 0) / 1e6
        if event.get("ph") == "B":
            begun.setdefault(name, []).append(ts)
        elif event.get("ph") == "E" and begun.get(name):
            began = begun[name].pop()
            if name == "load.PackagesAndErrors" and kind == "build":
                loaded = min(loaded, ts)
            elif name.startswith(_ACTION) and ts - began >= _COMPILED:
                compiles.append((name[len(_ACTION) :].rstrip(")"), began, ts))
    return GoCommand(kind, 0, cwd, start, loaded, tuple(compiles), end)


def _rounds(commands: list[GoCommand]) -> list[GoCommand]:
    numbered: list[GoCommand] = []
    current, listed = 0, False
    for command in commands:
        if command.kind == "list":
            listed = listed or current > 0
            numbered.append(command)
            continue
        if current == 0 or listed:
            current, listed = current + 1, False
        numbered.append(command._replace(round=current))
    return numbered
