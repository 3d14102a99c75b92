"""Both revisions built by one go command: the head's packages beside the base's.

A go command pays for a lot before it compiles anything (the toolchain's start, loading
the packages, hashing the standard library's sources for its cache keys), and two of them
compile the revisions' changed packages one after the other. When the revisions differ in
Go files only, one go command builds both:

- the working tree shows the base, through the base's -overlay, as for a base build;
- each head package that has to be compiled at the head is added through the same overlay
  as a copy of itself under the ``_escape_guard_head`` directory of its module (the go
  command skips directories starting with ``_`` in ``./...`` patterns, and none of the
  repository's packages can import it by accident);
- the copies import each other's copies: every package on an import path from a changed
  package to another one is copied, so that no head package sees a base one of them, and so
  is an internal package a copy imports but could not from its new place;
- the go command compiles the dependencies both share once, and the two revisions'
  packages side by side.

The head's records are printed under the copies' paths; ``HeadCopies.original`` maps them
back, so they are what a head build of its own prints. Anything this does not cover (a
change to the module files, cgo, ``//go:embed``, assembly, an import that cannot be
rewritten, a failed build) has both revisions built apart instead (``analysis``).
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from escape_guard.builds.checkout import FOREIGN_SOURCES, Tree
from escape_guard.builds.constraints import Platform
from escape_guard.builds.goimports import import_specs
from escape_guard.builds.modules import (
    Module,
    Step,
    find_modules,
    go_sources,
    import_path,
    imports,
    module_of_dir,
    module_of_import,
    package_dir,
    package_rel,
    plan,
    read_source,
)
from escape_guard.diffmap import package_dirs
from escape_guard.model import EscapeRecord

SHADOW = "_escape_guard_head"
_BUILD_FILES = frozenset({"go.mod", "go.sum", "go.work", "go.work.sum", "default.pgo"})
# Finding the packages between changed ones reads the imports of every package they reach:
# past this many, building apart is the cheaper way.
_MAX_SCANNED = 400


class HeadCopies(NamedTuple):
    """Where the head's copies are: per module, the import path prefix they print under."""

    prefixes: Mapping[str, str]  # "example.com/m/_escape_guard_head" -> "example.com/m"

    def is_head(self, record: EscapeRecord) -> bool:
        """Whether a record was printed for a copy.

        The "# package" header above it says, even for a position in a package that is not
        copied (a generic function of it instantiated in a copy); its path when there is none.
        """
        return self.holds(record.package or record.path.removeprefix("./"))

    def holds(self, package: str) -> bool:
        """Whether an import path (or a module-relative path) is that of a copy."""
        return package.startswith(f"{SHADOW}/") or any(
            package == copy or package.startswith(copy + "/") for copy in self.prefixes
        )

    def original(self, text: str) -> str:
        """A printed path, or any text holding some, as a build of the head alone prints it.

        Import paths of the copies appear in file paths (``m/_escape_guard_head/a/a.go``),
        in instantiations (``Get[m/_escape_guard_head/b.T]``, a dictionary argument of a
        call the compiler prints) and, for a copy of a module's root package, right before
        a name (``m/_escape_guard_head.T``).
        """
        if not self.prefixes or SHADOW not in text:
            return text
        pattern = _copies_pattern(tuple(sorted(self.prefixes, key=len, reverse=True)))
        text = pattern.sub(lambda m: self.prefixes[m.group()], text)
        # Built in place (no -trimpath), a copy's files print relative to its module.
        return _RELATIVE_COPY.sub("", text)

    def head_record(self, record: EscapeRecord) -> EscapeRecord:
        """``record`` with no trace of the copies: every text the compiler printed is mapped."""
        return record._replace(
            path=self.original(record.path),
            expression=self.original(record.expression),
            message=self.original(record.message),
            function=self.original(record.function),
            package=self.original(record.package),
            explanation=tuple(self.original(line) for line in record.explanation),
        )


_RELATIVE_COPY = re.compile(rf"(?<![\w.~/-])(?:\./)?{SHADOW}/")


@functools.cache
def _copies_pattern(copies: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(copy) for copy in copies)
    # Whole import paths only: not preceded by a path character, and followed by the end
    # of the path (a "/" into a package below it, a "." before a name, punctuation).
    return re.compile(rf"(?<![\w.~/-])(?:{alternatives})(?![\w~-])")


class _Apart(Exception):
    """Why the revisions must be built apart."""


