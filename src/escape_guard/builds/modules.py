"""Which ``go build`` runs a revision needs: its modules and the packages of each.

A repository may hold several modules (nested ``go.mod``, ``go.work``); the go command
builds one module at a time, so package patterns and directories given relative to the
repository root are split per module.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

from escape_guard.builds.checkout import Tree
from escape_guard.builds.constraints import Platform, excluded_by
from escape_guard.builds.goimports import import_specs

_SKIP_DIRS = frozenset({"vendor", "testdata", "node_modules"})


class Module(NamedTuple):
    path: str  # module path from go.mod
    dir: str  # repository-relative POSIX directory; "" for the root


class Step(NamedTuple):
    module: Module
    patterns: tuple[str, ...]  # relative to the module directory


def package_rel(local: str) -> str:
    """A step's package ``./a/b`` (or ``.``) as its directory in the module (``""``: the root)."""
    return local.removeprefix(".").strip("/")


def package_dir(module: Module, rel: str) -> str:
    """A module-relative directory as a repository-relative one."""
    return "/".join(p for p in (module.dir, rel) if p)


def import_path(module: Module, rel: str) -> str:
    """The import path of the module's package in ``rel``."""
    return f"{module.path}/{rel}" if rel else module.path


def module_of_import(path: str, modules: Sequence[Module]) -> Module | None:
    """The repository module an import path belongs to (the longest module path prefixing it)."""
    return _longest(m for m in modules if path == m.path or path.startswith(m.path + "/"))


def module_of_dir(directory: str, modules: Sequence[Module]) -> Module | None:
    """The innermost module holding a repository-relative directory."""
    return max(
        (m for m in modules if is_under(directory, m.dir)), key=lambda m: len(m.dir), default=None
    )


def find_modules(tree: Tree) -> list[Module]:
    """Every ``go.mod`` of the revision, skipping vendor, testdata and hidden directories.

    A tree seen in place lists the go.mod files git tracks (so an ignored directory's do not
    count, and nothing is walked); a checked-out one is walked.
    """
    dirs: set[str] = set()
    if tree.go_mods is not None:
        for path in tree.go_mods:
            directory = posixpath.dirname(path)
            if not any(_skipped(d) for d in directory.split("/") if d):
                dirs.add(directory)
    else:
        for dirpath, dirnames, filenames in os.walk(tree.root):
            dirnames[:] = [d for d in dirnames if not _skipped(d)]
            if "go.mod" in filenames:
                rel = os.path.relpath(dirpath, tree.root).replace(os.sep, "/")
                dirs.add("" if rel == "." else rel)
    for path in tree.replaced:  # go.mod files the revision adds or removes
        directory, _, name = path.rpartition("/")
        if name == "go.mod" and not any(_skipped(d) for d in directory.split("/") if d):
            dirs.add(directory)
    found: list[Module] = []
    for directory in sorted(dirs, key=lambda d: d.split("/")):
        gomod = tree.file(f"{directory}/go.mod" if directory else "go.mod")
        path = _module_path(gomod) if gomod else ""
        if path:
            found.append(Module(path, directory))
    return found


def _skipped(name: str) -> bool:
    return name in _SKIP_DIRS or name.startswith((".", "_"))


def _module_path(gomod: str) -> str:
    try:
        with open(gomod, encoding="utf-8", errors="replace") as fh:
            return module_path(fh.read())
    except FileNotFoundError:
        return ""  # removed since the directory was listed


