// Exact figures of the xtensa configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { Run } from "../engine/run.ts";
import type { Op } from "../engine/types.ts";
import { K, M, Sim } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;

Deno.test("xtensa: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  // pte_alloc_one = __pte_alloc_one(mm, GFP_PGTABLE_USER) + ptes_clear: VmPTE += 1024 * 4,
  // NR_PAGETABLE +1 (asm/pgalloc.h); the pgd page is not counted before 6.14
  const s = new Sim("xtensa").mm("a").map("a", A, 4n * M).touch("a", A);
  assertEquals(s.fig("a"), {
    vmpte: 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.ptlocks, 1); // SMP, NR_CPUS 4 (arch/xtensa/Kconfig)
  s.touch("a", A, 4n * M);
  assertEquals(s.fig("a").vmpte, 4096);
  assertEquals(s.fig("a").rss, 4 * 2 ** 20);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("xtensa: many tables, a high page, every other region unmapped, fork", () => {
  const s = new Sim("xtensa").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 4n * M);
  assertEquals(s.fig("a").vmpte, 16 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 16);
  s.map("a", 0x3fff_f000n, P).touch("a", 0x3fff_f000n); // last user pgd entry (TASK_SIZE 1G)
  assertEquals(s.fig("a").tables.pte, 17);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 17 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 34);
  s.exit("b").exit("a");
  const t = new Sim("xtensa").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", A + i * 4n * M, P).touch("a", A + i * 4n * M);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", A + i * 4n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 4);
  const u = new Sim("xtensa").mm("a");
  for (let i = 0n; i < 8n; i++) u.map("a", A + 2n * i * P, P).touch("a", A + 2n * i * P);
  for (let i = 1n; i < 8n; i += 2n) u.unmap("a", A + 2n * i * P, P);
  assertEquals(u.fig("a").vmpte, 4096);
  for (const x of [t, u]) x.exit("a");
  for (const x of [s, t, u]) {
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("xtensa: pte_free before the flush; every flush IPIs all other CPUs", () => {
  // __pte_free_tlb = pte_free (asm/tlb.h): the table is gone before tlb_finish_mmu flushes;
  // flush_tlb_range / flush_tlb_mm are on_each_cpu (arch/xtensa/kernel/smp.c), so a
  // single-threaded munmap on 4 CPUs costs 2 flushes (tlb_end_vma, tlb_finish_mmu) x 3 IPIs
  const run = new Run(configFor("xtensa"), findConfig("xtensa")!.backend, 4, { trace: true });
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "touch", mm: "a", addr: A, size: P, step: P },
    { op: "unmap", mm: "a", addr: A, size: P },
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  const ev = run.k.trace!.filter((e) => e.line === 4).map((e) => e.fn);
  const flushes = ev.flatMap((f, i) => f === "flush_tlb_range" ? [i] : []);
  assertEquals(flushes.length, 2);
  const free = ev.indexOf("pagetable_free");
  assertEquals(free > flushes[0] && free < flushes[1], true);
  assertEquals(run.k.tlbFlushes, 2);
  assertEquals(run.k.ipis, 6);
  const s = new Sim("xtensa", {}, 2).mm("a").map("a", A, P).touch("a", A).exit("a");
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 1); // exit's flush_tlb_mm reaches the other CPU too
});

Deno.test("xtensa by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  const want: Record<string, number> = { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("xtensa", { kernel }).mm("a").map("a", A, P).touch("a", A);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 4096, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.sys.leaks, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
