"""The import graph of a revision, as the go command loads it (``go list -deps``).

Asked only when a change can reach packages it does not touch: a dependency bumped or
vendored code edited, a package whose exported facts changed, a PGO profile.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

from escape_guard.builds.checkout import Tree
from escape_guard.builds.compile import BuildSpec, build_environment
from escape_guard.builds.modules import Module, plan
from escape_guard.errors import BuildError
from escape_guard.proc import run

# One line per package; fields apart by tabs, imports by spaces.
_FORMAT = "\t".join(
    [
        "{{.ImportPath}}",
        "{{.Dir}}",
        "{{.Name}}",
        "{{if .Module}}{{.Module.Path}}{{end}}",
        "{{if .Module}}{{.Module.Main}}{{end}}",
        "{{if .Module}}{{.Module.GoVersion}}{{end}}",
        "{{if .Module}}{{.Module.Version}}"
        "{{if .Module.Replace}} => {{.Module.Replace.Path}} {{.Module.Replace.Version}}{{end}}"
        "{{end}}",
        '{{join .Imports " "}}',
        "{{if .Error}}{{.Error.Err}}{{end}}",
    ]
)


class Package(NamedTuple):
    path: str  # import path; a PGO variant's ends with " [main package]"
    dir: str  # repository-relative for the repository's own packages, else absolute
    name: str
    module: str  # module path; "" for the standard library
    own: bool  # a package of the repository's modules
    go: str  # its module's go line ("1.21"; "" when it has none)
    version: str  # the module's version, " => replacement" when replaced
    imports: tuple[str, ...]
    error: str


class Unloaded(NamedTuple):
    """A module the change does not touch whose packages the go command could not load."""

    module: Module
    error: str  # the go command's first error line


class Graph(NamedTuple):
    packages: Mapping[str, Package]
    unloaded: tuple[Unloaded, ...] = ()
    reached: Mapping[Module, str] = MappingProxyType({})  # modules loaded, with why

    def own(self) -> list[Package]:
        return [p for p in self.packages.values() if p.own]

    def importers(self, targets: Collection[str]) -> dict[str, str]:
        """Every package importing one of ``targets``, directly or not: path → the import
        (of a target or of another importer) that leads there."""
        by_import: dict[str, list[str]] = {}
        for package in self.packages.values():
            for imported in package.imports:
                by_import.setdefault(imported, []).append(package.path)
        found: dict[str, str] = {}
        todo = list(targets)
        while todo:
            current = todo.pop()
            for importer in by_import.get(current, ()):
                if importer not in found and importer not in targets:
                    found[importer] = current
                    todo.append(importer)
        return found

    def through(self, importer: str, found: Mapping[str, str]) -> list[str]:
        """The chain from ``importer`` down to the target ``found`` led it to."""
        chain = [importer]
        while chain[-1] in found:
            chain.append(found[chain[-1]])
        return chain


def load(
    tree: Tree,
    modules: Sequence[Module],
    spec: BuildSpec,
    *,
    revision: str,
    reached: Mapping[Module, str] | None = None,
) -> Graph:
    """Every package the patterns select in ``tree``, and all they import.

    ``reached``: the modules to load, with why (``modulereach``; "" when the change is in
    it); None: every module. A module the change is not in that cannot be loaded is listed
    in ``Graph.unloaded``; one it is in stops the run (``revision`` names the revision).
    """
    packages: dict[str, Package] = {}
    unloaded: list[Unloaded] = []
    for step in plan(tree, modules, spec.patterns):
        if reached is not None and step.module not in reached:
            continue
        cwd = os.path.join(tree.root, step.module.dir)
        cmd = ["go", "list", "-e", "-deps", "-f", _FORMAT]
        if tree.overlay:
            cmd.append("-overlay=" + tree.overlay)
        if spec.tags:
            cmd.append("-tags=" + ",".join(spec.tags))
        if spec.pgo != "auto":
            cmd.append("-pgo=" + spec.pgo)
        result = run([*cmd, *step.patterns], cwd=cwd, env=build_environment(spec.env), check=False)
        if result.returncode != 0:
            shown = result.stderr.strip() or result.stdout.strip()
            if reached is None or not reached[step.module]:
                where = f"`{step.module.dir}`" if step.module.dir else "the repository root"
                raise BuildError(
                    f"go list could not load the packages of module `{step.module.path}` "
                    f"({where}) at {revision}:\n  {shown}"
                )
            unloaded.append(Unloaded(step.module, first_error(shown)))
            continue
        for package in _packages(result.stdout, tree.root):
            # A module replaced by the repository's root (``replace m => ../``) lists the
            # root's packages as its dependencies: they stay the repository's own.
            if package.own or package.path not in packages:
                packages[package.path] = package
    return Graph(packages, tuple(unloaded), reached or {})


def first_error(output: str) -> str:
    """The go command's first line that says what went wrong (not what it was downloading)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith("go: downloading ")] or lines
    if not said:
        return "(no output)"
    if said[0].endswith(":") and len(said) > 1:  # "go: errors parsing go.mod:" and where
        return f"{said[0]} {said[1]}"
    return said[0]


def _packages(output: str, root: str) -> Iterable[Package]:
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) != 9:
            continue
        path, directory, name, module, main, go, version, imports, error = fields
        own = main == "true"
        if own and directory:
            directory = os.path.relpath(directory, root).replace(os.sep, "/")
            directory = "" if directory == "." else directory
        imported = tuple(imports.split())
        yield Package(path, directory, name, module, own, go, version, imported, error)
