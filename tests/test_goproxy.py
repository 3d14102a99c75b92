"""The file module proxy made from two Go releases' vendored golang.org/x code."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.goproxy import (
    SEAL,
    GoRelease,
    Proxy,
    add_toolchain,
    escape_path,
    parse_modules_txt,
    pinned_release,
    release_environment,
    releases,
    toolchain_version,
    version_time,
)

TEXT = "golang.org/x/text"
CRYPTO = "golang.org/x/crypto"
NORM = """package consumer

import "golang.org/x/text/unicode/norm"

func Compose(s string) string {
	return norm.NFC.String(s)
}
"""


def go(cwd: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["go", *args], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"go {' '.join(args)}:\n{done.stderr}"
    return done


def consumer(path: Path, requires: Mapping[str, str], source: str) -> Path:
    path.mkdir()
    lines = "".join(f"require {module} {version}\n" for module, version in requires.items())
    (path / "go.mod").write_text(f"module example.com/consumer\n\ngo 1.25.0\n\n{lines}")
    (path / "consumer.go").write_text(source)
    return path


@pytest.fixture(scope="module")
def old_new() -> tuple[GoRelease, GoRelease]:
    older, newer = releases()
    return older, newer


def test_two_releases_with_other_x_versions(goproxy: Proxy) -> None:
    older, newer = releases()
    assert newer == pinned_release()
    assert older.version != newer.version
    assert older.go_binary.is_file()
    for module, versions in goproxy.versions.items():
        assert versions == (goproxy.version(module, older), goproxy.version(module, newer))
        assert versions[0] != versions[1], module
    assert set(goproxy.versions) == {TEXT, CRYPTO, "golang.org/x/net", "golang.org/x/sys"}


def test_the_proxy_layout(goproxy: Proxy, old_new: tuple[GoRelease, GoRelease]) -> None:
    older, newer = old_new
    version = goproxy.version(TEXT, newer)
    directory = goproxy.module_dir(TEXT)
    assert (directory / "list").read_text().split() == list(goproxy.versions[TEXT])
    info = json.loads((directory / f"{version}.info").read_text())
    assert info["Version"] == version
    assert (directory / f"{version}.mod").read_text().startswith(f"module {TEXT}\n\ngo 1.")
    with zipfile.ZipFile(directory / f"{version}.zip") as archive:
        names = archive.namelist()
        gomod = archive.read(f"{TEXT}@{version}/go.mod").decode()
    assert f"{TEXT}@{version}/LICENSE" in names
    assert f"{TEXT}@{version}/unicode/norm/normalize.go" in names
    assert all(name.startswith(f"{TEXT}@{version}/") for name in names)
    assert gomod == (directory / f"{version}.mod").read_text()
    net_mod = (goproxy.module_dir("golang.org/x/net") / "list").read_text().split()[0]
    requires = (goproxy.module_dir("golang.org/x/net") / f"{net_mod}.mod").read_text()
    assert f"{TEXT} {goproxy.version(TEXT, older)}" in requires


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("golang.org/x/text", "golang.org/x/text"),
        ("github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"),
        ("v1.0.0-RC1", "v1.0.0-!r!c1"),
    ],
)
def test_escape_path(given: str, expected: str) -> None:
    assert escape_path(given) == expected


def test_version_time_and_modules_txt() -> None:
    pseudo = "v0.55.1-0.20260731170536-c1d18010be90"
    assert version_time(pseudo, "x") == "2026-07-31T17:05:36Z"
    assert version_time("v0.37.0", "2026-10-19T22:20:36Z") == "2026-10-19T22:20:36Z"
    text = "# golang.org/x/sys v0.45.0\n## explicit; go 1.25.0\ngolang.org/x/sys/cpu\n"
    (module,) = parse_modules_txt(text)
    assert module == ("golang.org/x/sys", "v0.45.0", "1.25.0", ("golang.org/x/sys/cpu",))


@pytest.mark.go
def test_a_consumer_builds_bumps_tidies_and_vendors(
    tmp_path: Path, goproxy: Proxy, proxy_env: dict[str, str], old_new: tuple[GoRelease, GoRelease]
) -> None:
    older, newer = old_new
    old, new = goproxy.version(TEXT, older), goproxy.version(TEXT, newer)
    module = consumer(tmp_path / "consumer", {TEXT: old}, NORM)
    go(module, proxy_env, "mod", "download")
    go(module, proxy_env, "build", "./...")
    old_dir = Path(go(module, proxy_env, "list", "-m", "-f", "{{.Dir}}", TEXT).stdout.strip())

    go(module, proxy_env, "get", f"{TEXT}@{new}")
    go(module, proxy_env, "mod", "tidy")
    assert f"{TEXT} {new}" in (module / "go.mod").read_text()
    assert f"{TEXT} {new}/go.mod h1:" in (module / "go.sum").read_text()
    go(module, proxy_env, "build", "./...")
    new_dir = Path(go(module, proxy_env, "list", "-m", "-f", "{{.Dir}}", TEXT).stdout.strip())

    go(module, proxy_env, "mod", "vendor")
    assert f"# {TEXT} {new}" in (module / "vendor" / "modules.txt").read_text()
    vendored = module / "vendor" / TEXT / "unicode" / "norm" / "forminfo.go"
    assert vendored.read_bytes() == (new_dir / "unicode" / "norm" / "forminfo.go").read_bytes()
    go(module, {**proxy_env, "GOFLAGS": "-mod=vendor"}, "build", "./...")

    # The versions' code really differs.
    forminfo = "unicode/norm/forminfo.go"
    assert (old_dir / forminfo).read_bytes() != (new_dir / forminfo).read_bytes()


@pytest.mark.go
def test_a_dependency_bump_moves_a_consumers_local_to_the_heap(
    tmp_path: Path, goproxy: Proxy, proxy_env: dict[str, str], old_new: tuple[GoRelease, GoRelease]
) -> None:
    older, newer = old_new
    outputs = []
    for release in (older, newer):
        requires = {CRYPTO: goproxy.version(CRYPTO, release)}
        module = consumer(
            tmp_path / release.version, requires, SEAL.replace("package m", "package consumer")
        )
        outputs.append(go(module, proxy_env, "build", "-gcflags=-m", "./...").stderr)
    before, after = outputs
    assert "inlining call to chacha20poly1305.New" in before
    assert "moved to heap: nonce" not in before
    assert "./consumer.go:10:6: moved to heap: nonce" in after


@pytest.mark.go
def test_the_go_command_switches_to_a_toolchain_the_proxy_serves(
    tmp_path: Path, goproxy: Proxy, proxy_env: dict[str, str], old_new: tuple[GoRelease, GoRelease]
) -> None:
    older, _ = old_new
    served = add_toolchain(goproxy, older, cache=Path(proxy_env["GOMODCACHE"]))
    assert served.toolchains == (toolchain_version(older),)
    module = consumer(tmp_path / "consumer", {}, "package consumer\n")
    env = {**proxy_env, "GOTOOLCHAIN": f"go{older.version}"}

    assert go(module, env, "env", "GOVERSION").stdout.strip() == f"go{older.version}"
    go(module, env, "build", "./...")


@pytest.mark.go
def test_the_second_release_runs_as_a_toolchain_of_its_own(
    tmp_path: Path, go_env: dict[str, str], old_new: tuple[GoRelease, GoRelease]
) -> None:
    older, _ = old_new
    env = release_environment(older, go_env)
    assert go(tmp_path, env, "env", "GOVERSION").stdout.strip() == f"go{older.version}"
