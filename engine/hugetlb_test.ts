// hugetlb (mm/hugetlb.c): pages at PMD or PUD level with no PTE table, PMD tables shared between
// the mappings of one hugetlbfs file (huge_pmd_share, ARCH_WANT_HUGE_PMD_SHARE), counted in every
// sharer's VmPTE (mm_inc_nr_pmds) but once in NR_PAGETABLE. Figures for x86_64-4level.
import { configFor, findConfig } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { Op, RunResult } from "./types.ts";

const K = 1024n, M = 1024n * K, G = 1024n * M;
const A = 0x7f00_0000_0000n; // 1 GiB aligned: one PUD entry's range

function play(
  ops: Record<string, unknown>[],
  kernel = "6.6",
  cfgName = "x86_64-4level",
): RunResult {
  const cfg = configFor(cfgName, { kernel });
  const run = new Run(cfg, findConfig(cfgName)!.backend, 1);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const snap = (label: string) => ({ op: "snapshot", label });

/** [VmPTE in pages, PMD tables, PTE tables, hugetlb MiB, RSS] of a process in a snapshot. */
function of(r: RunResult, s: number, mm: string): number[] {
  const m = r.snapshots[s].mms[mm];
  return [m.vmpte / 4096, m.tables.pmd, m.tables.pte, m.hugetlb / 2 ** 20, m.rss];
}

Deno.test("hugetlb 2M: a PMD table and no PTE table; the pages count as HugetlbPages, not RSS", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 8n * M, hugetlb: 2n * M },
    snap("mapped"),
    // a read faults a huge page too (no zero page): 2 pages of 2 MiB
    { op: "touch", mm: "a", addr: A, size: 4n * M, step: 4n * K, read: true },
    snap("touched"),
    { op: "unmap", mm: "a", addr: A, size: 8n * M },
    snap("unmapped"),
  ]);
  // huge_pte_alloc: pud_alloc + pmd_alloc; VmPTE = PUD + PMD
  assertEquals(of(r, 1, "a"), [2, 1, 0, 4, 0]);
  // free_pgtables (hugetlb_free_pgd_range) frees both
  assertEquals(of(r, 2, "a"), [0, 0, 0, 0, 0]);
  assertEquals(r.violations, []);
});

Deno.test("hugetlb 1G: the PUD entry maps the page, no PMD table", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * G, hugetlb: G },
    { op: "touch", mm: "a", addr: A, size: 2n * G, step: 2n * M },
    snap("touched"),
  ]);
  assertEquals(of(r, 0, "a"), [1, 0, 0, 2048, 0]);
});

Deno.test("huge_pmd_share: a child faulting the shared hugetlb range uses the parent's PMD table", () => {
  for (const kernel of ["6.6", "6.18"]) {
    const r = play([
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: A, size: G, shared: true, hugetlb: 2n * M },
      { op: "touch", mm: "a", addr: A, size: 4n * M, step: 2n * M },
      snap("parent"),
      // vma_needs_copy: a shared hugetlb VMA has no anon_vma, fork copies nothing of it
      { op: "fork", mm: "a", child: "b" },
      snap("forked"),
      { op: "touch", mm: "b", addr: A, size: 4n * M, step: 2n * M },
      snap("child touched"),
      { op: "exit", mm: "a" },
      snap("parent gone"),
      { op: "exit", mm: "b" },
      snap("both gone"),
    ], kernel);
    assertEquals(of(r, 0, "a"), [2, 1, 0, 4, 0]);
    assertEquals(of(r, 1, "b"), [0, 0, 0, 0, 0]);
    // b's own PUD table, a's PMD table (mm_inc_nr_pmds); the pages were present already, so b
    // faulted none of them: its hugetlb_usage stays 0
    assertEquals(of(r, 2, "b"), [2, 1, 0, 0, 0]);
    const nr = r.snapshots.map((s) => s.metrics.nr_page_table_pages);
    // NR_PAGETABLE: only b's PUD table (counted from 6.7, pagetable_pud_ctor): the PMD table
    // is counted once
    assertEquals(nr[2] - nr[1], kernel === "6.6" ? 0 : 1);
    // a's exit unshares (huge_pmd_unshare): the table lives on in b, then b frees it
    assertEquals(of(r, 3, "b"), [2, 1, 0, 0, 0]);
    assertEquals(nr[4], 0);
    assertEquals([r.snapshots[4].metrics.leaks, r.violations.length], [0, 0]);
  }
});

