import assert from "node:assert/strict";
import {
  capDiagnostics,
  closest,
  diagnosticAt,
  editDistance,
  errorCount,
  locate,
  MAX_DIAGNOSTICS,
  MAX_SHOWN_LINE,
} from "./diagnostics.ts";
import { type Diagnostic, formatDiagnostic, parseScenario } from "./mod.ts";
import { runScenario } from "../mod.ts";

Deno.test("formatDiagnostic: location line, source line, caret and tildes", () => {
  const src = "mm a\nmap a 0x1001 size 4K\n";
  const d: Diagnostic = {
    file: "f.ptlab",
    line: 2,
    col: 7,
    length: 6,
    message: "address 0x1001 is not aligned",
    kind: "semantic",
  };
  assert.equal(
    formatDiagnostic(d, src),
    "f.ptlab:2:7: address 0x1001 is not aligned\nmap a 0x1001 size 4K\n      ^~~~~~",
  );
  assert.equal(formatDiagnostic({ ...d, col: 1, length: 1 }, src).split("\n")[2], "^");
});

Deno.test("formatDiagnostic: a tab is one column and is repeated in the caret line; CRLF line ends are not shown", () => {
  const src = "mm a\r\n\tmap a 0x1001 size 4K\r\n";
  const r = parseScenario("mm a\r\n\tmap a = 4K\r\n", "t.ptlab");
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.col]), [[2, 8]]);
  const d: Diagnostic = {
    file: "t.ptlab",
    line: 2,
    col: 8,
    length: 6,
    message: "m",
    kind: "semantic",
  };
  assert.equal(formatDiagnostic(d, src), "t.ptlab:2:8: m\n\tmap a 0x1001 size 4K\n\t      ^~~~~~");
});

Deno.test("formatDiagnostic: a diagnostic outside the file has only its first line", () => {
  const d: Diagnostic = {
    file: "command line",
    line: 0,
    col: 0,
    length: 1,
    message: 'unknown arch "x"',
    kind: "semantic",
  };
  assert.equal(formatDiagnostic(d, "mm a\n"), 'command line: unknown arch "x"');
});

Deno.test("locate and diagnosticAt: offsets to 1-based lines and columns", () => {
  const src = "ab\ncde\n\nf";
  assert.deepEqual(locate(src, 0), { line: 1, col: 1 });
  assert.deepEqual(locate(src, 2), { line: 1, col: 3 });
  assert.deepEqual(locate(src, 3), { line: 2, col: 1 });
  assert.deepEqual(locate(src, 7), { line: 3, col: 1 });
  assert.deepEqual(locate(src, 8), { line: 4, col: 1 });
  assert.deepEqual(locate(src, 9), { line: 4, col: 2 });
  // a span running over the end of its line is clipped to it
  const d = diagnosticAt("f", src, { offset: 4, length: 10 }, "m", "syntax");
  assert.deepEqual([d.line, d.col, d.length], [2, 2, 2]);
});

Deno.test("editDistance: Levenshtein plus adjacent transpositions", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("alpah", "alpha"), 1);
  assert.equal(editDistance("nr_pagetable_pages", "nr_page_table_pages"), 1);
  assert.equal(editDistance("vmpt", "vmpte"), 1);
});

Deno.test("closest: likely misspellings only, ties broken by prefix or refused", () => {
  assert.equal(
    closest("x86_64-4levle", ["x86_64-4level", "x86_64-5level", "i386-pae"]),
    "x86_64-4level",
  );
  assert.equal(closest("of", ["on", "off"]), "off");
  assert.equal(closest("6.7", ["6.1", "6.6", "6.12", "6.18"]), undefined);
  assert.equal(closest("zzzz", ["kernel", "thp"]), undefined);
  assert.equal(closest("kernel", ["kernel"]), undefined);
  assert.equal(closest("Kernel", ["kernel", "thp"]), "kernel");
  assert.equal(closest("a", []), undefined);
});

Deno.test("formatDiagnostic: a long line is shown as a window around the caret", () => {
  // 5,000 copies of an 8-character word on one line; the error is in copy 3,000
  const line = "abcdefg ".repeat(5000);
  const col = 3000 * 8 + 1;
  const d: Diagnostic = { file: "l.ptlab", line: 1, col, length: 7, message: "m", kind: "syntax" };
  const [head, text, caret] = formatDiagnostic(d, line).split("\n");
  assert.equal(head, `l.ptlab:1:${col}: m`);
  assert.ok(text.startsWith("...") && text.endsWith("..."));
  assert.equal(text.length, MAX_SHOWN_LINE + 6);
  // the caret still sits under the word it names
  assert.equal(text.slice(caret.indexOf("^"), caret.indexOf("^") + 7), "abcdefg");
  assert.equal(caret.trim(), "^~~~~~~");
  // near the start: no leading "...", the column unchanged
  const first = formatDiagnostic({ ...d, col: 9 }, line).split("\n");
  assert.ok(!first[1].startsWith("...") && first[1].endsWith("..."));
  assert.equal(first[2], " ".repeat(8) + "^~~~~~~");
});

Deno.test("a flood of errors is cut at MAX_DIAGNOSTICS, with a note counting the rest", () => {
  // 60,000 bad characters on one line were 60,000 diagnostics, each repeating the whole line
  // (the CLI ran out of memory after 55 s); now 200 and "and 59800 more"
  const src = "$ ".repeat(60_000);
  const r = parseScenario(src, "lex.ptlab");
  assert.equal(r.diagnostics.length, MAX_DIAGNOSTICS + 1);
  const note = r.diagnostics.at(-1)!;
  assert.equal(note.omitted, 59_800);
  assert.equal(
    formatDiagnostic(note, src),
    "lex.ptlab: and 59800 more errors (only the first 200 are listed)",
  );
  assert.equal(errorCount(r.diagnostics), "60000 errors");
  const text = r.diagnostics.map((d) => formatDiagnostic(d, src)).join("\n");
  assert.ok(text.length < 200 * 400, `${text.length} characters`);
  // a list with its note cut again (several files, several configurations) keeps one note
  const again = capDiagnostics([...r.diagnostics, ...r.diagnostics], "lex.ptlab");
  assert.equal(again.length, MAX_DIAGNOSTICS + 1);
  assert.equal(errorCount(again), "120000 errors");
});

Deno.test("compilation that stops at the limit says so: 200+ errors", () => {
  const src = "mm a\n" + "map a 0x1001 size 4K\n".repeat(1000);
  const r = runScenario(src, { file: "m.ptlab" });
  assert.equal(r.exitCode, 2);
  assert.equal(r.diagnostics.length, MAX_DIAGNOSTICS + 1);
  assert.equal(r.diagnostics.at(-1)!.message, "checking stopped after 200 errors");
  assert.equal(errorCount(r.diagnostics), "200+ errors");
});
