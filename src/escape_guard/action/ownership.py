"""Hand the runner's directories back to the runner's user after a run as root.

GitHub starts a container action as root, with the workspace and the runner's home mounted
from the runner's machine, where they belong to the runner's user (uid 1001 on hosted
runners). What the run writes there is root's: reports, a ``go-cache`` directory, the objects
``git fetch`` adds to ``.git``. Later steps run as the runner's user and cannot remove them,
and the next job's checkout fails on them. So, when the run is root's, every file and
directory under those roots that is not the root directory's owner's is given to that owner.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable


def hand_back(roots: Iterable[str], log: Callable[[str], None]) -> None:
    """Give what lies under each of ``roots`` to that directory's own owner (as root only)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    for root in roots:
        try:
            owner = os.stat(root)
        except OSError:
            continue
        if owner.st_uid == 0:
            continue  # root's own directory: nothing to hand back
        changed = _chown_tree(root, owner.st_uid, owner.st_gid)
        if changed:
            log(f"gave {changed} files written as root in {root} to uid {owner.st_uid}")


def _chown_tree(root: str, uid: int, gid: int) -> int:
    changed = 0
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
                if (info.st_uid, info.st_gid) != (uid, gid):
                    os.lchown(path, uid, gid)
                    changed += 1
            except OSError:
                continue  # gone meanwhile, or on a file system that keeps its owners
    return changed
