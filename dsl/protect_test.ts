// Issue 9, second part: `mprotect MM ADDR size SIZE none|read|write` and every advice of
// `madvise` (dontneed, free, hugepage, nohugepage, collapse, populate_write).
import assert from "node:assert/strict";
import { ADVICE } from "../engine/types.ts";
import { Layout } from "./layout.ts";
import { compile, messages, ops } from "./_testing.ts";

const BASE = 0x7f0000000000n;
const K = 1024n;

Deno.test("mprotect: one op per statement, in a repeat with indexed names", () => {
  const src = `let base = 0x7f00_0000_0000
repeat i in 0..3 {
  mm p[i]
  map p[i] base size 16K
  mprotect p[i] base + i * 4K size 4K read
  mprotect p[i + 0] base + 12K size 4K none
}
mprotect p[2] base size 16K write
`;
  const got = ops(src);
  assert.deepEqual(got.filter((o) => (o as { op: string }).op === "mprotect"), [
    { op: "mprotect", mm: "p[0]", addr: BASE, size: 4n * K, prot: "read" },
    { op: "mprotect", mm: "p[0]", addr: BASE + 12n * K, size: 4n * K, prot: "none" },
    { op: "mprotect", mm: "p[1]", addr: BASE + 4n * K, size: 4n * K, prot: "read" },
    { op: "mprotect", mm: "p[1]", addr: BASE + 12n * K, size: 4n * K, prot: "none" },
    { op: "mprotect", mm: "p[2]", addr: BASE + 8n * K, size: 4n * K, prot: "read" },
    { op: "mprotect", mm: "p[2]", addr: BASE + 12n * K, size: 4n * K, prot: "none" },
    { op: "mprotect", mm: "p[2]", addr: BASE, size: 16n * K, prot: "write" },
  ]);
  // the op's position is the keyword's
  const r = compile(src);
  const first = r.program!.ops.find((o) => o.op === "mprotect")!;
  assert.deepEqual([first.line, first.col], [5, 3]);
  // `read`, `none` and `write` are names elsewhere: a process may be called `read`
  assert.deepEqual(ops("mm read\nmap read 0 size 4K\nmprotect read 0 size 4K read").at(-1), {
    op: "mprotect",
    mm: "read",
    addr: 0n,
    size: 4n * K,
    prot: "read",
  });
});

Deno.test("mprotect: later touches see the new protection, split from the rest of the map", () => {
  const head = `mm a
map a 0x7f0000000000 size 16K
mprotect a 0x7f0000001000 size 4K read
`;
  // the pages around it stay writable; reads are fine everywhere
  assert.equal(ops(head + "touch a 0x7f0000000000\ntouch a 0x7f0000002000 size 8K").length, 5);
  assert.equal(ops(head + "touch a 0x7f0000000000 size 16K read").length, 4);
  assert.deepEqual(messages(head + "touch a 0x7f0000000000 size 16K"), [
    '4:9: touch writes 0x7f0000001000 in the mapping 0x7f0000001000..0x7f0000002000 of "a" made ' +
    "on line 2 with prot read from the mprotect on line 3: the write would get SIGSEGV (add " +
    "'read' to the touch for read faults)",
  ]);
  // back to write: writable again; to none: not even readable
  assert.equal(
    ops(head + "mprotect a 0x7f0000000000 size 16K write\ntouch a 0x7f0000000000 size 16K").length,
    5,
  );
  assert.deepEqual(
    messages(head + "mprotect a 0x7f0000000000 size 8K none\ntouch a 0x7f0000001000 read"),
    [
      '5:9: touch reads 0x7f0000001000 in the mapping 0x7f0000000000..0x7f0000002000 of "a" made ' +
      "on line 2 with prot none from the mprotect on line 4: the read would get SIGSEGV",
    ],
  );
  // a map's own prot read made writable by mprotect
  assert.equal(
    ops("mm a\nmap a 0 size 8K prot read\nmprotect a 0 size 8K write\ntouch a 0 size 8K").length,
    4,
  );
  // fork copies the protection; unmap and map again forget it
  assert.deepEqual(messages(head + "fork a as b\ntouch b 0x7f0000001000"), [
    '5:9: touch writes 0x7f0000001000 in the mapping 0x7f0000001000..0x7f0000002000 of "b" made ' +
    "on line 2 with prot read from the mprotect on line 3: the write would get SIGSEGV (add " +
    "'read' to the touch for read faults)",
  ]);
  assert.equal(
    ops(
      head + "unmap a 0x7f0000000000 size 16K\nmap a 0x7f0000000000 size 16K\n" +
        "touch a 0x7f0000000000 size 16K",
    ).length,
    6,
  );
});

