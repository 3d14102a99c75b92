"""What a go command compiled, and whose diagnostics its output holds.

Every package of the repository's modules is compiled with ``-m``, named on the command line
or only a dependency of one that is: the go command keys its cache on the flags, so a package
compiled for a pull request's base is then the same cache entry the default branch's run
compiled when that revision was its head (``escape-guard`` there builds every package). The
go command replays the diagnostics of a cache hit as it printed them; a dependency's are not
asked for and are dropped here.

With ``-v`` the go command prints the import path of each package it compiles, and nothing
for a cache hit: ``Compiled`` counts them, by revision, for the report.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import IO

from escape_guard.builds.modules import Module, Step, module_of_import, selects

# Who a compiled package is for: the base's or the head's packages of the repository, or
# another module's or the standard library's ("other").
SIDES = ("base", "head", "other")


def named_by(step: Step, modules: Sequence[Module]) -> Callable[[str], bool]:
    """Whether diagnostics under a ``# package`` header are those of a package ``step`` names.

    Packages outside the repository's modules are kept: they are compiled without ``-m``, so
    what is printed under their name is an instantiation of code of a named package.
    """

    @functools.cache  # a build prints thousands of records of a few packages
    def named(printed: str) -> bool:
        # A package built for a main package with its profile prints as "p [main]".
        package = printed.split(" ", 1)[0]
        module = module_of_import(package, modules) if package else None
        if module is None:
            return True
        if module != step.module:
            return False
        rel = package[len(module.path) :].lstrip("/")
        local = f"./{rel}" if rel else "."
        return any(selects(pattern, local, package) for pattern in step.patterns)

    return named


def compiled_paths(output: IO[bytes]) -> list[str]:
    """The import paths ``go build -v`` printed: one bare path on a line, no space in it."""
    output.seek(0)
    found = []
    for line in output:
        text = line.strip()
        if text and b" " not in text and b":" not in text and not text.startswith(b"#"):
            found.append(text.decode("utf-8", "replace"))
    return found


class Compiled:
    """The packages the go commands of one comparison compiled, by side (see ``SIDES``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, paths: Iterable[str], side_of: Callable[[str], str]) -> None:
        counted = Counter(side_of(path) for path in paths)
        with self._lock:
            self._counts.update(counted)

    def counts(self) -> tuple[tuple[str, int], ...]:
        with self._lock:
            return tuple((side, self._counts[side]) for side in SIDES)


def side_of(side: str, modules: Sequence[Module]) -> Callable[[str], str]:
    """``side`` for the repository's packages, ``other`` for the rest."""
    return lambda path: side if module_of_import(path, modules) is not None else "other"
