"""Which of the repository's packages a change reaches beyond those whose Go files it edits.

A package's escape analysis reads more than its own files: the export data of what it
imports (a dependency's version, vendored code, the exported facts of the repository's
own packages), its module's ``go`` line, and the PGO profile of a main it is built for.
Each function here answers, for one of these, which package directories must be compiled
with -m at both revisions, and why, in words for the report.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence

from escape_guard.builds.golist import Graph

MODULE_FILES = frozenset({"go.mod", "go.sum", "go.work", "go.work.sum"})
PROFILE = "default.pgo"


def module_changes(paths: Iterable[str]) -> list[str]:
    """The changed paths that change what the go command resolves: module files, vendor/."""
    return sorted(p for p in paths if posixpath.basename(p) in MODULE_FILES or _vendored_package(p))


def profile_changes(paths: Iterable[str]) -> list[str]:
    return sorted(p for p in paths if posixpath.basename(p) == PROFILE)


def dependency_reach(base: Graph, head: Graph, changed: Collection[str]) -> dict[str, str]:
    """Own packages importing, at either revision, a dependency that changed: a module bumped,
    added, removed or replaced, or vendored files edited."""
    versions = (_versions(base), _versions(head))
    bumped = {
        module: _bump(module, versions[0].get(module), versions[1].get(module))
        for module in versions[0].keys() | versions[1].keys()
        if versions[0].get(module) != versions[1].get(module)
    }
    vendored = {v for p in changed if (v := _vendored_package(p))}
    reach: dict[str, str] = {}
    for graph in (base, head):
        targets: dict[str, str] = {}
        for package in graph.packages.values():
            if package.own:
                continue
            if package.module in bumped:
                targets[package.path] = bumped[package.module]
            elif package.path in vendored:
                targets[package.path] = f"the vendored code of `{package.path}` changed"
        found = graph.importers(targets)
        for importer in found:
            own = graph.packages.get(importer)
            if own and own.own:
                target = graph.through(importer, found)[-1]
                reach.setdefault(own.dir, f"they import `{target}`: {targets[target]}")
    return reach


def language_reach(base: Graph, head: Graph) -> dict[str, str]:
    """Own packages whose module's ``go`` line changed: the language they are compiled as
    (loop variables, for one) changed with it."""
    before = {p.module: p.go for p in base.own()}
    reach: dict[str, str] = {}
    for package in head.own():
        old = before.get(package.module)
        if old is not None and old != package.go:
            why = f"the go line of `{package.module}` went from {old or 'none'} to {package.go}"
            reach.setdefault(package.dir, why)
    return reach


def _versions(graph: Graph) -> dict[str, str]:
    return {p.module: p.version for p in graph.packages.values() if p.module and not p.own}


def _bump(module: str, old: str | None, new: str | None) -> str:
    if old is None:
        return f"`{module}` {new} is new"
    if new is None:
        return f"`{module}` {old} is gone"
    return f"`{module}` went from {old} to {new}"


def _vendored_package(path: str) -> str | None:
    """The import path a file under a ``vendor`` directory belongs to (``modules.txt``: "")."""
    parts = path.split("/")
    if "vendor" not in parts[:-1]:
        return None
    inside = parts[parts.index("vendor") + 1 :]
    return "/".join(inside[:-1])


def export_reach(graphs: Sequence[Graph], exporters: Mapping[str, str]) -> dict[str, str]:
    """Own packages importing, directly or not, a package whose exported facts changed
    (``exporters``: import path → what changed)."""
    reach: dict[str, str] = {}
    for graph in graphs:
        targets = {
            p.path: exporters[stem]
            for p in graph.packages.values()
            if (stem := p.path.partition(" [")[0]) in exporters
        }
        found = graph.importers(targets)
        for importer in found:
            own = graph.packages.get(importer)
            if own and own.own:
                target = graph.through(importer, found)[-1].partition(" [")[0]
                why = exporters[target]
                reach.setdefault(own.dir, f"they import `{target}`, whose exports changed: {why}")
    return reach


def profile_reach(graphs: Sequence[Graph], changed: Collection[str]) -> dict[str, str]:
    """Own packages built for a main package whose ``default.pgo`` changed."""
    mains = {posixpath.dirname(p) for p in changed}
    reach: dict[str, str] = {}
    for graph in graphs:
        by_dir = {p.path: p.dir for p in graph.own()}
        for package in graph.own():
            stem, _, main = package.path.partition(" [")
            main_dir = by_dir.get(main.rstrip("]")) if main else package.dir
            if main_dir in mains and (main or package.name == "main"):
                where = main_dir or "the repository root"
                reach.setdefault(
                    by_dir.get(stem, package.dir),
                    f"they are built for `{where}`, whose {PROFILE} changed",
                )
    return reach


def profile_mains(graphs: Sequence[Graph], dirs: Collection[str]) -> dict[str, str]:
    """The main packages with a profile that any of ``dirs`` is built for.

    With -pgo=auto the go command compiles such a package once more, with the profile, for
    each of them; building the main alongside makes that compilation happen.
    """
    reach: dict[str, str] = {}
    for graph in graphs:
        by_path = {p.path: p for p in graph.own()}
        for package in graph.own():
            stem, _, main = package.path.partition(" [")
            owner = by_path.get(stem)
            host = by_path.get(main.rstrip("]"))
            if main and owner and host and owner.dir in dirs and host.dir not in dirs:
                where = owner.dir or "the repository root"
                reach.setdefault(
                    host.dir, f"its {PROFILE} applies to `{where}`, which is compiled for it"
                )
    return reach
