"""A logging library as a benchmark repository: one core package that every other imports.

    python bench/libmodule.py DIR     # the repository in DIR/library, its proxy and caches

The module ``bench.example/log`` is shaped like a structured-logging library: ``core``
(levels, fields, entries, a buffer, an encoder and the core that keeps entries) is imported
by every other package, directly or through another one; three of them use real
``golang.org/x`` code (x/text, x/net) served by ``tests/goproxy.py``'s file proxy; ``cmd/
logdemo`` is a main package; the nested module ``contrib`` (``replace bench.example/log =>
../``) has two more packages importing ``core``. Every package has generated code besides
(``gen.go``: string folding, a few allocations) so that it costs what a real one does to
compile, and a ``use.go`` calling ``core`` the ways a library's packages do.

``main`` is two commits (so that a default-branch run compares ``main~1`` with ``main``), and
three branches change ``core`` in ways its importers see:

- ``field``: ``Entry`` gains a field; every importer's ``make([]core.Entry, 0, 600)`` grows
  past the 64 KiB an implicit stack allocation may take and moves to the heap;
- ``inline``: the body of the inlinable ``Int`` boxes its value; every importer's call of
  it inlines the new body, whose value escapes through ``Core.Write``;
- ``rewrite``: ``Buffer`` and ``Encoder`` are rewritten: buffers come from a pool (the
  inlined ``&Buffer{...}`` is gone from every importer), ``EncodeEntry`` keeps its fields
  (every importer's field slice moves to the heap), and ``Clone`` allocates anew.

Every edit keeps the lines of what it does not change where they were, so that the naive
way's count (heap lines the head's output adds) is the findings' count.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):  # tests.goproxy, and the benchmark's modules
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from consumer import SETTINGS, create_main, git_runner, go_runner  # noqa: E402
from tests.goproxy import Proxy, build_proxy, pinned_release, proxy_environment  # noqa: E402

MODULE = "bench.example/log"
CONTRIB = "contrib"
GO_LINE = "1.25.0"
# Importer packages: directory -> the repository's packages it imports besides core, and
# the golang.org/x packages it uses (its x.go).
IMPORTERS: dict[str, tuple[tuple[str, ...], str]] = {
    "level": ((), ""),
    "field": ((), ""),
    "caller": ((), ""),
    "encoder/json": (("field",), ""),
    "encoder/console": (("encoder/json",), ""),
    "sink": ((), ""),
    "sink/rotate": (("sink",), ""),
    "sampling": (("level",), ""),
    "hook": (("caller",), ""),
    "ctxlog": (("field",), ""),
    "redact": ((), "norm"),
    "host": ((), "idna"),
    "httplog": (("ctxlog",), "hpack"),
    "logger": (("encoder/console", "sink/rotate", "sampling", "hook", "redact", "host"), ""),
    "cmd/logdemo": (("logger", "httplog"), ""),
    f"{CONTRIB}/grpclog": (("logger",), ""),
    f"{CONTRIB}/otel": (("ctxlog",), ""),
}
BRANCHES = ("field", "inline", "rewrite")
_GEN_CORE = 500  # generated functions in core
_GEN_OTHER = 120  # in each other package
_REQUIRED = ("golang.org/x/net", "golang.org/x/text")

X_USES = {
    "norm": (
        "golang.org/x/text/unicode/norm",
        "// Clean is s in Unicode normal form C.\n"
        "func Clean(s string) string {\n\treturn norm.NFC.String(s)\n}\n",
    ),
    "idna": (
        "golang.org/x/net/idna",
        "// ASCII is the ASCII form of a host name.\n"
        "func ASCII(name string) (string, error) {\n\treturn idna.ToASCII(name)\n}\n",
    ),
    "hpack": (
        "golang.org/x/net/http2/hpack",
        "// Header is the HPACK encoding of one header field.\n"
        "func Header(name, value string) int {\n"
        "\tvar n int\n"
        "\tenc := hpack.NewEncoder(counter{&n})\n"
        "\t_ = enc.WriteField(hpack.HeaderField{Name: name, Value: value})\n"
        "\treturn n\n}\n\n"
        "type counter struct{ n *int }\n\n"
        "func (c counter) Write(p []byte) (int, error) {\n"
        "\t*c.n += len(p)\n\treturn len(p), nil\n}\n",
    ),
}

CORE_LEVEL = """package core

// Level is the importance of an entry.
type Level int8

const (
	DebugLevel Level = iota - 1
	InfoLevel
	WarnLevel
	ErrorLevel
)

// Enabled says whether entries at l are written when the minimum is min.
func (l Level) Enabled(min Level) bool {
	return l >= min
}

