// The language features of issue 8: include, param and --set sweeps, print and interpolation,
// and/or, shifts, min/max, configuration facts, if/else, metric spellings, cpulists.
import assert from "node:assert/strict";
import { expandSweep, formatDiagnostic, runScenario } from "../mod.ts";

type Opts = Parameters<typeof runScenario>[1];

function diags(src: string, opts: Opts = {}): string[] {
  const out = runScenario(src, { file: "t.ptlab", ...opts });
  return out.diagnostics.map((d) =>
    d.line ? `${d.file}:${d.line}:${d.col}: ${d.message}` : `${d.file}: ${d.message}`
  );
}

function files(map: Record<string, string>): (path: string) => string {
  return (p) => {
    if (p in map) return map[p];
    throw Object.assign(new Error(`No such file or directory (os error 2): readfile '${p}'`), {
      name: "NotFound",
    });
  };
}

Deno.test("include: relative to the including file, its diagnostics name its own file", () => {
  const readFile = files({
    "dir/lib/setup.ptlab": "mm a\nmap a base size 2M\n",
    "dir/lib/bad.ptlab": "\n  touch a base + 3 size 4K\n",
  });
  const ok = runScenario(
    'let base = 0x7f0000000000\ninclude "lib/setup.ptlab"\ntouch a base size 4K\nexpect a.vmpte == 12K\n',
    { file: "dir/main.ptlab", readFile },
  );
  assert.deepEqual(ok.diagnostics, []);
  assert.equal(ok.exitCode, 0);
  const src = 'let base = 0x7f0000000000\ninclude "lib/setup.ptlab"\ninclude "lib/bad.ptlab"\n';
  const bad = runScenario(src, { file: "dir/main.ptlab", readFile });
  assert.equal(bad.exitCode, 2);
  const d = bad.diagnostics[0];
  assert.equal(d.file, "dir/lib/bad.ptlab");
  assert.equal(
    formatDiagnostic(d, src),
    "dir/lib/bad.ptlab:2:11: address 0x7f0000000003 is not aligned to the page size of " +
      "x86_64-4level (4K)\n  touch a base + 3 size 4K\n          ^~~~~~~~",
  );
  // operations of an included file carry its name; a run-time error there names it too
  const rt = runScenario('include "b.ptlab"\n', {
    file: "a.ptlab",
    readFile: files({ "b.ptlab": "# b\nexpect 1 % leaks == 0\n" }),
  });
  assert.deepEqual(rt.diagnostics.map((x) => formatDiagnostic(x, "")), [
    "b.ptlab:2:10: division by zero (at run time on x86_64-4level 6.6)\n" +
    "expect 1 % leaks == 0\n         ^",
  ]);
});

Deno.test("include: cycles, missing files, depth, misplaced statements", () => {
  const readFile = files({
    "a.ptlab": 'include "sub/b.ptlab"\n',
    "sub/b.ptlab": 'mm x\ninclude "../a.ptlab"\n',
    "c.ptlab": "arch x86_64-4level\ncpus 2\nparam n = 1\n",
    "self.ptlab": 'include "self.ptlab"\n',
  });
  assert.deepEqual(diags('include "sub/b.ptlab"\n', { file: "a.ptlab", readFile }), [
    "sub/b.ptlab:2:1: include cycle: a.ptlab -> sub/b.ptlab -> a.ptlab",
  ]);
  assert.deepEqual(diags('include "self.ptlab"\n', { readFile }), [
    "self.ptlab:1:1: include cycle: self.ptlab -> self.ptlab",
  ]);
  assert.deepEqual(diags('mm a\ninclude "nope.ptlab"\n', { readFile }), [
    't.ptlab:2:9: cannot read included file "nope.ptlab": no such file',
  ]);
  assert.deepEqual(diags('include "c.ptlab"\n', { readFile }), [
    "c.ptlab:1:1: 'arch' cannot be inside an included file",
    "c.ptlab:2:1: 'cpus' cannot be inside an included file",
    "c.ptlab:3:1: 'param' cannot be inside an included file",
  ]);
  // a chain deeper than the limit
  const chain: Record<string, string> = {};
  for (let i = 0; i < 30; i++) chain[`f${i}.ptlab`] = `include "f${i + 1}.ptlab"\n`;
  assert.deepEqual(diags('include "f0.ptlab"\n', { readFile: files(chain) }), [
    "f15.ptlab:1:1: includes nested more than 16 deep",
  ]);
  // includes that multiply are bounded too
  const wide: Record<string, string> = {};
  for (let i = 0; i < 5; i++) {
    wide[`w${i}.ptlab`] = `include "w${i + 1}.ptlab"\n`.repeat(6);
  }
  wide["w5.ptlab"] = "let z = 1\n";
  const w = diags('include "w0.ptlab"\n', { readFile: files(wide) });
  assert.ok(w.length > 0 && w.every((m) => m.endsWith("more than 256 includes")), w[0]);
});

