// `mremap MM ADDR size SIZE to NEWADDR [size NEWSIZE]`: the ops, the checks and the layout the
// later statements see.
import assert from "node:assert/strict";
import { Layout } from "./layout.ts";
import { compile, messages, ops } from "./_testing.ts";

function remaps(src: string): unknown[] {
  return ops(src).filter((o) => (o as { op: string }).op === "mremap");
}

const BASE = 0x7f0000000000n;
const K = 1024n;
const M = 1024n * K;
const HEAD = "let base = 0x7f00_0000_0000\nmm a\nmap a base size 16K\n";

Deno.test("mremap: a move, the new size defaulting to the old one", () => {
  const src = HEAD + "mremap a base size 16K to base + 1M\ntouch a base + 1M size 16K\n";
  assert.deepEqual(remaps(src), [
    { op: "mremap", mm: "a", addr: BASE, size: 16n * K, newAddr: BASE + M, newSize: 16n * K },
  ]);
  // the op's position is the keyword's
  const r = compile(src);
  const op = r.program!.ops.find((o) => o.op === "mremap")!;
  assert.deepEqual([op.line, op.col], [4, 1]);
  // a move that grows or shrinks, and a part of a mapping moved out of its middle
  assert.deepEqual(remaps(HEAD + "mremap a base size 16K to base + 1M size 32K"), [
    { op: "mremap", mm: "a", addr: BASE, size: 16n * K, newAddr: BASE + M, newSize: 32n * K },
  ]);
  const mid = HEAD + "mremap a base + 4K size 4K to base + 1M\n";
  assert.equal(ops(mid + "touch a base\ntouch a base + 8K size 8K\ntouch a base + 1M").length, 6);
});

Deno.test("mremap: after a move the old range is unmapped and the new one keeps its prot", () => {
  const src = HEAD + "mremap a base size 16K to base + 1M\n";
  assert.deepEqual(messages(src + "touch a base"), [
    '5:9: touch at 0x7f0000000000 is outside any mapping of "a"',
  ]);
  assert.deepEqual(messages(src + "touch a base + 1M size 20K"), [
    '5:9: touch reaches 0x7f0000104000, which is outside any mapping of "a"',
  ]);
  // the old range may be mapped again, the new one may not
  assert.deepEqual(messages(src + "map a base size 16K"), []);
  assert.deepEqual(messages(src + "map a base + 1M + 12K size 4K"), [
    "5:7: mapping 0x7f0000103000..0x7f0000104000 overlaps the mapping " +
    '0x7f0000100000..0x7f0000104000 of "a" made on line 3',
  ]);
  // the protection (and the mprotect that gave it) moves with the range
  const ro = "let base = 0x7f00_0000_0000\nmm a\nmap a base size 16K prot read\n" +
    "mremap a base size 16K to base + 1M\n";
  assert.deepEqual(messages(ro + "touch a base + 1M read"), []);
  assert.deepEqual(messages(ro + "touch a base + 1M"), [
    '5:9: touch writes 0x7f0000100000 in the mapping 0x7f0000100000..0x7f0000104000 of "a" ' +
    "made on line 3 with prot read: the write would get SIGSEGV (add 'read' to the touch for " +
    "read faults)",
  ]);
  const mp = HEAD + "mprotect a base size 16K none\nmremap a base size 16K to base + 1M\n";
  assert.deepEqual(messages(mp + "touch a base + 1M read"), [
    '6:9: touch reads 0x7f0000100000 in the mapping 0x7f0000100000..0x7f0000104000 of "a" ' +
    "made on line 3 with prot none from the mprotect on line 4: the read would get SIGSEGV",
  ]);
  // an unmap of the new range, then nothing is left to touch
  assert.deepEqual(messages(src + "unmap a base + 1M size 16K\ntouch a base + 1M"), [
    '6:9: touch at 0x7f0000100000 is outside any mapping of "a"',
  ]);
});

Deno.test("mremap: shrink in place removes the tail", () => {
  const src = HEAD + "mremap a base size 16K to base size 8K\n";
  assert.deepEqual(remaps(src), [
    { op: "mremap", mm: "a", addr: BASE, size: 16n * K, newAddr: BASE, newSize: 8n * K },
  ]);
  assert.deepEqual(messages(src + "touch a base size 8K"), []);
  assert.deepEqual(messages(src + "touch a base + 8K"), [
    '5:9: touch at 0x7f0000002000 is outside any mapping of "a"',
  ]);
  // the same size in place changes nothing
  assert.deepEqual(messages(HEAD + "mremap a base size 16K to base\ntouch a base size 16K"), []);
});