def plan(
    tree: Tree,
    modules: Sequence[Module],
    patterns: Sequence[str],
    *,
    packages: Collection[str] | None = None,
    target: Platform | None = None,
) -> list[Step]:
    """Split repository-relative package patterns into one ``go build`` per module.

    ``./...`` covers every module; ``./a/...`` covers the modules under ``a`` and
    the part of an enclosing module below ``a``; a directory that does not exist
    in this revision is skipped (the package was added or removed). With
    ``packages`` (repository-relative directories), only those of them that the
    patterns select are built, each named on the command line, and only those with a file
    the build for ``target`` compiles (``go build ./...`` skips the others).
    """
    if packages is not None:
        return _plan_packages(tree, modules, patterns, packages, target)
    steps: list[Step] = []
    for module in modules:
        if not has_packages(tree, module, modules):
            continue  # tests only (a benchmarks module): go build compiles none of its files
        mine: list[str] = []
        for pattern in patterns:
            local = _pattern_for(pattern, module, modules)
            if local and _exists(tree, module, local):
                mine.append(local)
        if mine:
            steps.append(Step(module, tuple(dict.fromkeys(mine))))
    return steps


def _plan_packages(
    tree: Tree,
    modules: Sequence[Module],
    patterns: Sequence[str],
    packages: Collection[str],
    target: Platform | None,
) -> list[Step]:
    chosen: dict[Module, list[str]] = {}
    for directory in sorted(packages):
        owner = _owner_dir(directory, modules)
        module = next((m for m in modules if m.dir == owner and is_under(directory, m.dir)), None)
        if module is None or not compiled_sources(tree, directory, target):
            continue
        rel = directory[len(module.dir) :].lstrip("/")
        import_path = f"{module.path}/{rel}" if rel else module.path
        local = f"./{rel}" if rel else "."
        wanted = (_pattern_for(p, module, modules) for p in patterns)
        if any(w and selects(w, local, import_path) for w in wanted):
            chosen.setdefault(module, []).append(local)
    return [Step(module, tuple(locals_)) for module, locals_ in chosen.items()]


def unmatched(
    patterns: Sequence[str], directories: Iterable[str], modules: Sequence[Module]
) -> list[str]:
    """The patterns that select none of the package ``directories`` (repository-relative)."""
    places: list[tuple[Module, str]] = []
    for directory in directories:
        owner = _owner_dir(directory, modules)
        module = next((m for m in modules if m.dir == owner and is_under(directory, m.dir)), None)
        if module is not None:
            places.append((module, directory[len(module.dir) :].lstrip("/")))
    missing: list[str] = []
    for pattern in patterns:
        if not any(
            (wanted := _pattern_for(pattern, module, modules))
            and selects(wanted, f"./{rel}" if rel else ".", import_path(module, rel))
            for module, rel in places
        ):
            missing.append(pattern)
    return missing


def module_dirs(paths: Iterable[str]) -> list[str]:
    """The directories of the ``go.mod`` files among ``paths`` that the go command sees."""
    return sorted(
        posixpath.dirname(p)
        for p in paths
        if posixpath.basename(p) == "go.mod"
        and not any(_skipped(d) for d in posixpath.dirname(p).split("/") if d)
    )


def module_path(text: str) -> str:
    """The module path a go.mod's text declares ("" when it declares none)."""
    for line in text.splitlines():
        words = line.split("//", 1)[0].split()
        if len(words) == 2 and words[0] == "module":
            return words[1].strip('"`')
    return ""


def selects(pattern: str, local: str, import_path: str) -> bool:
    """Whether a module-relative or import-path pattern (``...`` wildcards) names the package."""
    name = local if pattern.startswith(".") else import_path
    if pattern.startswith("./") and local == ".":
        name = "./"
    matched = _pattern_regex(pattern).fullmatch(name) is not None
    return matched or (pattern in ("./...", ".") and local == ".")


