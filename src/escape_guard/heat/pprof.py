"""Reading a CPU profile with the go command's own ``go tool pprof`` (the edge of heat).

``go tool pprof -top`` prints, per function, the samples in the function itself (flat) and in
it and what it calls (cum). Functions the compiler inlined are their own rows, marked
``(inline)``, as pprof resolves a sample's inlined frames: the counts are the profile's.
``-sample_index=samples`` makes the figures sample counts (integers) rather than durations,
and ``-nodefraction=0`` keeps the functions pprof would otherwise drop as too small.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from escape_guard.errors import UsageError
from escape_guard.proc import run

PPROF = (
    "go",
    "tool",
    "pprof",
    "-top",
    "-nodecount=0",
    "-nodefraction=0",
    "-edgefraction=0",
    "-sample_index=samples",
    "-symbolize=none",  # a Go CPU profile carries its function names; never fetch symbols
)
_INLINE = " (inline)"
_TOTAL = " total"


class Counts(NamedTuple):
    flat: int
    cum: int


class ProfileTable(NamedTuple):
    """One profile's samples per function, by pprof's function name."""

    path: str  # as the report names it
    total: int
    functions: Mapping[str, Counts]


def read_profile(path: str, *, name: str, env: Mapping[str, str], cwd: str) -> ProfileTable:
    """The flat and cum samples of every function of the CPU profile at ``path``."""
    if not os.path.isfile(path):
        raise UsageError(f"profile {name}: no such file (give a pprof CPU profile)")
    result = run([*PPROF, path], cwd=cwd, env=env, check=False)
    if result.returncode != 0:
        said = next((ln for ln in result.stderr.splitlines() if ln.strip()), "no output")
        raise UsageError(
            f"profile {name} is not a CPU profile go tool pprof can read ({said.strip()}): "
            "give a file written by go test -cpuprofile or runtime/pprof.StartCPUProfile"
        )
    return parse_top(result.stdout, path=name)


def parse_top(text: str, *, path: str) -> ProfileTable:
    """The table of ``go tool pprof -top -sample_index=samples`` output.

    A function pprof shows twice (inlined at some call sites, called at others) is summed.
    """
    total = 0
    functions: dict[str, Counts] = {}
    rows = False
    for line in text.splitlines():
        if line.startswith("Showing nodes accounting for ") and line.endswith(_TOTAL):
            total = _count(line.removesuffix(_TOTAL).rpartition(" of ")[2])
        elif line.split() == ["flat", "flat%", "sum%", "cum", "cum%"]:
            rows = True
        elif rows and line.strip():
            flat, _, _, cum, _, function = line.split(maxsplit=5)
            name = function.removesuffix(_INLINE)
            seen = functions.get(name, Counts(0, 0))
            functions[name] = Counts(seen.flat + _count(flat), seen.cum + _count(cum))
    return ProfileTable(path, total, functions)


def _count(text: str) -> int:
    # pprof prints sample counts as plain integers; a profile with no samples prints 0.
    try:
        return int(text)
    except ValueError:
        raise UsageError(
            f"go tool pprof printed {text!r} where a sample count was expected"
        ) from None