class Arrangement(NamedTuple):
    steps: tuple[Step, ...]  # one go command per module: the base's packages, then the copies
    overlay: str  # the -overlay file: the base's replacements and the head's copies
    modules: tuple[Module, ...]
    copies: HeadCopies
    explained: tuple[str, ...]  # import paths of the copies of the head's requested packages


def arrange(
    base: Tree,
    head: Tree,
    *,
    patterns: Sequence[str],
    packages: Collection[str],
    changed: Iterable[str],
    scratch: str,
    target: Platform | None = None,
) -> Arrangement | str:
    """One go command per module for both revisions, or why the revisions need two.

    ``base`` and ``head`` are both in place (the working tree, each with its overlay);
    ``packages`` are the directories to build; ``changed`` every path the diff touches,
    either side. The copies' files are written under ``scratch``.
    """
    try:
        return _arrange(
            base,
            head,
            patterns=patterns,
            packages=packages,
            changed=list(changed),
            scratch=scratch,
            target=target,
        )
    except _Apart as why:
        return str(why)


def _arrange(
    base: Tree,
    head: Tree,
    *,
    patterns: Sequence[str],
    packages: Collection[str],
    changed: Sequence[str],
    scratch: str,
    target: Platform | None,
) -> Arrangement:
    for path in changed:
        if posixpath.basename(path) in _BUILD_FILES:
            raise _Apart(f"{path} differs")
        if "vendor" in path.split("/")[:-1]:
            raise _Apart(f"{path} differs, in vendored code")
    # The trees differ where the diff does, which no go.mod is in: they have the same modules.
    modules = find_modules(base)
    changed_dirs = package_dirs(changed)
    base_steps = _by_module(plan(base, modules, patterns, packages=packages, target=target))
    head_steps = _by_module(plan(head, modules, patterns, packages=packages, target=target))
    entries = {os.path.join(base.root, p): c or "" for p, c in base.replaced.items()}
    steps: list[Step] = []
    prefixes: dict[str, str] = {}
    explained: list[str] = []
    for module in modules:
        base_step, head_step = base_steps.get(module), head_steps.get(module)
        locals_ = list(base_step.patterns) if base_step else []
        if head_step:
            if os.path.lexists(os.path.join(base.root, module.dir, SHADOW)):
                raise _Apart(f"{posixpath.join(module.dir, SHADOW)} exists")
            copies = _copied(head, module, modules, head_step, changed_dirs)
            entries.update(_write_copies(head, module, copies, scratch))
            copy_path = f"{module.path}/{SHADOW}"
            prefixes[copy_path] = module.path
            for local in head_step.patterns:
                directory = package_dir(module, package_rel(local))
                locals_.append(f"./{_rel(module, directory, copy=True)}")
                explained.append(_import_path(module, directory, copy=True))
        if locals_:
            steps.append(Step(module, tuple(locals_)))
    overlay = os.path.join(scratch, "together.json")
    with open(overlay, "w", encoding="utf-8") as fh:
        json.dump({"Replace": dict(sorted(entries.items()))}, fh, indent=0)
    return Arrangement(
        tuple(steps), overlay, tuple(modules), HeadCopies(prefixes), tuple(explained)
    )


def _copied(
    head: Tree,
    module: Module,
    modules: Sequence[Module],
    step: Step,
    changed_dirs: Collection[str],
) -> set[str]:
    """The module's directories whose head packages are copied.

    The requested packages; every package of the module on an import path from one of
    them to a changed package (a copy must not import the base version of a changed one);
    and the internal packages a copy imports but, from its new place, may not.
    """
    targets = {package_dir(module, package_rel(local)) for local in step.patterns}
    mine = {d for d in changed_dirs if module_of_dir(d, modules) == module}
    others = {d for d in changed_dirs if module_of_dir(d, modules) not in (module, None)}
    graph = _ImportGraph(head, module, modules, others)
    copies = set(targets)
    if len(mine) > 1 or mine - targets or others:  # a copy may reach another changed package
        reachable = graph.reachable(targets)
        reaches: dict[str, bool] = {}

        def reaches_changed(directory: str) -> bool:
            if directory not in reaches:
                reaches[directory] = directory in mine or any(
                    reaches_changed(d) for d in graph.deps(directory)
                )
            return reaches[directory]

        copies |= {d for d in reachable if reaches_changed(d)}
    todo = sorted(copies)
    while todo:
        directory = todo.pop()
        importer = _import_path(module, directory, copy=True)
        for dep in graph.deps(directory):
            if dep not in copies and not _visible(importer, _import_path(module, dep)):
                copies.add(dep)
                todo.append(dep)
    return copies


