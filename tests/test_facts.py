"""Exported facts and the reach of a change, without building (builds/facts.py, impact.py)."""

from __future__ import annotations

from escape_guard.builds.checkout import Tree
from escape_guard.builds.facts import (
    Declarations,
    changed_declarations,
    changed_facts,
    declarations,
    inlinable,
    may_inline,
    package_facts,
    seen_change,
)
from escape_guard.builds.golist import Graph, Package
from escape_guard.builds.impact import (
    dependency_reach,
    export_reach,
    module_changes,
    profile_mains,
    profile_reach,
)
from escape_guard.model import EscapeRecord, Kind
from tests.conftest import Repo
from tests.factories import record

LIB = "example.com/m/lib"


def leak(function: str, parameter: str, *, package: str = LIB) -> EscapeRecord:
    return record(
        kind=Kind.LEAKING_PARAM,
        expression=parameter,
        message=f"leaking param: {parameter}",
        function=function,
        package=package,
    )


def inline(function: str, *, package: str = LIB) -> EscapeRecord:
    return record(
        kind=Kind.INLINING, expression=function, message=f"can inline {function}", package=package
    )


def test_leak_tags_and_inlinability_per_package_with_pgo_variants_merged() -> None:
    base = package_facts([leak("Keep", "p"), inline("Keep")])
    head = package_facts([leak("Keep", "p", package=f"{LIB} [example.com/m/cmd]"), inline("Keep")])
    assert changed_facts(base, head) == {}
    assert inlinable(base.values()) == {"Keep"}
    more = package_facts([leak("Keep", "p"), leak("Keep", "q"), inline("Keep")])
    assert changed_facts(base, more) == {LIB: "`Keep` now says `leaking param: q`"}
    fewer = package_facts([leak("Keep", "p")])
    assert changed_facts(base, fewer) == {LIB: "`Keep` can no longer be inlined"}


SOURCE = """package lib

// Size is how much fits.
const Size = 64

// Keep is small.
func Keep(p *int) int {
	return *p
}

// Box is generic.
func Box[T any](v T) T {
	return v
}

// Long is long.
func Long(xs []int) int {
	return len(xs)
}
"""


def _declared(repo: Repo, text: str) -> Declarations:
    repo.write({"lib/lib.go": text})
    return declarations(Tree(str(repo.path)), "lib")


def test_a_trees_declarations_are_read_once_for_every_question(repo: Repo) -> None:
    repo.write({"lib/lib.go": SOURCE})
    tree = Tree(str(repo.path))
    first = declarations(tree, "lib")
    repo.write({"lib/lib.go": "package lib\n"})  # a revision's files do not change in a run
    assert declarations(tree, "lib") is first
    assert "Keep" in first.bodies
    assert declarations(Tree(str(repo.path)), "lib").bodies == {}  # another tree reads anew


def test_declarations_judge_what_importers_see(repo: Repo) -> None:
    base = _declared(repo, SOURCE)

    def why(text: str, can_inline: tuple[str, ...] = ("Keep",)) -> str | None:
        return changed_declarations(base, _declared(repo, text), can_inline)

    assert why(SOURCE.replace("// Size is how much fits.", "// Size: how much.")) is None
    assert why(SOURCE.replace("len(xs)", "len(xs) + 1")) is None  # Long is not inlined
    assert why(SOURCE.replace("return *p", "return *p + 1")) == (
        "the body of `Keep`, which importers can inline, changed"
    )
    assert why(SOURCE.replace("return v", "return *&v")) == "the generic `Box` changed"
    assert why(SOURCE.replace("64", "1 << 20")) == "its package-level declarations changed"


LONG = SOURCE.replace(
    "\treturn len(xs)\n",
    "".join(f"\tif len(xs) > {i} {{\n\t\txs = xs[1:]\n\t}}\n" for i in range(12))
    + "\treturn len(xs)\n",
)


