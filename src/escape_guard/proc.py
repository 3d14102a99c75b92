"""The one place that runs other programs."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from escape_guard.errors import EnvironmentProblem, EscapeGuardError, ExitCode


class Completed(NamedTuple):
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class ProcessFailed(EscapeGuardError):
    """A program exited non-zero; the message shows the command and what it printed."""

    def __init__(self, result: Completed, *, exit_code: ExitCode = ExitCode.ENVIRONMENT) -> None:
        self.result = result
        super().__init__(describe_failure(result), exit_code=exit_code)


def describe_failure(result: Completed, *, max_lines: int = 20) -> str:
    out = [f"command failed (exit {result.returncode}): {shlex.join(result.args)}"]
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        lines = text.strip().splitlines()
        if lines:
            out.append(f"{name}:")
            out.extend(f"  {line}" for line in lines[:max_lines])
            if len(lines) > max_lines:
                out.append(f"  ... {len(lines) - max_lines} more lines")
    return "\n".join(out)


def run(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
) -> Completed:
    """Run a program to completion and capture its output as text.

    With ``check`` a non-zero exit raises ``ProcessFailed``; a missing program
    raises ``EnvironmentProblem`` either way.
    """
    try:
        proc = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input_text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"{args[0]} is not installed or not on PATH") from exc
    result = Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)
    if check and result.returncode != 0:
        raise ProcessFailed(result)
    return result
