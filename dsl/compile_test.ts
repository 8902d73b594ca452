import assert from "node:assert/strict";
import { generateScenario } from "./bench_helper.ts";
import {
  COMMAND_LINE,
  type CompileOptions,
  type CompileResult,
  compileScenario,
  type Op,
  parseScenario,
} from "./mod.ts";
import { catalog } from "./_test_catalog.ts";

function compile(src: string, arch = "x86_64-4level", opts: CompileOptions = {}): CompileResult {
  const p = parseScenario(src, "t.ptlab");
  assert.deepEqual(p.diagnostics, []);
  return compileScenario(p.scenario!, arch, catalog, opts);
}

/** Ops without their source positions. */
function ops(src: string, arch?: string): unknown[] {
  const r = compile(src, arch);
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.program);
  return r.program.ops.map(({ line: _l, col: _c, ...rest }) => rest);
}

function messages(src: string, arch?: string, opts?: CompileOptions): string[] {
  return compile(src, arch, opts).diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
}

Deno.test("compile: touch with size and step", () => {
  assert.deepEqual(ops("mm a\nmap a 0 size 4M\ntouch a 0x1000 size 2M every 4K").slice(2), [
    { op: "touch", mm: "a", addr: 4096n, size: 2097152n, step: 4096n },
  ]);
});

Deno.test("compile: touch defaults to one page, step one page", () => {
  assert.deepEqual(ops("mm a\nmap a 0x1000 size 4K\ntouch a 0x1000")[2], {
    op: "touch",
    mm: "a",
    addr: 4096n,
    size: 4096n,
    step: 4096n,
  });
});

Deno.test("compile: every operation, with its source position", () => {
  const r = compile(`cpus 4
mm a
map a 0x7f00_0000_0000 size 2M
touch a 0x7f00_0000_0000 size 2M every 64K
madvise a dontneed 0x7f00_0000_0000 size 1M
fork a as b
run a on 0..2
run b on 3, 1
snapshot "forked"
  exit b
unmap a 0x7f00_0000_0000 size 2M
exit a
expect leaks == 0
`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.program?.cpus, 4);
  const base = 0x7f0000000000n;
  const want: Op[] = [
    { op: "mm", name: "a", line: 2, col: 1 },
    { op: "map", mm: "a", addr: base, size: 2n << 20n, line: 3, col: 1 },
    { op: "touch", mm: "a", addr: base, size: 2n << 20n, step: 65536n, line: 4, col: 1 },
    { op: "madvise", mm: "a", advice: "dontneed", addr: base, size: 1n << 20n, line: 5, col: 1 },
    { op: "fork", mm: "a", child: "b", line: 6, col: 1 },
    { op: "run", mm: "a", cpus: [0, 1], line: 7, col: 1 },
    { op: "run", mm: "b", cpus: [3, 1], line: 8, col: 1 },
    { op: "snapshot", label: "forked", line: 9, col: 1 },
    { op: "exit", mm: "b", line: 10, col: 3 },
    { op: "unmap", mm: "a", addr: base, size: 2n << 20n, line: 11, col: 1 },
    { op: "exit", mm: "a", line: 12, col: 1 },
    {
      op: "expect",
      l: { k: "metric", name: "leaks" },
      cmp: "==",
      r: { k: "num", v: 0n },
      text: "leaks == 0",
      line: 13,
      col: 1,
    },
  ];
  assert.deepEqual(r.program?.ops, want);
  assert.equal(r.config?.name, "x86_64-4level");
});

