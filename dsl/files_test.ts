// The syntax of issue 9: page-cache files, the clauses of `map` (shared, file, offset, prot),
// read touches, indexed process and file names (`p[i]`) and the new metrics.
import assert from "node:assert/strict";
import { checkLimits, compileScenario, formatDiagnostic, parseScenario } from "./mod.ts";
import * as T from "./tokens.ts";
import { catalog } from "./_test_catalog.ts";
import { messages, ops } from "./_testing.ts";

const BASE = 0x7f0000000000n;

Deno.test("file: a file op; every map clause, in any order, gives the same map op", () => {
  const head = "file cache size 64K\nmm a\n";
  const want = [
    { op: "file", name: "cache", size: 65536n },
    { op: "mm", name: "a" },
    {
      op: "map",
      mm: "a",
      addr: BASE,
      size: 16384n,
      shared: true,
      backing: "cache",
      offset: 8192n,
      prot: "read",
    },
  ];
  for (
    const clauses of [
      "shared file cache offset 8K prot read",
      "prot read shared file cache offset 8K",
      "file cache offset 8K prot read shared",
      "file cache prot read offset 8K shared",
    ]
  ) {
    assert.deepEqual(ops(`${head}map a 0x7f0000000000 size 16K ${clauses}`), want, clauses);
  }
});

Deno.test("map: each field only when its clause is given; a file's offset defaults to 0", () => {
  const src = `file f size 1M
mm a
map a 0x7f0000000000 size 4K
map a 0x7f0000001000 size 4K shared
map a 0x7f0000002000 size 4K file f
map a 0x7f0000003000 size 4K shared file f offset 1M - 4K
map a 0x7f0000004000 size 4K prot none
map a 0x7f0000005000 size 4K prot write
`;
  assert.deepEqual(ops(src).slice(2), [
    { op: "map", mm: "a", addr: BASE, size: 4096n },
    { op: "map", mm: "a", addr: BASE + 0x1000n, size: 4096n, shared: true },
    { op: "map", mm: "a", addr: BASE + 0x2000n, size: 4096n, backing: "f", offset: 0n },
    {
      op: "map",
      mm: "a",
      addr: BASE + 0x3000n,
      size: 4096n,
      shared: true,
      backing: "f",
      offset: (1n << 20n) - 4096n,
    },
    { op: "map", mm: "a", addr: BASE + 0x4000n, size: 4096n, prot: "none" },
    { op: "map", mm: "a", addr: BASE + 0x5000n, size: 4096n, prot: "write" },
  ]);
});

Deno.test("file: allowed where map is (repeat, if); a 'file NAME size' after a map is a statement", () => {
  const src = `mm a
map a 0x7f0000000000 size 4K
file f size 8K
map a 0x7f0000001000 size 4K file f
file g size 4K
repeat i in 0..2 {
  if i == 1 {
    file h[i] size 4K
  }
}
`;
  assert.deepEqual(ops(src), [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: BASE, size: 4096n },
    { op: "file", name: "f", size: 8192n },
    { op: "map", mm: "a", addr: BASE + 0x1000n, size: 4096n, backing: "f", offset: 0n },
    { op: "file", name: "g", size: 4096n },
    { op: "file", name: "h[1]", size: 4096n },
  ]);
  // the same file, each statement on one line or all on one line
  assert.deepEqual(ops(src.replaceAll("\n", " ")), ops(src));
});

Deno.test("map: the file mapped is 'backing' (an op's 'file' is the included file it is from)", () => {
  const src = 'file cache size 8K\nmm a\ninclude "lib.ptlab"\n';
  const p = parseScenario(src, "main.ptlab", {
    readFile: () => "map a 0x7f0000000000 size 8K file cache\n",
  });
  assert.deepEqual(p.diagnostics, []);
  const r = compileScenario(p.scenario!, "x86_64-4level", catalog);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.program?.ops[2], {
    op: "map",
    mm: "a",
    addr: BASE,
    size: 8192n,
    backing: "cache",
    offset: 0n,
    line: 1,
    col: 1,
    file: "lib.ptlab",
  });
});

