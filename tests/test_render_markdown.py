"""The Markdown renderer, checked on the HTML that GitHub's renderer (cmark-gfm) makes of it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from escape_guard.model import Kind, Report, Revision, Status
from escape_guard.render.markdown import WHY_URL, headline, inline_comment, render
from escape_guard.render.mdsafe import ZWJ, code_span, fenced, text, visible
from tests.factories import GRAB_EXPLANATION, finding, mixed_report, report

# Everything a hostile pull request could put in a path, a name, a source line or a reason.
EVIL = (
    "@octocat <script>alert(1)</script> </details> ``` `x` ``y`` #123 org/repo#7 "
    "[x](javascript:alert(1)) <img src=x onerror=alert(1)> **b** _i_ | ~~s~~ &amp; \\ \u202e"
)
ALLOWED_TAGS = {
    "h3",
    "p",
    "strong",
    "code",
    "pre",
    "details",
    "summary",
    "ul",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "br",
    "em",
}
EXPLANATION = "Compiler's explanation"
MENTION = re.compile(r"(?:^|\W)@[A-Za-z0-9]")
REFERENCE = re.compile(r"(?:^|[^\w&])#\d")  # "#123", "org/repo#7"; not an entity like "&#39;"


def to_html(markdown: str) -> str:
    # UNSAFE lets raw HTML through, as GitHub does before sanitising: <details> must
    # survive, and nothing from the code may become a tag.
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Page(HTMLParser):
    """Tags, links, and text split into code and prose, with nesting checked."""

    VOID = frozenset({"br", "img", "input", "hr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.prose: list[str] = []
        self.code: list[str] = []
        self.stack: list[str] = []
        self.details: list[tuple[str, str]] = []  # (summary, code inside)
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs.extend(v or "" for k, v in attrs if k == "href")
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "details":
            self.details.append(("", ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # "<br />": a void tag has no end to check

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.code if {"code", "pre"} & set(self.stack) else self.prose).append(data)
        if "details" in self.stack and self.details:
            summary, inside = self.details[-1]
            if self.stack[-1] == "summary":
                summary += data
            elif self.stack[-1] in ("code", "pre"):
                inside += data
            self.details[-1] = (summary, inside)


def check_safe(markdown: str) -> Page:
    page = Page(to_html(markdown))
    assert page.stack == [], f"unclosed: {page.stack}"
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    assert all(href == WHY_URL for href in page.hrefs), page.hrefs
    prose = "".join(page.prose)
    assert not MENTION.search(prose), prose
    assert not REFERENCE.search(prose), prose
    return page


def hostile_report() -> Report:
    evil = finding(
        path=f"app/{EVIL}.go",
        function=EVIL,
        expression=EVIL,
        source=EVIL,
        explanation=(EVIL, "```", "````", "</details>", "~~~"),
        kind=Kind.ESCAPE,
        message=EVIL,
    )
    return report(
        evil,
        evil._replace(status=Status.INDIRECT),
        evil._replace(status=Status.FIXED),
        evil._replace(status=Status.ACCEPTED, reason=EVIL),
        base=Revision(EVIL, "1" * 40),
        head=Revision(EVIL, "2" * 40),
        go_version=EVIL,
        packages=(EVIL,),
        timings=((EVIL, 1.0),),
        notes=(EVIL,),
    )


# ---- the pieces ----


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "a`b",
        "``double``",
        "`",
        "`lead",
        "trail`",
        " spaced ",
        "@octocat",
        "<script>",
        "</details>",
        EVIL,
    ],
)
def test_code_span_shows_its_content_exactly(value: str) -> None:
    page = Page(to_html(code_span(value)))
    assert page.tags == ["p", "code"]
    assert "".join(page.code) == visible(value)


def test_fenced_block_cannot_be_closed_by_its_content() -> None:
    lines = ["flow: a ← b", "```", "````", "~~~", "</details>", "<script>x</script>", EVIL]
    page = Page(to_html(fenced(lines) + "\n\nafter"))
    assert page.tags.count("pre") == 1
    assert "".join(page.code) == visible("\n".join(lines)) + "\n"
    assert "".join(page.prose).strip() == "after"


def test_text_renders_literally_and_links_nobody() -> None:
    page = check_safe(text(EVIL))
    assert page.tags == ["p"]
    assert "".join(page.prose).replace(ZWJ, "").strip() == visible(EVIL)


def test_text_is_one_line() -> None:
    assert "\n" not in text("a\nb\r\nc\rd")
    assert "\n" not in code_span("a\nb")


# ---- inline comments ----


def test_inline_comment_reads_like_the_design() -> None:
    body = inline_comment(finding(explanation=GRAB_EXPLANATION))
    first, second = body.splitlines()[:2]
    assert first == "**New heap allocation** in `grab`: `v` is moved to the heap.\\"
    assert second == (
        "The address of `v` is stored in the package-level variable `sinkInt`, "
        "so `v` must outlive the call."
    )
    assert "<details><summary>Compiler's explanation</summary>\n\n```\n" in body
    assert "Accept it with `//escape-guard:ignore` on this line" in body
    page = check_safe(body)
    assert page.details == [("Compiler's explanation", "\n".join(GRAB_EXPLANATION) + "\n")]


def test_inline_comment_without_explanation_has_no_details() -> None:
    body = inline_comment(finding(kind=Kind.ESCAPE, expression="&T{...}", function=""))
    assert body.startswith("**New heap allocation**: `&T{...}` escapes to the heap.")
    assert "<details>" not in body


@pytest.mark.parametrize(
    ("status", "title", "extra"),
    [
        (Status.INDIRECT, "**Heap allocation caused elsewhere**", "does not fail the check"),
        (Status.ACCEPTED, "**Accepted heap allocation**", "Accepted: hot path, measured."),
        (Status.FIXED, "**Fixed heap allocation**", "no longer escapes"),
    ],
)
def test_inline_comment_per_status(status: Status, title: str, extra: str) -> None:
    body = inline_comment(finding(status=status, reason="hot path, measured."))
    assert body.startswith(title)
    assert extra in body


def test_inline_comment_is_safe_with_hostile_content() -> None:
    rec = hostile_report().findings[0]
    page = check_safe(inline_comment(rec))
    assert len(page.details) == 1
    summary, inside = page.details[0]
    assert summary == "Compiler's explanation"
    assert inside == visible("\n".join(rec.record.explanation)) + "\n"
    assert visible(EVIL) in "".join(page.code)  # the expression, shown as code


def test_long_explanations_are_cut() -> None:
    rec = finding(explanation=[f"  from x{i} (assign) at a.go:1:1" for i in range(500)])
    body = inline_comment(rec)
    assert "… and 440 more lines" in body
    assert len(body) < 5000


# ---- the summary ----


def test_headline() -> None:
    assert headline(report()) == "No new heap escapes"
    fixed = [finding(status=Status.FIXED), finding(status=Status.FIXED, line=2)]
    # A run with new escapes fails: no celebration in its headline.
    assert headline(report(finding(), *fixed)) == "1 new heap escape, 2 fixed"
    assert headline(mixed_report()) == "2 new heap escapes, 1 indirect, 1 fixed"
    assert headline(report(*fixed)) == "No new heap escapes, 2 fixed 🎉"
    indirect = finding(status=Status.INDIRECT, line=3)
    assert headline(report(indirect, *fixed)) == "No new heap escapes, 1 indirect, 2 fixed 🎉"


def test_summary_sections() -> None:
    body = render(mixed_report())
    assert body.startswith("### 2 new heap escapes, 1 indirect, 1 fixed\n")
    page = check_safe(body)
    assert page.tags.count("table") == 1
    assert "| New | 1 | 1 | 2 |" in body
    assert "| Unchanged | 0 | 1 | 1 |" in body
    sections = [(s, code) for s, code in page.details if s != EXPLANATION]
    assert [s for s, _ in sections] == ["1 indirect heap escape (not failing)"]
    assert "lib/buf.go:12:9" in sections[0][1]  # the indirect one is folded (as code)
    assert "**Fixed** — these no longer allocate:" in body
    assert "| Fixed | 0 | 1 | 1 |" in body
    assert "🎉" not in body and "emoved" not in body
    assert "Accepted: sized by config." in body
    assert (
        "Built with Go `go1.27.3` · packages `./...` · base `main` `1111111` · "
        "merge base `3333333` · head `feature` `2222222`"
    ) in body
    assert "Timings: build 1.5 s · compare 250 ms · total 1.8 s" in body
    assert "more" not in body


def test_summary_without_findings() -> None:
    body = render(report(notes=("no Go files changed: nothing was built",)))
    assert body.startswith("### No new heap escapes\n")
    assert "<table>" not in to_html(body)
    assert "- no Go files changed: nothing was built" in body


def test_summary_is_safe_with_hostile_content() -> None:
    page = check_safe(render(hostile_report()))
    assert [s for s, _ in page.details] == [
        EXPLANATION,  # of the new one
        "1 indirect heap escape (not failing)",
        EXPLANATION,  # of the indirect one, folded inside
    ]
    assert visible(EVIL) in "".join(page.code)


def huge_report(n: int) -> Report:
    new = [
        finding(
            path=f"pkg{i % 50}/file{i}.go",
            line=i + 1,
            source="x := &T{}" * 5,
            explanation=GRAB_EXPLANATION,
        )
        for i in range(n)
    ]
    indirect = [f._replace(status=Status.INDIRECT) for f in new]
    fixed = [f._replace(status=Status.FIXED) for f in new[: n // 2]]
    notes = [f"note {i}" for i in range(20)]
    return report(*new, *indirect, *fixed, notes=notes)


def shown_and_omitted(body: str, header: str) -> tuple[int, int]:
    lines = body.split(header, 1)[1].split("\n")[2:]
    # The list ends at the first line that is neither an item nor indented into one.
    end = next((i for i, line in enumerate(lines) if line and line[0] not in "- "), len(lines))
    section = "\n".join(lines[:end])
    shown = sum(1 for line in section.splitlines() if line.startswith("- `"))
    more = re.search(r"^- … and (\d+) more$", section, re.MULTILINE)
    return shown, int(more.group(1)) if more else 0


@pytest.mark.parametrize("limit", [65536, 20000, 3000, 1500])
def test_truncation_keeps_under_the_limit_and_says_how_many(limit: int) -> None:
    big = huge_report(3000)
    body = render(big, max_chars=limit)
    assert len(body) <= limit
    page = check_safe(body)
    assert body.startswith("### 3000 new heap escapes, 3000 indirect, 1500 fixed\n")
    shown, omitted = shown_and_omitted(body, "**New** — these fail the check:")
    assert omitted > 0 and shown + omitted == 3000
    # the indirect block stays whole even when cut
    assert len([s for s, _ in page.details if s != EXPLANATION]) == 1
    assert "Built with Go" in body  # provenance is never cut


@pytest.mark.parametrize("limit", [65536, 20000])
def test_every_list_keeps_a_share_of_a_body_too_small_for_all(limit: int) -> None:
    body = render(huge_report(3000), max_chars=limit)
    new = shown_and_omitted(body, "**New** — these fail the check:")
    fixed = shown_and_omitted(body, "**Fixed** — these no longer allocate:")
    indirect = shown_and_omitted(body, "They do not fail the check.")
    for shown, omitted in (new, fixed, indirect):
        assert shown > 0 and omitted > 0
    assert new[0] + new[1] == indirect[0] + indirect[1] == 3000 and sum(fixed) == 1500
    # Equal room each: the fixed items, without a hint or an explanation, are shorter.
    assert abs(new[0] - indirect[0]) <= 2 and fixed[0] > new[0]


def test_a_short_list_is_shown_whole_beside_a_long_one() -> None:
    big = huge_report(3000)
    few_fixed = big._replace(
        findings=tuple(f for f in big.findings if f.status is not Status.FIXED)
        + tuple(f._replace(status=Status.FIXED) for f in big.findings[:3])
    )
    body = render(few_fixed, max_chars=65536)
    assert shown_and_omitted(body, "**Fixed** — these no longer allocate:") == (3, 0)


def test_notes_get_room_before_long_lists() -> None:
    body = render(huge_report(3000), max_chars=65536)
    assert "- note 19" in body


def test_default_limit_is_githubs() -> None:
    assert len(render(huge_report(3000))) <= 65536


def test_limit_smaller_than_the_skeleton_still_holds() -> None:
    for limit in (40, 200):
        assert len(render(huge_report(100), max_chars=limit)) <= limit


# ---- line breaks and explanations in lists ----


def _html(markdown: str, *, hardbreaks: bool) -> str:
    options = Options.CMARK_OPT_UNSAFE | (Options.CMARK_OPT_HARDBREAKS if hardbreaks else 0)
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=options)


@pytest.mark.parametrize("hardbreaks", [True, False], ids=["comment", "job-summary"])
def test_list_items_break_lines_with_and_without_hard_breaks(hardbreaks: bool) -> None:
    body = render(report(finding(source="sinkInt = &v", explanation=GRAB_EXPLANATION)))
    html = _html(body, hardbreaks=hardbreaks)
    assert (
        "is moved to the heap.<br />\n<code>sinkInt = &amp;v</code><br />\nThe address of" in html
    )
    assert "<br />\n<br />" not in html and "\\" not in html


@pytest.mark.parametrize("hardbreaks", [True, False], ids=["comment", "job-summary"])
def test_inline_comment_breaks_before_its_hint_either_way(hardbreaks: bool) -> None:
    html = _html(inline_comment(finding(explanation=GRAB_EXPLANATION)), hardbreaks=hardbreaks)
    assert "is moved to the heap.<br />\nThe address of <code>v</code>" in html


def test_summary_folds_the_explanation_into_new_and_indirect_items() -> None:
    explained = finding(explanation=GRAB_EXPLANATION)
    body = render(
        report(
            explained,
            explained._replace(status=Status.INDIRECT),
            explained._replace(status=Status.FIXED),
            explained._replace(status=Status.ACCEPTED, reason="fine"),
        )
    )
    for hardbreaks in (True, False):
        page = Page(_html(body, hardbreaks=hardbreaks))
        assert page.stack == []
        summaries = [summary for summary, _ in page.details]
        assert summaries == [
            "Compiler's explanation",
            "1 indirect heap escape (not failing)",
            "Compiler's explanation",
        ]
        flow = "\n".join(GRAB_EXPLANATION) + "\n"
        assert page.details[0][1] == flow and page.details[2][1] == flow


def test_summary_of_a_passing_run_celebrates_its_fixes() -> None:
    body = render(report(finding(status=Status.FIXED)))
    assert body.startswith("### No new heap escapes, 1 fixed 🎉\n")
    assert "**Fixed** 🎉 — these no longer allocate:" in body


def test_a_working_tree_head_is_named_by_the_commit_it_sits_on() -> None:
    tree = Revision("working tree", "4" * 40, on="2" * 40)
    body = render(report(finding(), head=tree))
    assert "head the working tree (uncommitted changes on top of `2222222`)" in body
    assert "4444444" not in body


def test_findings_of_some_platforms_only_say_which() -> None:
    windows = finding(status=Status.NEW)._replace(platforms=("windows/amd64",))
    everywhere = finding(status=Status.NEW, line=40)
    both = ("linux/amd64", "windows/amd64")
    body = render(report(windows, everywhere)._replace(platforms=both))
    assert "(on `windows/amd64` only)" in body
    assert body.count(" only)") == 1  # the finding on every platform says nothing
    assert "for `linux/amd64`, `windows/amd64`" in body
