"""Runs the real `escape-guard action` as a runner runs the container action.

A Docker action gets the runner's GITHUB_* variables, one INPUT_<NAME> variable per
input of action.yml (its default when the workflow does not set it) and the
workspace as working directory. This harness builds that environment around a
real origin repository, a clone of it as the workspace and the fake GitHub API.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from tests.conftest import ROOT, Repo
from tests.fakegithub import FakeGitHub

EVENTS = ROOT / "tests" / "fixtures" / "events"
REPOSITORY = "octo-org/go-service"
TOKEN = "ghs_fakeInstallationToken0123456789"
CONSOLE_SCRIPT = str(Path(sys.executable).parent / "escape-guard")


def action_defaults(token: str) -> dict[str, str]:
    """INPUT_<NAME> for every input of action.yml, with the defaults a runner fills in."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    env = {}
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        env[f"INPUT_{name.upper()}"] = token if default == "${{ github.token }}" else default
    return env


def pull_request_payload(
    number: int, base: tuple[str, str], head: tuple[str, str]
) -> dict[str, Any]:
    """The pull_request event of pull request NUMBER in REPOSITORY: BASE and HEAD are
    (ref, sha) pairs."""
    payload = ActionHarness.event("pull_request.opened")
    payload["number"] = number
    pr = payload["pull_request"]
    pr["number"] = number
    for side, (ref, sha) in (("base", base), ("head", head)):
        pr[side].update(sha=sha, ref=ref)
        pr[side]["repo"]["full_name"] = REPOSITORY
    payload["repository"]["full_name"] = REPOSITORY
    return payload


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path

    def report(self) -> dict[str, Any]:
        return json.loads((self.workspace / self.outputs["report"]).read_text())


