"""Renderers: each turns a Report into text in one format, ``render(report) -> str``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from escape_guard.errors import UsageError
from escape_guard.model import Report

Renderer = Callable[[Report], str]

# Each names its module in this package, which defines ``render``.
_FORMATS = ("text", "json", "markdown", "sarif", "rdjson", "codequality")


class _Renderers(Mapping[str, Renderer]):
    """A read-only mapping that imports a format's module on first lookup.

    A run writes one format, so the other renderers are never imported.
    """

    def __getitem__(self, fmt: str) -> Renderer:
        if fmt not in _FORMATS:
            raise KeyError(fmt)
        renderer: Renderer = importlib.import_module(f"{__name__}.{fmt}").render
        return renderer

    def __iter__(self) -> Iterator[str]:
        return iter(_FORMATS)

    def __len__(self) -> int:
        return len(_FORMATS)


RENDERERS: Mapping[str, Renderer] = _Renderers()


def render(report: Report, fmt: str) -> str:
    """``report`` in the format named ``fmt`` (a key of ``RENDERERS``)."""
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        known = ", ".join(RENDERERS)
        raise UsageError(f"unknown report format {fmt!r}: use one of {known}") from None
    return renderer(report)
