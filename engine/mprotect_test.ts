// mprotect (mm/mprotect.c) and the madvise advice of engine/madvise.ts, on x86_64-4level with
// 4 KiB pages: VMAs split and merged, THPs split where a range covers them in part, the flushes
// the mmu_gather does, MADV_COLLAPSE's deposit and sync IPIs.
import { configFor, findConfig } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { Op, RunResult } from "./types.ts";

const K = 1024n, M = 1024n * K;
const A = 0x7f00_0000_0000n;
const snap = { op: "snapshot", label: "s" };

function play(
  ops: Record<string, unknown>[],
  opts: Record<string, string> = {},
  cpus = 1,
): RunResult {
  const cfg = configFor("x86_64-4level", { kernel: "6.18", ...opts });
  const run = new Run(cfg, findConfig("x86_64-4level")!.backend, cpus);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const at = (r: RunResult, i: number) => {
  const s = r.snapshots[i];
  const a = s.mms.a;
  return {
    vmas: a.vmas,
    pte: a.tables.pte,
    vmpte: a.vmpte,
    anon: a.rss_anon / 4096,
    flushes: s.metrics.tlb_flushes,
  };
};

Deno.test("mprotect of one page in the middle: three VMAs, one flush; back to write merges them", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 4n * K },
    snap,
    { op: "mprotect", mm: "a", addr: A + 1n * M, size: 4n * K, prot: "read" },
    snap,
    { op: "mprotect", mm: "a", addr: A + 1n * M, size: 4n * K, prot: "write" },
    snap,
    { op: "mprotect", mm: "a", addr: A + 1n * M, size: 4n * K, prot: "write" },
    snap,
    // munmap of each half: the table goes with the second
    { op: "unmap", mm: "a", addr: A, size: 1n * M },
    { op: "unmap", mm: "a", addr: A + 1n * M, size: 1n * M },
    snap,
  ]);
  assertEquals(at(r, 0), { vmas: 1, pte: 1, vmpte: 12288, anon: 512, flushes: 0 });
  // split_vma twice; change_pte_range clears RW of the page: tlb_flush_pte_range, one flush
  assertEquals(at(r, 1), { vmas: 3, pte: 1, vmpte: 12288, anon: 512, flushes: 1 });
  // the page's own anonymous page becomes writable (can_change_pte_writable): a flush; the
  // three VMAs (one anon_vma) merge into one
  assertEquals(at(r, 2), { vmas: 1, pte: 1, vmpte: 12288, anon: 512, flushes: 2 });
  // nothing changes: no flush
  assertEquals(at(r, 3).flushes, 2);
  assertEquals([at(r, 4).vmas, at(r, 4).pte, at(r, 4).anon], [0, 0, 0]);
  assertEquals(r.violations, []);
});

Deno.test("mprotect of a page inside a THP splits it: the deposit becomes the PTE table", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    snap,
    { op: "mprotect", mm: "a", addr: A, size: 4n * K, prot: "read" },
    snap,
    { op: "exit", mm: "a" },
  ], { thp: "always" });
  // one THP: its deposited table counted in VmPTE (mm_inc_nr_ptes), 512 pages
  assertEquals(at(r, 0), { vmas: 1, pte: 1, vmpte: 12288, anon: 512, flushes: 0 });
  // __split_huge_pmd flushes the PMD range (pmdp_invalidate), then the page's PTE changes
  assertEquals(at(r, 1), { vmas: 2, pte: 1, vmpte: 12288, anon: 512, flushes: 2 });
  assertEquals([r.violations, r.final.metrics.leaks], [[], 0]);
});

Deno.test("thp=madvise: a fault makes a THP only where MADV_HUGEPAGE asked for it", () => {
  const ops = (advice: string[]) => [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M },
    ...advice.map((a) => ({ op: "madvise", mm: "a", advice: a, addr: A, size: 2n * M })),
    { op: "touch", mm: "a", addr: A, size: 4n * M, step: 2n * M },
    snap,
  ];
  // no advice: two PTE tables, a page each
  assertEquals(at(play(ops([]), { thp: "madvise" }), 0).anon, 2);
  // MADV_HUGEPAGE on the first 2 MiB: a THP there (its VMA split off), a page in the other
  const h = at(play(ops(["hugepage"]), { thp: "madvise" }), 0);
  assertEquals([h.vmas, h.anon], [2, 513]);
  // thp=always with MADV_NOHUGEPAGE on the first 2 MiB: the reverse
  const n = at(play(ops(["nohugepage"]), { thp: "always" }), 0);
  assertEquals([n.vmas, n.anon], [2, 513]);
});

Deno.test("MADV_COLLAPSE: the PTE table becomes the deposit, one flush, a sync IPI per other CPU", () => {
  const r = play(
    [
      { op: "mm", name: "a" },
      { op: "run", mm: "a", cpus: [0] },
      { op: "map", mm: "a", addr: A, size: 4n * M },
      { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
      { op: "touch", mm: "a", addr: A + 2n * M, size: 4n * K, step: 4n * K, read: true },
      snap,
      { op: "madvise", mm: "a", advice: "collapse", addr: A, size: 4n * M },
      snap,
      { op: "exit", mm: "a" },
    ],
    {},
    4,
  );
  assertEquals(at(r, 0), { vmas: 1, pte: 2, vmpte: 16384, anon: 16, flushes: 0 });
  // the first block collapses (16 writable pages); the second only maps the zero page
  // (SCAN_PAGE_RO): VmPTE unchanged, the deposit counted as the table was
  assertEquals(at(r, 1), { vmas: 1, pte: 2, vmpte: 16384, anon: 512, flushes: 1 });
  // x86_64 frees tables by RCU (MMU_GATHER_RCU_TABLE_FREE): 3 other CPUs interrupted
  assertEquals(r.snapshots[1].metrics.ipis - r.snapshots[0].metrics.ipis, 3);
  assertEquals([r.violations, r.final.metrics.leaks], [[], 0]);
});

Deno.test("MADV_FREE keeps tables and RSS and flushes once; MADV_POPULATE_WRITE faults it all in", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M },
    { op: "madvise", mm: "a", advice: "populate_write", addr: A, size: 4n * M },
    snap,
    { op: "madvise", mm: "a", advice: "free", addr: A, size: 4n * M },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals(at(r, 0), { vmas: 1, pte: 2, vmpte: 16384, anon: 1024, flushes: 0 });
  assertEquals(at(r, 1), { vmas: 1, pte: 2, vmpte: 16384, anon: 1024, flushes: 1 });
});