Deno.test("param: defaults, overrides, unknown names, sweeps tag each run", () => {
  const src = "param n = 2\nparam stride = 4K\nmm a\nmap a 0x7f0000000000 size n * stride\n" +
    "touch a 0x7f0000000000 size n * stride every stride\nexpect a.rss == n * PAGE_SIZE\n";
  const one = runScenario(src);
  assert.equal(one.exitCode, 0);
  assert.deepEqual(one.runs[0].params, { n: "2", stride: "4K" });
  assert.deepEqual(runScenario(src, { params: { n: "3" } }).runs[0].params, {
    n: "3",
    stride: "4K",
  });
  const sweep = runScenario(src, { set: ["stride=4K,2M", "n=1,0x2"] });
  assert.equal(sweep.exitCode, 0);
  assert.deepEqual(sweep.runs.map((r) => [r.params, r.final.mms.a.rss]), [
    [{ n: "1", stride: "4K" }, 4096],
    [{ n: "0x2", stride: "4K" }, 8192],
    [{ n: "1", stride: "2M" }, 4096],
    [{ n: "0x2", stride: "2M" }, 8192],
  ]);
  assert.deepEqual(diags(src, { params: { strid: "4K" } }), [
    '--set: the scenario has no param "strid" (did you mean "stride"?)',
  ]);
  assert.deepEqual(diags("mm a\n", { params: { n: "1" } }), [
    '--set: the scenario has no param "n" (it declares none)',
  ]);
  assert.deepEqual(diags(src, { params: { n: "4Q" } }), [
    "--set: n=4Q: invalid number '4Q': unknown unit 'Q' (use K, M, G or T)",
  ]);
  assert.deepEqual(diags(src, { set: ["n"] }), [
    '--set: --set takes NAME=VALUE or NAME=V1,V2,..., not "n"',
  ]);
  assert.deepEqual(diags("mm a\nparam n = 1\nparam m = leaks\n"), [
    "t.ptlab:2:1: 'param' must come before other statements (only 'arch' and other 'param's may precede it)",
    "t.ptlab:3:1: 'param' must come before other statements (only 'arch' and other 'param's may precede it)",
  ]);
  assert.deepEqual(diags("param n = 1\nparam n = 2\nparam m = leaks\n"), [
    't.ptlab:2:7: param "n" is declared twice (first on line 1)',
    't.ptlab:3:11: the value of param "m" must be a constant, but "leaks" is a metric',
  ]);
  assert.deepEqual(diags("repeat i in 0..2 { param n = 1 }\n"), [
    "t.ptlab:1:20: 'param' cannot be inside 'repeat'",
  ]);
});

Deno.test("expandSweep: the cartesian product, first argument slowest", () => {
  assert.deepEqual(expandSweep([]), [{}]);
  assert.deepEqual(expandSweep(["stride=4K,2M,1G", "n=1,2"]), [
    { stride: "4K", n: "1" },
    { stride: "4K", n: "2" },
    { stride: "2M", n: "1" },
    { stride: "2M", n: "2" },
    { stride: "1G", n: "1" },
    { stride: "1G", n: "2" },
  ]);
  assert.throws(() => expandSweep(["n=1,"]), SyntaxError);
  assert.throws(() => expandSweep(["n=1", "n=2"]), /given twice/);
});