// String is the level's name.
func (l Level) String() string {
	switch l {
	case DebugLevel:
		return "debug"
	case InfoLevel:
		return "info"
	case WarnLevel:
		return "warn"
	}
	return "error"
}
"""

CORE_FIELD = """package core

// FieldType says which of a field's values is set.
type FieldType uint8

const (
	StringType FieldType = iota
	IntType
	BoolType
)

// Field is one key and value of an entry.
type Field struct {
	Key     string
	Type    FieldType
	Integer int64
	String  string
	Iface   any
}

// String is a field holding a string.
func String(key, val string) Field {
	return Field{Key: key, Type: StringType, String: val}
}

// Int is a field holding an integer.
func Int(key string, v int) Field {
	return Field{Key: key, Type: IntType, Integer: int64(v)}
}

// Bool is a field holding a boolean.
func Bool(key string, v bool) Field {
	f := Field{Key: key, Type: BoolType}
	if v {
		f.Integer = 1
	}
	return f
}
"""
INT_BODY = "\treturn Field{Key: key, Type: IntType, Integer: int64(v)}\n"
INT_BOXED = "\treturn Field{Key: key, Type: IntType, Iface: v}\n"

CORE_ENTRY = """package core

// Caller is where an entry was logged.
type Caller struct {
	File     string
	Line     int
	Function string
}

// Entry is one logged event, its fields apart.
type Entry struct {
	Level      Level
	Time       int64
	LoggerName string
	Message    string
	Caller     Caller
	Stack      string
}
"""
ENTRY_END = "\tStack      string\n}\n"
ENTRY_GROWN = "\tStack      string\n\tContext    []Field\n}\n"

CORE_CORE = """package core

import "sync"

// Core keeps the entries written to it.
type Core struct {
	mu      sync.Mutex
	min     Level
	entries []Entry
	fields  []Field
}

// NewCore is a core writing every level from info up.
func NewCore() *Core {
	return &Core{min: InfoLevel}
}

// Write keeps the entry and its fields, when its level is enabled.
//
//go:noinline
func (c *Core) Write(ent Entry, fields ...Field) {
	if !ent.Level.Enabled(c.min) {
		return
	}
	c.mu.Lock()
	c.entries = append(c.entries, ent)
	c.fields = append(c.fields, fields...)
	c.mu.Unlock()
}

// Len is the number of entries kept.
func (c *Core) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
"""

# The buffer and the encoder at main and on the rewrite branch, line for line.
CORE_BUFFER = """package core

import "strconv"

// Buffer is a growable byte slice for encoding.
type Buffer struct {
	bs []byte
}

// NewBuffer is an empty buffer with room for a line.
func NewBuffer() *Buffer {
	return &Buffer{bs: make([]byte, 0, 256)}
}

// AppendString appends s.
func (b *Buffer) AppendString(s string) {
	b.bs = append(b.bs, s...)
}

// AppendByte appends c.
func (b *Buffer) AppendByte(c byte) {
	b.bs = append(b.bs, c)
}

// AppendInt appends i in decimal.
func (b *Buffer) AppendInt(i int64) {
	b.bs = strconv.AppendInt(b.bs, i, 10)
}

// Len is the number of bytes written.
func (b *Buffer) Len() int {
	return len(b.bs)
}

// String is a copy of the bytes written.
func (b *Buffer) String() string {
	return string(b.bs)
}

// Reset empties the buffer, keeping its room.
func (b *Buffer) Reset() {
	b.bs = b.bs[:0]
}
"""
BUFFER_REWRITTEN = {
    "\treturn &Buffer{bs: make([]byte, 0, 256)}\n": "\treturn bufferPool.Get().(*Buffer)\n",
    "\tb.bs = strconv.AppendInt(b.bs, i, 10)\n": (
        "\tb.bs = append(b.bs, strconv.FormatInt(i, 10)...)\n"
    ),
}
CORE_POOL = """package core

import "sync"

// bufferPool keeps buffers for reuse.
var bufferPool = sync.Pool{New: func() any {
\treturn &Buffer{bs: make([]byte, 0, 256)}
}}
"""

CORE_ENCODER = """package core

// Encoder writes entries as key=value text into its buffer.
type Encoder struct {
	buf    *Buffer
	last   []Field
	spaced bool
}

// NewEncoder is an encoder with a buffer of its own.
func NewEncoder() *Encoder {
	return &Encoder{buf: NewBuffer()}
}

// Clone is a copy of the encoder sharing nothing with it.
func (e *Encoder) Clone() *Encoder {
	c := *e
	c.buf = NewBuffer()
	return &c
}

// EncodeEntry writes the entry and its fields, and returns the buffer.
//
//go:noinline
func (e *Encoder) EncodeEntry(ent Entry, fields []Field) *Buffer {
	e.buf.Reset()
	e.buf.AppendString(ent.Message)
	for _, f := range fields {
		e.addField(f)
	}
	return e.buf
}