Deno.test("touch: 'read' makes read faults; a write touch has no read field", () => {
  const src = `mm a
map a 0x7f0000000000 size 64K prot read
map a 0x7f0000010000 size 64K
touch a 0x7f0000000000 size 64K every 16K read
touch a 0x7f0000010000 read
touch a 0x7f0000010000 size 8K
`;
  assert.deepEqual(ops(src).slice(3), [
    { op: "touch", mm: "a", addr: BASE, size: 65536n, step: 16384n, read: true },
    { op: "touch", mm: "a", addr: BASE + 0x10000n, size: 4096n, step: 4096n, read: true },
    { op: "touch", mm: "a", addr: BASE + 0x10000n, size: 8192n, step: 4096n },
  ]);
});

Deno.test("touch: the protection of each mapping is tracked (unmap splits it, fork copies it)", () => {
  const head = "mm a\nmap a 0x7f0000000000 size 64K prot read\n";
  assert.deepEqual(
    messages(`${head}touch a 0x7f0000000000 size 128K every 32K`),
    ['3:9: touch reaches 0x7f0000010000, which is outside any mapping of "a"'],
  );
  assert.deepEqual(
    messages(`${head}unmap a 0x7f0000000000 size 16K
fork a as b
touch b 0x7f0000008000 size 8K read
touch b 0x7f0000004000 size 8K every 8K`),
    [
      '6:9: touch writes 0x7f0000004000 in the mapping 0x7f0000004000..0x7f0000010000 of "b" ' +
      "made on line 2 with prot read: the write would get SIGSEGV (add 'read' to the touch for " +
      "read faults)",
    ],
  );
  // the first address the stride reaches inside a refused mapping is named
  assert.deepEqual(
    messages(`mm a
map a 0x7f0000000000 size 8K
map a 0x7f0000002000 size 8K prot none
touch a 0x7f0000000000 size 16K every 12K read`),
    [
      '4:9: touch reads 0x7f0000003000 in the mapping 0x7f0000002000..0x7f0000004000 of "a" ' +
      "made on line 3 with prot none: the read would get SIGSEGV",
    ],
  );
  // a stride that steps over the refused mapping is fine; so is a read of prot read
  assert.deepEqual(
    ops(`mm a
map a 0x7f0000000000 size 4K
map a 0x7f0000001000 size 4K prot none
map a 0x7f0000002000 size 4K
map a 0x7f0000003000 size 4K prot read
touch a 0x7f0000000000 size 12K every 8K
touch a 0x7f0000003000 read`).length,
    7,
  );
  assert.deepEqual(messages("mm a\nmap a 0 size 4K prot none\ntouch a 0"), [
    '3:9: touch writes 0x0 in the mapping 0x0..0x1000 of "a" made on line 2 with prot none: ' +
    "the write would get SIGSEGV",
  ]);
});

Deno.test("indexed names: p[i] inside repeat makes p[0], p[1], ... in every statement", () => {
  const src = `file f[0] size 16K
file f[1] size 16K
repeat i in 0..2 {
  mm p[i]
  map p[i] 0x7f0000000000 size 8K file f[i] offset i * 4K
  touch p[i] 0x7f0000000000
  madvise p[i] dontneed 0x7f0000000000 size 4K
  fork p[i] as c[i * 10]
  run c[i * 10] on 0
  unmap c[i * 10] 0x7f0000000000 size 8K
  exit c[i * 10]
}
let n = 1
expect p[n].vmpte == 8K and p[n - 1].tables.pte == 1
`;
  const got = ops(src);
  const names = got.map((o) => {
    const r = o as Record<string, unknown>;
    return [r.op, r.name ?? r.mm, r.child ?? r.backing].filter((x) => x !== undefined).join(" ");
  });
  assert.deepEqual(names, [
    "file f[0]",
    "file f[1]",
    "mm p[0]",
    "map p[0] f[0]",
    "touch p[0]",
    "madvise p[0]",
    "fork p[0] c[0]",
    "run c[0]",
    "unmap c[0]",
    "exit c[0]",
    "mm p[1]",
    "map p[1] f[1]",
    "touch p[1]",
    "madvise p[1]",
    "fork p[1] c[10]",
    "run c[10]",
    "unmap c[10]",
    "exit c[10]",
    "expect",
  ]);
  assert.deepEqual((got[3] as { offset: bigint }).offset, 0n);
  assert.deepEqual((got[11] as { offset: bigint }).offset, 4096n);
  const e = got[got.length - 1] as { l: unknown; cond: { r: { l: unknown } } };
  assert.deepEqual(e.l, { k: "metric", name: "vmpte", mm: "p[1]" });
  assert.deepEqual(e.cond.r.l, { k: "metric", name: "tables.pte", mm: "p[0]" });
});

