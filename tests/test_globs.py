from __future__ import annotations

import pytest

from escape_guard.globs import matches


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("a/b/c_gen.go", "**/*_gen.go", True),
        ("c_gen.go", "**/*_gen.go", True),
        ("c_gen.go", "*_gen.go", True),
        ("a/b/c_gen.go", "*_gen.go", True),  # no slash: any directory
        ("a/b/c.go", "a/*.go", False),  # * stays within a segment
        ("a/c.go", "a/*.go", True),
        ("a/b/c.go", "a/**", True),
        ("a/b/c.go", "/a/**/c.go", True),
        ("ab/c.go", "a/**", False),
        ("a/x.go", "a/?.go", True),
        ("a/xy.go", "a/?.go", False),
        ("a+b/c.go", "a+b/*", True),
    ],
)
def test_matches(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, pattern) is expected
