"""Making sure the commits to compare are in the clone (actions/checkout is shallow by default)."""

from __future__ import annotations

from collections.abc import Callable

from escape_guard.errors import GitError
from escape_guard.git import Git

_DEEPEN_STEPS = (50, 200, 1000, 5000)


def ensure_history(git: Git, base: str, head: str, *, log: Callable[[str], None]) -> str:
    """Fetch what is missing until base and head and their merge base are present.

    Returns the merge base SHA. Uses the checkout's own remote and credentials.
    """
    for rev in (head, base):
        if not _has(git, rev):
            log(f"fetching {rev} (not in this clone)")
            _fetch(git, "--depth=1" if git.is_shallow() else None, _refspec(rev))
    base_sha, head_sha = git.resolve(base), git.resolve(head)
    for depth in _DEEPEN_STEPS:
        merge_base = git.merge_base(base_sha, head_sha)
        if merge_base or not git.is_shallow():
            break
        log(f"shallow clone: deepening by {depth} commits to find the merge base")
        _fetch(git, f"--deepen={depth}", base_sha, head_sha)
    else:
        merge_base = git.merge_base(base_sha, head_sha)
        if not merge_base and git.is_shallow():
            log("shallow clone: fetching the full history")
            _fetch(git, "--unshallow", base_sha, head_sha)
            merge_base = git.merge_base(base_sha, head_sha)
    if not merge_base:
        raise GitError(
            f"{base_sha[:12]} and {head_sha[:12]} have no common ancestor in this "
            "repository, so there is no merge base to compare against"
        )
    return merge_base


def _refspec(rev: str) -> str:
    # "origin/main" names a remote-tracking branch: fetch the branch into it.
    if rev.startswith("origin/"):
        branch = rev.removeprefix("origin/")
        return f"+refs/heads/{branch}:refs/remotes/origin/{branch}"
    return rev


def _has(git: Git, rev: str) -> bool:
    return (
        git.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False).returncode
        == 0
    )


def _fetch(git: Git, depth: str | None, *revs: str) -> None:
    args = ["fetch", "--no-tags", "--quiet", "--no-write-fetch-head"]
    if depth:
        args.append(depth)
    result = git.run(*args, "origin", *revs, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()
        raise GitError(
            f"could not fetch {', '.join(r[:12] for r in revs)} from origin: "
            f"{detail[-1] if detail else 'git fetch failed'} — check out with fetch-depth: 0 "
            "(actions/checkout) or keep persist-credentials enabled so the history can be fetched"
        )
