"""Command line: ``escape-guard diff`` (and the subcommands later stages add)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NoReturn

from escape_guard import __version__
from escape_guard.config import FAIL_ON, failing
from escape_guard.config import load as load_config
from escape_guard.errors import EscapeGuardError, ExitCode, UsageError
from escape_guard.render import RENDERERS

if TYPE_CHECKING:
    from types import FrameType

    from escape_guard.model import Report

_DESCRIPTION = "Report the heap escapes a Go change introduces on its changed lines."


class _Parser(argparse.ArgumentParser):
    """Argument errors become UsageErrors, so they reach the one error handler."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="escape-guard", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"escape-guard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    diff = sub.add_parser(
        "diff",
        help="compare merge-base(BASE, HEAD) with HEAD",
        description="Build merge-base(BASE, HEAD) and HEAD with -gcflags=-m and report "
        "the heap escapes HEAD adds on its changed lines. Exit 0: none; 1: new escapes; "
        "2: usage or configuration error; 3: a revision does not build; 4: git problem; "
        "5: missing tool or Go toolchain.",
    )
    diff.add_argument("--repo", default=".", help="the Go repository (default: .)")
    diff.add_argument("--base", required=True, help="the branch or commit the change is based on")
    diff.add_argument(
        "--head",
        help="the changed revision (default: in a pre-commit hook run for a push, the pushed "
        "commit (PRE_COMMIT_TO_REF); else HEAD, or the working tree when it has uncommitted "
        "changes)",
    )
    diff.add_argument(
        "--packages",
        action="append",
        metavar="PATTERN",
        help="package pattern relative to the repository root, e.g. ./... "
        "(repeatable or comma-separated; default from config, else ./...)",
    )
    diff.add_argument("--tags", help="comma-separated build tags")
    diff.add_argument(
        "--platform",
        action="append",
        type=_platform_argument,
        metavar="GOOS/GOARCH",
        help="build for this platform (repeatable: each is compared, and findings say which "
        "platforms they hold on; default: the go command's, from GOOS and GOARCH)",
    )
    diff.add_argument(
        "--pgo",
        default="auto",
        metavar="auto|off|FILE",
        help="profile-guided optimization as go build -pgo: auto (default: a main package's "
        "default.pgo applies to what is built for it), off, or a profile for every main",
    )
    diff.add_argument(
        "--profile",
        metavar="FILE",
        default="",
        help="a CPU profile (pprof, e.g. from go test -cpuprofile) giving each new escape its "
        "function's share of the samples (default: the default.pgo of the main package a "
        "package is built for)",
    )
    diff.add_argument(
        "--min-heat",
        metavar="PERCENT",
        type=_percent_argument,
        help="new escapes in functions with less than PERCENT of the profile's CPU samples "
        "(cumulative) are reported but do not fail (exit 0 when all are below it)",
    )
    _add_output_options(diff)
    diff.add_argument(
        "--explain", action="store_true", help="build with -m=2 and show why each escape happens"
    )
    diff.add_argument(
        "--all-packages",
        action="store_true",
        help="build every package the patterns select, not only those with changed Go files "
        "(slower; also finds indirect escapes in packages the change did not touch)",
    )
    diff.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: .escape-guard.yml at the repo root)",
    )
    diff.add_argument(
        "--shard",
        metavar="K/N",
        type=_shard_argument,
        help="build only the K-th of N deterministic shares of the packages (for a CI matrix; "
        "combine the JSON reports with escape-guard merge)",
    )
    merge = sub.add_parser(
        "merge",
        help="combine the JSON reports of several shards into one report",
        description="Combine the JSON reports of `diff --shard K/N` runs of one comparison. "
        "Exit codes as for diff.",
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports (--format json)")
    _add_output_options(merge)
    sub.add_parser(
        "action",
        help="run as the GitHub Action (reads the runner's environment)",
        description="Run as the GitHub Action: reads GITHUB_EVENT_PATH, GITHUB_EVENT_NAME, "
        "GITHUB_REPOSITORY, GITHUB_WORKSPACE, GITHUB_API_URL and INPUT_<NAME> variables, posts "
        "the review, the summary comment and the check run, and writes the job summary and "
        "outputs.",
    )
    return parser


def _shard_argument(text: str) -> tuple[int, int]:
    from escape_guard.judgement.merge import parse_shard  # noqa: PLC0415 - only --shard needs it

    try:
        return parse_shard(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--shard: ")) from None


def _percent_argument(text: str) -> float:
    from escape_guard.heat.threshold import parse_percent  # noqa: PLC0415 - only --min-heat

    try:
        return parse_percent(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _platform_argument(text: str) -> str:
    from escape_guard.platforms import parse_platform  # noqa: PLC0415 - only --platform needs it

    try:
        return parse_platform(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--format", choices=sorted(RENDERERS), default="text")
    command.add_argument("--output", metavar="FILE", help="write the report to FILE, not stdout")
    command.add_argument(
        "--fail-on", choices=FAIL_ON, help="which findings make the exit code 1 (default: new)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        args = build_parser().parse_args(arguments)
        if args.command == "action":
            from escape_guard.action.run import run_action  # noqa: PLC0415 - GitHub deps

            return run_action(dict(os.environ))
        if args.command == "merge":
            return int(_merge(args))
        return int(_diff(args))
    except EscapeGuardError as exc:
        print(f"escape-guard: error: {exc.message}", file=sys.stderr)
        return _failed(arguments, exc.message, exc.exit_code)
    except KeyboardInterrupt:
        print("escape-guard: interrupted", file=sys.stderr)
        return _failed(arguments, "interrupted", ExitCode.INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _failed(arguments: Sequence[str], message: str, code: ExitCode) -> int:
    """CODE; with ``--format json`` the failure is also written where the report would go."""
    if _option(arguments, "--format") == "json":
        from escape_guard.render.json import error_document  # noqa: PLC0415

        try:
            _write(error_document(message, int(code)), _option(arguments, "--output"))
        except EscapeGuardError:
            _write(error_document(message, int(code)), None)
    return int(code)


def _option(arguments: Sequence[str], name: str) -> str | None:
    """The last value given to option NAME (``NAME VALUE`` or ``NAME=VALUE``), else None."""
    value = None
    for i, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument == name and i + 1 < len(arguments):
            value = arguments[i + 1]
        elif argument.startswith(name + "="):
            value = argument.partition("=")[2]
    return value


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Unwind like Ctrl-C so temporary worktrees are removed.
    raise KeyboardInterrupt


def _diff(args: argparse.Namespace) -> ExitCode:
    # imported here: the build pipeline is the diff command's alone
    from escape_guard.git import Git  # noqa: PLC0415
    from escape_guard.pipeline import DiffOptions, run_diff  # noqa: PLC0415

    git = Git.discover(args.repo)
    config = load_config(git.root, args.config).with_overrides(  # .escape-guard.yml at the root
        packages=_split(args.packages),
        tags=_split([args.tags] if args.tags else None),
        fail_on=args.fail_on,
    )
    options = DiffOptions(
        repo=args.repo,
        base=args.base,
        head=args.head or pushed_commit(os.environ),
        config=config,
        explain=args.explain,
        all_packages=args.all_packages,
        shard=args.shard,
        pgo=args.pgo,
        profile=args.profile,
        min_heat=args.min_heat,
        platforms=tuple(dict.fromkeys(args.platform or ())),
    )
    progress = _progress if sys.stderr.isatty() else None
    report = run_diff(options, git=git, progress=progress)
    if args.format != "text" or args.output:  # the text report shows its notes itself
        for note in report.notes:
            print(f"escape-guard: {note}", file=sys.stderr)
    _write(RENDERERS[args.format](report), args.output)
    return exit_code(report, config.fail_on)


def pushed_commit(env: Mapping[str, str]) -> str | None:
    """The commit a pre-commit ``pre-push`` hook run checks, None outside one.

    Not HEAD nor the working tree: ``git push origin other-branch`` pushes another commit than
    the one checked out, and the staged changes pre-commit leaves in the working tree while
    hooks run are not part of the push. pre-commit names the pushed commit in
    PRE_COMMIT_TO_REF (also for ``pre-commit run --from-ref A --to-ref B``).
    """
    return env.get("PRE_COMMIT_TO_REF") or None


def _merge(args: argparse.Namespace) -> ExitCode:
    # imported here: only the merge command reads reports back
    from escape_guard.judgement.merge import merge_reports  # noqa: PLC0415
    from escape_guard.render.json import load_report  # noqa: PLC0415

    reports = [load_report(_read(path)) for path in args.reports]
    report = merge_reports(reports)
    _write(RENDERERS[args.format](report), args.output)
    return exit_code(report, args.fail_on or "new")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def exit_code(report: Report, fail_on: str) -> ExitCode:
    return ExitCode.NEW_ESCAPES if failing(report, fail_on) else ExitCode.OK


def _split(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def _progress(phase: str) -> None:
    print(f"escape-guard: {phase} ...", file=sys.stderr)


def _write(text: str, output: str | None) -> None:
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise EscapeGuardError(f"cannot write {output}: {exc.strerror}") from exc