class _ImportGraph:
    """The imports among one module's packages at the head, scanned as they are asked for."""

    def __init__(
        self, head: Tree, module: Module, modules: Sequence[Module], others: Collection[str]
    ) -> None:
        self._head, self._module, self._modules, self._others = head, module, modules, others
        self._deps: dict[str, frozenset[str]] = {}

    def deps(self, directory: str) -> frozenset[str]:
        """The module's packages that the one in ``directory`` imports."""
        if directory not in self._deps:
            if len(self._deps) == _MAX_SCANNED:
                raise _Apart(f"the changed packages import more than {_MAX_SCANNED} others")
            self._deps[directory] = self._scan(directory)
        return self._deps[directory]

    def reachable(self, roots: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            directory = todo.pop()
            if directory not in seen:
                seen.add(directory)
                todo.extend(self.deps(directory))
        return seen

    def _scan(self, directory: str) -> frozenset[str]:
        found = imports(self._head, directory)
        if found is None:
            raise _Apart(f"the imports of {directory or 'the root package'} could not be read")
        deps: set[str] = set()
        for path in found:
            owner = module_of_import(path, self._modules)
            if owner == self._module:
                deps.add(package_dir(owner, path[len(owner.path) :].lstrip("/")))
            elif owner and any(module_of_dir(d, self._modules) == owner for d in self._others):
                raise _Apart(f"{directory} imports {path}, of another module with changes")
        return frozenset(deps)


def _visible(importer: str, path: str) -> bool:
    """Whether Go lets package ``importer`` import ``path`` (the rule on ``internal``)."""
    parts = path.split("/")
    if "internal" not in parts:
        return True
    parent = "/".join(parts[: len(parts) - 1 - parts[::-1].index("internal")])
    return importer == parent or importer.startswith(parent + "/")


def _write_copies(
    head: Tree, module: Module, copies: Iterable[str], scratch: str
) -> dict[str, str]:
    """Overlay entries for the head's copies of ``copies``, their imports rewritten."""
    rewrite = {_import_path(module, d): _import_path(module, d, copy=True) for d in sorted(copies)}
    entries: dict[str, str] = {}
    for directory in sorted(copies):
        names = head.names(directory)
        foreign = next((n for n in names if posixpath.splitext(n)[1] in FOREIGN_SOURCES), None)
        if foreign:
            raise _Apart(f"{posixpath.join(directory, foreign)} is not Go")
        rel = _rel(module, directory)
        target = os.path.join(head.root, module.dir, SHADOW, rel)
        for name in go_sources(head, directory):
            path = posixpath.join(directory, name)
            text = read_source(head, directory, name)
            copy = None if text is None else _rewritten(path, text, rewrite)
            if copy is None:  # nothing to rewrite: the copy reads the head's own file
                source = head.file(path)
                if source is not None:
                    entries[os.path.join(target, name)] = source
                continue
            written = os.path.join(scratch, SHADOW, module.dir, rel, name)
            os.makedirs(os.path.dirname(written), exist_ok=True)
            with open(written, "w", encoding="utf-8") as fh:
                fh.write(copy)
            entries[os.path.join(target, name)] = written
    return entries


def _rewritten(path: str, text: str, rewrite: Mapping[str, str]) -> str | None:
    """The file with its imports of copied packages pointing at the copies; None: it has none."""
    if "//go:embed" in text:
        raise _Apart(f"{path} embeds files")
    specs = import_specs(text)
    if specs is None:
        raise _Apart(f"the imports of {path} could not be read")
    if any(spec.path == "C" for spec in specs):
        raise _Apart(f"{path} uses cgo")
    hits = [spec for spec in specs if spec.path in rewrite]
    if not hits:
        return None
    out: list[str] = []
    last = 0
    for spec in hits:
        out += [text[last : spec.start], f'"{rewrite[spec.path]}"']
        last = spec.end
    out.append(text[last:])
    copy = "".join(out)
    for old in rewrite:  # anything left would reach a base package: refuse, never guess
        if f'"{old}"' in copy or f"`{old}`" in copy:
            raise _Apart(f"{path} names {old} outside its imports")
    return copy


def _by_module(steps: Iterable[Step]) -> dict[Module, Step]:
    return {step.module: step for step in steps}


def _rel(module: Module, directory: str, *, copy: bool = False) -> str:
    """A repository directory relative to its module; ``copy``: its copy's."""
    rel = directory[len(module.dir) :].lstrip("/")
    return "/".join(p for p in (SHADOW if copy else "", rel) if p)


def _import_path(module: Module, directory: str, *, copy: bool = False) -> str:
    return import_path(module, _rel(module, directory, copy=copy))
