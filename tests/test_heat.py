"""Heat: each finding's share of a real CPU profile, read with ``go tool pprof``.

The profile is ``tests/fixtures/heat/cpu.pprof``, recorded from a real benchmark (its README
says how). Figures are checked against what ``go tool pprof -top`` itself prints.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from escape_guard.cli import main
from escape_guard.errors import UsageError
from escape_guard.heat.match import same_function, without_type_arguments
from escape_guard.heat.pprof import parse_top, read_profile
from escape_guard.heat.threshold import parse_percent
from escape_guard.model import Heat
from escape_guard.render import RENDERERS
from escape_guard.render.json import load_report, render
from escape_guard.render.markdown import inline_comment
from tests import schemas
from tests.action_harness import REPOSITORY, ActionHarness
from tests.conftest import Repo
from tests.fakegithub import FakeGitHub

HEAT = Path(__file__).parent / "fixtures" / "heat"
PROFILE = HEAT / "cpu.pprof"
CODEC = (HEAT / "codec.go.txt").read_text()
PKG = "example.com/heat/codec"
# pprof's -top row: flat flat% sum% cum cum% name
_ROW = re.compile(r"^\s*\S+\s+([\d.]+)%\s+[\d.]+%\s+\S+\s+([\d.]+)%\s+(.+?)(?: \(inline\))?$")


@pytest.fixture(autouse=True)
def _go_environment(monkeypatch: pytest.MonkeyPatch, go_env: dict[str, str]) -> None:
    for key, value in go_env.items():
        monkeypatch.setenv(key, value)


def pprof_top(env: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """pprof's own percentages (default -top: CPU time), flat% and cum% by function."""
    out = subprocess.run(
        ["go", "tool", "pprof", "-top", "-nodecount=0", "-nodefraction=0", str(PROFILE)],
        env=dict(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [m.groups() for line in out.splitlines() if (m := _ROW.match(line))]
    return {name: (float(flat), float(cum)) for flat, cum, name in rows}


def test_the_profile_reads_as_pprof_counts_it(go_env: dict[str, str], tmp_path: Path) -> None:
    table = read_profile(str(PROFILE), name="cpu.pprof", env=go_env, cwd=str(tmp_path))
    top = pprof_top(go_env)
    assert table.total > 100
    for name in (
        f"{PKG}.(*Encoder).encode",
        f"{PKG}.Sum.func1",
        f"{PKG}.Map[go.shape.uint64,go.shape.uint64]",
        f"{PKG}.mix",  # inlined into Sum.func1: its own row, as pprof counts it
    ):
        counts = table.functions[name]
        flat, cum = top[name]
        assert round(100 * counts.flat / table.total, 2) == pytest.approx(flat, abs=0.01)
        assert round(100 * counts.cum / table.total, 2) == pytest.approx(cum, abs=0.01)


@pytest.mark.parametrize(
    ("name", "bare"),
    [
        ("Map[go.shape.uint64,go.shape.uint64]", "Map"),
        ("(*List[go.shape.[]uint8]).Push", "(*List).Push"),
        ("Map[...]", "Map"),
        ("(*Encoder).encode", "(*Encoder).encode"),
        ("F.func1", "F.func1"),
    ],
)
def test_type_arguments_are_dropped(name: str, bare: str) -> None:
    assert without_type_arguments(name) == bare


@pytest.mark.parametrize(
    ("profile_local", "function", "same"),
    [
        ("(*Encoder).encode", "(*Encoder).encode", True),
        ("(*Encoder).Encode", "(*Encoder).encode", False),
        ("Encoder.encode", "(*Encoder).encode", False),  # value and pointer receivers differ
        ("Sum.func1", "Sum.func1", True),
        ("Sum.func1", "Sum", False),  # a closure is not its enclosing function
        ("Benchmark.Sum.func1", "Sum.func1", True),  # a closure of Sum inlined into Benchmark
        ("(*T).Sum.func1", "Sum.func1", False),  # a method's closure is another function
        ("Map", "Map", True),  # without_type_arguments has run on the profile's side
        ("Map", "Map[T, U]", True),
        ("G.Map", "Map", False),  # only closures take the name of their inlined caller
    ],
)
def test_a_profile_function_is_the_findings_function(
    profile_local: str, function: str, same: bool
) -> None:
    assert same_function(profile_local, function) is same


def test_top_output_is_parsed_with_inlined_rows_summed() -> None:
    text = (
        "Type: samples\n"
        "Showing nodes accounting for 40, 100% of 40 total\n"
        "      flat  flat%   sum%        cum   cum%\n"
        "        10 25.00% 25.00%         12 30.00%  example.com/m.f (inline)\n"
        "         5 12.50% 37.50%          6 15.00%  example.com/m.f\n"
        "         0     0% 37.50%         40   100%  main.main\n"
    )
    table = parse_top(text, path="p")
    assert table.total == 40
    assert table.functions["example.com/m.f"] == (15, 18)
    assert table.functions["main.main"] == (0, 40)


@pytest.mark.parametrize(
    ("text", "value"), [("1", 1.0), ("0.5%", 0.5), (" 12.5 % ", 12.5), ("100", 100.0)]
)
def test_min_heat_reads_percentages(text: str, value: float) -> None:
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["hot", "-1", "101", "nan", ""])
def test_min_heat_refuses_what_is_not_a_percentage(text: str) -> None:
    with pytest.raises(ValueError, match="expected a percentage"):
        parse_percent(text)


def test_a_file_that_is_no_profile_is_a_usage_error(go_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "cpu.pprof"
    bad.write_text("not a profile\n")
    with pytest.raises(
        UsageError, match=r"not a CPU profile go tool pprof can read \(.*unrecognized"
    ):
        read_profile(str(bad), name="cpu.pprof", env=go_env, cwd=str(tmp_path))


def test_heat_sentence() -> None:
    heat = Heat(flat=31, cum=124, total=1000, profile="cpu.pprof")
    assert heat.sentence("(*Encoder).encode") == (
        "in `(*Encoder).encode`, 12.4% of CPU samples (cumulative), 3.1% flat"
    )


# The change: one escape in each of the hot method, the closure's function, the generic
# function and the cold one.
_EDITS = (
    ("func (e *Encoder) encode(v uint64) {\n", "\tlast = &v\n"),
    ("\tadd := func(v uint64) {\n", "\t\tlastSum = &total\n"),
    ("\tout := make([]U, 0, len(xs))\n", "\tlastMap = &xs\n"),
    ("\tdigits := []byte{}\n", "\tlastDigits = &digits\n"),
)
_GLOBALS = (
    "\nvar (\n\tlast       *uint64\n\tlastSum    *uint64\n"
    "\tlastDigits *[]byte\n\tlastMap    any\n)\n"
)


def changed_codec() -> str:
    text = CODEC
    for after, added in _EDITS:
        assert after in text
        text = text.replace(after, after + added)
    return text + _GLOBALS


def codec_repo(repo: Repo, *, main_pkg: bool = False) -> None:
    files = {"go.mod": "module example.com/heat\n\ngo 1.21\n", "codec/codec.go": CODEC}
    if main_pkg:  # a program built with the benchmark's profile as its default.pgo
        files["cmd/app/main.go"] = (
            'package main\n\nimport "example.com/heat/codec"\n\n'
            "func main() {\n\tvar e codec.Encoder\n\t_ = e.Encode([]uint64{1})\n"
            "\t_ = codec.Sum(nil)\n\t_ = codec.Halves(nil)\n\t_ = codec.Describe(1)\n}\n"
        )
    repo.commit(files, "base")
    if main_pkg:
        (repo.path / "cmd" / "app" / "default.pgo").write_bytes(PROFILE.read_bytes())
        repo.commit(message="profile")
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.commit({"codec/codec.go": changed_codec()}, "escapes")


def diff_json(repo: Repo, *args: str) -> tuple[int, dict[str, object]]:
    out = repo.path.parent / "report.json"
    code = main(
        [
            "diff",
            "--repo",
            str(repo.path),
            "--base",
            "main",
            "--format",
            "json",
            "--output",
            str(out),
            *args,
        ]
    )
    return code, json.loads(out.read_text())


def test_a_given_profile_ranks_the_new_escapes_by_heat(
    repo: Repo, go_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    codec_repo(repo)
    code, report = diff_json(repo, "--profile", str(PROFILE))
    assert code == 1
    new = report["new"]
    assert isinstance(new, list)
    top = pprof_top(go_env)
    ranked = [(f["function"], f["heat"]["cum_percent"], f["heat"]["flat_percent"]) for f in new]
    expected = {
        "(*Encoder).encode": top[f"{PKG}.(*Encoder).encode"],
        "Sum": top[f"{PKG}.Sum"],
        "Map": top[f"{PKG}.Map[go.shape.uint64,go.shape.uint64]"],
        "Describe": (0.0, 0.0),  # never sampled: cold
    }
    for function, cum, flat in ranked:
        assert (flat, cum) == pytest.approx(expected[function], abs=0.01), function
    cums = [cum for _, cum, _ in ranked]
    assert cums == sorted(cums, reverse=True)
    assert ranked[-1][0] == "Describe"
    assert {f for f, _, _ in ranked} == set(expected)
    assert report["profiles"] == [
        {"path": str(PROFILE), "samples": new[0]["heat"]["samples"], "source": "--profile"}
    ]
    capsys.readouterr()
    assert (
        main(["diff", "--repo", str(repo.path), "--base", "main", "--profile", str(PROFILE)]) == 1
    )
    text = capsys.readouterr().out
    encode_cum = top[f"{PKG}.(*Encoder).encode"][1]
    assert f"heat: in `(*Encoder).encode`, {encode_cum:.1f}% of CPU samples (cumulative)" in text
    assert text.index("in `Sum`") < text.index("in `Map`") < text.index("in `Describe`")
    assert f"(given with --profile, {new[0]['heat']['samples']} samples)" in text


def test_min_heat_lets_only_cold_escapes_pass(repo: Repo) -> None:
    codec_repo(repo)
    code, report = diff_json(repo, "--profile", str(PROFILE), "--min-heat", "50")
    assert code == 0  # every function is below half of the samples
    assert report["min_heat"] == 50.0
    assert len(report["new"]) == 5
    assert any(
        "5 of 5 new heap escape(s) are in functions below --min-heat 50%" in n
        for n in report["notes"]
    )
    code, report = diff_json(repo, "--profile", str(PROFILE), "--min-heat", "1")
    assert code == 1  # the hot method and the closure's function fail; Describe does not
    assert any(
        "1 of 5 new heap escape(s) are in functions below --min-heat 1%" in n
        for n in report["notes"]
    )


def test_a_main_packages_default_pgo_is_the_profile_of_what_is_built_for_it(repo: Repo) -> None:
    codec_repo(repo, main_pkg=True)
    code, report = diff_json(repo, "--min-heat", "50")
    assert code == 0
    assert report["profiles"][0]["path"] == "cmd/app/default.pgo"
    assert report["profiles"][0]["source"] == "default.pgo"
    heated = [f for f in report["new"] if "heat" in f]
    assert {f["function"] for f in heated} >= {"(*Encoder).encode", "Describe"}


def test_without_a_profile_min_heat_changes_nothing_and_says_so(repo: Repo) -> None:
    codec_repo(repo)
    code, report = diff_json(repo, "--min-heat", "50")
    assert code == 1
    assert "profiles" not in report
    assert all("heat" not in f for f in report["new"])
    assert any("--min-heat 50%: no CPU profile was found" in n for n in report["notes"])


def test_a_missing_or_unreadable_profile_is_a_usage_error(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codec_repo(repo)
    assert (
        main(["diff", "--repo", str(repo.path), "--base", "main", "--profile", "nope.pprof"]) == 2
    )
    assert "--profile nope.pprof: no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.pprof"
    bad.write_text("x")
    assert main(["diff", "--repo", str(repo.path), "--base", "main", "--profile", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "is not a CPU profile go tool pprof can read" in err and "Traceback" not in err
    assert main(["diff", "--repo", str(repo.path), "--base", "main", "--min-heat", "hot"]) == 2


def test_the_reviewer_reads_the_heat_in_every_format(repo: Repo, go_env: dict[str, str]) -> None:
    codec_repo(repo)
    _, data = diff_json(repo, "--profile", str(PROFILE), "--min-heat", "1")
    report = load_report(json.dumps(data))
    assert render(report) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # round trip
    encode = next(f for f in report.new if f.record.function == "(*Encoder).encode")
    cum = pprof_top(go_env)[f"{PKG}.(*Encoder).encode"][1]
    said = f"In `(*Encoder).encode`, {cum:.1f}% of CPU samples (cumulative)"
    assert f"🔥 {said}" in inline_comment(encode)
    summary = RENDERERS["markdown"](report)
    assert summary.index("in `Sum`") < summary.index("in `Describe`")
    assert "Below `--min-heat` 1%: not failing." in summary
    assert encode.heat is not None
    assert f"--profile, {encode.heat.total} samples" in summary.replace("\\", "")
    sarif = json.loads(RENDERERS["sarif"](report))
    results = sarif["runs"][0]["results"]
    ranked = {r["properties"]["function"]: r["rank"] for r in results}
    assert ranked["(*Encoder).encode"] == pytest.approx(cum, abs=0.01)
    assert ranked["Describe"] == 0
    assert "Heat: in `(*Encoder).encode`" in next(
        r["message"]["text"] for r in results if r["properties"]["function"] == "(*Encoder).encode"
    )
    check = schemas.validator(schemas.load(schemas.FIXTURES / "sarif" / "sarif-2.1.0.json"))
    assert schemas.errors(check, sarif) == []


def test_the_action_shows_heat_inline_and_min_heat_passes_the_check(
    tmp_path: Path, go_env: dict[str, str], fake_github: FakeGitHub
) -> None:
    gh = ActionHarness(tmp_path, go_env, fake_github)
    gh.origin.commit({"go.mod": "module example.com/heat\n\ngo 1.21\n", "codec/codec.go": CODEC})
    gh.origin.git("switch", "--quiet", "-c", "feature")
    gh.origin.commit({"codec/codec.go": changed_codec()}, "escapes")
    inputs = {"profile": str(PROFILE), "min-heat": "50"}
    result = gh.run("pull_request", gh.open_pull(3), inputs=inputs)
    assert result.code == 0, result.stdout + result.stderr
    (check,) = gh.server.check_runs(REPOSITORY)
    assert check.conclusion == "success"
    bodies = [c.body for c in gh.server.review_comments(REPOSITORY, 3)]
    assert any(
        "🔥 In `(*Encoder).encode`" in b and "of CPU samples (cumulative)" in b for b in bodies
    )
    assert "are in functions below" in result.summary
    assert result.report()["new"][0]["heat"]["cum_percent"] > 40