Deno.test("no sharing without a whole PUD range, with another protection, or for private memory", () => {
  const cases: [Record<string, unknown>, number][] = [
    // the mapping does not cover the aligned 1 GiB: vma_shareable is false
    [{ size: 512n * M, shared: true }, 2],
    // private: VM_MAYSHARE is not set
    [{ size: G }, 2],
  ];
  for (const [map, pmds] of cases) {
    const r = play([
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: A, hugetlb: 2n * M, ...map },
      { op: "touch", mm: "a", addr: A, size: 4n * M, step: 2n * M },
      { op: "fork", mm: "a", child: "b" },
      { op: "touch", mm: "b", addr: A, size: 4n * M, step: 2n * M },
      snap("s"),
    ]);
    const t = r.snapshots[0].mms;
    assertEquals(t.a.tables.pmd + t.b.tables.pmd, pmds);
    // NR_PAGETABLE holds both PMD tables
    assertEquals(r.violations, []);
  }
});

Deno.test("munmap of one sharer unshares and flushes; mprotect unshares the range", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: G, shared: true, hugetlb: 2n * M },
    { op: "touch", mm: "a", addr: A, size: G, step: 2n * M },
    { op: "fork", mm: "a", child: "b" },
    { op: "touch", mm: "b", addr: A, size: G, step: 2n * M },
    { op: "fork", mm: "a", child: "c" },
    { op: "touch", mm: "c", addr: A, size: 2n * M, step: 2n * M },
    snap("three sharers"),
    { op: "unmap", mm: "b", addr: A, size: G },
    snap("b unmapped"),
    { op: "mprotect", mm: "c", addr: A, size: G, prot: "read" },
    snap("c read-only"),
    // c faults again: its flags differ from a's now (page_table_shareable), a table of its own
    { op: "touch", mm: "c", addr: A, size: 2n * M, step: 2n * M, read: true },
    snap("c faulted"),
  ]);
  assertEquals(of(r, 0, "a")[1] + of(r, 0, "b")[1] + of(r, 0, "c")[1], 3);
  // b: pud_clear of its entry, mm_dec_nr_pmds; free_pgtables then frees its empty PUD table
  assertEquals(of(r, 1, "b"), [0, 0, 0, 0, 0]);
  // c never faulted a page itself (a had mapped it): its hugetlb_usage is 0 until it does
  assertEquals(of(r, 2, "c"), [1, 0, 0, 0, 0]);
  assertEquals(of(r, 3, "c"), [2, 1, 0, 2, 0]);
  const nr = r.snapshots.map((s) => s.metrics.nr_page_table_pages);
  assertEquals(nr[3] - nr[2], 1);
  assertEquals(r.violations, []);
});

Deno.test("every hugetlb size of every configuration: tables above the leaf only, all freed", async () => {
  const { CONFIGS } = await import("../archs/registry.ts");
  let sizes = 0;
  for (const spec of CONFIGS) {
    for (const kernel of ["6.1", "6.18"]) {
      const cfg = configFor(spec.name, { kernel });
      for (const h of cfg.hugetlb) {
        // two pages at the first aligned address from 1 GiB on (below any s390 upgrade)
        const addr = ((1n << 30n) + h.bytes - 1n) / h.bytes * h.bytes;
        if (addr + 2n * h.bytes > cfg.taskSize) continue;
        const run = new Run(cfg, spec.backend, 1);
        const ops = [
          { op: "mm", name: "a" },
          { op: "map", mm: "a", addr, size: 2n * h.bytes, hugetlb: h.bytes },
          { op: "touch", mm: "a", addr, size: 2n * h.bytes, step: h.bytes },
          { op: "snapshot", label: "touched" },
          { op: "exit", mm: "a" },
          { op: "snapshot", label: "gone" },
        ];
        ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
        const r = run.finish(ops.length);
        const m = r.snapshots[0].mms.a;
        const what = `${spec.name} ${kernel} ${h.bytes}`;
        // huge_pte_alloc stops at the leaf's table: nothing below it, two pages counted
        assertEquals([m.tables.pte, m.hugetlb, m.rss], [0, Number(2n * h.bytes), 0], what);
        assertEquals([r.snapshots[1].metrics.leaks, r.violations.length], [0, 0], what);
        sizes++;
      }
    }
  }
  assertEquals(sizes > 40, true);
});
