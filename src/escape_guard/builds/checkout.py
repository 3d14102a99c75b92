"""A revision's files as the builds see them, at a cost that grows with the change.

Checking a revision out costs time in proportion to the repository. Usually no
checkout is needed: the builds run in the repository's own working tree, and
the files where the revision differs from it are handed to the go command with
``-overlay``, a JSON map from a file to another file holding the revision's
content, or to "" for a file the revision does not have. The go command reads
source files, go.mod and go.sum through that map; the compiler prints the
original paths.

Where the go command cannot be trusted to see a revision that way, the revision
is checked out into a throwaway ``git worktree`` instead: a sparse checkout (the
working tree lacks files), a difference in a symbolic link, or in assembly, C or
other sources that the go command hands to other tools.

Files git ignores are seen by both revisions' builds alike; untracked Go files
and module files are hidden, as they are not part of any commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from escape_guard.git import Git

if TYPE_CHECKING:
    from escape_guard.builds.facts import Declarations

# Files the go command gives to tools other than the compiler, which -overlay does not reach.
FOREIGN_SOURCES = frozenset({
    ".s", ".S", ".sx", ".c", ".h", ".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx",
    ".m", ".f", ".F", ".for", ".f90", ".syso", ".swig", ".swigcxx",
})  # fmt: skip
# Untracked files that would change what the go command builds.
_UNTRACKED_INPUTS = ("*.go", "*go.mod", "*go.sum", "*go.work", "*go.work.sum")
_GO_MODS = ("go.mod", "*/go.mod")  # a pathspec's * also matches "/"
_PROFILES = ("default.pgo", "*/default.pgo")
# Files the go command reads without -overlay: vendor/modules.txt and PGO profiles.
_VENDOR_LIST = "vendor/modules.txt"
_PROFILE = "default.pgo"
_LINK, _SUBMODULE = "120000", "160000"


@dataclass(frozen=True)
class Tree:
    """A directory and the files in which the revision differs from it."""

    root: str
    # Repository-relative POSIX path → a file holding the revision's content; None: absent.
    replaced: Mapping[str, str | None] = field(default_factory=dict)
    overlay: str | None = None  # the -overlay file for the go command, when anything is replaced
    how: str = "worktree"  # how the revision's files are reached: "in place" or "worktree"
    why: str = ""  # for a worktree: why the revision could not be seen in place
    # The go.mod files git tracks in ``root`` (before ``replaced``); None: look on disk.
    go_mods: tuple[str, ...] | None = None
    # What ``facts.declarations`` read of a package directory, read once for every question.
    declared: dict[str, Declarations] = field(default_factory=dict, compare=False, repr=False)

    def file(self, path: str) -> str | None:
        """Where to read the revision's ``path``; None when the revision does not have it."""
        if path in self.replaced:
            return self.replaced[path]
        return os.path.join(self.root, path)

    def names(self, directory: str) -> list[str]:
        """The names of the files in a repository-relative directory, in this revision."""
        try:
            on_disk = {
                entry.name
                for entry in os.scandir(os.path.join(self.root, directory))
                if entry.is_file()
            }
        except OSError:
            on_disk = set()
        for name, content in self._replaced_by_dir.get(directory, {}).items():
            if content is None:
                on_disk.discard(name)
            else:
                on_disk.add(name)
        return sorted(on_disk)

    def isdir(self, directory: str) -> bool:
        return directory in self._dirs_added or os.path.isdir(os.path.join(self.root, directory))

    @cached_property
    def _replaced_by_dir(self) -> dict[str, dict[str, str | None]]:
        """``replaced`` by directory, so that listing one costs what it holds."""
        by_dir: dict[str, dict[str, str | None]] = {}
        for path, content in self.replaced.items():
            directory, _, name = path.rpartition("/")
            by_dir.setdefault(directory, {})[name] = content
        return by_dir

    @cached_property
    def _dirs_added(self) -> frozenset[str]:
        """Every directory holding, at any depth, a file the revision has in the overlay."""
        dirs: set[str] = set()
        for path, content in self.replaced.items():
            if content is not None:
                parts = path.split("/")[:-1]
                dirs.update("/".join(parts[:n]) for n in range(len(parts) + 1))
        return frozenset(dirs)


