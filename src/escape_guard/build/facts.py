"""What a package exports that its importers' escape analysis reads, and whether it changed.

An importer is compiled against its imports' export data: every function's parameter leak
tags, which functions can be inlined and their bodies, generic bodies (instantiated in the
importer), and package-level declarations (a type's size, a constant array length). When
none of these changed between the revisions, an unchanged importer compiles the same way
and needs no build with -m; when one did, its locals may now move to the heap.

- Leak tags and inlinability come from the -m output of the packages built anyway
  (``leaking param: p``, ``can inline F``);
- bodies and declarations from the sources: a function that can be inlined, or is generic,
  whose text differs, or a difference outside every function (comments aside), counts.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from escape_guard.build.checkout import Tree
from escape_guard.build.modules import go_sources, read_source
from escape_guard.functions import function_index
from escape_guard.model import EscapeRecord, Kind

# A generic function or a method of a generic type: "[" before the parameters' "(".
_GENERIC = re.compile(r"func\s*(?:\([^)]*\[[^)]*\)\s*\w+|\w+\s*\[)")


class Fact(NamedTuple):
    function: str  # folded, as records name it
    text: str  # "leaking param: p to result ~r0 level=0", "can inline"


def package_facts(records: Iterable[EscapeRecord]) -> dict[str, frozenset[Fact]]:
    """The facts each package (by import path) prints; PGO variants of a package merged."""
    found: dict[str, set[Fact]] = {}
    for record in records:
        package = record.package.partition(" [")[0]
        if record.kind is Kind.INLINING:
            fact = Fact(record.expression, "can inline")
        else:
            fact = Fact(record.function, record.message)
        found.setdefault(package, set()).add(fact)
    return {package: frozenset(facts) for package, facts in found.items()}


def changed_facts(
    base: Mapping[str, frozenset[Fact]], head: Mapping[str, frozenset[Fact]]
) -> dict[str, str]:
    """Packages whose facts differ, each with the first difference in words."""
    changed: dict[str, str] = {}
    for package in sorted(base.keys() & head.keys()):
        gained = sorted(head[package] - base[package])
        lost = sorted(base[package] - head[package])
        if gained:
            changed[package] = _say(gained[0], now=True)
        elif lost:
            changed[package] = _say(lost[0], now=False)
    return changed


def _say(fact: Fact, *, now: bool) -> str:
    where = f"`{fact.function}`" if fact.function else "a function"
    if fact.text == "can inline":
        return f"{where} can {'now' if now else 'no longer'} be inlined"
    return f"{where} {'now says' if now else 'no longer says'} `{fact.text}`"


def inlinable(facts: Iterable[frozenset[Fact]]) -> set[str]:
    """The functions the facts say can be inlined."""
    return {f.function for group in facts for f in group if f.text == "can inline"}


def changed_declarations(
    old: Declarations, new: Declarations, inlined: Collection[str]
) -> str | None:
    """How a package changed for its importers, judged from its sources at both revisions.

    ``inlined``: the functions that can be inlined at either revision. None: only bodies
    that importers neither inline nor instantiate changed.
    """
    if old.outside != new.outside:
        return "its package-level declarations changed"
    for name in sorted(old.bodies.keys() | new.bodies.keys()):
        if old.bodies.get(name) == new.bodies.get(name):
            continue
        if name in old.generic or name in new.generic:
            return f"the generic `{name}` changed"
        if name in inlined:
            return f"the body of `{name}`, which importers can inline, changed"
    return None


class Declarations(NamedTuple):
    """What the sources of one package declare, as far as its importers can tell."""

    bodies: dict[str, list[str]]  # function name -> its declarations' text, in file order
    generic: set[str]
    outside: list[str]  # the lines outside every function, comments and blank lines left out


def declarations(tree: Tree, directory: str) -> Declarations:
    """The declarations of the package in a repository directory of ``tree``."""
    found = Declarations({}, set(), [])
    for name in go_sources(tree, directory):
        text = read_source(tree, directory, name)
        if text is None:
            continue
        lines = text.split("\n")
        index = function_index(text)
        inside: set[int] = set()
        for start, end, function in zip(index.starts, index.ends, index.names, strict=True):
            body = lines[start - 1 : end]
            found.bodies.setdefault(function, []).append("\n".join(body))
            if _GENERIC.match(body[0]):
                found.generic.add(function)
            inside.update(range(start, end + 1))
        found.outside.extend(
            line.strip()
            for number, line in enumerate(lines, 1)
            if number not in inside and line.strip() and not line.lstrip().startswith("//")
        )
    return found