Deno.test("indexed names: params, constant lets, arithmetic; the index is not a value", () => {
  assert.deepEqual(ops("param k = 2\nlet j = k * 3 + 1\nmm q[j - k]\nexit q[5]"), [
    { op: "mm", name: "q[5]" },
    { op: "exit", mm: "q[5]" },
  ]);
  assert.deepEqual(messages("mm p[0]\nlet x = p[0]\nlet y = z[1]"), [
    '2:9: "p[0]" is a process, not a value: use one of its metrics, such as p[0].vmpte',
    '3:9: unknown process "z[1]" (only process and file names take an index)',
  ]);
  assert.deepEqual(messages("repeat i in 0..3 {\n  mm p[i]\n}\nexit p[3]\nexit q[1]"), [
    '4:6: unknown process "p[3]" (did you mean "p[2]"?)',
    '5:6: unknown process "q[1]"',
  ]);
  assert.deepEqual(messages("mm p[0]\nexpect p[ipis].vmpte == 0\nexpect p[1 == 1].rss == 0"), [
    '2:10: the index of "p" must be a constant, but "ipis" is a metric',
    "3:12: a comparison is not a number (comparisons go in 'expect' and 'if')",
  ]);
  assert.deepEqual(messages("mm p[-2]\nfile f[0 - 1] size 4K"), [
    '1:6: the index of "p" must be 0 or more, not -2',
    '2:8: the index of "f" must be 0 or more, not -1',
  ]);
  assert.deepEqual(messages("mm p[0]\nfork p[0] as p[0]"), [
    '2:14: duplicate process name "p[0]" (created on line 1)',
  ]);
});

Deno.test("metrics: rss_anon, rss_file, rss_shmem, vmas per process; total_vmpte, processes", () => {
  const got = ops(`mm p[0]
let a = p[0].rss_anon + p[0].rss_file
expect p[0].rss_shmem == 0 and p[0].vmas == 0
print "{p[0].vmas} {total_vmpte}" processes
expect total_vmpte >= processes
`);
  assert.deepEqual(got[1], {
    op: "let",
    name: "a",
    expr: {
      k: "bin",
      op: "+",
      l: { k: "metric", name: "rss_anon", mm: "p[0]" },
      r: { k: "metric", name: "rss_file", mm: "p[0]" },
    },
  });
  assert.deepEqual((got[2] as { cond: unknown }).cond, {
    k: "logic",
    op: "and",
    l: {
      k: "cmp",
      op: "==",
      l: { k: "metric", name: "rss_shmem", mm: "p[0]" },
      r: { k: "num", v: 0n },
      text: "p[0].rss_shmem == 0",
    },
    r: {
      k: "cmp",
      op: "==",
      l: { k: "metric", name: "vmas", mm: "p[0]" },
      r: { k: "num", v: 0n },
      text: "p[0].vmas == 0",
    },
  });
  assert.deepEqual((got[3] as { parts: unknown }).parts, [
    { k: "metric", name: "vmas", mm: "p[0]" },
    " ",
    { k: "metric", name: "total_vmpte" },
    " ",
    { k: "metric", name: "processes" },
  ]);
  assert.deepEqual(got[4], {
    op: "expect",
    l: { k: "metric", name: "total_vmpte" },
    cmp: ">=",
    r: { k: "metric", name: "processes" },
    text: "total_vmpte >= processes",
  });
  assert.deepEqual(
    messages(`mm a
expect a.rss_anno == 0
expect a.RssFile == 0
expect a.map_count == 0
expect a.total_vmpte == 0
expect nr_processes == 0
expect total_vmpt == 0
expect vmas == 0
let processes = 1
mm total_vmpte`),
    [
      '2:10: unknown process metric "rss_anno" (did you mean "rss_anon"?)',
      '3:10: unknown process metric "RssFile" (did you mean "rss_file"?)',
      '4:10: unknown process metric "map_count" (did you mean "vmas"?)',
      '5:10: unknown process metric "total_vmpte" ("total_vmpte" is system-wide: write total_vmpte)',
      '6:8: unknown variable or metric "nr_processes" (did you mean "processes"?)',
      '7:8: unknown variable or metric "total_vmpt" (did you mean "total_vmpte"?)',
      '8:8: "vmas" is a per-process metric: write PROCESS.vmas (such as a.vmas)',
      '9:5: "processes" is a metric name; choose another variable name',
      '10:4: "total_vmpte" is a metric name; choose another name for the process',
    ],
  );
});

