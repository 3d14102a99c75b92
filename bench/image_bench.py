"""The action's image: size, build time and time to review, beside the image on the golang base.

    .venv/bin/python bench/image_bench.py [--runs 3]

Needs root, buildah and mmdebstrap (scripts/bootstrap.sh installs them). For each of
  * Dockerfile, the image as it ships (debian:bookworm-slim, Go copied from the golang image)
  * bench/image/Dockerfile.golang-base, the same escape-guard on the official golang base
it makes the local stand-ins of the bases (scripts/local-base.sh), then prints
  * the build time of `buildah bud` with no layer cache (the bases already in local storage),
  * the size: uncompressed (the layers as files) and compressed (gzip layers, as a registry
    stores and a runner pulls them; `buildah push` to an OCI layout),
  * the time from the container's start to its exit, the review posted, on the demo pull
    request (examples/demo) against the tests' fake GitHub API, median of --runs, and the
    new escapes it reported (the two images must agree).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.action_harness import REPOSITORY, ActionHarness  # noqa: E402
from tests.conftest import go_environment  # noqa: E402
from tests.container import ContainerLauncher, buildah, check_tools  # noqa: E402
from tests.fakegithub import FakeGitHub  # noqa: E402

DOCKERFILES = {
    "shipped (bookworm-slim)": ROOT / "Dockerfile",
    "golang base": ROOT / "bench" / "image" / "Dockerfile.golang-base",
}
DEMO = ROOT / "examples" / "demo"


def build(dockerfile: Path, tag: str) -> float:
    started = time.monotonic()
    buildah(
        "bud",
        "--pull=never",
        "--isolation",
        "chroot",
        "--file",
        str(dockerfile),
        "--tag",
        tag,
        str(ROOT),
    )
    return time.monotonic() - started


def sizes(tag: str, scratch: Path) -> tuple[int, int]:
    """Bytes of the layers as tar files (docker save's archive, which does not compress them),
    and gzip-compressed as a registry stores them (an OCI layout)."""
    archive = scratch / "image.tar"
    buildah("push", tag, f"docker-archive:{archive}")
    uncompressed = archive.stat().st_size
    archive.unlink()
    layout = scratch / "oci"
    buildah("push", "--compression-format=gzip", tag, f"oci:{layout}")
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    compressed = sum(int(layer["size"]) for layer in manifest["layers"])
    shutil.rmtree(layout)
    return uncompressed, compressed


def time_to_review(tag: str, runs: int, scratch: Path) -> tuple[float, int]:
    """Median seconds from container start to exit with the review posted; new escapes.
    Each run's own time-to-review line (start-up, compile, API, pauses) is printed."""
    launcher = ContainerLauncher(tag)
    seconds: list[float] = []
    new = 0
    env = go_environment()
    with FakeGitHub() as server:
        for run in range(runs):
            harness = ActionHarness(Path(tempfile.mkdtemp(dir=scratch)), env, server)
            harness.origin.commit(_tree(DEMO / "base"), "base")
            harness.origin.git("switch", "--quiet", "-c", "feature")
            harness.origin.commit(_tree(DEMO / "head"), "head")
            number = 100 + run
            result = harness.run("pull_request", harness.open_pull(number), launcher=launcher)
            if result.code != 1 or len(server.reviews(REPOSITORY, number)) != 1:
                raise SystemExit(f"{tag}: the demo run failed\n{result.stdout}{result.stderr}")
            seconds.append(launcher.seconds)
            line = re.search(r"time to review [^\n]*", result.stdout)
            print(f"{tag} run {run + 1}: {line.group(0) if line else 'no time-to-review line'}")
            new = int(result.outputs["new-escapes"])
    return statistics.median(seconds), new


def _tree(root: Path) -> dict[str, str | None]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*") if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    check_tools()
    subprocess.run(["bash", str(ROOT / "scripts" / "local-base.sh")], check=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for name, dockerfile in DOCKERFILES.items():
            tag = f"localhost/escape-guard:bench-{dockerfile.name.lower()}"
            seconds = build(dockerfile, tag)
            uncompressed, compressed = sizes(tag, scratch)
            review, new = time_to_review(tag, args.runs, scratch)
            rows.append((name, uncompressed, compressed, seconds, review, new))
            buildah("rmi", tag)
    print(
        f"{'image':24} {'uncompressed':>13} {'compressed':>11} {'build':>7} "
        f"{'to review':>10} {'new':>4}"
    )
    for name, uncompressed, compressed, seconds, review, new in rows:
        print(
            f"{name:24} {uncompressed / 1e6:10.0f} MB {compressed / 1e6:8.0f} MB "
            f"{seconds:6.0f} s {review:8.1f} s {new:4}"
        )
    if len({row[-1] for row in rows}) != 1:
        print("the images disagree on the demo's new escapes", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
