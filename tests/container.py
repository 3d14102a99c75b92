"""The action's image, built from the Dockerfile as it ships, and started as a runner starts it.

``image()`` builds the Dockerfile with buildah on the local stand-ins of its base images
(``scripts/local-base.sh``), once per content: the tag names a hash of the Dockerfile, of what
it copies and of the bases, so an unchanged tree reuses the image in local storage.

``ContainerLauncher`` starts the image's entry point the way the runner's ``docker run`` does
for a container action: as root, ``--workdir /github/workspace``, the workspace and the
runner's ``_github_home``, ``_github_workflow`` and ``_runner_file_commands`` mounted under
``/github``, owned by the runner's user (uid 1001), and no variable of this machine's own.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.action_harness import RunnerDirs
from tests.conftest import ROOT

BUILDAH = ["buildah", "--storage-driver", "vfs"]
REPOSITORY = "localhost/escape-guard"
RUNNER_UID = 1001  # the runner's user on GitHub's hosted runners
GOCACHE = "/opt/escape-guard/gocache"  # the image's build cache (ENV GOCACHE in the Dockerfile)


class ContainerError(RuntimeError):
    """The image could not be made or started; the message says what to install or fix."""


def buildah(*args: str, timeout: float = 1800) -> str:
    proc = subprocess.run(
        [*BUILDAH, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode:
        raise ContainerError(f"buildah {' '.join(args)}: {proc.stderr.strip()[-2000:]}")
    return proc.stdout.strip()


def check_tools() -> None:
    """buildah and mmdebstrap as root, as scripts/bootstrap.sh installs them."""
    missing = [tool for tool in ("buildah", "mmdebstrap") if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        raise ContainerError(
            "the container tests build and run the image with buildah as root: "
            + (
                f"install {' and '.join(missing)} (apt-get install buildah mmdebstrap)"
                if missing
                else "run them as root"
            )
        )


def image() -> str:
    """The tag of the image built from the Dockerfile and the tree as they are now."""
    check_tools()
    subprocess.run(["bash", str(ROOT / "scripts" / "local-base.sh")], check=True, timeout=1800)
    tag = f"{REPOSITORY}:test-{_content_key()}"
    if not _exists(tag):
        for old in _images(f"{REPOSITORY}:test-"):  # vfs keeps whole copies: keep one
            buildah("rmi", "--force", old)
        buildah("bud", "--pull=never", "--isolation", "chroot", "--tag", tag, str(ROOT))
        buildah("rmi", "--prune")  # bases replaced by newer stand-ins, left untagged
    return tag


def _content_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(_context_files()):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for base in _bases():
        digest.update(
            buildah("inspect", "--type", "image", "--format", "{{.FromImageID}}", base).encode()
        )
    return digest.hexdigest()[:16]


def _context_files() -> Iterator[Path]:
    """The files the build context holds: what .dockerignore lets in, with the Dockerfile."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    kept = [line[1:].rstrip("/") for line in lines if line.startswith("!")]
    dropped = [line.removeprefix("**/") for line in lines if not line.startswith("!")]
    yield ROOT / "Dockerfile"
    for name in kept:
        top = ROOT / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and not any(
                fnmatch.fnmatch(part, pattern) for part in parts for pattern in dropped
            ):
                yield path


def _bases() -> list[str]:
    stages: set[str] = set()
    bases: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            if words[1] not in stages and words[1] not in bases:
                bases.append(words[1])
            if len(words) == 4 and words[2].upper() == "AS":
                stages.add(words[3])
    return bases


def _exists(ref: str) -> bool:
    return (
        subprocess.run(
            [*BUILDAH, "inspect", "--type", "image", ref], capture_output=True, check=False
        ).returncode
        == 0
    )


def _images(prefix: str) -> list[str]:
    listing = json.loads(buildah("images", "--json") or "[]")
    return [name for entry in listing for name in entry["names"] or () if name.startswith(prefix)]


def config(tag: str) -> dict[str, object]:
    """The image's OCI configuration (Entrypoint, Env, WorkingDir, ...)."""
    data = json.loads(buildah("inspect", "--type", "image", tag))
    result: dict[str, object] = data["OCIv1"]["config"]
    return result


class ContainerLauncher:
    """Runs the image's entry point in a new container for each step, then removes it.

    After a step, ``compiled`` holds the number of outputs the step added to the image's own
    build cache (the packages the go command compiled because the image had not), and
    ``seconds`` the time from the container's start to its exit; ``image_outputs`` the
    outputs of the image's build cache.
    """

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.entrypoint = [str(word) for word in config(tag)["Entrypoint"]]  # type: ignore[union-attr]
        self.compiled = 0
        self.seconds = 0.0
        self.image_outputs: set[str] = set()

    def mounts(self, workspace: Path, dirs: RunnerDirs) -> dict[Path, str]:
        return {
            workspace: "/github/workspace",
            dirs.home: "/github/home",
            dirs.workflow: "/github/workflow",
            dirs.file_commands: "/github/file_commands",
        }

    def launch(
        self, environ: Mapping[str, str], workspace: Path, dirs: RunnerDirs
    ) -> tuple[int, str, str]:
        mounts = self.mounts(workspace, dirs)
        for host in mounts:  # the runner's user made all of them
            _chown_tree(host, RUNNER_UID)
        container = buildah("from", "--pull=never", "--quiet", self.tag)
        try:
            cache = Path(buildah("mount", container)) / GOCACHE.lstrip("/")
            before = self.image_outputs = cache_outputs(cache)
            volumes = [f"--volume={host}:{inside}" for host, inside in mounts.items()]
            variables = [f"--env={name}={value}" for name, value in environ.items()]
            started = time.monotonic()
            proc = subprocess.run(
                [
                    *BUILDAH,
                    "run",
                    "--isolation=chroot",
                    "--network=host",
                    "--workingdir=/github/workspace",
                    *volumes,
                    *variables,
                    container,
                    "--",
                    *self.entrypoint,
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            self.seconds = time.monotonic() - started
            self.compiled = len(cache_outputs(cache) - before)
        finally:
            buildah("rm", container)
        return proc.returncode, proc.stdout, proc.stderr


def cache_outputs(cache: Path) -> set[str]:
    """The outputs (``<hash>-d`` files: compiled packages, compiler output) of a build cache."""
    return {p.name for p in cache.glob("[0-9a-f][0-9a-f]/*-d")}


def _chown_tree(root: Path, uid: int) -> None:
    os.lchown(root, uid, uid)
    for path in root.rglob("*"):
        os.lchown(path, uid, uid)


def owned_by_others(root: Path, uid: int) -> list[str]:
    """Paths under ``root`` (itself included) whose owner is not ``uid``."""
    return [
        str(path.relative_to(root)) or "."
        for path in [root, *root.rglob("*")]
        if path.lstat().st_uid != uid
    ]
