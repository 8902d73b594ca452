// mremap (mm/mremap.c move_page_tables) on x86_64-4level, which selects HAVE_MOVE_PMD and
// HAVE_MOVE_PUD: whole PMD and PUD entries move when the move is aligned to them, PTE by PTE
// into new tables otherwise; the old range's tables then go by free_pgtables' floor/ceiling.
import { configFor, findConfig } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { Op, RunResult } from "./types.ts";

const K = 1024n, M = 1024n * K, G = 1024n * M;
const A = 0x1000_0000_0000n;
const snap = { op: "snapshot", label: "s" };

function play(name: string, ops: Record<string, unknown>[]): RunResult {
  const run = new Run(configFor(name, { kernel: "6.18" }), findConfig(name)!.backend, 1);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const moved = (name: string, to: bigint, size = 2n * M) =>
  play(name, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size },
    { op: "touch", mm: "a", addr: A, size, step: 4n * K },
    snap,
    { op: "mremap", mm: "a", addr: A, size, newAddr: to, newSize: size },
    snap,
    { op: "exit", mm: "a" },
  ]);

const fig = (r: RunResult, i: number) => {
  const s = r.snapshots[i];
  return {
    tables: s.mms.a.tables,
    rss: s.mms.a.rss_anon / 4096,
    pages: s.metrics.nr_page_table_pages,
    flushes: s.metrics.tlb_flushes,
  };
};

Deno.test("mremap of a touched 2 MiB by 1 GiB: the PTE table moves by its PMD entry", () => {
  const r = moved("x86_64-4level", A + G);
  assertEquals(fig(r, 0), {
    tables: { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 },
    rss: 512,
    // 6.18 counts the pgd too (pagetable_alloc since 6.14)
    pages: 4,
    flushes: 0,
  });
  // move_normal_pmd: alloc_new_pmd made a PMD table for the new GiB; the old one, empty, goes
  // with the old range (free_pgtables); one flush of the old range, one for the munmap's gather
  assertEquals(fig(r, 1), {
    tables: { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 },
    rss: 512,
    pages: 4,
    flushes: 2,
  });
  assertEquals([r.violations, r.final.metrics.leaks], [[], 0]);
});

Deno.test("mremap by 1 GiB + 4 KiB: the entries move one by one into two new PTE tables", () => {
  const r = moved("x86_64-4level", A + G + 4n * K);
  // the new range straddles a PMD boundary: two extents, two tables; the old one is freed
  assertEquals(fig(r, 1).tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 2 });
  assertEquals([fig(r, 1).rss, fig(r, 1).pages], [512, 5]);
  assertEquals([r.violations, r.final.metrics.leaks], [[], 0]);
});

Deno.test("mremap of a whole GiB by 512 GiB: the PMD table moves by its PUD entry", () => {
  // one page per 2 MiB over 1 GiB: 512 PTE tables under one PMD table; the move is PUD-aligned
  const r = play("x86_64-4level", [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: G },
    { op: "touch", mm: "a", addr: A, size: G, step: 2n * M },
    snap,
    { op: "mremap", mm: "a", addr: A, size: G, newAddr: A + 512n * G, newSize: G },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals(fig(r, 0).tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 512 });
  // a new PUD table for the next 512 GiB (alloc_new_pud); the old one is freed with the range
  assertEquals(fig(r, 1).tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 512 });
  assertEquals(fig(r, 1).rss, 512);
  assertEquals([r.violations, r.final.metrics.leaks], [[], 0]);
});

Deno.test("mremap in place: a shrink unmaps the tail, a grow extends the VMA", () => {
  const r = play("x86_64-4level", [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M },
    { op: "touch", mm: "a", addr: A, size: 4n * M, step: 4n * K },
    { op: "mremap", mm: "a", addr: A, size: 4n * M, newAddr: A, newSize: 2n * M },
    snap,
    { op: "mremap", mm: "a", addr: A, size: 2n * M, newAddr: A, newSize: 8n * M },
    { op: "touch", mm: "a", addr: A + 6n * M, size: 4n * K, step: 4n * K },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals([fig(r, 0).tables.pte, fig(r, 0).rss], [1, 512]);
  assertEquals([fig(r, 1).tables.pte, fig(r, 1).rss, r.snapshots[1].mms.a.vmas], [2, 513, 1]);
  assertEquals(r.violations, []);
});

Deno.test("HAVE_MOVE_PMD: riscv and powerpc radix move the PTE table, powerpc hash moves entries", () => {
  const how = (name: string) => {
    const run = new Run(configFor(name, { kernel: "6.18" }), findConfig(name)!.backend, 1, {
      trace: true,
    });
    const size = 1n << BigInt(configFor(name).pageShift + 9); // one PTE table's span
    const ops = [
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: A, size },
      { op: "touch", mm: "a", addr: A, size, step: 4096n * 16n },
      { op: "mremap", mm: "a", addr: A, size, newAddr: A + G, newSize: size },
      { op: "exit", mm: "a" },
    ];
    ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
    const r = run.finish(ops.length);
    const fns = new Set(r.trace!.filter((t) => t.line === 4).map((t) => t.fn));
    return [fns.has("move_normal_pmd"), fns.has("move_ptes"), r.violations.length];
  };
  assertEquals(how("riscv64-sv48"), [true, false, 0]);
  assertEquals(how("ppc64-radix-4k"), [true, false, 0]);
  // PPC_BOOK3S_64 selects HAVE_MOVE_PMD, but arch_supports_page_table_move() is radix_enabled()
  assertEquals(how("ppc64-hash-4k"), [false, true, 0]);
});
