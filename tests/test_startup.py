"""Start-up stays light: importing the CLI does not pull in what only some runs need."""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = (
    "yaml",
    "escape_guard.render.sarif",
    "escape_guard.render.markdown",
    "escape_guard.publish",
    "escape_guard.action",
)


def _loaded_after(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` a fresh interpreter has imported after running ``code``."""
    probe = f"{code}; import sys; print(sorted(m for m in sys.modules if m in {names!r}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded: list[str] = ast.literal_eval(result.stdout)
    return loaded


def test_importing_the_cli_skips_optional_modules() -> None:
    assert _loaded_after("import escape_guard.cli", HEAVY) == []


def test_looking_up_one_renderer_imports_only_that_one() -> None:
    code = "from escape_guard.render import RENDERERS; RENDERERS['json']"
    names = ("escape_guard.render.json", "escape_guard.render.text", *HEAVY)
    assert _loaded_after(code, names) == ["escape_guard.render.json"]


def test_the_review_tool_formats_need_nothing_of_the_github_side() -> None:
    for fmt in ("rdjson", "codequality"):
        code = f"from escape_guard.render import RENDERERS; RENDERERS[{fmt!r}]"
        assert _loaded_after(code, HEAVY) == [], fmt
