"""Compile what the change reaches, at a cost that follows it.

A package is compiled with -m at both revisions when its own Go files differ, or when
something it compiles against differs in a way that can change its escape analysis
(``impact``): a dependency bumped or vendored code edited, its module's ``go`` line, the
profile of a main it is built for, or a package it imports whose exports changed
(``facts``). What the sources say of the last (a package-level declaration, a generic or
inlinable body, an exported signature: ``facts.seen_change``) is known before anything is
built: those importers are compiled in the first round, with the changed packages, by the
same go command. What only compiled facts tell (a leak tag, inlinability) is known once the
changed packages are built: if it changed, every package importing them not compiled yet
is compiled in a second round. Importers of a package whose bodies changed but whose
exports did not are never compiled with -m. The notes say which round compiled what.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from typing import NamedTuple

from escape_guard.builds.analysis import Ahead, Analysis, build_both, declared_packages
from escape_guard.builds.checkout import checkout
from escape_guard.builds.compile import BuildSpec
from escape_guard.builds.facts import (
    Declarations,
    changed_declarations,
    changed_facts,
    inlinable,
    package_facts,
    seen_change,
)
from escape_guard.builds.goimports import listed_alike
from escape_guard.builds.golist import Graph, load
from escape_guard.builds.impact import (
    dependency_reach,
    export_reach,
    language_reach,
    module_changes,
    profile_changes,
    profile_mains,
    profile_reach,
)
from escape_guard.builds.modulereach import reached_modules
from escape_guard.builds.modules import find_modules, package_dirs_of
from escape_guard.diffmap import LineMap
from escape_guard.model import NotAnalysed
from escape_guard.tasks import Task

_NAMED = 4  # packages named in a note before "and N more"
# How a note says that packages were compiled once the changed ones were, by a second go
# command per revision (the others are compiled with them, by the same one).
_SECOND = " in a second round, once the changed packages' compiled facts were compared"


class Revisions(NamedTuple):
    base: str  # SHA
    head: str
    head_name: str = ""  # how messages name the head, when its SHA is no commit to look up


def build_reached(
    ahead: Ahead,
    spec: BuildSpec,
    linemap: LineMap,
    revisions: Revisions,
    *,
    packages: frozenset[str] | None,
    explain: bool,
    notes: list[str],
    not_analysed: list[NotAnalysed] | None = None,
) -> tuple[str, Analysis, Analysis]:
    """The toolchain's version and both revisions' analyses of every package the change
    reaches (``packages``: the directories holding changed Go files; None: every package).

    Modules the change reaches but the go command cannot load are added to ``not_analysed``
    (and said in ``notes``)."""
    if packages is None:
        return build_both(
            ahead, replace(spec, facts=True), linemap, base=revisions.base, head=revisions.head,
            packages=None, explain=explain, notes=notes, head_name=revisions.head_name,
        )  # fmt: skip
    waves = _Waves(ahead, spec, linemap, revisions, explain=explain, notes=notes)
    try:
        return waves.run(packages)
    finally:
        if not_analysed is not None:
            not_analysed.extend(waves.not_analysed)


def reaches_beyond(linemap: LineMap) -> bool:
    """Whether the change can reach packages without changed Go files before any is built."""
    paths = linemap.touched_paths
    return bool(module_changes(paths) or profile_changes(paths))


class _Waves:
    def __init__(
        self,
        ahead: Ahead,
        spec: BuildSpec,
        linemap: LineMap,
        revisions: Revisions,
        *,
        explain: bool,
        notes: list[str],
    ) -> None:
        self.ahead, self.linemap, self.revisions = ahead, linemap, revisions
        self.spec = replace(spec, facts=True)
        self.explain, self.notes = explain, notes
        self._graphs: tuple[Graph, Graph] | None = None
        self.paths = sorted(linemap.touched_paths)
        self.changed: frozenset[str] = frozenset()
        self.not_analysed: list[NotAnalysed] = []
        self._dirs: dict[str, tuple[str, ...]] = {}  # module directory → its package dirs

    def run(self, changed: frozenset[str]) -> tuple[str, Analysis, Analysis]:
        self.changed = changed
        reached: dict[str, str] = {}
        modules, profiles = module_changes(self.paths), profile_changes(self.paths)
        if modules:
            reached.update(dependency_reach(*self.graphs(), modules))
            reached.update(language_reach(*self.graphs()))
        if profiles and self.spec.pgo == "auto":
            reached.update(profile_reach(self.graphs(), profiles))
        reached.update(self._mains(changed | reached.keys()))
        seen = self._importers(self._seen(changed), built=changed | reached.keys())
        reached.update(seen)
        first = changed | reached.keys()
        version, base, head = self._build(first, declared=changed)
        more = self._importers(self._exporters(base, head), built=first)
        if more:
            _, base_more, head_more = self._build(frozenset(more), declared=frozenset())
            base, head = base.merged(base_more), head.merged(head_more)
        self.notes.extend(_said({d: w for d, w in reached.items() if d not in changed}))
        self.notes.extend(_said(more, when=_SECOND))
        return version, base, head

    def _importers(self, exporters: Mapping[str, str], *, built: Collection[str]) -> dict[str, str]:
        """The packages importing ``exporters`` (and the mains they are built for) besides
        those ``built``, each with why."""
        if not exporters:
            return {}
        reach = export_reach(self.graphs(), exporters)
        more = {d: why for d, why in reach.items() if d not in built}
        more.update(self._mains(more.keys(), built=built))
        return more

    def _seen(self, changed: frozenset[str]) -> dict[str, str]:
        """The changed packages (by import path) whose sources alone show a change their
        importers compile against (``facts.seen_change``), and how."""
        old, new = (self._declarations(label, changed) for label in ("base", "head"))
        found: dict[str, str] = {}
        for path in sorted(old.keys() & new.keys()):
            why = seen_change(old[path], new[path])
            if why:
                found[path] = why
        return found

    def _declarations(self, label: str, dirs: frozenset[str]) -> dict[str, Declarations]:
        sha = self.revisions.head if label == "head" else self.revisions.base
        work = self.ahead.work.result()
        with checkout(work, sha, label=label, seen=self.ahead.seen(label)) as tree:
            return declared_packages(tree, find_modules(tree), dirs)

    def graphs(self) -> tuple[Graph, Graph]:
        """Both revisions' import graphs, loaded at the first question: by one go list when
        the revisions differ in nothing it reads (``_listed_alike``), else one each."""
        if self._graphs is None:
            if self._listed_alike():
                graph = self._graph("head", self.revisions.head)
                self._graphs = (graph, graph)
            else:
                self._graphs = self._listed_apart()
            self._said_modules(*self._graphs)
        return self._graphs

    def _listed_apart(self) -> tuple[Graph, Graph]:
        """Each revision's graph, both listed at once."""
        base = Task(lambda: self._graph("base", self.revisions.base))
        head = Task(lambda: self._graph("head", self.revisions.head))
        try:
            return base.result(), head.result()
        finally:
            base.join()
            head.join()

    def _listed_alike(self) -> bool:
        """Whether ``go list`` reads the same at both revisions, so that one graph is both:
        no module or profile file changed, and every changed file is a Go file at the same
        path in both, which ``goimports.listed_alike`` says is listed alike."""
        files = self.linemap.files
        if module_changes(self.paths) or profile_changes(self.paths):
            return False
        if not all(_edited_go_file(f.old_path, f.new_path) and not f.binary for f in files):
            return False
        git = self.ahead.work.result().git
        revisions = (self.revisions.base, self.revisions.head)
        texts = git.blobs(f"{sha}:{f.new_path}" for f in files for sha in revisions)
        return all(
            listed_alike(
                *(texts[f"{sha}:{f.new_path}"].decode("utf-8", "replace") for sha in revisions)
            )
            for f in files
        )

    def _graph(self, label: str, sha: str) -> Graph:
        work = self.ahead.work.result()
        named = self.revisions.head_name if label == "head" else ""
        revision = named or f"the {label} ({sha[:7]})"
        with checkout(work, sha, label=label, seen=self.ahead.seen(label)) as tree:
            modules = find_modules(tree)
            seeds = [*self.paths, *self.changed]
            reached = reached_modules(tree, modules, seeds=seeds, env=self.spec.env)
            graph = load(tree, modules, self.spec, revision=revision, reached=reached)
            for gone in graph.unloaded:
                self._dirs[gone.module.dir] = tuple(package_dirs_of(tree, gone.module, modules))
            return graph

    def _said_modules(self, base: Graph, head: Graph) -> None:
        """Notes on the modules loaded for what the change reaches, and on those that failed."""
        for module, why in sorted({**base.reached, **head.reached}.items()):
            if why:
                where = f"`{module.dir}`" if module.dir else "the repository root"
                self.notes.append(f"also loaded module `{module.path}` ({where}): {why}")
        failed: dict[str, list[tuple[str, str, str]]] = {}
        for label, graph in (("base", base), ("head", head)):
            for gone in graph.unloaded:
                failed.setdefault(gone.module.path, []).append((label, gone.module.dir, gone.error))
        for path, failures in sorted(failed.items()):
            directory = failures[0][1]
            entry = NotAnalysed(
                path,
                directory,
                self._dirs.get(directory, ()),
                tuple(label for label, _, _ in failures),
                failures[-1][2],
            )
            self.not_analysed.append(entry)
            self.notes.append(entry.sentence())

    def _mains(self, dirs: Collection[str], *, built: Collection[str] = ()) -> dict[str, str]:
        """The main packages with a profile that any of ``dirs`` is built for, besides those
        among ``dirs`` and ``built``."""
        if self.spec.pgo != "auto":
            return {}
        if not self.ahead.work.result().profiles and not profile_changes(self.paths):
            return {}
        mains = profile_mains(self.graphs(), frozenset(dirs))
        return {d: why for d, why in mains.items() if d not in built}

    def _build(
        self, packages: frozenset[str], *, declared: frozenset[str]
    ) -> tuple[str, Analysis, Analysis]:
        return build_both(
            self.ahead,
            self.spec,
            self.linemap,
            base=self.revisions.base,
            head=self.revisions.head,
            packages=packages,
            explain=self.explain,
            notes=self.notes,
            declared=declared,
            head_name=self.revisions.head_name,
        )

    def _exporters(self, base: Analysis, head: Analysis) -> dict[str, str]:
        """The changed packages (by import path) whose exports changed, and how."""
        old, new = package_facts(base.facts), package_facts(head.facts)
        both = sorted(base.declared.keys() & head.declared.keys())
        common = {p: base.declared[p].bodies.keys() & head.declared[p].bodies.keys() for p in both}
        exporters = changed_facts(old, new, common=common)
        can_inline = inlinable([*old.values(), *new.values()])
        for path in both:
            why = changed_declarations(base.declared[path], head.declared[path], can_inline)
            if why and path not in exporters:
                exporters[path] = why
        return exporters


def _edited_go_file(old_path: str | None, new_path: str | None) -> bool:
    """Whether a diff entry is a Go file both revisions have at the same path."""
    return new_path is not None and old_path == new_path and new_path.endswith(".go")


def _said(reached: Mapping[str, str], *, when: str = "") -> list[str]:
    """One note per reason: which packages were compiled for it (``when``: in which round,
    when not with the changed packages)."""
    by_reason: dict[str, list[str]] = {}
    for directory, why in sorted(reached.items()):
        by_reason.setdefault(why, []).append(f"`{directory or '.'}`")
    return [f"also compiled {_listed(dirs)}{when}: {why}" for why, dirs in by_reason.items()]


def _listed(dirs: Iterable[str]) -> str:
    names = list(dirs)
    shown = ", ".join(names[:_NAMED])
    return shown + (f" and {len(names) - _NAMED} more" if len(names) > _NAMED else "")
