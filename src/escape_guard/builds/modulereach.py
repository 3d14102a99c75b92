"""Which of the repository's modules a change reaches, before any of them is loaded.

Loading a module (``go list -deps``) reads its requirements: a ``benchmarks/`` module that
requires competing libraries needs every one of them, from the network or the module cache,
for a directory ``go build ./...`` at the root never builds. So a module is loaded only when
the change can reach its packages:

- the changed packages are in it, or its own files changed (its go.mod, its Go files);
- or it builds against the working copy of a module already reached — its go.mod has a
  ``replace`` of that module to the module's directory, or a root ``go.work`` uses both —
  and it has non-test Go files that import that module's packages. Test files are never
  compiled by ``go build``, so a tests-only module cannot see the change.

Each module loaded for the second reason is said in the notes, as the package reach is.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from escape_guard.builds.checkout import Tree
from escape_guard.builds.modules import Module, imports, module_of_dir, package_dirs_of


class Requirements(NamedTuple):
    """The ``require`` and ``replace`` directives of one go.mod."""

    required: frozenset[str]  # module paths
    replaced: Mapping[str, str]  # module path → the replacement (a directory or a module)


def requirements(text: str) -> Requirements:
    """The module paths a go.mod requires and how it replaces them (comments dropped)."""
    required: set[str] = set()
    replaced: dict[str, str] = {}
    block = ""
    for raw in text.splitlines():
        words = raw.split("//", 1)[0].split()
        if not words:
            continue
        if block:
            if words == [")"]:
                block = ""
            else:
                _directive(block, words, required, replaced)
            continue
        if words[0] in ("require", "replace") and words[1:] == ["("]:
            block = words[0]
        elif words[0] in ("require", "replace"):
            _directive(words[0], words[1:], required, replaced)
    return Requirements(frozenset(required), replaced)


def _directive(
    kind: str, words: Sequence[str], required: set[str], replaced: dict[str, str]
) -> None:
    words = [w.strip('"`') for w in words]
    if kind == "require" and words:
        required.add(words[0])
    elif kind == "replace" and "=>" in words:
        arrow = words.index("=>")
        if arrow >= 1 and len(words) > arrow + 1:
            replaced[words[0]] = words[arrow + 1]


def workspace(tree: Tree, env: Mapping[str, str]) -> frozenset[str] | None:
    """The module directories a root ``go.work`` uses; None without one (or ``GOWORK=off``)."""
    if env.get("GOWORK", "") == "off":
        return None
    text = _read(tree, "go.work")
    if text is None:
        return None
    used: set[str] = set()
    block = False
    for raw in text.splitlines():
        words = [w.strip('"`') for w in raw.split("//", 1)[0].split()]
        if block:
            block = words != [")"]
            used.update(_clean(w) for w in words if block)
        elif words[:2] == ["use", "("]:
            block = True
        elif len(words) == 2 and words[0] == "use":
            used.add(_clean(words[1]))
    return frozenset(used)


def _read(tree: Tree, path: str) -> str | None:
    file = tree.file(path)
    if file is None:
        return None
    try:
        with open(file, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:  # the revision does not have it
        return None


def _clean(directory: str) -> str:
    relative = posixpath.normpath(directory)
    return "" if relative == "." else relative


def reached_modules(
    tree: Tree,
    modules: Sequence[Module],
    *,
    seeds: Iterable[str],
    env: Mapping[str, str],
) -> dict[Module, str]:
    """The modules to load, each with why (``""``: the change is in it).

    ``seeds``: repository paths the change touches and the directories of the packages it
    compiles; the modules holding them are reached first.
    """
    used = workspace(tree, env)
    candidates = [m for m in modules if used is None or m.dir in used]
    reached: dict[Module, str] = {}
    for path in seeds:
        owner = module_of_dir(path, candidates)
        if owner is not None:
            reached.setdefault(owner, "")
    grew = True
    while grew:
        grew = False
        for module in candidates:
            if module in reached:
                continue
            why = _sees(tree, module, reached.keys(), candidates, used is not None)
            if why:
                reached[module] = why
                grew = True
    return {m: reached[m] for m in modules if m in reached}


def _sees(
    tree: Tree,
    module: Module,
    reached: Collection[Module],
    modules: Sequence[Module],
    in_workspace: bool,
) -> str:
    """Why ``module`` builds against the working copy of a reached module ("": it does not)."""
    text = _read(tree, posixpath.join(module.dir, "go.mod") if module.dir else "go.mod")
    if text is None:
        return ""
    wants = requirements(text)
    for other in sorted(reached, key=lambda m: m.dir):
        target = wants.replaced.get(other.path, "")
        local = (
            target.startswith(("./", "../"))
            and _clean(posixpath.join(module.dir, target)) == other.dir
        )
        how = (
            f"it requires `{other.path}` through `replace {other.path} => {target}`"
            if local
            else f"the go.work uses it beside `{other.path}`"
            if in_workspace
            else ""
        )
        wanted = other.path in wants.required or in_workspace
        if how and wanted and _imports_module(tree, module, other, modules):
            return f"{how}, and its packages import it"
    return ""


def _imports_module(tree: Tree, module: Module, other: Module, modules: Sequence[Module]) -> bool:
    """Whether a non-test Go file of ``module`` imports a package of ``other``."""
    for directory in package_dirs_of(tree, module, modules):
        found = imports(tree, directory)
        if found is None:
            return True  # unreadable: let the go command say
        if any(p == other.path or p.startswith(other.path + "/") for p in found):
            return True
    return False