Deno.test("mprotect: checked like unmap, and every page must be mapped (ENOMEM)", () => {
  const head = "mm a\nmap a 0x7f0000000000 size 8K\nmap a 0x7f0000004000 size 8K\n";
  // across two mappings that touch: fine
  assert.equal(
    ops("mm a\nmap a 0 size 8K\nmap a 8K size 8K\nmprotect a 4K size 8K none").length,
    4,
  );
  assert.deepEqual(
    messages(
      head + `mprotect a 0x7f0000000000 size 24K read
mprotect a 0x7f0000006000 size 8K read
mprotect a 0x7f0000000800 size 4K read
mprotect a 0x7f0000000000 size 6000 read
mprotect a 0x7f0000000000 size -4K read
mprotect b 0 size 4K read
mprotect a 0x7f0000000000 size leaks read`,
    ),
    [
      '4:12: mprotect of 0x7f0000000000..0x7f0000006000 would fail with ENOMEM: 0x7f0000002000 is outside any mapping of "a"',
      '5:12: mprotect of 0x7f0000006000..0x7f0000008000 would fail with ENOMEM: 0x7f0000006000 is outside any mapping of "a"',
      "6:12: address 0x7f0000000800 is not aligned to the page size of x86_64-4level (4K)",
      "7:32: size 6000 is not a multiple of the page size of x86_64-4level (4K)",
      "8:32: size must be positive, not -4096",
      '9:10: unknown process "b" (did you mean "a"?)',
      '10:32: the size must be a constant, but "leaks" is a metric',
    ],
  );
  // a range refused changes nothing: the later touch still writes
  assert.deepEqual(
    messages(head + "mprotect a 0x7f0000000000 size 24K read\ntouch a 0x7f0000000000"),
    [
      '4:12: mprotect of 0x7f0000000000..0x7f0000006000 would fail with ENOMEM: 0x7f0000002000 is outside any mapping of "a"',
    ],
  );
  // after unmap, the range is a hole
  assert.deepEqual(
    messages("mm a\nmap a 0 size 8K\nunmap a 0 size 4K\nmprotect a 0 size 8K read"),
    ['4:12: mprotect of 0x0..0x2000 would fail with ENOMEM: 0x0 is outside any mapping of "a"'],
  );
});

Deno.test("mprotect: the protection word, with a did-you-mean", () => {
  const head = "mm a\nmap a 0 size 4K\n";
  assert.deepEqual(
    messages(
      head +
        "mprotect a 0 size 4K wirte\nmprotect a 0 size 4K PROT_NONE\nmprotect a 0 size 4K rwx",
    ),
    [
      '3:22: unknown protection "wirte" (did you mean "write"?)',
      '4:22: unknown protection "PROT_NONE" (did you mean "none"?)',
      '5:22: unknown protection "rwx" (none, read or write)',
    ],
  );
  // map's prot clause gets the kernel's spelling too
  assert.deepEqual(messages("mm a\nmap a 0 size 4K prot PROT_READ"), [
    '2:22: unknown protection "PROT_READ" (did you mean "read"?)',
  ]);
});

