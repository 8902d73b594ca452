// Exact figures of the arc configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { Run } from "../engine/run.ts";
import type { Op } from "../engine/types.ts";
import { K, M, Sim } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";

const A = 0x1000_0000n; // a 2 MiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K

Deno.test("arc-8k-2level: a 1 KiB PTE table in an 8 KiB page: VmPTE counts 1024", () => {
  // PTRS_PER_PTE = BIT(PMD_SHIFT - PAGE_SHIFT) = BIT(21 - 13) = 256 (asm/pgtable-levels.h);
  // mm_inc_nr_ptes adds PTRS_PER_PTE * sizeof(pte_t) = 1024 (include/linux/mm.h), but
  // __pte_alloc_one takes a whole page (include/asm-generic/pgalloc.h); the pgd is 2048 x 4
  // = the other 8 KiB page, not counted before 6.14
  const s = new Sim("arc-8k-2level").mm("a").map("a", A, 2n * M).touch("a", A, P, P);
  assertEquals(s.fig("a"), {
    vmpte: 1024,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 8192,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2);
  s.touch("a", A, 2n * M, P); // 256 pages of 8 KiB: the one table maps 2 MiB
  assertEquals(s.fig("a").vmpte, 1024);
  assertEquals(s.fig("a").rss, 2 * 2 ** 20);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("arc-8k-2level: many tables, a high page, every other region unmapped, fork", () => {
  // 64 MiB at one page per 2 MiB: 32 tables, 32 KiB of VmPTE in 32 pages
  const s = new Sim("arc-8k-2level").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 2n * M);
  assertEquals(s.fig("a").vmpte, 32 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 32);
  assertEquals(s.sys.pagetable_frames, 33);
  s.map("a", 0x5fff_e000n, P).touch("a", 0x5fff_e000n, P, P); // pgd entry 767 (TASK_SIZE)
  assertEquals(s.fig("a").tables.pte, 33);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 33 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 66);
  s.exit("b").exit("a");
  const t = new Sim("arc-8k-2level").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", A + i * 2n * M, P).touch("a", A + i * 2n * M, P, P);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", A + i * 2n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 1024);
  assertEquals(t.sys.nr_page_table_pages, 4);
  const u = new Sim("arc-8k-2level").mm("a");
  for (let i = 0n; i < 8n; i++) u.map("a", A + 2n * i * P, P).touch("a", A + 2n * i * P, P, P);
  for (let i = 1n; i < 8n; i += 2n) u.unmap("a", A + 2n * i * P, P);
  assertEquals(u.fig("a").vmpte, 1024);
  for (const x of [t, u]) x.exit("a");
  for (const x of [s, t, u]) {
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("arc: pte_free inside free_pgtables; IPIs to every CPU that ever ran the mm", () => {
  // __pte_free_tlb = pte_free (asm/pgalloc.h); flush_tlb_range = on_each_cpu_mask(mm_cpumask)
  // and the mask only aggregates (arch/arc/mm/tlb.c): CPU 1, now lazy, still gets both flushes
  // of a munmap (tlb_end_vma, tlb_finish_mmu)
  const run = new Run(configFor("arc-8k-2level"), findConfig("arc-8k-2level")!.backend, 4, {
    trace: true,
  });
  const ops = [
    { op: "mm", name: "a" },
    { op: "run", mm: "a", cpus: [0, 1] },
    { op: "run", mm: "a", cpus: [0] },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "touch", mm: "a", addr: A, size: P, step: P },
    { op: "unmap", mm: "a", addr: A, size: P },
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  const ev = run.k.trace!.filter((e) => e.line === 6).map((e) => e.fn);
  const flushes = ev.flatMap((f, i) => f === "flush_tlb_range" ? [i] : []);
  assertEquals(flushes.length, 2);
  const free = ev.indexOf("pagetable_free");
  assertEquals(free > flushes[0] && free < flushes[1], true);
  assertEquals(run.k.ipis, 2);
});

Deno.test("arc by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  const want: Record<string, number> = { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("arc-8k-2level", { kernel }).mm("a").map("a", A, P).touch("a", A, P, P);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 1024, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.sys.leaks, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
