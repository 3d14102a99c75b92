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
from typing import Any

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

    def clone(self, *, depth: int | None = None, ref: str | None = None) -> Path:
        """The workspace, as actions/checkout leaves it (optionally shallow)."""
        workspace = self.tmp / f"workspace{self.runs}"
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
        diff = self.origin.git("diff", "--find-renames", merge_base, head_sha) + "\n"
        for sha in (base_sha, head_sha, merge_base):
            self.server.add_commit(REPOSITORY, sha)
        try:
            self.server.pull(REPOSITORY, number)
        except (KeyError, LookupError):
            self.server.add_pull(REPOSITORY, number, base_sha, head_sha, base, head, diff)
        else:
            self.server.update_pull(REPOSITORY, number, head_sha=head_sha, diff=diff)
        payload = self.event("pull_request.opened")
        payload["number"] = number
        pr = payload["pull_request"]
        pr["number"] = number
        pr["base"].update(sha=base_sha, ref=base)
        pr["head"].update(sha=head_sha, ref=head)
        for side in ("base", "head"):
            pr[side]["repo"]["full_name"] = REPOSITORY
        payload["repository"]["full_name"] = REPOSITORY
        return payload

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
    ) -> Result:
        self.runs += 1
        workspace = workspace or self.clone()
        home = self.tmp / f"runner{self.runs}"
        home.mkdir()
        event_path = home / "event.json"
        event_path.write_text(json.dumps(payload))
        summary, outputs = home / "summary.md", home / "output"
        summary.touch()
        outputs.touch()
        environ = {
            **self.env,
            "HOME": str(home),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_API_URL": self.server.url,
            "GITHUB_SERVER_URL": "https://github.example",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_RUN_ID": str(1000 + self.runs),
            "GITHUB_SHA": str(payload.get("after") or ""),
            "ESCAPE_GUARD_RETRY_BACKOFF": "0.01",
            **action_defaults(TOKEN),
            **{f"INPUT_{k.upper()}": v for k, v in (inputs or {}).items()},
            **(env or {}),
        }
        proc = subprocess.run(
            [CONSOLE_SCRIPT, "action"],
            cwd=workspace,
            env=environ,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return Result(
            proc.returncode,
            proc.stdout,
            proc.stderr,
            _outputs(outputs.read_text()),
            summary.read_text(),
            workspace,
        )


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
