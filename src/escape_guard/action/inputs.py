"""The action's inputs, read from ``INPUT_<NAME>`` environment variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from escape_guard.config import FAIL_ON
from escape_guard.errors import UsageError
from escape_guard.heat.threshold import parse_percent
from escape_guard.judgement.merge import parse_shard
from escape_guard.platforms import parse_platform

COMMENT_MODES = ("review", "summary", "off")
# A release the go command can run or download: 1.26.6, 1.27rc1 (not a language version: 1.26).
_RELEASE = re.compile(r"1\.\d+(?:\.\d+|rc\d+)")


@dataclass(frozen=True)
class Inputs:
    github_token: str = ""
    working_directory: str = "."
    packages: tuple[str, ...] = ()  # empty: from the configuration file, else ./...
    all_packages: bool = False
    tags: tuple[str, ...] = ()
    pgo: str = "auto"
    profile: str = ""  # a CPU profile a workflow step wrote, for each finding's heat
    min_heat: float | None = None  # percent of the profile's samples; colder ones do not fail
    platforms: tuple[str, ...] = ()
    base: str = ""
    fail_on: str = "new"
    comment: str = "review"
    max_inline_comments: int = 20
    include_indirect: bool = False
    explain: bool = True
    config: str = ""
    allow_pull_request_target: bool = False
    go_cache: str = ""
    go_version: str = "auto"  # GOTOOLCHAIN: auto, local or a release (go1.26.6)
    report_path: str = ""
    shard: tuple[int, int] | None = None
    pull_request: int | None = None
    badge: str = ""  # workspace-relative path of the count badge's JSON; "": none


def _raw(env: Mapping[str, str], name: str) -> str:
    # The runner keeps hyphens in the variable name (INPUT_FAIL-ON); some
    # launchers replace them with underscores. Accept both.
    upper = name.upper()
    value = env.get(f"INPUT_{upper}")
    if value is None:
        value = env.get(f"INPUT_{upper.replace('-', '_')}", "")
    return value.strip()


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _raw(env, name).lower()
    if not value:
        return default
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise UsageError(f"input {name}: expected true or false, got {value!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _raw(env, name) or default
    if value not in choices:
        raise UsageError(f"input {name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _raw(env, name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"input {name}: expected a whole number, got {value!r}") from None
    if number < 0:
        raise UsageError(f"input {name}: must not be negative, got {number}")
    return number


def _platforms(env: Mapping[str, str]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(parse_platform(p) for p in _list(env, "platforms")))
    except ValueError as exc:
        raise UsageError(f"input platforms: {exc}") from None


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = _raw(env, name).replace("\n", ",").replace(" ", ",")
    return tuple(item for item in raw.split(",") if item)


def _shard(env: Mapping[str, str]) -> tuple[int, int] | None:
    value = _raw(env, "shard")
    if not value:
        return None
    try:
        return parse_shard(value)
    except UsageError:
        raise UsageError(f"input shard: expected K/N with 1 <= K <= N, got {value!r}") from None


def _go_version(env: Mapping[str, str]) -> str:
    """The go-version input as a GOTOOLCHAIN value: ``auto``, ``local`` or ``goX.Y.Z``."""
    value = _raw(env, "go-version").lower()
    if value in ("", "auto", "local"):
        return value or "auto"
    release = value.removeprefix("go")
    if not _RELEASE.fullmatch(release):
        raise UsageError(
            f"input go-version: expected a Go release such as 1.26.6, `local` or empty "
            f"(what go.mod asks for), got {value!r}"
        )
    return "go" + release


def read_inputs(env: Mapping[str, str]) -> Inputs:
    """Validated inputs; a bad value is a UsageError naming the input."""
    return Inputs(
        github_token=_raw(env, "github-token"),
        working_directory=_raw(env, "working-directory") or ".",
        packages=_list(env, "packages"),
        all_packages=_bool(env, "all-packages", False),
        tags=_list(env, "tags"),
        pgo=_raw(env, "pgo") or "auto",
        profile=_raw(env, "profile"),
        min_heat=_min_heat(env),
        platforms=_platforms(env),
        base=_raw(env, "base"),
        fail_on=_choice(env, "fail-on", FAIL_ON, "new"),
        comment=_choice(env, "comment", COMMENT_MODES, "review"),
        max_inline_comments=_int(env, "max-inline-comments", 20),
        include_indirect=_bool(env, "include-indirect", False),
        explain=_bool(env, "explain", True),
        config=_raw(env, "config"),
        allow_pull_request_target=_bool(env, "allow-pull-request-target", False),
        go_cache=_raw(env, "go-cache"),
        go_version=_go_version(env),
        report_path=_raw(env, "report-path"),
        shard=_shard(env),
        pull_request=_int(env, "pull-request", 0) or None,
        badge=_badge(env),
    )


def _badge(env: Mapping[str, str]) -> str:
    """The badge input: a path inside the workspace (the container sees nothing else)."""
    value = _raw(env, "badge")
    if value and (value.startswith("/") or ".." in value.replace("\\", "/").split("/")):
        raise UsageError(
            f"input badge: {value!r} is not inside the workspace; give a path relative to it "
            "(e.g. .escape-guard/badge.json)"
        )
    if value and _raw(env, "shard"):
        raise UsageError(
            "input badge: a shard sees part of the repository only, so it cannot count its "
            "heap escapes; set badge on an unsharded push job"
        )
    return value


def _min_heat(env: Mapping[str, str]) -> float | None:
    value = _raw(env, "min-heat")
    if not value:
        return None
    try:
        return parse_percent(value)
    except ValueError as exc:
        raise UsageError(f"input min-heat: {exc}") from None
