"""Revisions, merge bases, diffs, blobs and throwaway worktrees.

The user's working tree and index are never modified: git is only asked to
read them, and a revision that has to be checked out gets its own temporary
``git worktree``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from escape_guard.errors import GitError
from escape_guard.proc import Completed, ProcessFailed, run

# Options that make diff output independent of the user's git configuration
# (prefixes, quoting, external diff drivers, colour).
_DIFF_OPTIONS = (
    "--find-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


class Change(NamedTuple):
    """One path where the working tree differs from a commit (``git diff --raw``)."""

    path: str
    status: str  # A: only in the working tree; D: only in the commit; M, T, U: in both
    old_mode: str  # the commit's side: 100644, 100755, 120000 (symbolic link), 160000, 000000
    new_mode: str  # the working tree's side
    old_sha: str  # the commit's blob


class TreeEntry(NamedTuple):
    """One file of a commit's tree: ``<mode> <type> <object>\t<path>`` of ``git ls-tree``."""

    path: str
    mode: str  # 100644, 100755, 120000 (symbolic link), 160000 (submodule)
    object: str  # the blob's SHA (a submodule's commit)


def _tree_entry(line: str) -> TreeEntry:
    meta, _, path = line.partition("\t")
    mode, _type, obj = meta.split(" ")
    return TreeEntry(path, mode, obj)