@functools.lru_cache(maxsize=4096)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A package pattern as a regular expression: ``...`` matches any string, ``/...`` also
    nothing."""
    escaped = re.escape(pattern).replace(re.escape("/..."), "(?:/.*)?")
    return re.compile(escaped.replace(re.escape("..."), ".*"))


def _pattern_for(pattern: str, module: Module, modules: Sequence[Module]) -> str | None:
    if not pattern.startswith(".") and not pattern.startswith("/"):
        # An import-path pattern belongs to the module whose path prefixes it.
        owner = _longest(
            module_
            for module_ in modules
            if pattern == module_.path or pattern.startswith(module_.path + "/")
        )
        return pattern if owner == module else None
    recursive = pattern.endswith("/...") or pattern == "..."
    target = os.path.normpath(pattern.removesuffix("...").rstrip("/") or ".").replace(os.sep, "/")
    target = "" if target == "." else target
    if is_under(target, module.dir):
        inner = _owner_dir(target, modules)
        if inner != module.dir:
            return None  # a nested module owns that directory
        rel = target[len(module.dir) :].lstrip("/") if module.dir else target
        local = "./" + rel if rel else "."
        return (local.rstrip("/") + "/...") if recursive else local
    if recursive and is_under(module.dir, target):
        return "./..."
    return None


def _longest(modules: Iterable[Module]) -> Module | None:
    return max(modules, key=lambda m: len(m.path), default=None)


def _owner_dir(target: str, modules: Sequence[Module]) -> str:
    return max((m.dir for m in modules if is_under(target, m.dir)), key=len, default="")


def is_under(path: str, parent: str) -> bool:
    """Whether repository-relative ``path`` is ``parent`` or below it ("" is the root)."""
    return parent in ("", path) or path.startswith(parent + "/")


def _exists(tree: Tree, module: Module, local: str) -> bool:
    if not local.startswith("."):
        return True
    rel = posixpath.normpath(posixpath.join(module.dir, local.removesuffix("...").rstrip("/")))
    return tree.isdir("" if rel == "." else rel)


def go_sources(tree: Tree, directory: str) -> list[str]:
    """The names of the non-test Go files of a repository directory, in this revision."""
    return [n for n in tree.names(directory) if n.endswith(".go") and not n.endswith("_test.go")]


def compiled_sources(tree: Tree, directory: str, target: Platform | None) -> list[str]:
    """The non-test Go files of a directory that the build for ``target`` compiles."""
    names = go_sources(tree, directory)
    if target is None:
        return names
    return [n for n in names if not excluded_by(n, read_source(tree, directory, n) or "", target)]


def read_source(tree: Tree, directory: str, name: str) -> str | None:
    """A file of the revision as text; None when the revision does not have it."""
    file = tree.file(f"{directory}/{name}" if directory else name)
    if file is None:
        return None
    with open(file, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def imports(tree: Tree, directory: str) -> set[str] | None:
    """The import paths the non-test Go files of a repository directory name.

    None when a file's header is not one ``goimports.import_specs`` can read.
    """
    found: set[str] = set()
    for name in go_sources(tree, directory):
        text = read_source(tree, directory, name)
        if text is None:
            continue
        specs = import_specs(text)
        if specs is None:
            return None
        found.update(spec.path for spec in specs)
    return found


def standard_library_only(tree: Tree, step: Step, modules: Sequence[Module]) -> bool:
    """Whether a step's packages import nothing but the standard library."""
    for local in step.patterns:
        found = imports(tree, package_dir(step.module, package_rel(local)))
        if found is None:
            return False  # unknown: wait for the compiler to tell
        for path in found:
            first = path.split("/", 1)[0]
            if module_of_import(path, modules) or "." in first:
                return False
    return True


def package_dirs_of(tree: Tree, module: Module, modules: Sequence[Module]) -> list[str]:
    """The directories of ``module`` holding non-test Go files (nested modules left out)."""
    return list(_package_dirs(tree, module, modules))


def has_packages(tree: Tree, module: Module, modules: Sequence[Module]) -> bool:
    """Whether ``module`` has a non-test Go file: something ``go build`` compiles."""
    return next(_package_dirs(tree, module, modules), None) is not None


def _package_dirs(tree: Tree, module: Module, modules: Sequence[Module]) -> Iterator[str]:
    top = os.path.join(tree.root, module.dir)
    for dirpath, dirnames, _ in os.walk(top):
        rel = os.path.relpath(dirpath, tree.root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not _skipped(d)
            and module_of_dir(posixpath.join(rel, d) if rel else d, modules) == module
        )
        names = tree.names(rel)
        if any(n.endswith(".go") and not n.endswith("_test.go") for n in names):
            yield rel
