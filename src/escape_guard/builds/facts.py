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
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

from escape_guard.builds.checkout import Tree
from escape_guard.builds.modules import go_sources, read_source
from escape_guard.model import EscapeRecord, Kind
from escape_guard.records.functions import function_index

# A generic function or a method of a generic type: "[" before the parameters' "(".
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])*\'')
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
            if not record.message.startswith("can inline "):
                continue  # "inlining call to": where, not what is exported
            fact = Fact(record.expression, "can inline")
        else:
            fact = Fact(record.function, record.message)
        found.setdefault(package, set()).add(fact)
    return {package: frozenset(facts) for package, facts in found.items()}


def changed_facts(
    base: Mapping[str, frozenset[Fact]],
    head: Mapping[str, frozenset[Fact]],
    *,
    common: Mapping[str, Collection[str]] | None = None,
) -> dict[str, str]:
    """Packages whose facts differ, each with the first difference in words.

    ``common``: per package, the functions both revisions declare, when known: an unchanged
    importer calls no function added, and compiles no more if one it called were removed.
    """
    changed: dict[str, str] = {}
    for package in sorted(base.keys() & head.keys()):
        both = None if common is None else common.get(package)
        gained = sorted(
            f for f in head[package] - base[package] if both is None or f.function in both
        )
        lost = sorted(
            f for f in base[package] - head[package] if both is None or f.function in both
        )
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
    if _declarations_changed(old.outside, new.outside):
        return "its package-level declarations changed"
    for name in sorted(old.bodies.keys() & new.bodies.keys()):
        if old.bodies.get(name) == new.bodies.get(name):
            continue
        if name in old.generic or name in new.generic:
            return f"the generic `{name}` changed"
        if name in inlined:
            return f"the body of `{name}`, which importers can inline, changed"
    return None


def _declarations_changed(old: list[Line], new: list[Line]) -> bool:
    """Whether a line outside the functions changed, went, or came inside a declaration.

    A whole new one-line declaration (``var sink *int``) or import is nothing an unchanged
    importer uses; a line added to a ``const``/``var`` block or a type changes what is there.
    """
    left = Counter(new)
    left.subtract(old)
    if any(count < 0 for count in left.values()):
        return True
    return any(count and not _standalone(line) for line, count in left.items())


def _standalone(line: Line) -> bool:
    depth, text = line
    opens = text.endswith(("(", "{", "[", ",", "="))
    return depth == 0 and text.startswith(("var ", "const ", "type ", "import ")) and not opens


Line = tuple[int, str]  # nesting depth (brackets open before it), stripped text


class Declarations(NamedTuple):
    """What the sources of one package declare, as far as its importers can tell."""

    bodies: dict[str, list[str]]  # function name -> its declarations' text, in file order
    generic: set[str]
    outside: list[Line]  # the lines outside every function, comments and blank lines left out


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
        depth = 0
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if number in inside or not text or text.startswith("//"):
                continue
            found.outside.append((depth, text))
            depth = max(0, depth + _nesting(text))
    return found


def _nesting(text: str) -> int:
    """How many more brackets the line opens than it closes (strings and comments aside)."""
    code = _QUOTED.sub("", text.split("//", 1)[0])
    return sum(code.count(c) for c in "({[") - sum(code.count(c) for c in ")}]")