class ActionHarness:
    """An origin repository, a workspace clone and the fake GitHub server."""

    def __init__(self, tmp_path: Path, env: Mapping[str, str], server: FakeGitHub) -> None:
        self.tmp = tmp_path
        self.env = dict(env)
        self.server = server
        self.origin = Repo(tmp_path / "origin", env)
        server.add_repo(REPOSITORY)
        self.runs = 0

    def clone(
        self, *, depth: int | None = None, ref: str | None = None, into: Path | None = None
    ) -> Path:
        """The workspace, as actions/checkout leaves it (optionally shallow).

        ``into``: the directory, as a runner's workspace is the same in every job.
        """
        workspace = into or self.tmp / f"workspace{self.runs}"
        if workspace.exists():
            shutil.rmtree(workspace)
        args = ["git", "clone", "--quiet", "--no-local"]
        if depth:
            args += [f"--depth={depth}", "--no-single-branch"]
        if ref:
            args += ["--branch", ref]
        subprocess.run(
            [*args, f"file://{self.origin.path}", str(workspace)],
            env=self.env,
            check=True,
            capture_output=True,
        )
        return workspace

    def open_pull(
        self, number: int, *, base: str = "main", head: str = "feature"
    ) -> dict[str, Any]:
        """Register the pull request with the fake; returns the pull_request event payload."""
        base_sha = self.origin.git("rev-parse", base)
        head_sha = self.origin.git("rev-parse", head)
        merge_base = self.origin.git("merge-base", base_sha, head_sha)
        # Not Repo.git, which strips the output: a diff may end with a blank context line.
        diff = subprocess.run(
            ["git", "-C", str(self.origin.path), "diff", "--find-renames", merge_base, head_sha],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for sha in (base_sha, head_sha, merge_base):
            self.server.add_commit(REPOSITORY, sha)
        try:
            self.server.pull(REPOSITORY, number)
        except (KeyError, LookupError):
            self.server.add_pull(REPOSITORY, number, base_sha, head_sha, base, head, diff)
        else:
            self.server.update_pull(REPOSITORY, number, head_sha=head_sha, diff=diff)
        return pull_request_payload(number, (base, base_sha), (head, head_sha))

    @staticmethod
    def event(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
        return copy.deepcopy(data)

    def run(
        self,
        event_name: str,
        payload: Mapping[str, Any],
        *,
        inputs: Mapping[str, str] | None = None,
        workspace: Path | None = None,
        env: Mapping[str, str] | None = None,
        launcher: Launcher | None = None,
    ) -> Result:
        """One step of a job: ``escape-guard action`` on the host, or as ``launcher`` starts it."""
        self.runs += 1
        workspace = workspace or self.clone()
        dirs = RunnerDirs.make(self.tmp / f"runner{self.runs}", payload)
        launcher = launcher or HostLauncher(self.env)
        mounts = launcher.mounts(workspace, dirs)

        def seen(path: Path) -> str:
            for host, inside in mounts.items():
                if path == host or host in path.parents:
                    return inside + str(path)[len(str(host)) :]
            return str(path)

        environ = {
            "HOME": seen(dirs.home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": seen(dirs.event),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_WORKSPACE": seen(workspace),
            "GITHUB_API_URL": self.server.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_STEP_SUMMARY": seen(dirs.summary),
            "GITHUB_OUTPUT": seen(dirs.output),
            "GITHUB_ENV": seen(dirs.env_file),
            "GITHUB_RUN_ID": str(1000 + self.runs),
            "GITHUB_SHA": str(payload.get("after") or ""),
            "ESCAPE_GUARD_RETRY_BACKOFF": "0.01",
            **action_defaults(TOKEN),
            **{f"INPUT_{k.upper()}": v for k, v in (inputs or {}).items()},
            **(env or {}),
        }
        code, stdout, stderr = launcher.launch(environ, workspace, dirs)
        return Result(
            code,
            stdout,
            stderr,
            _outputs(dirs.output.read_text()),
            dirs.summary.read_text(),
            workspace,
        )


@dataclass
class RunnerDirs:
    """The directories a runner makes for a step, laid out as under the runner's ``_temp``."""

    home: Path
    workflow: Path
    file_commands: Path

    @classmethod
    def make(cls, root: Path, payload: Mapping[str, Any]) -> RunnerDirs:
        dirs = cls(root / "_github_home", root / "_github_workflow", root / "_runner_file_commands")
        for path in (dirs.home, dirs.workflow, dirs.file_commands):
            path.mkdir(parents=True)
        dirs.event.write_text(json.dumps(payload))
        for path in (dirs.summary, dirs.output, dirs.env_file):
            path.touch()
        return dirs

    @property
    def event(self) -> Path:
        return self.workflow / "event.json"

    @property
    def output(self) -> Path:
        return self.file_commands / "set_output_1"

    @property
    def summary(self) -> Path:
        return self.file_commands / "step_summary_1"

    @property
    def env_file(self) -> Path:
        return self.file_commands / "set_env_1"


class Launcher(Protocol):
    """Starts the action's entry point where a runner would."""

    def mounts(self, workspace: Path, dirs: RunnerDirs) -> dict[Path, str]:
        """Directories of the runner's machine and where the action sees them."""
        ...

    def launch(
        self, environ: Mapping[str, str], workspace: Path, dirs: RunnerDirs
    ) -> tuple[int, str, str]:
        """Run the action with ``environ`` in ``workspace``: exit code, stdout, stderr."""
        ...


class HostLauncher:
    """The installed console script on this machine, with the tests' Go environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def mounts(self, workspace: Path, dirs: RunnerDirs) -> dict[Path, str]:
        return {}

    def launch(
        self, environ: Mapping[str, str], workspace: Path, dirs: RunnerDirs
    ) -> tuple[int, str, str]:
        proc = subprocess.run(
            [CONSOLE_SCRIPT, "action"],
            cwd=workspace,
            env={**self.env, **environ},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr


def _outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            values[name] = "\n".join(iter(lines.__next__, delimiter))
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def tree(root: Path) -> dict[str, str | None]:
    return {os.path.relpath(p, root): p.read_text() for p in root.rglob("*") if p.is_file()}