Deno.test("compile: constants are folded with bigint arithmetic (truncating division)", () => {
  assert.deepEqual(
    ops(`let a = 7
let b = -a / 2
let c = -a % 4
let d = (a + 1) * 2K - 0x1000
expect b == -3
expect c == -3
expect d == 12K
expect 1T / 4K == 268435456
`),
    [
      {
        op: "expect",
        l: { k: "num", v: -3n },
        cmp: "==",
        r: { k: "num", v: -3n },
        text: "b == -3",
      },
      {
        op: "expect",
        l: { k: "num", v: -3n },
        cmp: "==",
        r: { k: "num", v: -3n },
        text: "c == -3",
      },
      {
        op: "expect",
        l: { k: "num", v: 12288n },
        cmp: "==",
        r: { k: "num", v: 12288n },
        text: "d == 12K",
      },
      {
        op: "expect",
        l: { k: "num", v: 268435456n },
        cmp: "==",
        r: { k: "num", v: 268435456n },
        text: "1T / 4K == 268435456",
      },
    ],
  );
});

Deno.test("compile: a let that reads a metric becomes a run-time let", () => {
  assert.deepEqual(
    ops(`mm a
let before = nr_page_table_pages + 2 * 3
let k = 4
let per = a.tables.pte * k
expect per - before >= k * -1
let before = 5
expect before == 5
`),
    [
      { op: "mm", name: "a" },
      {
        op: "let",
        name: "before",
        expr: {
          k: "bin",
          op: "+",
          l: { k: "metric", name: "nr_page_table_pages" },
          r: { k: "num", v: 6n },
        },
      },
      {
        op: "let",
        name: "per",
        expr: {
          k: "bin",
          op: "*",
          l: { k: "metric", name: "tables.pte", mm: "a" },
          r: { k: "num", v: 4n },
        },
      },
      {
        op: "expect",
        l: { k: "bin", op: "-", l: { k: "var", name: "per" }, r: { k: "var", name: "before" } },
        cmp: ">=",
        r: { k: "num", v: -4n },
        text: "per - before >= k * -1",
      },
      // rebinding `before` to a constant makes later uses constant again
      {
        op: "expect",
        l: { k: "num", v: 5n },
        cmp: "==",
        r: { k: "num", v: 5n },
        text: "before == 5",
      },
    ],
  );
});

Deno.test("compile: unary minus of a metric", () => {
  assert.deepEqual(ops("expect -leaks <= 0")[0], {
    op: "expect",
    l: { k: "neg", e: { k: "metric", name: "leaks" } },
    cmp: "<=",
    r: { k: "num", v: 0n },
    text: "-leaks <= 0",
  });
});

Deno.test("compile: repeat unrolls with the loop variable as a constant", () => {
  const got = ops(`let base = 0x10_0000
mm a
repeat i in 0..3 {
  map a base + i * 2M size 4K
}
repeat i in 5..5 { exit a }
repeat i in 3..1 { exit a }
`);
  assert.deepEqual(got, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: 0x100000n, size: 4096n },
    { op: "map", mm: "a", addr: 0x300000n, size: 4096n },
    { op: "map", mm: "a", addr: 0x500000n, size: 4096n },
  ]);
});

Deno.test("compile: nested repeats, and the loop variable is gone after the loop", () => {
  const got = ops(`let i = 100
repeat i in 0..2 {
  repeat j in i..i + 2 {
    snapshot "s"
    expect j == i
  }
}
expect i == 100
`);
  const texts = got.map((o) => {
    const op = o as Op;
    return op.op === "expect" && op.l.k === "num" && op.r.k === "num"
      ? `${op.l.v}=${op.r.v}`
      : op.op;
  });
  assert.deepEqual(texts, [
    "snapshot",
    "0=0",
    "snapshot",
    "1=0",
    "snapshot",
    "1=1",
    "snapshot",
    "2=1",
    "100=100",
  ]);
});

Deno.test("compile: repeat with processes created and exited in each iteration", () => {
  const got = ops(`repeat k in 0..2 {
  mm p
  map p 0x1000 size 4K
  touch p 0x1000
  exit p
}`);
  assert.equal(got.length, 8);
});

