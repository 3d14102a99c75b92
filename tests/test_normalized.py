"""A revision's records as the comparison reads them: each printed once, resolved, with its
package as the compiler's header said."""

from __future__ import annotations

from pathlib import Path

from escape_guard.builds.analysis import _normalized
from escape_guard.builds.checkout import Tree
from escape_guard.builds.compile import RevisionBuild
from escape_guard.builds.modules import Module, Step
from escape_guard.model import EscapeRecord, Kind

MODULE = Module("example.com/m", "")
STEP = Step(MODULE, ("./...",))
SOURCE = "package codec\n\nfunc Describe(n int) *int {\n\tv := n\n\treturn &v\n}\n"


def _moved(package: str) -> EscapeRecord:
    return EscapeRecord(
        "codec/codec.go", 4, 2, Kind.MOVED, "v", "moved to heap: v", package=package
    )


def test_a_line_printed_again_for_a_main_keeps_the_mains_package_whichever_came_first(
    tmp_path: Path,
) -> None:
    (tmp_path / "codec").mkdir()
    (tmp_path / "codec" / "codec.go").write_text(SOURCE)
    plain, for_main = (
        _moved("example.com/m/codec"),
        _moved("example.com/m/codec [example.com/m/cmd/app]"),
    )
    for printed in ([plain, for_main], [for_main, plain]):
        built = RevisionBuild(tuple((STEP, r) for r in printed), (MODULE,))
        analysis = _normalized(Tree(str(tmp_path), how="in place"), built)
        assert [(r.package, r.function) for r in analysis.records] == [
            ("example.com/m/codec [example.com/m/cmd/app]", "Describe")
        ]


def test_records_a_step_printed_in_many_files_are_each_resolved_into_the_repository(
    tmp_path: Path,
) -> None:
    (tmp_path / "codec").mkdir()
    (tmp_path / "codec" / "codec.go").write_text(SOURCE)
    printed = [
        _moved("example.com/m/codec")._replace(path=f"{tmp_path}/codec/codec.go", line=4 + i)
        for i in range(3)
    ]
    built = RevisionBuild(tuple((STEP, r) for r in printed), (MODULE,))
    analysis = _normalized(Tree(str(tmp_path), how="in place"), built)
    assert [(r.path, r.line, r.in_repo) for r in analysis.records] == [
        ("codec/codec.go", 4, True),
        ("codec/codec.go", 5, True),
        ("codec/codec.go", 6, True),
    ]
