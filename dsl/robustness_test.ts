// Inputs that used to crash ptlab ("internal error: Maximum call stack size exceeded", "Division
// by zero"), and the defined behaviour of source text edge cases (BOM, CRLF, tabs, empty files,
// escapes in strings).
import assert from "node:assert/strict";
import {
  formatDiagnostic,
  MAX_BLOCK_DEPTH,
  MAX_EXPR_DEPTH,
  MAX_EXPR_OPERATORS,
  runScenario,
} from "../mod.ts";
import { MAX_EVAL_STEPS, MAX_ITERATIONS, MAX_OPS, MAX_RESULTS } from "./mod.ts";

/** `FILE:LINE:COL: MESSAGE` of every diagnostic, and the exit code. */
function diags(src: string, file = "t.ptlab"): { exit: number; diags: string[] } {
  const out = runScenario(src, { file });
  return {
    exit: out.exitCode,
    diags: out.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`),
  };
}

Deno.test("limits: the limits are exported with the values the README gives", () => {
  assert.deepEqual([MAX_EXPR_DEPTH, MAX_EXPR_OPERATORS, MAX_BLOCK_DEPTH], [64, 1000, 16]);
});

Deno.test("limits: 1000 nested parentheses are a diagnostic at the 65th '('", () => {
  const src = "mm a\nlet x = " + "(".repeat(1000) + "1" + ")".repeat(1000) + "\n";
  assert.deepEqual(diags(src), {
    exit: 2,
    diags: ["t.ptlab:2:73: expression nested more than 64 deep"],
  });
  // 64 is fine
  const ok = "let x = " + "(".repeat(64) + "1" + ")".repeat(64) + "\nexpect x == 1\n";
  assert.deepEqual(diags(ok), { exit: 0, diags: [] });
});

Deno.test("limits: 20,000 unary minuses are a diagnostic at the 65th", () => {
  assert.deepEqual(diags("let x = " + "-".repeat(20000) + "1\n"), {
    exit: 2,
    diags: ["t.ptlab:1:73: expression nested more than 64 deep"],
  });
  // minuses and parentheses add up: -(-(-( ... counts two levels per pair
  assert.deepEqual(diags("let x = " + "-(".repeat(40) + "1" + ")".repeat(40) + "\n"), {
    exit: 2,
    diags: ["t.ptlab:1:73: expression nested more than 64 deep"],
  });
  assert.deepEqual(
    diags("let x = " + "-".repeat(64) + "1\nexpect x == 1\n"),
    { exit: 0, diags: [] },
  );
});

Deno.test("limits: a sum of 50,000 terms is a diagnostic at the 1001st operator", () => {
  assert.deepEqual(diags("let x = 1" + "+1".repeat(50000) + "\n"), {
    exit: 2,
    diags: ["t.ptlab:1:2010: expression has more than 1000 operators"],
  });
  assert.deepEqual(diags("expect leaks < 1" + "+1".repeat(50000) + "\n"), {
    exit: 2,
    diags: ["t.ptlab:1:2015: expression has more than 1000 operators"],
  });
  // 1000 is fine, and evaluated at run time too
  assert.deepEqual(diags("expect leaks + 1" + "+1".repeat(998) + " == 999\n"), {
    exit: 0,
    diags: [],
  });
});

Deno.test("limits: deeply nested repeat blocks are a diagnostic at the 17th '{'", () => {
  const src = "repeat i in 0..2 {\n".repeat(300) + "}\n".repeat(300);
  assert.deepEqual(diags(src), {
    exit: 2,
    diags: ["t.ptlab:17:18: blocks (repeat, if) nested more than 16 deep"],
  });
  // nested loops multiply: the total iterations are bounded, reported at the loop that crosses
  // (once: the iteration that found it ends the unrolling of the loops around it); a loop whose
  // every iteration unrolls the same loops inside is refused after its first iteration
  const wide = "mm a\n" + "repeat i in 0..1000 {\n".repeat(3) + "let x = i\n" + "}\n".repeat(3);
  assert.deepEqual(diags(wide), {
    exit: 2,
    diags: [
      `t.ptlab:3:16: repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: ` +
      "1000, each with 1000 iterations of the loops inside)",
    ],
  });
  // the mutation fuzzer's hang (seed 7, input 96535): 2000 x 1000 x 4 lets unrolled up to the
  // limit took 0.25 s per configuration, 13.7 s with --arch all; now the first iteration decides
  const nest = "repeat i in 0..2000 {\n  repeat j in 0..1000 {\n" +
    "repeat a in 0..2 { repeat b in 0..2 { let x = j } }\n  }\n}\n";
  const t0 = performance.now();
  assert.deepEqual(diags(nest).diags, [
    `t.ptlab:1:16: repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: ` +
    "2000, each with 7000 iterations of the loops inside)",
  ]);
  assert(performance.now() - t0 < 1000);
  // a loop whose size varies (an if) is still counted as it unrolls, at the loop that crosses
  const varying = "repeat i in 0..2000 {\n  if i >= 0 {\n    repeat j in 0..1000 { let x = j }\n" +
    "  }\n}\n";
  assert.deepEqual(diags(varying).diags, [
    `t.ptlab:3:20: repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: 1000)`,
  ]);
});

Deno.test("limits: at most MAX_RESULTS snapshots, prints and expectations; a loop over a limit is refused after its first iteration", () => {
  // 2,000 x 256 snapshots took 4.9 s and 364 MB (the mutation fuzzer's "hang")
  const many = 'mm a\nrepeat i in 0..2000 {\n  repeat j in 0..256 {\n    snapshot "x"\n  }\n}\n';
  assert.deepEqual(diags(many), {
    exit: 2,
    diags: [
      `t.ptlab:2:1: repeat makes more than ${MAX_RESULTS} snapshots, prints and expectations in total`,
    ],
  });
  // a body whose size depends on the iteration (an if) is counted as it unrolls
  const varying = "mm a\nrepeat i in 0..200000 {\n  if i >= 0 {\n    expect leaks == 0\n  }\n}\n";
  assert.deepEqual(diags(varying), {
    exit: 2,
    diags: [
      `t.ptlab:4:5: more than ${MAX_RESULTS} snapshots, prints and expectations in total (this one is repeated)`,
    ],
  });
  assert.deepEqual(diags("mm a\nrepeat i in 0..100000 {\n  expect leaks == 0\n}\n").exit, 0);
  // errors in an iteration end the unrolling: reported once, not a million times (35 s before)
  const bad =
    "mm a\nrepeat i in 0..1000000 {\n  expect a.vmpte == vm0\n  unmap a base size 2M\n}\n";
  assert.deepEqual(diags(bad).diags, [
    't.ptlab:3:21: unknown variable or metric "vm0"',
    't.ptlab:4:11: unknown variable or metric "base"',
  ]);
  // the operations limit is known after one iteration of a fixed-size body
  const ops = "mm a\nmap a 0x1000 size 4K\nrepeat i in 0..1000000 {\n" +
    "  touch a 0x1000\n  touch a 0x1000\n  touch a 0x1000\n  touch a 0x1000\n  touch a 0x1000\n}\n";
  assert.deepEqual(diags(ops).diags, [
    `t.ptlab:3:1: repeat unrolls to more than ${MAX_OPS} operations`,
  ]);
});

Deno.test("limits: an interpolation is bounded like any expression", () => {
  const src = `snapshot "{${"(".repeat(100)}1${")".repeat(100)}}"\n`;
  assert.deepEqual(diags(src), {
    exit: 2,
    diags: ["t.ptlab:1:76: expression nested more than 64 deep"],
  });
});

Deno.test("run-time division by zero is a diagnostic at the operator, exit 2", () => {
  assert.deepEqual(diags("mm a\nexpect 1 / leaks == 0\n"), {
    exit: 2,
    diags: ["t.ptlab:2:10: division by zero (at run time on x86_64-4level 6.6)"],
  });
  assert.deepEqual(diags("let x = 7 % nr_page_table_pages\nexpect x == 0\n"), {
    exit: 2,
    diags: ["t.ptlab:1:11: division by zero (at run time on x86_64-4level 6.6)"],
  });
  // the run stops there and carries the error; the figures are those at the failing line
  const out = runScenario('mm a\nsnapshot "before"\nlet x = 1 / leaks\nsnapshot "after"\n');
  assert.equal(out.runs.length, 1);
  assert.deepEqual(out.runs[0].error, { line: 3, col: 11, message: "division by zero" });
  assert.deepEqual(out.runs[0].snapshots.map((s) => s.label), ["before"]);
  // many configurations, one diagnostic
  const many = runScenario("expect 1 / leaks == 0\n", { arch: "x86_64-*" });
  assert.deepEqual(many.diagnostics.map((d) => d.message), [
    "division by zero (at run time, on 2 runs)",
  ]);
  // shifts out of range at run time
  assert.deepEqual(diags("expect 1 << (leaks - 1) == 0\n"), {
    exit: 2,
    diags: [
      "t.ptlab:1:10: shift count -1 is out of range (0..128) (at run time on x86_64-4level 6.6)",
    ],
  });
});

Deno.test("source text: a UTF-8 BOM is ignored (columns count after it)", () => {
  const src = "\uFEFFmm a\nmap a 0x1000 size 4K\nexpect a.vmpte == 0\n";
  assert.equal(runScenario(src).exitCode, 0);
  const bad = "\uFEFFmap a 0x1000 size 4K\n";
  const out = runScenario(bad, { file: "t.ptlab" });
  assert.deepEqual(out.diagnostics.map((d) => [d.line, d.col, d.message]), [
    [1, 5, 'unknown process "a"'],
  ]);
  assert.equal(
    formatDiagnostic(out.diagnostics[0], bad),
    't.ptlab:1:5: unknown process "a"\nmap a 0x1000 size 4K\n    ^',
  );
  // a BOM elsewhere is not whitespace
  assert.deepEqual(diags("mm a\n\uFEFFmm b\n").diags, [
    "t.ptlab:2:1: unexpected character '\uFEFF'",
  ]);
});

Deno.test("source text: CRLF line ends parse and columns are right", () => {
  const src = "mm a\r\nmap a 0x1000 size 4K\r\n\r\nmap a 0x1001 size 4K\r\n";
  const out = runScenario(src, { file: "t.ptlab" });
  assert.deepEqual(out.diagnostics.map((d) => [d.line, d.col]), [[4, 7]]);
  assert.equal(
    formatDiagnostic(out.diagnostics[0], src).split("\n").slice(1).join("\n"),
    "map a 0x1001 size 4K\n      ^~~~~~",
  );
  assert.equal(runScenario("mm a\r\nexpect leaks == 0\r\n").exitCode, 0);
});

Deno.test("source text: tabs before an error are repeated in the caret line", () => {
  const src = "mm a\n\t\tmap  a\t0x1001 size 4K\n";
  const out = runScenario(src, { file: "t.ptlab" });
  const d = out.diagnostics[0];
  assert.deepEqual([d.line, d.col], [2, 10]);
  assert.equal(
    formatDiagnostic(d, src),
    "t.ptlab:2:10: address 0x1001 is not aligned to the page size of x86_64-4level (4K)\n" +
      "\t\tmap  a\t0x1001 size 4K\n\t\t      \t^~~~~~",
  );
});

Deno.test("source text: an empty or comments-only file is an empty scenario with a warning", () => {
  for (const src of ["", "# nothing here\n\n   # at all\n", "\uFEFF", "\r\n"]) {
    const out = runScenario(src, { file: "e.ptlab" });
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.diagnostics, []);
    assert.deepEqual(out.warnings, [{
      file: "e.ptlab",
      line: 1,
      col: 1,
      length: 0,
      message: "empty scenario (no statements)",
      kind: "semantic",
      severity: "warning",
    }]);
    assert.equal(
      formatDiagnostic(out.warnings[0], src),
      "e.ptlab:1:1: warning: empty scenario (no statements)",
    );
    assert.equal(out.runs.length, 1);
  }
  assert.deepEqual(runScenario("mm a\n").warnings, []);
});

Deno.test("strings: escaped quotes and backslashes in labels", () => {
  const out = runScenario('snapshot "say \\"hi\\" \\\\ bye"\nsnapshot "\\\\"\nexpect leaks == 0\n');
  assert.deepEqual(out.diagnostics, []);
  assert.deepEqual(out.runs[0].snapshots.map((s) => s.label), ['say "hi" \\ bye', "\\"]);
  assert.deepEqual(diags('snapshot "a\\tb"\n').diags, [
    "t.ptlab:1:12: unknown escape '\\t' in a string (only \\\" and \\\\ are escapes)",
  ]);
  assert.deepEqual(diags('snapshot "a\\"\n').diags, [
    "t.ptlab:1:10: unterminated string (missing closing '\"')",
  ]);
});

Deno.test("limits hold when the lexer has already found an error (the parser would recurse to report it)", () => {
  // found by fuzz/mutate.ts: a unit on a hex number and 600 parentheses
  const src = `mm a\nmap a ${"(".repeat(600)}0x10K size 4K\n`;
  const out = runScenario(src, { file: "t.ptlab" });
  assert.equal(out.exitCode, 2);
  assert.ok(
    out.diagnostics.some((d) => d.message.startsWith("expression nested more than 64 deep")),
  );
});

Deno.test("limits: unrolling evaluates at most MAX_EVAL_STEPS expression terms", () => {
  // a 500-term sum in a loop of a million ran for minutes (the mutation fuzzer's "hang")
  const sum = "1" + " + 1".repeat(499);
  const src = `mm a\nrepeat i in 0..1_000_000 {\n  let x = ${sum}\n}\n`;
  assert.deepEqual(diags(src).diags, [
    `t.ptlab:2:1: unrolling evaluates more than ${MAX_EVAL_STEPS} expression terms`,
  ]);
  assert.equal(diags(`mm a\nrepeat i in 0..1000 {\n  let x = ${sum}\n}\n`).exit, 0);
});
