// MADV_COLLAPSE of tmpfs and shmem memory (mm/khugepaged.c collapse_file, retract_page_tables,
// collapse_pte_mapped_thp) and the huge PMD mappings of page-cache THPs it leaves
// (mm/memory.c do_set_pmd, mm/huge_memory.c zap_huge_pmd / __split_huge_pmd). x86_64-4level,
// 4 KiB pages, 512 pages a PMD; every process on CPU 0 (no batched unmap flush).
import { configFor, configNames, findConfig } from "../archs/registry.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { Op, RunResult } from "./types.ts";

const K = 1024n, M = 1024n * K;
const A = 0x7f00_0000_0000n;

function play(ops: Record<string, unknown>[], kernel: string, config = "x86_64-4level"): RunResult {
  const cfg = configFor(config, { kernel, thp: "always" });
  const run = new Run(cfg, findConfig(config)!.backend, 1);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const snap = { op: "snapshot", label: "s" };
/** a writes all of a 4 MiB tmpfs file mapped shared, b reads its first 2 MiB, a collapses it. */
const shared = (span = 2n * M) => [
  { op: "file", name: "f", size: 4n * M },
  { op: "mm", name: "a" },
  { op: "map", mm: "a", addr: A, size: 4n * M, shared: true, backing: "f", offset: 0n },
  { op: "touch", mm: "a", addr: A, size: 4n * M, step: 4n * K },
  { op: "mm", name: "b" },
  { op: "map", mm: "b", addr: A, size: 4n * M, shared: true, backing: "f", offset: 0n },
  { op: "touch", mm: "b", addr: A, size: 2n * M, step: 4n * K, read: true },
  snap,
  { op: "madvise", mm: "a", advice: "collapse", addr: A, size: span },
  snap,
  // b faults the block again: the cache holds one THP now
  { op: "touch", mm: "b", addr: A, size: 2n * M, step: 4n * K, read: true },
  snap,
  // munmap of part of a's huge PMD: __split_huge_pmd of a file THP just unmaps it
  { op: "unmap", mm: "a", addr: A, size: 1n * M },
  snap,
  { op: "exit", mm: "a" },
  { op: "exit", mm: "b" },
];

const tables = (r: RunResult, i: number, m: string) => r.snapshots[i].mms[m].tables.pte;
const shmem = (r: RunResult, i: number, m: string) => r.snapshots[i].mms[m].rss_shmem / 4096;
const flushes = (r: RunResult, i: number) => r.snapshots[i].metrics.tlb_flushes;

Deno.test("MADV_COLLAPSE of shmem, 6.6+: every mapping's table retracted, the caller PMD-mapped", () => {
  for (const kernel of ["6.6", "6.12", "6.18"]) {
    const r = play(shared(), kernel);
    assertEquals([tables(r, 0, "a"), tables(r, 0, "b")], [2, 1], kernel);
    // collapse_file: try_to_unmap of a's 512 and b's 512 small pages, ptep_clear_flush each;
    // retract_page_tables: both tables (pmdp_collapse_flush each, pte_free_defer); then
    // collapse_pte_mapped_thp maps the THP in a with one huge PMD (set_huge_pmd)
    assertEquals(flushes(r, 1) - flushes(r, 0), 512 + 512 + 2, kernel);
    assertEquals([tables(r, 1, "a"), tables(r, 1, "b")], [1, 0], kernel);
    assertEquals([shmem(r, 1, "a"), shmem(r, 1, "b")], [1024, 0], kernel);
    // do_set_pmd for b's read fault: no table
    assertEquals([tables(r, 2, "b"), shmem(r, 2, "b")], [0, 512], kernel);
    // the split of a's huge PMD: one flush (pmdp_huge_clear_flush), its 512 pages unmapped
    assertEquals(flushes(r, 3) - flushes(r, 2), 1, kernel);
    assertEquals([tables(r, 3, "a"), shmem(r, 3, "a")], [1, 512], kernel);
    assertEquals(r.violations, [], kernel);
    assertEquals(r.final.metrics.leaks, 0, kernel);
  }
});

Deno.test("MADV_COLLAPSE of shmem, 6.1: only the caller's table is retracted", () => {
  const r = play(shared(), "6.1");
  // retract_page_tables of 6.1 takes mmap_write_trylock only for the target; b's emptied
  // table is left for khugepaged (khugepaged_add_pte_mapped_thp)
  assertEquals(flushes(r, 1) - flushes(r, 0), 512 + 512 + 1);
  assertEquals([tables(r, 1, "a"), tables(r, 1, "b")], [1, 1]);
  assertEquals(r.snapshots[1].mms.b.rss, 0);
  // b's table is still there: its read faults map PTEs again (fault-around), no huge PMD
  assertEquals([tables(r, 2, "b"), shmem(r, 2, "b")], [1, 512]);
  assertEquals(r.violations, []);
  assertEquals(r.final.metrics.leaks, 0);
});

Deno.test("MADV_COLLAPSE of a block the caller never touched: installed on 6.6+, stops 6.1", () => {
  const ops = [
    { op: "file", name: "f", size: 4n * M },
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M, shared: true, backing: "f", offset: 0n },
    { op: "touch", mm: "a", addr: A + 2n * M, size: 4n * K, step: 4n * K },
    { op: "madvise", mm: "a", advice: "collapse", addr: A, size: 4n * M },
    snap,
    { op: "exit", mm: "a" },
  ];
  // 6.6+: block 0 has no table (pmd none): set_huge_pmd; block 1's one page: unmapped, its table
  // retracted, the THP mapped; 2 THPs, no PTE table
  const r = play(ops, "6.18");
  assertEquals([tables(r, 0, "a"), shmem(r, 0, "a")], [0, 1024]);
  // 6.1: block 0 gives SCAN_PMD_NONE from retract_page_tables, which ends madvise_collapse
  const old = play(ops, "6.1");
  assertEquals([tables(old, 0, "a"), shmem(old, 0, "a")], [1, 1]);
  assertEquals(old.violations, []);
});