Deno.test("print and interpolation: evaluated when the line runs", () => {
  const src = 'mm a\nmap a 0x7f0000000000 size 4K\nprint "before:" a.vmpte\n' +
    'touch a 0x7f0000000000\nprint "after:", a.vmpte, "bytes ({a.tables.pte} pte)"\n' +
    'repeat i in 0..2 { snapshot "step {i} of {{2}}, leaks {leaks}" }\nexpect leaks == 0\n';
  const out = runScenario(src);
  assert.deepEqual(out.diagnostics, []);
  assert.deepEqual(out.runs[0].prints, [
    { line: 3, text: "before: 0" },
    { line: 5, text: "after: 12288 bytes (1 pte)" },
  ]);
  assert.deepEqual(out.runs[0].snapshots.map((s) => s.label), [
    "step 0 of {2}, leaks 0",
    "step 1 of {2}, leaks 0",
  ]);
  assert.deepEqual(diags('snapshot "x {nope}"\n'), [
    't.ptlab:1:14: unknown variable or metric "nope"',
  ]);
  assert.deepEqual(diags('snapshot "x {1 +}"\n'), [
    "t.ptlab:1:17: expected the end of the interpolation '}'",
  ]);
  assert.deepEqual(diags('snapshot "x {1"\n'), [
    "t.ptlab:1:13: unclosed '{' in a string (write {{ for a literal brace)",
  ]);
  assert.equal(
    runScenario('snapshot "no {{braces}}"\nexpect leaks == 0\n').runs[0].snapshots[0].label,
    "no {braces}",
  );
});

Deno.test("expect: and / or, precedence, parentheses, the text and the deciding comparison", () => {
  const out = runScenario(
    "mm a\nexpect leaks == 0 and ipis == 0 or leaks == 1\n" +
      "expect (leaks == 1 or ipis == 0) and tlb_flushes >= 0\n" +
      "expect leaks == 0 and (ipis == 5 or tlb_flushes == 7)\n",
  );
  const ex = out.runs[0].expectations;
  assert.deepEqual(ex.map((e) => [e.text, e.ok]), [
    ["leaks == 0 and ipis == 0 or leaks == 1", true],
    ["(leaks == 1 or ipis == 0) and tlb_flushes >= 0", true],
    ["leaks == 0 and (ipis == 5 or tlb_flushes == 7)", false],
  ]);
  assert.deepEqual([ex[2].actual, ex[2].expected, ex[2].op], [0, 5, "=="]);
  assert.equal(out.exitCode, 1);
  assert.deepEqual(diags("expect 1 < 2 < 3\n"), [
    "t.ptlab:1:14: comparisons cannot be chained (join them with 'and')",
  ]);
  assert.deepEqual(diags("let x = leaks == 0\n"), [
    "t.ptlab:1:15: a comparison is not a number (comparisons go in 'expect' and 'if')",
  ]);
  assert.deepEqual(diags("expect leaks and ipis == 0\n"), [
    "t.ptlab:1:8: expected a comparison (==, !=, <, <=, >, >=) here, such as leaks == 0",
  ]);
  assert.deepEqual(diags("expect leaks = 0\n"), [
    "t.ptlab:1:14: expected a comparison (==, !=, <, <=, >, >=) but found '='",
  ]);
});

Deno.test("operators << >> and min/max", () => {
  const out = runScenario(
    "let x = 1 << 12 >> 2\nexpect x == 1024 and 1 + 1 << 2 == 8\n" +
      "expect min(3, 1, 2) == 1 and max(leaks, 7, -1) == 7 and min(leaks) == 0\n",
  );
  assert.deepEqual(out.diagnostics, []);
  assert.ok(out.runs[0].expectations.every((e) => e.ok));
  assert.deepEqual(diags("let y = 1 << 200\n"), [
    "t.ptlab:1:14: shift count 200 is out of range (0..128)",
  ]);
  assert.deepEqual(diags("let y = mx(1, 2)\nlet z = max()\n"), [
    't.ptlab:1:9: unknown function "mx" (did you mean "max"?)',
    "t.ptlab:2:9: max() needs at least one value",
  ]);
});