Deno.test("compile: the static layout follows unmap splits and fork copies", () => {
  const r = compile(`mm a
map a 0x100000 size 1M
unmap a 0x140000 size 4K
touch a 0x100000 size 256K
touch a 0x141000 size 764K
fork a as b
touch b 0x100000 size 4K
map b 0x140000 size 4K
touch b 0x100000 size 1M
unmap a 0 size 1T
map a 0x100000 size 1M
exit a
mm a
map a 0x100000 size 4K
`);
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.program?.ops.length, 14);
  // the hole left in a is still a hole
  assert.deepEqual(messages("mm a\nmap a 0 size 8K\nunmap a 0 size 4K\ntouch a 0 size 8K"), [
    '4:9: touch at 0x0 is outside any mapping of "a"',
  ]);
  // adjacent mappings do not overlap
  assert.deepEqual(messages("mm a\nmap a 0 size 4K\nmap a 4K size 4K\ntouch a 0 size 8K"), []);
});

Deno.test("compile: a touch step that skips the holes is fine", () => {
  assert.deepEqual(
    messages("mm a\nmap a 0 size 4K\nmap a 2M size 4K\ntouch a 0 size 4M every 2M"),
    [],
  );
  assert.deepEqual(
    messages("mm a\nmap a 0 size 4K\nmap a 2M size 4K\ntouch a 0 size 4M every 1M"),
    [
      '4:9: touch reaches 0x100000, which is outside any mapping of "a"',
    ],
  );
});

Deno.test("compile: huge ranges are checked per range, not per page", () => {
  const t = performance.now();
  assert.deepEqual(
    messages(`mm a
map a 0 size 64T
touch a 0 size 64T
touch a 4K size 64T - 8K every 4K
unmap a 1T size 4K
`),
    [],
  );
  assert.ok(performance.now() - t < 500);
});

Deno.test("compile: cpus and run lists", () => {
  const r = compile("cpus 8\nmm a\nrun a on 2..5\nrun a on 7, 0\n");
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.program?.cpus, 8);
  assert.deepEqual(r.program?.ops.map((o) => o.op === "run" ? o.cpus : []), [[], [2, 3, 4], [
    7,
    0,
  ]]);
  assert.equal(compile("mm a").program?.cpus, 1);
});

Deno.test("compile: page size and address space come from the target configuration", () => {
  // the file names x86_64 but is compiled for i386: its high address does not fit
  const src = "arch x86_64-4level\nmm a\nmap a 0x7f00_0000_0000 size 2M\n";
  const r = compile(src, "i386-pae");
  assert.deepEqual(r.diagnostics.map((d) => [d.kind, d.line, d.col, d.message]), [[
    "fit",
    3,
    7,
    "address range 0x7f0000000000..0x7f0000200000 is outside the user address space of " +
    "i386-pae (0..0xc0000000)",
  ]]);
  assert.equal(r.program, undefined);
  assert.equal(r.config?.name, "i386-pae");
  assert.deepEqual(compile(src).diagnostics, []);
});