func (e *Encoder) addField(f Field) {
	if e.spaced {
		e.buf.AppendByte(' ')
	}
	e.buf.AppendString(f.Key)
	e.buf.AppendByte('=')
	switch f.Type {
	case StringType:
		e.buf.AppendString(f.String)
	default:
		e.buf.AppendInt(f.Integer)
	}
	e.spaced = true
}
"""
ENCODER_REWRITTEN = {
    "\tc := *e\n\tc.buf = NewBuffer()\n\treturn &c\n": (
        "\tc := &Encoder{buf: NewBuffer()}\n\tc.spaced = e.spaced\n\treturn c\n"
    ),
    "\tfor _, f := range fields {\n\t\te.addField(f)\n\t}\n": (
        "\tfor e.last = fields; len(e.last) > 0; e.last = e.last[1:] {\n"
        "\t\te.addField(e.last[0])\n\t}\n"
    ),
}

USE = """package {name}

import (
{imports})

var logs = core.NewCore()

// Log writes one entry with a counter.
func Log(n int) {{
\tlogs.Write(core.Entry{{Message: "{name}"}}, core.Int("n", n), core.String("pkg", "{name}"))
}}

// Batch collects entries; the slice stays on the stack while it is small enough.
func Batch(n int) int {{
\tbatch := make([]core.Entry, 0, 600)
\tfor i := 0; i < n && i < 600; i++ {{
\t\tbatch = append(batch, core.Entry{{Message: "m"}})
\t}}
\treturn len(batch)
}}

// Render encodes a message with a buffer of its own.
func Render(msg string) string {{
\tbuf := core.NewBuffer()
\tbuf.AppendString(msg)
\treturn buf.String()
}}

// Encode encodes an entry with fields of its own.
func Encode(enc *core.Encoder, msg string) int {{
\tfields := []core.Field{{core.String("msg", msg)}}
\treturn enc.EncodeEntry(core.Entry{{Message: msg}}, fields).Len()
}}

// Chain calls the packages this one builds on.
func Chain() int {{
\treturn Batch(1){chain}
}}
"""

GEN = """
// fold{i} folds the words of s into a checksum and a joined form.
func fold{i}(s string, n int) (int, string) {{
\th := {i}
\twords := strings.Fields(s)
\tfor j, w := range words {{
\t\th = h*31 + len(w) + j
\t\tif h%7 == {mod} {{
\t\t\tw = strings.ToUpper(w)
\t\t}}
\t\twords[j] = w
\t}}
\tif n > {i} {{
\t\treturn h, fmt.Sprint(h, n)
\t}}
\treturn h + n, strings.Join(words, ";")
}}
"""

MAIN = "package main\n\nfunc main() {\n\tLog(Chain())\n}\n"
MAIN_FIRST = "package main\n\nfunc main() {}\n"  # before use.go declares what it calls


@dataclass(frozen=True)
class Library:
    """The generated repository, and the environment its go commands need."""

    repo: Path
    modcache: Path
    settings: Mapping[str, str]  # GOPROXY=off, the warm GOMODCACHE, GOFLAGS empty…
    packages: tuple[str, ...]  # repository directories, core first
    modules: tuple[str, ...] = ("", CONTRIB)  # module directories

    def importers(self) -> tuple[str, ...]:
        return self.packages[1:]

    def to_json(self) -> dict[str, object]:
        return {"repo": str(self.repo), "module": MODULE, "packages": list(self.packages)}


def alias(directory: str) -> str:
    return directory.rsplit("/", 1)[-1]


def import_path(directory: str) -> str:
    return f"{MODULE}/{directory}"


def generated(count: int, *, package: str) -> str:
    """``count`` functions folding strings: what the package costs to compile besides."""
    body = "".join(GEN.format(i=i, mod=i % 7) for i in range(count))
    return f'package {package}\n\nimport (\n\t"fmt"\n\t"strings"\n)\n{body}'


def use_source(directory: str) -> str:
    """The importer's calls of core, and of the packages it builds on."""
    deps, _ = IMPORTERS[directory]
    name = "main" if directory.startswith("cmd/") else alias(directory)
    paths = [import_path("core"), *(import_path(d) for d in deps)]
    imports = "".join(f'\t"{p}"\n' for p in sorted(paths))
    chain = "".join(f" + {alias(d)}.Batch(1)" for d in deps)
    return USE.format(name=name, imports=imports, chain=chain)


def x_source(directory: str) -> str | None:
    _, use = IMPORTERS[directory]
    if not use:
        return None
    path, body = X_USES[use]
    return f'package {alias(directory)}\n\nimport "{path}"\n\n{body}'


