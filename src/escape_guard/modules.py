"""Which ``go build`` runs a revision needs: its modules and the packages of each.

A repository may hold several modules (nested ``go.mod``, ``go.work``); the go command
builds one module at a time, so package patterns and directories given relative to the
repository root are split per module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from typing import NamedTuple

_SKIP_DIRS = frozenset({"vendor", "testdata", "node_modules"})


class Module(NamedTuple):
    path: str  # module path from go.mod
    dir: str  # repository-relative POSIX directory; "" for the root


class Step(NamedTuple):
    module: Module
    patterns: tuple[str, ...]  # relative to the module directory


def find_modules(root: str) -> list[Module]:
    """Every ``go.mod`` below ``root``, skipping vendor, testdata and hidden directories."""
    found: list[Module] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIP_DIRS and not d.startswith((".", "_"))
        )
        if "go.mod" in filenames:
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            path = _module_path(os.path.join(dirpath, "go.mod"))
            if path:
                found.append(Module(path, "" if rel == "." else rel))
    return found


def _module_path(gomod: str) -> str:
    with open(gomod, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            words = line.split("//", 1)[0].split()
            if len(words) == 2 and words[0] == "module":
                return words[1].strip('"`')
    return ""


def plan(
    root: str,
    modules: Sequence[Module],
    patterns: Sequence[str],
    *,
    packages: Collection[str] | None = None,
) -> list[Step]:
    """Split repository-relative package patterns into one ``go build`` per module.

    ``./...`` covers every module; ``./a/...`` covers the modules under ``a`` and
    the part of an enclosing module below ``a``; a directory that does not exist
    in this revision is skipped (the package was added or removed). With
    ``packages`` (repository-relative directories), only those of them that the
    patterns select are built, each named on the command line.
    """
    if packages is not None:
        return _plan_packages(root, modules, patterns, packages)
    steps: list[Step] = []
    for module in modules:
        mine: list[str] = []
        for pattern in patterns:
            local = _pattern_for(pattern, module, modules)
            if local and _exists(root, module, local):
                mine.append(local)
        if mine:
            steps.append(Step(module, tuple(dict.fromkeys(mine))))
    return steps


def _plan_packages(
    root: str, modules: Sequence[Module], patterns: Sequence[str], packages: Collection[str]
) -> list[Step]:
    chosen: dict[Module, list[str]] = {}
    for directory in sorted(packages):
        owner = _owner_dir(directory, modules)
        module = next((m for m in modules if m.dir == owner and _is_under(directory, m.dir)), None)
        if module is None or not _has_go_files(os.path.join(root, directory)):
            continue
        rel = directory[len(module.dir) :].lstrip("/")
        import_path = f"{module.path}/{rel}" if rel else module.path
        local = f"./{rel}" if rel else "."
        wanted = (_pattern_for(p, module, modules) for p in patterns)
        if any(w and _selects(w, local, import_path) for w in wanted):
            chosen.setdefault(module, []).append(local)
    return [Step(module, tuple(locals_)) for module, locals_ in chosen.items()]


def _selects(pattern: str, local: str, import_path: str) -> bool:
    """Whether a module-relative or import-path pattern (``...`` wildcards) names the package."""
    name = local if pattern.startswith(".") else import_path
    if pattern.startswith("./") and local == ".":
        name = "./"
    regex = (
        re.escape(pattern).replace(re.escape("/..."), "(?:/.*)?").replace(re.escape("..."), ".*")
    )
    return re.fullmatch(regex, name) is not None or (pattern in ("./...", ".") and local == ".")


def _has_go_files(directory: str) -> bool:
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    return any(n.endswith(".go") and not n.endswith("_test.go") for n in names)


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
    if _is_under(target, module.dir):
        inner = _owner_dir(target, modules)
        if inner != module.dir:
            return None  # a nested module owns that directory
        rel = target[len(module.dir) :].lstrip("/") if module.dir else target
        local = "./" + rel if rel else "."
        return (local.rstrip("/") + "/...") if recursive else local
    if recursive and _is_under(module.dir, target):
        return "./..."
    return None


def _longest(modules: Iterable[Module]) -> Module | None:
    return max(modules, key=lambda m: len(m.path), default=None)


def _owner_dir(target: str, modules: Sequence[Module]) -> str:
    return max((m.dir for m in modules if _is_under(target, m.dir)), key=len, default="")


def _is_under(path: str, parent: str) -> bool:
    return parent in ("", path) or path.startswith(parent + "/")


def _exists(root: str, module: Module, local: str) -> bool:
    if not local.startswith("."):
        return True
    rel = local.removesuffix("...").rstrip("/")
    return os.path.isdir(os.path.join(root, module.dir, rel))
