// Every scenario in testdata/invalid/ must produce exactly the diagnostics its .expected file
// lists (first lines, in order), and each caret must sit under the column it names.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileScenario, type Diagnostic, formatDiagnostic, parseScenario } from "./mod.ts";
import { catalog } from "./_test_catalog.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = "testdata/invalid";
const files = readdirSync(root + dir).filter((f) => f.endsWith(".ptlab")).sort();

function diagnose(file: string, source: string): Diagnostic[] {
  const parsed = parseScenario(source, file, { readFile: (p) => readFileSync(root + p, "utf8") });
  if (!parsed.scenario) return parsed.diagnostics;
  const arch = parsed.scenario.arch?.name ?? "x86_64-4level";
  return compileScenario(parsed.scenario, arch, catalog).diagnostics;
}

Deno.test("testdata/invalid holds at least 30 scenarios, each with its .expected", () => {
  assert.ok(files.length >= 30, `only ${files.length} invalid scenarios`);
  const all = readdirSync(root + dir);
  for (const f of files) assert.ok(all.includes(f.replace(/\.ptlab$/, ".expected")), f);
  for (const f of all) {
    assert.ok(f.endsWith(".ptlab") || f.endsWith(".expected"), `stray file ${f}`);
  }
});

for (const name of files) {
  Deno.test(`invalid: ${name}`, () => {
    const file = `${dir}/${name}`;
    const source = readFileSync(root + file, "utf8");
    const expected = readFileSync(root + file.replace(/\.ptlab$/, ".expected"), "utf8")
      .split("\n")
      .filter((l) => l.length > 0);
    const diags = diagnose(file, source);
    assert.deepEqual(diags.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`), expected);
    const lines = source.split("\n");
    for (const d of diags) {
      assert.ok(d.line >= 1, `diagnostic without a line: ${d.message}`);
      const text = formatDiagnostic(d, source).split("\n");
      assert.equal(text.length, 3);
      assert.equal(text[1], lines[d.line - 1]);
      // the caret is under the column (tabs before it repeated), the tildes cover the token
      const pad = [...lines[d.line - 1].slice(0, d.col - 1)].map((c) => c === "\t" ? c : " ");
      assert.equal(text[2], pad.join("") + "^" + "~".repeat(d.length - 1));
      // ... and it points at text, or just past the end of the line (errors at end of input)
      const at = lines[d.line - 1][d.col - 1];
      assert.ok(at === undefined ? d.col === lines[d.line - 1].length + 1 : at.trim() !== "");
    }
  });
}
