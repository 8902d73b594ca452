import assert from "node:assert/strict";
import { closest, diagnosticAt, editDistance, locate } from "./diagnostics.ts";
import { type Diagnostic, formatDiagnostic, parseScenario } from "./mod.ts";

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
  const r = parseScenario("mm a\r\n\tmap a size 4K\r\n", "t.ptlab");
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
  assert.equal(formatDiagnostic(d, "mm a\n"), 'command line:0:0: unknown arch "x"');
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
