"""Which Go files a build compiles: file name suffixes and ``//go:build`` lines (go/build's rules).

A file the build excludes is never compiled, so a change to it cannot be analysed: the report
says so instead of "no new heap escapes". A package whose files are all excluded is skipped,
as ``go build ./...`` skips it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from typing import NamedTuple

# go/build's syslist.go.
KNOWN_OS = frozenset({
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
    "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
})  # fmt: skip
KNOWN_ARCH = frozenset({
    "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle",
    "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv",
    "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
})  # fmt: skip
UNIX = frozenset({
    "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "linux",
    "netbsd", "openbsd", "solaris",
})  # fmt: skip
_IMPLIED = {"android": "linux", "illumos": "solaris", "ios": "darwin"}  # GOOS → also matches
_MACHINES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
             "i386": "386", "i686": "386", "armv7l": "arm", "ppc64le": "ppc64le",
             "s390x": "s390x", "riscv64": "riscv64"}  # fmt: skip
_TOKEN = re.compile(r"\s*(\(|\)|!|&&|\|\||[\w.]+)")
_RELEASE = re.compile(r"go1\.(\d+)")


class Platform(NamedTuple):
    """What a build compiles for: ``GOOS``, ``GOARCH``, build tags, cgo, the Go release."""

    goos: str
    goarch: str
    tags: frozenset[str] = frozenset()
    cgo: bool = False
    release: int = 0  # the minor version of Go 1: go1.N tags hold up to it

    @property
    def name(self) -> str:
        return f"{self.goos}/{self.goarch}"

    def holds(self, tag: str) -> bool:
        if tag in (self.goos, self.goarch, "gc") or tag in self.tags:
            return True
        if tag == "unix":
            return self.goos in UNIX
        if tag == "cgo":
            return self.cgo
        if _IMPLIED.get(self.goos) == tag:
            return True
        release = _RELEASE.fullmatch(tag)
        return release is not None and int(release.group(1)) <= self.release


def platform_of(env: Mapping[str, str], *, tags: Sequence[str] = (), version: str = "") -> Platform:
    """The platform the go command builds for in ``env`` (``version``: ``go1.27.3``)."""
    host_os, machine = _host()
    host_arch = _MACHINES.get(machine, machine)
    goos, goarch = env.get("GOOS") or host_os, env.get("GOARCH") or host_arch
    native = (goos, goarch) == (host_os, host_arch)
    default_cgo = native and bool(shutil.which(env.get("CC") or "gcc") or shutil.which("clang"))
    cgo = env.get("CGO_ENABLED", "1" if default_cgo else "0") == "1"
    release = _RELEASE.match(version)
    minor = int(release.group(1)) if release else 1 << 30  # unknown: every release tag holds
    return Platform(goos, goarch, frozenset(tags), cgo, minor)


def _host() -> tuple[str, str]:
    """The system and machine this runs on, lower case: ``("linux", "x86_64")``."""
    if hasattr(os, "uname"):  # what platform reads too, without importing it (a few ms)
        host = os.uname()
        return host.sysname.lower(), host.machine.lower()
    import platform  # noqa: PLC0415 - Windows

    return platform.system().lower(), platform.machine().lower()


def excluded_by(name: str, text: str, target: Platform) -> str | None:
    """Why the build for ``target`` skips the file ``name`` holding ``text``; None: compiled."""
    suffix = _name_constraint(name)
    if suffix and not all(target.holds(tag) for tag in suffix):
        return "needs " + " and ".join(_setting(tag) for tag in suffix)
    line = build_line(text)
    if line is not None and not _evaluate(line, target):
        return f"needs `//go:build {line}`"
    return None


def _setting(tag: str) -> str:
    return f"GOOS={tag}" if tag in KNOWN_OS else f"GOARCH={tag}"


def _name_constraint(name: str) -> list[str]:
    """The GOOS and GOARCH a file name asks for (``x_windows_arm64.go``), as go/build reads it."""
    stem = os.path.basename(name).removesuffix(".go")
    if "_" not in stem:
        return []
    parts = stem[stem.index("_") :].split("_")
    if parts[-1] == "test":
        parts = parts[:-1]
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return parts[-2:]
    if parts and (parts[-1] in KNOWN_OS or parts[-1] in KNOWN_ARCH):
        return parts[-1:]
    return []


def build_line(text: str) -> str | None:
    """The expression of the file's ``//go:build`` line: in the comments before ``package``."""
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if in_block:
            in_block = "*/" not in line
            continue
        if line.startswith("//go:build ") or line.startswith("//go:build\t"):
            return line[len("//go:build") :].strip()
        if line.startswith("/*"):
            in_block = "*/" not in line
        elif line and not line.startswith("//"):
            return None  # the package clause, or code: no constraint
    return None


def _evaluate(expression: str, target: Platform) -> bool:
    """A ``//go:build`` expression for ``target``; one that cannot be read counts as true."""
    tokens = _TOKEN.findall(expression)
    if "".join(tokens) != re.sub(r"\s+", "", expression):
        return True
    parser = _Parser(tokens, target)
    try:
        value = parser.either()
    except IndexError:
        return True
    return value if parser.at == len(tokens) else True


class _Parser:
    """``either := both ('||' both)*; both := unary ('&&' unary)*; unary := '!' unary | atom``."""

    def __init__(self, tokens: list[str], target: Platform) -> None:
        self.tokens, self.target, self.at = tokens, target, 0

    def either(self) -> bool:
        value = self.both()
        while self.at < len(self.tokens) and self.tokens[self.at] == "||":
            self.at += 1
            value = self.both() or value
        return value

    def both(self) -> bool:
        value = self.unary()
        while self.at < len(self.tokens) and self.tokens[self.at] == "&&":
            self.at += 1
            value = self.unary() and value
        return value

    def unary(self) -> bool:
        word = self.tokens[self.at]
        self.at += 1
        if word == "!":
            return not self.unary()
        if word == "(":
            value = self.either()
            if self.tokens[self.at] != ")":
                raise IndexError
            self.at += 1
            return value
        return self.target.holds(word)
