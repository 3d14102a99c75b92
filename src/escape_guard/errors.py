"""The project's one error type and the exit codes it maps to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; the README documents them."""

    OK = 0
    NEW_ESCAPES = 1
    USAGE = 2
    BUILD_FAILED = 3
    GIT = 4
    ENVIRONMENT = 5
    GITHUB = 6
    INTERRUPTED = 130


class EscapeGuardError(Exception):
    """An expected failure with an actionable message.

    Raised where the failure happens; the top-level handler prints the message
    (never a traceback) and exits with ``exit_code``.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class UsageError(EscapeGuardError):
    """Bad command-line arguments or configuration."""

    exit_code = ExitCode.USAGE


class GitError(EscapeGuardError):
    """Not a repository, unknown revision, missing history."""

    exit_code = ExitCode.GIT


class BuildError(EscapeGuardError):
    """A revision did not compile."""

    exit_code = ExitCode.BUILD_FAILED


class EnvironmentProblem(EscapeGuardError):
    """A required program (git, go, the Go toolchain a revision asks for) is missing or unusable."""

    exit_code = ExitCode.ENVIRONMENT


class GitHubError(EscapeGuardError):
    """The GitHub API refused or failed in a way the action cannot work around."""

    exit_code = ExitCode.GITHUB