Deno.test("mremap: grow in place extends the mapping into free pages", () => {
  const src = HEAD + "map a base + 64K size 4K\nmremap a base size 16K to base size 64K\n";
  assert.deepEqual(remaps(src), [
    { op: "mremap", mm: "a", addr: BASE, size: 16n * K, newAddr: BASE, newSize: 64n * K },
  ]);
  assert.deepEqual(messages(src + "touch a base size 68K"), []);
  assert.deepEqual(messages(src + "map a base + 60K size 4K"), [
    "6:7: mapping 0x7f000000f000..0x7f0000010000 overlaps the mapping " +
    '0x7f0000000000..0x7f0000010000 of "a" made on line 3',
  ]);
  // one page further and it meets the mapping of line 4
  assert.deepEqual(
    messages(HEAD + "map a base + 64K size 4K\nmremap a base size 16K to base size 68K"),
    [
      "5:37: mremap of 0x7f0000000000..0x7f0000004000 would fail with ENOMEM: cannot grow in place " +
      '(0x7f0000004000..0x7f0000011000 overlaps the mapping 0x7f0000010000..0x7f0000011000 of "a" ' +
      "made on line 4)",
    ],
  );
});

Deno.test("mremap: in a repeat with indexed names", () => {
  const src = `let base = 0x7f00_0000_0000
repeat i in 0..3 {
  mm p[i]
  map p[i] base size 16K
  mremap p[i] base size 16K to base + (i + 1) * 1M size 16K + i * 4K
  touch p[i] base + (i + 1) * 1M size 16K + i * 4K
}
mremap p[2] base + 3M size 24K to base + 3M size 4K
`;
  assert.deepEqual(remaps(src), [
    { op: "mremap", mm: "p[0]", addr: BASE, size: 16n * K, newAddr: BASE + M, newSize: 16n * K },
    {
      op: "mremap",
      mm: "p[1]",
      addr: BASE,
      size: 16n * K,
      newAddr: BASE + 2n * M,
      newSize: 20n * K,
    },
    {
      op: "mremap",
      mm: "p[2]",
      addr: BASE,
      size: 16n * K,
      newAddr: BASE + 3n * M,
      newSize: 24n * K,
    },
    {
      op: "mremap",
      mm: "p[2]",
      addr: BASE + 3n * M,
      size: 24n * K,
      newAddr: BASE + 3n * M,
      newSize: 4n * K,
    },
  ]);
});

Deno.test("mremap: `to` and `mremap`; `to` is still a name elsewhere", () => {
  const src = "mm to\nlet to = 0x10000000\nmap to to size 4K\nmremap to to size 4K to to * 2\n" +
    "touch to to * 2";
  assert.deepEqual(remaps(src), [
    {
      op: "mremap",
      mm: "to",
      addr: 0x10000000n,
      size: 4n * K,
      newAddr: 0x20000000n,
      newSize: 4n * K,
    },
  ]);
  assert.deepEqual(messages("mm a\nmremap a 0 size 4K 8K"), [
    "2:20: expected 'to' but found '8K'",
  ]);
  assert.deepEqual(messages("mm a\nmremap a 0 size 4K to"), [
    "2:22: expected a new address expression but found end of input",
  ]);
  assert.deepEqual(messages("mm a\nmremap a 0 size 4K to 8K size"), [
    "2:30: expected a new size expression but found end of input",
  ]);
  // `mremap` is a keyword
  assert.equal(messages("let mremap = 1")[0], "1:5: expected a variable name but found 'mremap'");
});

Deno.test("mremap: an unknown or exited process", () => {
  assert.deepEqual(messages("mremap b 0 size 4K to 8K"), ['1:8: unknown process "b"']);
  assert.deepEqual(messages("mm a\nexit a\nmremap a 0 size 4K to 8K"), [
    '3:8: process "a" has exited (line 2)',
  ]);
});

Deno.test("layout: remap moves, shrinks and grows one range", () => {
  const l = new Layout();
  l.insert(0n, 16n, 1, "read");
  l.remap(4n, 4n, 100n, 8n);
  assert.deepEqual(l.areas, [
    { start: 0n, end: 4n, line: 1, prot: "read" },
    { start: 8n, end: 16n, line: 1, prot: "read" },
    { start: 100n, end: 108n, line: 1, prot: "read" },
  ]);
  l.remap(100n, 8n, 100n, 2n);
  l.remap(8n, 8n, 8n, 12n);
  assert.deepEqual(l.areas.map((a) => [a.start, a.end]), [[0n, 4n], [8n, 20n], [100n, 102n]]);
  assert.equal(l.containing(8n, 20n)?.start, 8n);
  assert.equal(l.containing(0n, 8n), undefined);
});