@dataclass(frozen=True)
class WorkingTree:
    """What every revision's overlay needs to know about the working tree, asked once."""

    git: Git
    usable: bool  # False: a sparse checkout, which lacks tracked files
    untracked: tuple[str, ...] = ()  # untracked build inputs, hidden from every revision
    go_mods: tuple[str, ...] = ()  # the go.mod files git tracks, from its index
    profiles: tuple[str, ...] = ()  # the PGO profiles (default.pgo) git tracks

    @classmethod
    def inspect(cls, git: Git) -> WorkingTree:
        tracked = git.tracked(*_PROFILES, *_GO_MODS)
        profiles = tuple(p for p in tracked if posixpath.basename(p) == _PROFILE)
        if git.is_sparse():
            return cls(git, usable=False, profiles=profiles)
        untracked = tuple(git.untracked(*_UNTRACKED_INPUTS))
        go_mods = tuple(p for p in tracked if posixpath.basename(p) == "go.mod")
        return cls(git, usable=True, untracked=untracked, go_mods=go_mods, profiles=profiles)


@contextlib.contextmanager
def checkout(
    work: WorkingTree, sha: str, *, label: str, seen: Tree | str | None = None
) -> Iterator[Tree]:
    """The revision ``sha`` as a Tree; its temporary files are removed afterwards.

    ``seen``: what ``in_place`` said already (its files are the caller's to remove).
    """
    scratch = None
    try:
        if seen is None:
            scratch = tempfile.mkdtemp(prefix=f"escape-guard-{label}-")
            seen = in_place(work, sha, scratch)
        if isinstance(seen, Tree):
            yield seen
        else:
            with work.git.worktree(sha, label=label) as path:
                yield Tree(path, why=seen)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def in_place(work: WorkingTree, sha: str, scratch: str) -> Tree | str:
    """The revision seen in the working tree (its files written under ``scratch``), or why not."""
    if not work.usable:
        return "the working tree is a sparse checkout"
    return overlay_tree(work, sha, scratch)


def _read_directly(path: str) -> bool:
    return (
        path == _VENDOR_LIST
        or path.endswith("/" + _VENDOR_LIST)
        or (posixpath.basename(path) == _PROFILE)
    )


def overlay_tree(work: WorkingTree, sha: str, scratch: str) -> Tree | str:
    """The working tree seen as ``sha`` through an overlay, or why it needs a checkout."""
    git = work.git
    replaced: dict[str, str | None] = dict.fromkeys(work.untracked)
    wanted: dict[str, str] = {}  # path → the revision's blob
    for change in git.changes_from(sha):
        modes = (change.old_mode, change.new_mode)
        if _SUBMODULE in modes:
            continue  # another repository: neither revision's build descends into it
        if _LINK in modes:
            return f"{change.path} differs and is a symbolic link"
        if "\ufffd" in change.path:  # decoded with replacements: not a name -overlay can use
            return f"{change.path} differs and its name is not UTF-8"
        if _read_directly(change.path):
            return f"{change.path} differs, and the go command reads it directly"
        extension = posixpath.splitext(change.path)[1]
        if extension in FOREIGN_SOURCES:
            return f"{change.path} differs, and -overlay does not reach {extension} files"
        if change.status == "A":
            replaced[change.path] = None
        else:
            wanted[change.path] = change.old_sha
    contents = git.blobs(wanted.values())
    for number, (path, blob) in enumerate(sorted(wanted.items())):
        copy = os.path.join(scratch, f"{number}-{posixpath.basename(path)}")
        with open(copy, "wb") as fh:
            fh.write(contents[blob])
        replaced[path] = copy
    root = os.path.realpath(git.root)
    if not replaced:
        return Tree(root, how="in place", go_mods=work.go_mods)
    overlay = os.path.join(scratch, "overlay.json")
    with open(overlay, "w", encoding="utf-8") as fh:
        mapping = {os.path.join(root, p): c or "" for p, c in sorted(replaced.items())}
        json.dump({"Replace": mapping}, fh, indent=0)
    return Tree(root, replaced, overlay, how="in place", go_mods=work.go_mods)
