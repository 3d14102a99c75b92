"""Renderers: each turns a Report into text in one format, ``render(report) -> str``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from escape_guard.errors import UsageError
from escape_guard.model import Report
from escape_guard.render import json, markdown, sarif, text

Renderer = Callable[[Report], str]

RENDERERS: Mapping[str, Renderer] = MappingProxyType(
    {
        "text": text.render,
        "json": json.render,
        "markdown": markdown.render,
        "sarif": sarif.render,
    }
)


def render(report: Report, fmt: str) -> str:
    """``report`` in the format named ``fmt`` (a key of ``RENDERERS``)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        known = ", ".join(RENDERERS)
        raise UsageError(f"unknown report format {fmt!r}: use one of {known}") from None
    return renderer(report)