Deno.test("mprotect: syntax errors say what they wanted", () => {
  const cases: [string, string][] = [
    [
      "mm a\nmprotect a 0 size 4K",
      "2:21: expected a protection (none, read or write) but found end of input",
    ],
    [
      "mm a\nmprotect a 0 size 4K 5",
      "2:22: expected a protection (none, read or write) but found '5'",
    ],
    ["mm a\nmprotect a 0 read", "2:14: expected 'size' but found 'read'"],
    ["mprotect 0 size 4K read", "1:10: expected a process name but found '0'"],
    ["mm a\nmprotect a size 4K read", "2:12: expected an address expression but found 'size'"],
    [
      "mm a\nmprotect a 0 size 4K prot read",
      "2:27: expected a statement but found 'read' (mprotect takes the protection without " +
      "'prot': mprotect MM ADDR size SIZE read)",
    ],
    ["mm a\nmprotect a 0 size 4K read write", "2:27: expected a statement but found 'write'"],
    [
      "mm a\nmprotcet a 0 size 4K read",
      `2:1: expected a statement but found 'mprotcet' (did you mean "mprotect"?)`,
    ],
  ];
  for (const [src, want] of cases) assert.deepEqual(messages(src)[0], want, src);
  // inside blocks and on one line
  assert.equal(
    ops("mm a map a 0 size 4K if 1 == 1 { mprotect a 0 size 4K none } mprotect a 0 size 4K read")
      .length,
    4,
  );
});

Deno.test("madvise: every advice is emitted with its name", () => {
  const src = ["mm a", "map a 0x7f0000000000 size 4M"];
  for (const a of ADVICE) src.push(`madvise a ${a} 0x7f0000000000 size 2M`);
  assert.deepEqual(
    ops(src.join("\n")).slice(2),
    ADVICE.map((advice) => ({ op: "madvise", mm: "a", advice, addr: BASE, size: 2n << 20n })),
  );
  // in a repeat, with indexed names
  assert.deepEqual(
    ops(`repeat i in 0..2 {
  mm p[i]
  map p[i] 0x7f0000000000 size 4M
  madvise p[i] hugepage 0x7f0000000000 size 4M
  madvise p[i] populate_write 0x7f0000000000 size 2M
  madvise p[i] collapse 0x7f0000000000 size 4M
}`).filter((o) => (o as { op: string }).op === "madvise").map((o) => {
      const m = o as { mm: string; advice: string };
      return `${m.mm} ${m.advice}`;
    }),
    [
      "p[0] hugepage",
      "p[0] populate_write",
      "p[0] collapse",
      "p[1] hugepage",
      "p[1] populate_write",
      "p[1] collapse",
    ],
  );
  // the advice words are names elsewhere
  assert.equal(ops("let free = 4K\nmm collapse\nmap collapse 0 size free").length, 2);
});

Deno.test("madvise: unknown advice, with the kernel's spelling and a did-you-mean", () => {
  const head = "mm a\nmap a 0 size 4K\n";
  assert.deepEqual(
    messages(
      head + `madvise a dontned 0 size 4K
madvise a MADV_POPULATE_WRITE 0 size 4K
madvise a populate 0 size 4K
madvise a nohuge_page 0 size 4K
madvise a cold 0 size 4K`,
    ),
    [
      '3:11: unknown advice "dontned" (did you mean "dontneed"?)',
      '4:11: unknown advice "MADV_POPULATE_WRITE" (did you mean "populate_write"?)',
      '5:11: unknown advice "populate" (did you mean "populate_write"?)',
      '6:11: unknown advice "nohuge_page" (did you mean "nohugepage"?)',
      '7:11: unknown advice "cold" (one of dontneed, free, hugepage, nohugepage, collapse, ' +
      "populate_write)",
    ],
  );
  assert.deepEqual(
    messages("madvise a 0 size 4K")[0],
    "1:11: expected an advice (dontneed, free, hugepage, nohugepage, collapse or populate_write) but found '0'",
  );
});

