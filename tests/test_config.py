from __future__ import annotations

from pathlib import Path

import pytest

from escape_guard.config import Config, load, parse
from escape_guard.errors import ExitCode, UsageError
from escape_guard.model import EscapeRecord, Kind


def _record(
    path: str = "pkg/a.go",
    kind: Kind = Kind.MOVED,
    function: str = "Parse",
    expression: str = "buf",
) -> EscapeRecord:
    return EscapeRecord(path, 3, 2, kind, expression, f"moved to heap: {expression}", function)


def test_defaults_when_no_file(tmp_path: Path) -> None:
    assert load(str(tmp_path)) == Config()


def test_full_file(tmp_path: Path) -> None:
    (tmp_path / ".escape-guard.yml").write_text(
        "packages: [./cmd/..., ./internal/...]\n"
        "tags: integration\n"
        "ignore: ['**/*_gen.go']\n"
        "report: [moved]\n"
        "fail-on: none\n"
        "accept:\n"
        "  - path: pkg/*.go\n"
        "    function: '(*Pool).*'\n"
        "    reason: pooled\n"
    )
    config = load(str(tmp_path))
    assert config.packages == ("./cmd/...", "./internal/...")
    assert config.tags == ("integration",)
    assert config.fail_on == "none"
    assert config.accepts(_record(function="(*Pool).Get")) == "pooled"
    assert config.accepts(_record(function="Parse")) == ""
    assert config.ignores(_record(path="x/y_gen.go"))
    assert "kind escape" in config.ignores(_record(kind=Kind.ESCAPE))
    assert config.ignores(_record()) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pakages: [./...]\n", "unknown key 'pakages'"),
        ("packages: 3\n", "packages: expected a list, got int"),
        ("tags: [1]\n", "tags: every entry must be a non-empty string"),
        ("report: [leaking]\n", "report: 'leaking' is not a kind"),
        ("fail-on: always\n", "fail-on: must be one of new, indirect, none"),
        ("accept: [{function: F}]\n", "accept[0]: 'path' is required"),
        ("accept: [{path: a.go, line: 3}]\n", "accept[0]: unknown key 'line'"),
        ("accept: [{path: a.go, kind: leaking}]\n", "accept[0].kind: must be"),
        ("accept: [{path: [a]}]\n", "accept[0].path: expected a string, got list"),
        ("- just a list\n", "the top level must be a mapping"),
        ("packages: [unterminated\n", "not valid YAML"),
    ],
)
def test_errors_name_the_key_and_file(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / ".escape-guard.yml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load(str(tmp_path))
    assert expected in info.value.message
    assert str(path) in info.value.message
    assert info.value.exit_code is ExitCode.USAGE


def test_explicit_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        load(str(tmp_path), str(tmp_path / "nope.yml"))


def test_empty_file_is_defaults() -> None:
    assert parse(None, source="x.yml").packages == ("./...",)


def test_overrides_keep_unset_values() -> None:
    config = Config(tags=("a",)).with_overrides(tags=None, packages=("./x",))
    assert config.tags == ("a",)
    assert config.packages == ("./x",)
