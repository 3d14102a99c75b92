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

Most of the second kind is known before anything is compiled (``seen_change``): a
package-level declaration, a generic body, an exported signature, the body of a function
small enough that importers may inline it (``may_inline``, an estimate of the compiler's
budget). Their importers can then be compiled with the changed packages themselves. The
estimate errs both ways without changing what is found: a function judged inlinable that is
not has its importers compiled for nothing, and one judged too big that the compiler inlines
all the same is caught by its ``can inline`` fact once compiled.
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
    return _first_change(old, new, inlined, can="can")


def seen_change(old: Declarations, new: Declarations) -> str | None:
    """How a package changed for its importers as its sources alone tell, before it is
    compiled: besides ``changed_declarations``' reasons with the functions that may be
    inlined (``may_inline``), an exported function's signature. None: only compiled facts
    can tell."""
    estimated = may_inline(old) | may_inline(new)
    return _first_change(old, new, estimated, can="may", signatures=True)


def _first_change(
    old: Declarations,
    new: Declarations,
    inlined: Collection[str],
    *,
    can: str,
    signatures: bool = False,
) -> str | None:
    if _declarations_changed(old.outside, new.outside):
        return "its package-level declarations changed"
    for name in sorted(old.bodies.keys() & new.bodies.keys()):
        before, after = old.bodies[name], new.bodies[name]
        if before == after:
            continue
        if name in old.generic or name in new.generic:
            return f"the generic `{name}` changed"
        if signatures and _exported(name) and _signatures(before) != _signatures(after):
            return f"the signature of `{name}` changed"
        if name in inlined:
            return f"the body of `{name}`, which importers {can} inline, changed"
    return None


# The compiler's inlining budget (cmd/compile/internal/inline: inlineMaxBudget), and what it
# never inlines: a function with defer, go, select, recover or a local type declaration.
_BUDGET = 80
_NOT_INLINED = re.compile(r"\b(?:defer|go|select|recover)\b|^\s*type\b", re.MULTILINE)
_COSTED = re.compile(r"[^\W\d]\w*|\d[\w.]*|<<=?|>>=?|&\^=?|&&|\|\||<-|\+\+|--|[-+*/%&|^=!<>:]=?")


def may_inline(found: Declarations) -> set[str]:
    """The functions whose every declaration may fit the compiler's inlining budget.

    The estimate counts a node for each name, literal and operator of the body, and nothing
    more for a call (whose callee may cost 57 more, or its own body when inlined).
    """
    return {
        name
        for name, texts in found.bodies.items()
        if name not in found.noinline and all(_may_inline(text) for text in texts)
    }


def _may_inline(text: str) -> bool:
    body = _body(text)
    return not _NOT_INLINED.search(body) and len(_COSTED.findall(body)) <= _BUDGET


def _body(text: str) -> str:
    """A declaration's body, comments and strings blanked: what follows the signature."""
    code = _QUOTED.sub('""', re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.DOTALL))
    depth = 0
    for i, char in enumerate(code):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif (
            char == "{"
            and depth == 0
            and i > 0
            and not code[:i].rstrip().endswith(("interface", "struct"))
        ):
            return code[i:]
    return ""


def _signatures(texts: Iterable[str]) -> list[str]:
    return [" ".join(text[: len(text) - len(_body(text))].split()) for text in texts]


def _exported(name: str) -> bool:
    return name.rpartition(".")[2][:1].isupper()


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
    noinline: set[str]  # the functions marked //go:noinline


def declarations(tree: Tree, directory: str) -> Declarations:
    """The declarations of the package in a repository directory of ``tree``.

    The first round's reach and each revision's analysis ask for the same ones: they are
    read once per tree (not to be changed by the caller).
    """
    known = tree.declared.get(directory)
    if known is None:
        known = tree.declared[directory] = _read_declarations(tree, directory)
    return known


def _read_declarations(tree: Tree, directory: str) -> Declarations:
    found = Declarations({}, set(), [], set())
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
            if _NOINLINE in _directives(lines, start):
                found.noinline.add(function)
            inside.update(range(start, end + 1))
        depth = 0
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if number in inside or not text or text.startswith("//"):
                continue
            found.outside.append((depth, text))
            depth = max(0, depth + _nesting(text))
    return found


_NOINLINE = "//go:noinline"


def _directives(lines: list[str], start: int) -> list[str]:
    """The comment lines right above line ``start`` (1-based): a declaration's doc comment."""
    above: list[str] = []
    for line in reversed(lines[: start - 1]):
        if not line.startswith("//"):
            break
        above.append(line.strip())
    return above


def _nesting(text: str) -> int:
    """How many more brackets the line opens than it closes (strings and comments aside)."""
    code = _QUOTED.sub("", text.split("//", 1)[0])
    return sum(code.count(c) for c in "({[") - sum(code.count(c) for c in ")}]")
