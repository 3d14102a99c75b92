"""Markdown that text from a pull request cannot break.

Paths, identifiers, source lines and compiler output come from the code under
review, so they only ever reach Markdown through these helpers:

- ``code_span`` for anything code-like (paths, expressions, functions, refs),
- ``fenced`` for multi-line compiler output,
- ``text`` for free prose written by people (accept reasons, notes).

Code spans and code blocks are never interpreted (no HTML, no links, and
GitHub does not turn ``@name`` into a mention inside ``code``). Free text is
backslash-escaped, and a zero-width joiner after ``@`` and ``#`` stops GitHub
from mentioning people or cross-referencing issues, which it does on rendered
text where Markdown escapes do not help.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

ZWJ = "\u200d"

# C0 controls (but tab) and DEL; bidirectional overrides and isolates, which can
# make code read differently from what it is ("Trojan Source", CVE-2021-42574).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\r\n?|\n")
# The ASCII punctuation that can start or end Markdown or HTML constructs.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")
# GitHub links "@user" and "#12" / "org/repo#12" in rendered text.
_LINKING = re.compile(r"([@#])(?=\w)")
_BACKTICKS = re.compile(r"`+")


def visible(text: str) -> str:
    """``text`` with control and bidi-override characters shown as ``U+XXXX``."""
    return _INVISIBLE.sub(lambda m: f"U+{ord(m.group()):04X}", text)


def one_line(text: str) -> str:
    """``text`` with line breaks turned into spaces."""
    return _NEWLINES.sub(" ", text)


def text(value: str) -> str:
    """Free text as inline Markdown that renders literally."""
    escaped = _SPECIAL.sub(r"\\\1", visible(one_line(value)))
    return _LINKING.sub(rf"\1{ZWJ}", escaped)


def code_span(value: str) -> str:
    """An inline code span showing ``value`` exactly, whatever backticks it holds."""
    content = visible(one_line(value))
    if not content.strip():
        return "` `" if not content else f"`{content}`"
    fence = "`" * (_longest_backticks(content) + 1)
    # CommonMark strips one space from each end when both are present, so a
    # padding space keeps content that starts or ends with a backtick apart.
    pad = " " if content[0] in "` " or content[-1] in "` " else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def fenced(lines: Iterable[str], *, info: str = "") -> str:
    """A fenced code block whose content cannot close it early."""
    body = "\n".join(visible(line) for chunk in lines for line in _NEWLINES.split(chunk))
    fence = "`" * max(3, _longest_backticks(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def details(summary: str, body: str) -> str:
    """A folded block: ``summary`` is plain text, ``body`` safe Markdown.

    The summary sits in raw HTML, where Markdown is not parsed, so it is
    HTML-escaped instead. Blank lines end the HTML blocks so the body renders.
    """
    label = html.escape(visible(one_line(summary)), quote=False)
    return f"<details><summary>{label}</summary>\n\n{body}\n\n</details>"


def shorten(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` characters, marked with an ellipsis."""
    return value if len(value) <= limit else value[: max(limit - 1, 0)] + "…"


def _longest_backticks(value: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(value)), default=0)