Deno.test("a private file mapping keeps the pages it copied: no retract, no huge PMD", () => {
  const ops = [
    { op: "file", name: "f", size: 2n * M },
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M, backing: "f", offset: 0n },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 4n * K, read: true },
    // one copy-on-write page: the VMA has an anon_vma now
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "madvise", mm: "a", advice: "collapse", addr: A, size: 2n * M },
    snap,
    { op: "exit", mm: "a" },
  ];
  const r = play(ops, "6.18");
  // the 511 page-cache pages unmapped (try_to_unmap), the anonymous copy stays; the table stays
  // (retract_page_tables skips a VMA with an anon_vma, collapse_pte_mapped_thp aborts)
  assertEquals(r.snapshots[0].mms.a.tables.pte, 1);
  assertEquals([r.snapshots[0].mms.a.rss_anon / 4096, shmem(r, 0, "a")], [1, 0]);
  assertEquals(r.violations, []);
});

Deno.test("MADV_COLLAPSE of shmem on every configuration with THP leaves nothing behind", () => {
  for (const name of configNames()) {
    if (!findConfig(name)!.thpAvailable) continue;
    for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
      const cfg = configFor(name, { kernel, thp: "always" });
      const run = new Run(cfg, findConfig(name)!.backend, 1);
      const page = 1n << BigInt(cfg.pageShift);
      const pmd = page * BigInt(run.k.geo.pmdPages);
      // below 4 TiB: s390 keeps an upgraded top table when no VMA is left below it
      // (examples_test.ts); a real process has its stack there
      const at = (cfg.taskSize < 1n << 41n ? cfg.taskSize / 2n : 1n << 40n) / pmd * pmd;
      const ops = [
        { op: "file", name: "f", size: 2n * pmd },
        { op: "mm", name: "a" },
        { op: "map", mm: "a", addr: at, size: 2n * pmd, shared: true, backing: "f", offset: 0n },
        { op: "touch", mm: "a", addr: at, size: 2n * pmd, step: page },
        { op: "fork", mm: "a", child: "c" },
        { op: "touch", mm: "c", addr: at, size: pmd, step: page, read: true },
        { op: "madvise", mm: "a", advice: "collapse", addr: at, size: 2n * pmd },
        { op: "touch", mm: "c", addr: at, size: 2n * pmd, step: page },
        { op: "unmap", mm: "c", addr: at, size: page },
        { op: "exit", mm: "c" },
        { op: "exit", mm: "a" },
      ];
      ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
      const r = run.finish(ops.length);
      assertEquals(r.violations.map((v) => v.message), [], `${name} ${kernel}`);
      assert(r.final.metrics.leaks === 0, `${name} ${kernel}`);
    }
  }
});
