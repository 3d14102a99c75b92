"""Which of a profile's functions a finding's function is: pure name matching.

The compiler's diagnostics and the source index name a function without its package and
without type arguments (``F``, ``(*Encoder).encode``, ``Sum.func1``, ``Map``); a profile names
it with its import path and, for generic code, the shapes it was instantiated with
(``example.com/m/codec.Map[go.shape.uint64,go.shape.uint64]``,
``example.com/m/list.(*List[go.shape.int]).Push``). A main package's functions are
``main.F`` whatever its import path. Every instantiation of a generic function counts, as
does a closure of a function that was inlined into a caller (the compiler then names it
after the caller: ``G.F.func1``).
"""

from __future__ import annotations

from collections.abc import Iterable

from escape_guard.heat.pprof import Counts, ProfileTable
from escape_guard.model import Heat


def bare_package(package: str) -> str:
    """``example.com/m/lib`` of ``example.com/m/lib [example.com/m/cmd/app]``."""
    return package.partition(" [")[0]


def without_type_arguments(name: str) -> str:
    """``(*List).Push`` of ``(*List[go.shape.[]uint8]).Push``: every bracketed group removed."""
    out: list[str] = []
    depth = 0
    for char in name:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def local_name(profile_name: str, package: str, *, main: bool) -> str | None:
    """The profile's function name without its package, when it is one of ``package``'s."""
    prefix = "main." if main else bare_package(package) + "."
    if not package or not profile_name.startswith(prefix):
        return None
    return without_type_arguments(profile_name[len(prefix) :])


def same_function(local: str, function: str) -> bool:
    """Whether a profile's local name is the finding's function (see the module's docstring)."""
    wanted = without_type_arguments(function)
    if local == wanted:
        return True
    caller, dot, rest = local.partition(".")
    # A closure of a function inlined into ``caller``: "caller.F.func1" for "F.func1".
    return bool(dot) and ".func" in wanted and "(" not in caller and rest == wanted


def matching(table: ProfileTable, package: str, function: str, *, main: bool) -> list[str]:
    """The profile's names of ``function`` of ``package``, in the profile's order."""
    if not function:
        return []
    found = []
    for name in table.functions:
        local = local_name(name, package, main=main)
        if local is not None and same_function(local, function):
            found.append(name)
    return found


def heat_of(table: ProfileTable, package: str, function: str, *, main: bool) -> Heat:
    """The function's flat and cumulative samples in ``table`` (0 and 0 when never sampled)."""
    names = matching(table, package, function, main=main)
    counts = _sum(table.functions[n] for n in names)
    return Heat(counts.flat, counts.cum, table.total, table.path, tuple(names))


def _sum(counts: Iterable[Counts]) -> Counts:
    flat = cum = 0
    for c in counts:
        flat, cum = flat + c.flat, cum + c.cum
    return Counts(flat, cum)