Deno.test("contextual words: shared, offset, prot, read, write, none stay names elsewhere", () => {
  const src = `let offset = 4K
let read = 1
let shared = 2
let prot = 3
let write = 4
let none = 5
mm read
map read offset size read * 4K shared prot read
touch read offset read
expect read.vmpte == shared + prot + write + none
`;
  const got = ops(src);
  assert.deepEqual(got.slice(0, 3), [
    { op: "mm", name: "read" },
    { op: "map", mm: "read", addr: 4096n, size: 4096n, shared: true, prot: "read" },
    { op: "touch", mm: "read", addr: 4096n, size: 4096n, step: 4096n, read: true },
  ]);
  assert.deepEqual((got[3] as { r: unknown }).r, { k: "num", v: 14n });
  // the lexer gives them their own token types, which are names (category Ident)
  for (const w of ["shared", "offset", "prot", "read"]) {
    const t = T.lexer.tokenize(w).tokens[0];
    assert.notEqual(t.tokenType, T.Ident, w);
    assert.ok(t.tokenType.CATEGORIES?.includes(T.Ident), w);
  }
  assert.equal(T.lexer.tokenize("offsets").tokens[0].tokenType, T.Ident);
  assert.equal(T.lexer.tokenize("file").tokens[0].tokenType, T.File);
});

Deno.test("map clauses: each once, offset after file, known file, known protection", () => {
  const head = "file f size 16K\nmm a\n";
  assert.deepEqual(
    messages(`${head}map a 0x7f0000000000 size 4K shared shared
map a 0x7f0000001000 size 4K file f file f
map a 0x7f0000002000 size 4K file f offset 0
  offset 4K
map a 0x7f0000003000 size 4K offset 0 file f
map a 0x7f0000004000 size 4K file g
map a 0x7f0000005000 size 4K prot rw
map a 0x7f0000006000 size 4K prot Read`),
    [
      "3:37: 'shared' is given twice (the first is at column 30)",
      "4:37: 'file' is given twice (the first is at column 30)",
      "6:3: 'offset' is given twice (the first is on line 5)",
      "7:30: 'offset' must come after 'file NAME'",
      '8:35: unknown file "g" (did you mean "f"?)',
      '9:35: unknown protection "rw" (none, read or write)',
      '10:35: unknown protection "Read" (did you mean "read"?)',
    ],
  );
  // a wrong clause or file leaves the mapping in the layout: no cascade at what uses it
  assert.deepEqual(
    messages(`${head}map a 0x7f0000000000 size 8K file g prot reed
map a 0x7f0000002000 size 8K file f offset 12K
touch a 0x7f0000000000 size 16K read`),
    [
      '3:35: unknown file "g" (did you mean "f"?)',
      '3:42: unknown protection "reed" (did you mean "read"?)',
      '4:44: the mapping goes past the end of file "f": offset 12K + size 8K is 20K, but the ' +
      "file is 16K",
    ],
  );
  assert.deepEqual(messages("mm a\nmap a 0 size 4K file f"), [
    "2:22: unknown file \"f\" (make one with 'file NAME size SIZE')",
  ]);
});