Deno.test("compile: options of the file, dropped for another target, and overrides", () => {
  const src = "arch x86_64-4level { kernel = 6.12, thp = on, pti = on }\nmm a\n";
  const same = compile(src);
  assert.equal(same.config?.kernel, "6.12");
  assert.equal(same.config?.thp, true);
  assert.equal(same.config?.options.pti, "on");
  assert.deepEqual(same.droppedOptions, []);

  // i386-2level has no thp: the option is dropped, the rest kept
  const other = compile(src, "i386-2level");
  assert.deepEqual(other.diagnostics, []);
  assert.deepEqual(other.droppedOptions, ["thp"]);
  assert.equal(other.config?.kernel, "6.12");
  assert.equal(other.config?.options.pti, "on");

  // generic has none of the x86 options
  const generic = compile(src, "generic");
  assert.deepEqual(generic.droppedOptions, ["thp", "pti"]);
  assert.equal(generic.config?.kernel, "6.12");

  // overrides win over the file
  const over = compile(src, "x86_64-4level", { optionOverrides: { kernel: "6.1", thp: "off" } });
  assert.deepEqual(over.diagnostics, []);
  assert.equal(over.config?.kernel, "6.1");
  assert.equal(over.config?.thp, false);

  // an override another configuration has is dropped; a misspelt one is an error
  const drop = compile("mm a", "generic", { optionOverrides: { pti: "on" } });
  assert.deepEqual(drop.diagnostics, []);
  assert.deepEqual(drop.droppedOptions, ["pti"]);
  const bad = compile("mm a", "generic", { optionOverrides: { kernle: "6.6" } });
  assert.deepEqual(bad.diagnostics.map((d) => [d.file, d.line, d.message]), [[
    COMMAND_LINE,
    0,
    'option kernle=6.6: unknown option "kernle" for generic (did you mean "kernel"?)',
  ]]);
  assert.equal(bad.program, undefined);
  const badValue = compile("mm a", "generic", { optionOverrides: { kernel: "7.0" } });
  assert.equal(badValue.diagnostics.length, 1);
  assert.equal(badValue.config, undefined);
});

Deno.test("compile: an unknown arch in the file is an error even for another target", () => {
  assert.deepEqual(messages("arch x86_64-4levle\nmm a\n", "i386-pae"), [
    '1:6: unknown arch "x86_64-4levle" (did you mean "x86_64-4level"?)',
  ]);
  const r = compile("mm a\n", "nosuch");
  assert.deepEqual(r.diagnostics.map((d) => [d.file, d.message]), [[
    COMMAND_LINE,
    'unknown arch "nosuch"',
  ]]);
});

Deno.test("compile: a value valid for the file's arch but not for the target", () => {
  assert.deepEqual(messages("arch i386-pae { highpte = on }", "generic"), []);
  assert.deepEqual(compile("arch i386-pae { highpte = on }", "generic").droppedOptions, [
    "highpte",
  ]);
});

Deno.test("compile: diagnostics in an unrolled loop are reported once", () => {
  assert.deepEqual(messages("mm a\nrepeat i in 0..1000 { touch a i * 4K }"), [
    '2:31: touch at 0x0 is outside any mapping of "a"',
  ]);
});

Deno.test("compile: the generated benchmark scenario is valid and compiles quickly", () => {
  const src = generateScenario(1_000_000);
  assert.ok(src.length >= 1_000_000);
  const p = parseScenario(src, "gen.ptlab");
  assert.deepEqual(p.diagnostics, []);
  const t = performance.now();
  const r = compileScenario(p.scenario!, "x86_64-4level", catalog);
  const ms = performance.now() - t;
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.program && r.program.ops.length > 20_000);
  assert.ok(ms < 2000, `compiling 1 MB took ${ms} ms`);
});

Deno.test("compile: a let with an error does not cascade to its uses", () => {
  assert.deepEqual(messages("let x = nosuch + 1\nmm a\nmap a x size 4K\nexpect x == 1\n"), [
    '1:9: unknown variable or metric "nosuch"',
  ]);
});

Deno.test("compile: process metrics are checked by name", () => {
  assert.deepEqual(messages("mm a\nexpect a.tables == 0\nexpect a.tables.pmx == 0\n"), [
    '2:10: unknown process metric "tables" (use tables.pgd, tables.p4d, tables.pud, ' +
    "tables.pmd, tables.pte)",
    '3:10: unknown process metric "tables.pmx" (did you mean "tables.pmd"?)',
  ]);
  assert.deepEqual(messages("mm a\nexpect a.rss + a.vmpte + a.tables.p4d >= 0\n"), []);
});

Deno.test("compile: a process name can be reused after it exited", () => {
  assert.deepEqual(messages("mm a\nexit a\nmm a\nexit a\n"), []);
  assert.deepEqual(messages("mm a\nexit a\nexit a\n"), ['3:6: process "a" has exited (line 2)']);
});