Deno.test("configuration facts follow the configuration, folded levels as the kernel folds them", () => {
  const src = "expect PAGE_SIZE > 0\nprint PAGE_SIZE PMD_SIZE PUD_SIZE PGDIR_SIZE PTRS_PER_PTE " +
    "PTRS_PER_PMD levels\n";
  const text = (arch: string) => runScenario(src, { arch }).runs[0].prints![0].text;
  assert.equal(text("x86_64-4level"), `4096 ${2 ** 21} ${2 ** 30} ${2 ** 39} 512 512 4`);
  // pgtable-nopmd.h / pgtable-nopud.h: PMD_SHIFT = PUD_SHIFT = PGDIR_SHIFT, PTRS_PER_PMD = 1
  assert.equal(text("i386-2level"), `4096 ${2 ** 22} ${2 ** 22} ${2 ** 22} 1024 1 2`);
  assert.equal(text("arm64-64k-42"), `65536 ${2 ** 29} ${2 ** 29} ${2 ** 29} 8192 1 2`);
  // one scenario strides correctly everywhere
  const stride = "mm a\nmap a 0x10000000 size 4 * PMD_SIZE\n" +
    "touch a 0x10000000 size 4 * PMD_SIZE every PMD_SIZE\nexpect a.tables.pte == 4\n";
  const all = runScenario(stride, { arch: "x86_64-4level,i386-2level,arm64-4k-48" });
  assert.equal(all.exitCode, 0);
  assert.deepEqual(diags("let PAGE_SIZE = 1\n"), [
    't.ptlab:1:5: "PAGE_SIZE" is a fact of the configuration; choose another variable name',
  ]);
});

Deno.test("if / else: decided at compile time, from constants and configuration facts", () => {
  const src = 'if levels == 2 { print "two" } else { print "more" }\n' +
    "if PAGE_SIZE == 64K or levels > 4 { expect leaks == 1 }\nexpect leaks == 0\n";
  assert.equal(runScenario(src, { arch: "i386-2level" }).runs[0].prints![0].text, "two");
  assert.equal(runScenario(src, { arch: "x86_64-4level" }).runs[0].prints![0].text, "more");
  assert.equal(runScenario(src, { arch: "x86_64-5level" }).exitCode, 1);
  assert.deepEqual(diags("if leaks == 0 { mm a }\n"), [
    "t.ptlab:1:4: the condition of 'if' must be known when the scenario is compiled, but " +
    "\"leaks\" is a metric (use 'expect' for run-time checks)",
  ]);
  assert.deepEqual(diags("if 1 { mm a }\n"), [
    "t.ptlab:1:4: expected a comparison (==, !=, <, <=, >, >=) here, such as leaks == 0",
  ]);
  assert.deepEqual(diags("if 1 == 1 { cpus 2 }\n"), [
    "t.ptlab:1:13: 'cpus' cannot be inside 'if'",
  ]);
});

Deno.test("metric names: the table's names, and did-you-mean from other spellings", () => {
  assert.deepEqual(
    diags(
      "mm a\nexpect NR_PAGETABLE == 0\nexpect flushes == 0\n" +
        "expect a.pgtables_bytes == 0\nexpect vmpte == 0\nexpect a.leaks == 0\n",
    ),
    [
      't.ptlab:2:8: unknown variable or metric "NR_PAGETABLE" (did you mean "nr_page_table_pages"?)',
      't.ptlab:3:8: unknown variable or metric "flushes" (did you mean "tlb_flushes"?)',
      't.ptlab:4:10: unknown process metric "pgtables_bytes" (did you mean "vmpte"?)',
      't.ptlab:5:8: "vmpte" is a per-process metric: write PROCESS.vmpte (such as a.vmpte)',
      't.ptlab:6:10: unknown process metric "leaks" ("leaks" is system-wide: write leaks)',
    ],
  );
});

Deno.test("cpulists: the kernel's 0-3,8 form, ranges reported as written", () => {
  const out = runScenario("cpus 9\nmm a\nrun a on 0-3,8\nexpect leaks == 0\n");
  assert.equal(out.exitCode, 0);
  assert.deepEqual(
    diags("cpus 4\nmm a\nrun a on 3-1\nrun a on 0-5\nrun a on 0-1,1\nrun a on 1..1\n"),
    [
      "t.ptlab:3:10: empty CPU range 3-1 (the end is included)",
      "t.ptlab:4:12: CPU range 0-5 reaches CPU 5, but the scenario has 4 CPUs (0-3; set more with 'cpus')",
      "t.ptlab:5:14: CPU 1 is listed twice",
      "t.ptlab:6:10: empty CPU range 1..1 (the end is exclusive)",
    ],
  );
});