Deno.test("map of a file: offset whole pages, 0 or more, the mapping inside the file", () => {
  const head = "file f size 16K\nmm a\n";
  assert.deepEqual(
    messages(`${head}map a 0x7f0000000000 size 4K file f offset -4K
map a 0x7f0000001000 size 4K file f offset 100
map a 0x7f0000002000 size 32K file f
map a 0x7f0000100000 size 8K file f offset 12K
map a 0x7f0000200000 size 4K file f offset leaks`),
    [
      "3:44: offset must be 0 or more, not -4096",
      "4:44: offset 0x64 is not aligned to the page size of x86_64-4level (4K)",
      '5:27: the mapping goes past the end of file "f": offset 0 + size 32K is 32K, but the ' +
      "file is 16K",
      '6:44: the mapping goes past the end of file "f": offset 12K + size 8K is 20K, but the ' +
      "file is 16K",
      '7:44: the offset must be a constant, but "leaks" is a metric',
    ],
  );
  // exactly to the end is fine
  assert.equal(ops(`${head}map a 0x7f0000000000 size 8K file f offset 8K`).length, 3);
  // the page size is the configuration's
  assert.deepEqual(messages("file f size 16K", "arm64-64k-48"), [
    "1:13: size 16K is not a multiple of the page size of arm64-64k-48 (64K)",
  ]);
});

Deno.test("file: a unique name, a positive size of whole pages, a constant", () => {
  assert.deepEqual(
    messages(`file f size 8K
file f size 4K
file g size 0
file h size 6000
file i size leaks`),
    [
      '2:6: duplicate file name "f" (created on line 1)',
      "3:13: size must be positive, not 0",
      "4:13: size 6000 is not a multiple of the page size of x86_64-4level (4K)",
      '5:13: the size must be a constant, but "leaks" is a metric',
    ],
  );
  // files and processes are apart: a process may share a file's name
  assert.equal(ops("file a size 4K\nmm a").length, 2);
});

Deno.test("syntax: the new clauses and names say what they wanted", () => {
  const cases: [string, string][] = [
    [
      "mm a\nmap a 0 size 4K sharde",
      `2:17: expected a statement but found 'sharde' (did you mean "shared"?)`,
    ],
    ["mm a\ntouch a 0 red", `2:11: expected a statement but found 'red' (did you mean "read"?)`],
    [
      "mm a\nmap a 0 size 4K prot",
      "2:21: expected a protection (none, read or write) but found end of input",
    ],
    [
      "mm a\nmap a 0 size 4K prot 5",
      "2:22: expected a protection (none, read or write) but found '5'",
    ],
    ["mm a\nmap a 0 size 4K file", "2:21: expected a file name but found end of input"],
    ["mm a\nmap a 0 size 4K offset", "2:23: expected an offset expression but found end of input"],
    ["file f", "1:7: expected 'size' but found end of input"],
    ["file 5 size 4K", "1:6: expected a file name but found '5'"],
    ["mm p[", "1:6: expected an index expression but found end of input"],
    ["mm p[1", "1:7: expected ']' but found end of input"],
    ["expect p[].vmpte == 1", "1:10: expected an index expression but found ']'"],
    ["mm a\ntouch a 0 read size 4K", "2:16: expected a statement but found 'size'"],
    ["fork a as b[", "1:13: expected an index expression but found end of input"],
    [
      "madvise p[0] 1",
      "1:14: expected an advice (dontneed, free, hugepage, nohugepage, collapse or " +
      "populate_write) but found '1'",
    ],
  ];
  for (const [src, want] of cases) assert.deepEqual(messages(src)[0], want, src);
});

Deno.test("limits: nested indexes count like parentheses", () => {
  const deep = "mm p" + "[q".repeat(100) + "]".repeat(100);
  const lim = checkLimits(T.lexer.tokenize(deep).tokens);
  assert.ok(lim);
  assert.equal(lim.message, "expression nested more than 64 deep");
  assert.equal(lim.offset, 4 + 2 * 64);
  // a contextual word inside parentheses does not restart the count
  const words = "let x = " + "(read ".repeat(100) + ")".repeat(100);
  assert.equal(
    checkLimits(T.lexer.tokenize(words).tokens)?.message,
    "expression nested more than 64 deep",
  );
  const p = parseScenario(deep, "t.ptlab");
  assert.equal(
    formatDiagnostic(p.diagnostics[0], deep).split("\n")[0],
    "t.ptlab:1:133: expression nested more than 64 deep",
  );
});
