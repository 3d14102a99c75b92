"""Which CPU profile applies to a finding, read at the edge: git for files, pprof for counts.

A profile given with ``--profile`` (or ``--pgo FILE``) applies to every package. Otherwise,
with ``-pgo=auto``, a main package's ``default.pgo`` is the profile of what is built for that
main: the compiler's ``# pkg [main]`` header names the main a package was compiled for, and
a main package is built with its own. ``-pgo=off`` and no ``--profile``: no heat.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from collections.abc import Mapping
from typing import NamedTuple

from escape_guard.builds.modules import Module, import_path, module_dirs, module_of_dir, module_path
from escape_guard.errors import GitError, UsageError
from escape_guard.git import Git
from escape_guard.heat.apply import HEATED, with_heat
from escape_guard.heat.match import bare_package
from escape_guard.heat.pprof import ProfileTable, read_profile
from escape_guard.model import Finding, Profile

DEFAULT_PGO = "default.pgo"
SEARCHED = "no --profile, and no default.pgo of a main package the findings are built for"
_PACKAGE_MAIN = re.compile(rb"^package\s+main\b", re.MULTILINE)


class HeatSource(NamedTuple):
    """Where heat comes from: an explicit profile, or the default.pgo files at the head."""

    explicit: str = ""  # a file path (absolute, or relative to the current directory)
    explicit_name: str = ""  # how messages name it
    source: str = "--profile"
    mains: Mapping[str, str] = {}  # main package import path -> repository-relative default.pgo


def heat_source(git: Git, head: str, *, profile: str, pgo: str) -> HeatSource:
    """The profile(s) that give findings their heat at revision ``head``."""
    if profile:
        if not os.path.isfile(profile):
            raise UsageError(
                f"--profile {profile}: no such file (give a CPU profile a workflow step wrote, "
                "e.g. with go test -cpuprofile, relative to the current directory)"
            )
        return HeatSource(os.path.abspath(profile), profile)
    if pgo not in ("auto", "off"):  # -pgo=FILE: the one profile every main is built with
        return HeatSource(pgo, os.path.relpath(pgo, git.root), source="--pgo")
    if pgo == "off":
        return HeatSource()
    files = git.files(head)
    found = [f for f in files if posixpath.basename(f) == DEFAULT_PGO]
    if not found:
        return HeatSource()
    modules = _modules(git, head, files)
    mains = {}
    for path in found:
        directory = posixpath.dirname(path)
        module = module_of_dir(directory, modules)
        if module:
            rel = directory[len(module.dir) :].lstrip("/") if module.dir else directory
            mains[import_path(module, rel)] = path
    return HeatSource(mains=mains, source=DEFAULT_PGO)


def _modules(git: Git, head: str, files: list[str]) -> list[Module]:
    wanted = {f"{head}:{d}/go.mod" if d else f"{head}:go.mod": d for d in module_dirs(files)}
    return [
        Module(path, wanted[spec])
        for spec, text in git.blobs(wanted).items()
        if (path := module_path(text.decode("utf-8", "replace")))
    ]


class Profiles:
    """The profiles a run reads, each once, and the lookup ``with_heat`` asks."""

    def __init__(self, git: Git, head: str, source: HeatSource, *, env: Mapping[str, str]) -> None:
        self._git, self._head, self._source, self._env = git, head, source, env
        self._tables: dict[str, ProfileTable] = {}
        self._mains: dict[str, bool] = {}
        self.scratch = ""  # a directory for profiles read from the head commit

    @property
    def used(self) -> list[Profile]:
        return [Profile(t.path, t.total, self._source.source) for t in self._tables.values()]

    def lookup(self, finding: Finding) -> tuple[ProfileTable, bool] | None:
        package = finding.record.package
        if self._source.explicit:
            return self._table(self._source.explicit, self._source.explicit_name), self._main(
                finding
            )
        owner = package.partition(" [")[2].rstrip("]") or bare_package(package)
        profile = self._source.mains.get(owner)
        if profile is None:
            return None
        return self._table(profile, profile, committed=True), bare_package(package) == owner

    def _table(self, path: str, name: str, *, committed: bool = False) -> ProfileTable:
        if name not in self._tables:
            if committed:  # the head's profile, not whatever the working tree holds
                path = self._checkout(path)
            self._tables[name] = read_profile(path, name=name, env=self._env, cwd=self._git.root)
        return self._tables[name]

    def _checkout(self, path: str) -> str:
        data = self._git.blobs([f"{self._head}:{path}"])[f"{self._head}:{path}"]
        target = os.path.join(self.scratch, path.replace("/", "_"))
        with open(target, "wb") as fh:
            fh.write(data)
        return target

    def _main(self, finding: Finding) -> bool:
        path = finding.record.path
        if path not in self._mains:
            spec = f"{self._head}:{path}"
            try:
                text = self._git.blobs([spec])[spec] if finding.record.in_repo and path else b""
            except GitError:  # not at the head: a base-side path
                text = b""
            self._mains[path] = bool(_PACKAGE_MAIN.search(text))
        return self._mains[path]


def add_heat(
    findings: list[Finding], git: Git, head: str, source: HeatSource, *, env: Mapping[str, str]
) -> tuple[list[Finding], list[Profile]]:
    """The findings with their heat, and the profiles read for it."""
    if not any(f.status in HEATED for f in findings):
        return findings, []
    profiles = Profiles(git, head, source, env=env)
    with tempfile.TemporaryDirectory(prefix="escape-guard-heat-") as scratch:
        profiles.scratch = scratch
        heated = with_heat(findings, profiles.lookup)
    return heated, profiles.used