Deno.test("madvise populate_write: the range must be writable", () => {
  const head = "mm a\nmap a 0x7f0000000000 size 8K\nmap a 0x7f0000002000 size 8K prot none\n";
  assert.deepEqual(messages(head + "madvise a populate_write 0x7f0000000000 size 16K"), [
    "4:26: madvise populate_write of 0x7f0000000000..0x7f0000004000 would fail: the range is " +
    'not writable (the mapping 0x7f0000002000..0x7f0000004000 of "a" made on line 3 has prot none)',
  ]);
  // the writable part alone is fine; mprotect can make the rest writable
  assert.equal(ops(head + "madvise a populate_write 0x7f0000000000 size 8K").length, 4);
  assert.equal(
    ops(
      head + "mprotect a 0x7f0000002000 size 8K write\n" +
        "madvise a populate_write 0x7f0000000000 size 16K",
    ).length,
    5,
  );
  assert.deepEqual(
    messages(
      "mm a\nmap a 0 size 8K\nmprotect a 4K size 4K read\nmadvise a populate_write 0 size 8K",
    ),
    [
      "4:26: madvise populate_write of 0x0..0x2000 would fail: the range is not writable (the " +
      'mapping 0x1000..0x2000 of "a" made on line 2 has prot read from the mprotect on line 3)',
    ],
  );
  // the other advice do not care about the protection
  for (const a of ADVICE.filter((a) => a !== "populate_write")) {
    assert.equal(ops(head + `madvise a ${a} 0x7f0000000000 size 16K`).length, 4, a);
  }
});

Deno.test("madvise collapse: needs CONFIG_TRANSPARENT_HUGEPAGE, not thp=always", () => {
  const src = "mm a\nmap a 0x40000000 size 8M\nmadvise a collapse 0x40000000 size 8M\n";
  // i386-2level has no THP at all: a misfit of that configuration
  const r = compile(src, "i386-2level");
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.col, d.kind, d.message]), [
    [
      3,
      11,
      "fit",
      "MADV_COLLAPSE needs transparent huge pages, which i386-2level does not have",
    ],
  ]);
  // x86_64-4level has it, whatever the thp option says
  for (const thp of ["", " { thp = on }", " { thp = off }"]) {
    assert.equal(ops(`arch x86_64-4level${thp}\n${src}`).length, 3, thp);
  }
  // no whole aligned PMD block in the range: the kernel does nothing, no diagnostic
  assert.equal(
    ops("mm a\nmap a 0x40001000 size 8K\nmadvise a collapse 0x40001000 size 8K").length,
    3,
  );
  // free needs no THP
  assert.equal(
    ops("mm a\nmap a 0x40000000 size 8K\nmadvise a free 0x40000000 size 8K", "i386-2level").length,
    3,
  );
});

Deno.test("layout: protect splits at the ends and merges neighbours that are alike again", () => {
  const l = new Layout();
  l.insert(0n, 16n * K, 2);
  l.insert(16n * K, 32n * K, 3, "read");
  l.protect(4n * K, 8n * K, "read", 5);
  const view = () => l.areas.map((a) => [a.start / K, a.end / K, a.line, a.prot, a.protLine]);
  assert.deepEqual(view(), [
    [0n, 4n, 2, "write", undefined],
    [4n, 8n, 2, "read", 5],
    [8n, 16n, 2, "write", undefined],
    [16n, 32n, 3, "read", undefined],
  ]);
  // page by page from the same line: one range
  for (let p = 8n; p < 16n; p += 4n) l.protect(p * K, (p + 4n) * K, "read", 5);
  assert.deepEqual(view(), [
    [0n, 4n, 2, "write", undefined],
    [4n, 16n, 2, "read", 5],
    [16n, 32n, 3, "read", undefined],
  ]);
  // across two maps: each keeps its line
  l.protect(0n, 32n * K, "none", 9);
  assert.deepEqual(view(), [
    [0n, 16n, 2, "none", 9],
    [16n, 32n, 3, "none", 9],
  ]);
  // a fork's copy is apart
  const c = l.clone();
  c.protect(0n, 4n * K, "write", 11);
  assert.equal(l.areas[0].prot, "none");
  assert.equal(c.areas[0].prot, "write");
});