def test_what_the_sources_show_before_anything_is_compiled(repo: Repo) -> None:
    source = LONG
    base = _declared(repo, source)

    def seen(text: str) -> str | None:
        return seen_change(base, _declared(repo, text))

    assert may_inline(base) >= {"Keep", "Box"} and "Long" not in may_inline(base)
    assert seen(source.replace("return *p", "return *p + 1")) == (
        "the body of `Keep`, which importers may inline, changed"
    )
    assert seen(source.replace("len(xs)", "len(xs) + 1")) is None  # too big to inline
    assert seen(source.replace("Keep(p *int)", "Keep(p *int, _ ...int)")) == (
        "the signature of `Keep` changed"
    )
    assert seen(source.replace("64", "1 << 20")) == "its package-level declarations changed"
    noinline = source.replace("func Keep(", "//go:noinline\nfunc Keep(")
    assert "Keep" not in may_inline(_declared(repo, noinline))
    deferred = source.replace("return *p", "defer println()\n\treturn *p")
    assert "Keep" not in may_inline(_declared(repo, deferred))


def package(path: str, directory: str, *imports: str, **fields: object) -> Package:
    values: dict[str, object] = {
        "name": "lib",
        "module": "example.com/m",
        "own": True,
        "go": "1.21",
        "version": "",
        "error": "",
    }
    values.update(fields)
    return Package(path, directory, imports=imports, **values)


def dep(path: str, version: str) -> Package:
    module = "/".join(path.split("/")[:3])
    return package(path, "/mod/" + path, module=module, own=False, version=version)


def graph(*packages: Package) -> Graph:
    return Graph({p.path: p for p in packages})


def test_dependency_reach_follows_imports_to_bumped_and_vendored_code() -> None:
    text, net = "golang.org/x/text/width", "golang.org/x/net/idna"
    base = graph(
        package("example.com/m/a", "a", text),
        package("example.com/m/b", "b", "example.com/m/a"),
        package("example.com/m/c", "c", net),
        package("example.com/m/d", "d"),
        dep(text, "v0.26.0"),
        dep(net, "v0.41.0"),
    )
    head = graph(*[p for p in base.packages.values() if p.path != text], dep(text, "v0.37.0"))
    reach = dependency_reach(base, head, module_changes(["go.mod", "go.sum", "README.md"]))
    bumped = f"they import `{text}`: `golang.org/x/text` went from v0.26.0 to v0.37.0"
    assert reach == {"a": bumped, "b": bumped}
    edited = dependency_reach(base, base, [f"vendor/{net}/idna.go"])
    assert edited == {"c": f"they import `{net}`: the vendored code of `{net}` changed"}


def test_export_reach_takes_every_importer_through_pgo_variants() -> None:
    lib, app = "example.com/m/lib", "example.com/m/app"
    g = graph(
        package(lib, "lib"),
        package(f"{lib} [example.com/m/cmd]", "lib"),
        package(app, "app", lib),
        package("example.com/m/cmd", "cmd", f"{lib} [example.com/m/cmd]", name="main"),
        package("example.com/m/other", "other"),
    )
    reach = export_reach([g], {lib: "`Keep` now says `leaking param: p`"})
    assert set(reach) == {"app", "cmd"}
    assert profile_mains([g], {"lib"}) == {
        "cmd": "its default.pgo applies to `lib`, which is compiled for it"
    }
    assert set(profile_reach([g], ["cmd/default.pgo"])) == {"lib", "cmd"}


def test_what_an_unchanged_importer_cannot_use_changes_nothing(repo: Repo) -> None:
    base = _declared(repo, SOURCE)
    added = SOURCE + "\nvar sink *int\n\n// Grab is new.\nfunc Grab() {\n\tv := 1\n\tsink = &v\n}\n"
    head = _declared(repo, added)
    assert changed_declarations(base, head, ("Keep", "Grab")) is None
    grown = SOURCE.replace("const Size = 64", "const (\n\tSize = 64\n\tMore = 2\n)")
    assert changed_declarations(base, _declared(repo, grown), ()) is not None
    facts = package_facts([inline("Keep")])
    more = package_facts([inline("Keep"), inline("Grab"), leak("Grab", "p")])
    assert changed_facts(facts, more, common={LIB: {"Keep", "Box", "Long"}}) == {}
    assert changed_facts(facts, more) != {}
