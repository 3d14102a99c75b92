"""Go versions and toolchain names, compared as the go command compares them (gover)."""

from __future__ import annotations

import re

_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+)|(alpha|beta|rc)(\d+))?")
_KINDS = {"": 0, "alpha": 1, "beta": 2, "rc": 3}


def version(name: str) -> str:
    """The Go version of a toolchain name (``go1.21.3`` → ``1.21.3``); "" when it is none."""
    if "/" in name or "\\" in name:
        return ""
    if name.startswith("go"):
        v = name[2:]
    elif "-go" in name:
        v = name[name.index("-go") + 3 :]
    else:
        return ""
    v = re.split(r"[\s+-]", v, maxsplit=1)[0]
    return v if _VERSION.fullmatch(v) else ""


def compare_key(v: str) -> tuple[int, int, int, int, int]:
    """Go's version order: 1.21 < 1.21rc1 < 1.21.0 < 1.21.1 (invalid ones first)."""
    match = _VERSION.fullmatch(v)
    if not match:
        return (-1, -1, -1, -1, -1)
    major, minor, patch, kind, pre = match.groups()
    return (
        int(major),
        int(minor or 0),
        int(patch) if patch else -1,
        _KINDS[kind or ""],
        int(pre) if pre else -1,
    )


def go_line_toolchain(go: str) -> str:
    """The first toolchain of a ``go`` line's version (``1.22`` → ``go1.22.0``, as go does)."""
    lang = _VERSION.fullmatch(go)
    is_lang = lang is not None and lang.group(2) and not lang.group(3) and not lang.group(4)
    if is_lang and compare_key(go) >= compare_key("1.21"):
        return f"go{go}.0"
    return f"go{go}"