def core_files(functions: int = _GEN_CORE) -> dict[str, str]:
    return {
        "level.go": CORE_LEVEL,
        "field.go": CORE_FIELD,
        "entry.go": CORE_ENTRY,
        "core.go": CORE_CORE,
        "buffer.go": CORE_BUFFER,
        "encoder.go": CORE_ENCODER,
        "gen.go": generated(functions, package="core"),
    }


def branch_edits(branch: str) -> dict[str, str]:
    """What a branch writes, by repository path, over the files of main."""
    if branch == "field":
        return {"core/entry.go": _edited(CORE_ENTRY, {ENTRY_END: ENTRY_GROWN})}
    if branch == "inline":
        return {"core/field.go": _edited(CORE_FIELD, {INT_BODY: INT_BOXED})}
    if branch == "rewrite":
        return {
            "core/buffer.go": _edited(CORE_BUFFER, BUFFER_REWRITTEN),
            "core/encoder.go": _edited(CORE_ENCODER, ENCODER_REWRITTEN),
            "core/pool.go": CORE_POOL,
        }
    raise ValueError(f"no branch {branch!r}: {', '.join(BRANCHES)}")


def _edited(text: str, edits: Mapping[str, str]) -> str:
    for old, new in edits.items():
        if old not in text:
            raise ValueError(f"no {old!r} to edit")
        text = text.replace(old, new, 1)
    return text


def _write(repo: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")


def _library_files(functions: tuple[int, int]) -> tuple[dict[str, str], dict[str, str]]:
    """The files of main's first commit, and those its second writes (every use.go)."""
    files = {f"core/{name}": text for name, text in core_files(functions[0]).items()}
    uses: dict[str, str] = {}
    for directory in IMPORTERS:
        package = "main" if directory.startswith("cmd/") else alias(directory)
        files[f"{directory}/gen.go"] = generated(functions[1], package=package)
        x = x_source(directory)
        if x:
            files[f"{directory}/x.go"] = x
        uses[f"{directory}/use.go"] = use_source(directory)
        if package == "main":
            files[f"{directory}/main.go"] = MAIN_FIRST
            uses[f"{directory}/main.go"] = MAIN
    files["go.mod"] = f"module {MODULE}\n\ngo {GO_LINE}\n"
    files[f"{CONTRIB}/go.mod"] = (
        f"module {MODULE}/{CONTRIB}\n\ngo {GO_LINE}\n\n"
        f"require {MODULE} v0.0.0-00010101000000-000000000000\n\n"
        f"replace {MODULE} => ../\n"
    )
    return files, uses


def make_library(
    directory: Path,
    env: Mapping[str, str],
    *,
    proxy: Proxy | None = None,
    modcache: Path | None = None,
    functions: tuple[int, int] = (_GEN_CORE, _GEN_OTHER),
) -> Library:
    """Build the repository under ``directory``, with a proxy and a module cache of its own
    unless given.

    ``env``: the go command's environment (the pinned toolchain first on PATH);
    ``functions``: how many generated functions core and each other package have.
    """
    proxy = proxy or build_proxy(directory / "goproxy", [pinned_release()])
    cache = modcache or directory / "gomodcache"
    online = proxy_environment(proxy, env, cache=cache)
    online["GOFLAGS"] = ""
    repo = directory / "library"
    first, second = _library_files(functions)
    uses = {name: text for name, text in second.items() if name not in first}
    _write(repo, {**first, **uses})  # tidied with every import the second commit has
    for module in ("", CONTRIB):  # go.mod and go.sum of both, against the proxy
        go_runner(repo / module, online)("mod", "tidy")
    settings = {name: online[name] for name in SETTINGS}
    settings["GOPROXY"] = "off"
    git = git_runner(repo, online)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "-A", "--", ".", *(f":!{name}" for name in uses))
    git("commit", "--quiet", "-m", "a logging library: its core and packages")
    _write(repo, second)
    git("add", "-A")
    git("commit", "--quiet", "-m", "every package calls its core")
    for branch in BRANCHES:
        git("checkout", "--quiet", "-b", branch, "main")
        _write(repo, branch_edits(branch))
        git("add", "-A")
        git("commit", "--quiet", "-m", f"{branch}: a change of core its importers see")
    git("checkout", "--quiet", "main")
    for module in ("", CONTRIB):  # every module both revisions build is in the cache
        go_runner(repo / module, dict(online, **settings))("list", "-deps", "./...")
    packages = ("core", *IMPORTERS)
    return Library(repo, cache, settings, packages)


def main(argv: Sequence[str] | None = None) -> int:
    return create_main(make_library, __doc__ or "", argv)


if __name__ == "__main__":
    raise SystemExit(main())