@dataclass(frozen=True)
class Git:
    """A repository and the environment every git command runs with."""

    root: str
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _trees: dict[str, tuple[TreeEntry, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def discover(cls, path: str, *, env: Mapping[str, str] | None = None) -> Git:
        """The repository containing ``path``; GitError when there is none."""
        environ = dict(os.environ if env is None else env)
        if not os.path.isdir(path):
            raise GitError(f"{path} is not a directory")
        result = run(["git", "-C", path, "rev-parse", "--show-toplevel"], env=environ, check=False)
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()
            if any("dubious ownership" in line for line in detail):
                raise GitError(
                    f"git refuses to work in {path}: it is owned by another user "
                    f"(run: git config --global --add safe.directory {path})"
                )
            raise GitError(f"{path} is not inside a git repository (pass --repo DIR)")
        return cls(result.stdout.strip(), environ)

    def run(self, *args: str, check: bool = True) -> Completed:
        try:
            return run(
                ["git", "-C", self.root, "-c", "core.quotepath=off", *args],
                env=self.env,
                check=check,
            )
        except ProcessFailed as exc:
            raise GitError(exc.message) from exc

    def resolve(self, rev: str) -> str:
        """The commit SHA ``rev`` names; GitError with a hint when it names none."""
        result = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False
        )
        if result.returncode == 0:
            return result.stdout.strip()
        hint = ""
        if self.is_shallow():
            hint = (
                " — this clone is shallow, so the commit may simply be missing: "
                "fetch more history (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)"
            )
        elif rev.endswith("/HEAD"):
            remote = rev.removesuffix("/HEAD")
            hint = (
                f" — this clone does not record the default branch of {remote}: run "
                f"git remote set-head {remote} --auto, or name the branch ({remote}/main)"
            )
        elif "/" not in rev and rev not in ("HEAD",):
            hint = f" (if it is a remote branch, try origin/{rev})"
        raise GitError(f"unknown revision '{rev}' in {self.root}{hint}")

    def resolve_all(self, *revs: str) -> list[str]:
        """The commit SHAs ``revs`` name, with one git process when all of them name one."""
        # No --end-of-options: git before 2.43 echoes it outside --verify. A name that
        # rev-parse would read as an option is resolved alone, with --verify.
        if not any(rev.startswith("-") for rev in revs):
            names = [f"{rev}^{{commit}}" for rev in revs]
            result = self.run("rev-parse", *names, check=False)
            shas = result.stdout.split()
            if result.returncode == 0 and len(shas) == len(revs) and all(map(_is_sha, shas)):
                return shas
        return [self.resolve(rev) for rev in revs]  # the one that fails says why

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").stdout.strip() == "true"

    def merge_base(self, base: str, head: str) -> str | None:
        """The best common ancestor, or None when the histories share none (or it is missing)."""
        result = self.run("merge-base", base, head, check=False)
        return result.stdout.strip() or None if result.returncode == 0 else None

    def diff(self, old: str, new: str) -> str:
        """Unified diff (3 lines of context, as GitHub shows) from ``old`` to ``new``."""
        return self.run("diff", *_DIFF_OPTIONS, old, new, "--").stdout

    def files(self, sha: str) -> list[str]:
        """Every file path in the tree of ``sha``."""
        return [entry.path for entry in self.tree(sha)]

    def tree(self, sha: str) -> tuple[TreeEntry, ...]:
        """Every file of the tree of commit ``sha`` (``git ls-tree -r``), listed once per run.

        A commit's tree never changes, so each stage that lists one (the toolchain's
        go.mod files, the profiles, the patterns' check) reads the same listing.
        """
        listed = self._trees.get(sha)
        if listed is None:
            out = self.run("ls-tree", "-r", "-z", sha).stdout
            listed = tuple(_tree_entry(line) for line in out.split("\0")[:-1])
            self._trees[sha] = listed
        return listed

    def snapshot(self) -> str | None:
        """A commit of the working tree's tracked changes, or None when it is clean.

        ``git stash create`` writes the commit object without touching the
        working tree, the index or the stash list. Its author, committer and dates
        are fixed, so the same changes on the same commit give the same SHA on every
        run (and a machine without a git identity can make one).
        """
        fixed = Git(self.root, {**self.env, **_SNAPSHOT_IDENTITY})
        sha = fixed.run("stash", "create").stdout.strip()
        return sha or None

    def tracked(self, *pathspecs: str) -> list[str]:
        """Files of the index (what the working tree's commit holds, plus what is staged)."""
        return self.run("ls-files", "-z", "--", *pathspecs).stdout.split("\0")[:-1]

    def untracked(self, *pathspecs: str) -> list[str]:
        """Files of the working tree git does not track (ignored ones excluded)."""
        out = self.run("ls-files", "-z", "--others", "--exclude-standard", "--", *pathspecs).stdout
        return out.split("\0")[:-1]

    def changes_from(self, sha: str) -> list[Change]:
        """How the working tree's tracked files differ from the tree of ``sha``."""
        out = self.run(
            "diff", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", sha, "--"
        ).stdout
        fields = out.split("\0")
        changes: list[Change] = []
        for meta, path in zip(fields[0:-1:2], fields[1::2], strict=True):
            old_mode, new_mode, old_sha, _new_sha, status = meta.lstrip(":").split(" ")
            changes.append(Change(path, status[0], old_mode, new_mode, old_sha))
        return changes

    def blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The contents of blobs, read by one ``git cat-file --batch``."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        proc = subprocess.run(
            ["git", "-C", self.root, "cat-file", "--batch"],
            input="".join(f"{sha}\n" for sha in wanted).encode(),
            capture_output=True,
            env=dict(self.env),
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"git cat-file failed: {proc.stderr.decode(errors='replace').strip()}")
        out, at, found = proc.stdout, 0, {}
        for sha in wanted:
            header_end = out.index(b"\n", at)
            header = out[at:header_end].split()
            if len(header) != 3:  # "<sha> missing"
                raise GitError(f"git object {sha} is missing from {self.root}")
            size = int(header[2])
            found[sha] = out[header_end + 1 : header_end + 1 + size]
            at = header_end + 1 + size + 1  # the content is followed by a newline
        return found

    def is_sparse(self) -> bool:
        """Whether the working tree is a sparse checkout (some tracked files are absent)."""
        result = self.run("config", "--bool", "core.sparseCheckout", check=False)
        return result.stdout.strip() == "true"

    @contextlib.contextmanager
    def worktree(self, sha: str, *, label: str) -> Iterator[str]:
        """Check ``sha`` out into a temporary worktree; always removed afterwards."""
        parent = tempfile.mkdtemp(prefix=f"escape-guard-{label}-")
        # A unique last component: git names the worktree's admin directory after it.
        path = os.path.join(parent, os.path.basename(parent))
        try:
            with _WORKTREE_LOCK:  # concurrent adds and removes race in .git/worktrees
                self.run("worktree", "add", "--detach", "--no-checkout", "--quiet", path, sha)
            # The checkout, the costly part on a large tree, runs outside the lock, so both
            # revisions check out at once.
            self.run("-C", path, "reset", "--hard", "--quiet")
            yield path
        finally:
            with _WORKTREE_LOCK:
                removed = self.run("worktree", "remove", "--force", path, check=False)
                shutil.rmtree(parent, ignore_errors=True)
                if removed.returncode != 0:
                    # Only now: prune also drops the admin directory of a worktree that
                    # another process is still adding.
                    self.run("worktree", "prune", check=False)


_WORKTREE_LOCK = threading.Lock()
_SNAPSHOT_IDENTITY = {
    "GIT_AUTHOR_NAME": "escape-guard",
    "GIT_AUTHOR_EMAIL": "escape-guard@localhost",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_NAME": "escape-guard",
    "GIT_COMMITTER_EMAIL": "escape-guard@localhost",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
}


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)
