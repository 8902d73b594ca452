// Exact figures of the nios2 configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { K, M, Sim } from "./_testing.ts";

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;

Deno.test("nios2: one page costs one 4 KiB PTE table; the pgd page is not counted", () => {
  // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1
  // (include/asm-generic/pgalloc.h); pgd_alloc = __get_free_page (arch/nios2/mm/pgtable.c)
  const s = new Sim("nios2").mm("a").map("a", A, P).touch("a", A);
  assertEquals(s.fig("a"), {
    vmpte: 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.ptlocks, 0); // UP: no split ptlocks
  s.touch("a", A, 4n * M); // the same table maps 4 MiB (PGDIR_SHIFT 22)
  s.map("a", A + P, 4n * M - P).touch("a", A, 4n * M);
  assertEquals(s.fig("a").vmpte, 4096);
  assertEquals(s.fig("a").rss, 4 * 2 ** 20);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("nios2: many tables, every other region unmapped, a high page, fork", () => {
  // 64 MiB at one page per 4 MiB: 16 PTE tables
  const s = new Sim("nios2").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 4n * M);
  assertEquals(s.fig("a").vmpte, 16 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 16);
  // a page just under TASK_SIZE (0x7FFF0000) is in the last user pgd entry: one more table
  s.map("a", 0x7ffe_0000n, P).touch("a", 0x7ffe_0000n);
  assertEquals(s.fig("a").tables.pte, 17);
  s.fork("a", "b"); // copy_page_range: a table wherever the parent has one (mm/memory.c)
  assertEquals(s.fig("b").vmpte, 17 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 34);
  s.exit("b");
  // one-page VMAs one per 4 MiB slot: unmapping every other frees its slot's table (floor =
  // prev->vm_end, ceiling = next->vm_start, mm/memory.c free_pgd_range)
  const t = new Sim("nios2").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", A + i * 4n * M, P).touch("a", A + i * 4n * M);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", A + i * 4n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 4);
  // two pages apart in one slot: the neighbours keep the table
  const u = new Sim("nios2").mm("a");
  for (let i = 0n; i < 8n; i++) u.map("a", A + 2n * i * P, P).touch("a", A + 2n * i * P);
  for (let i = 1n; i < 8n; i += 2n) u.unmap("a", A + 2n * i * P, P);
  assertEquals(u.fig("a").vmpte, 4096);
  assertEquals(u.fig("a").rss, 4 * 4096);
  for (const x of [s, t, u]) {
    x.exit("a");
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("nios2: MMU_GATHER_NO_RANGE flushes the whole mm once per gather, with no IPI", () => {
  // NO_RANGE selects MERGE_VMAS: no flush at tlb_end_vma; tlb_flush = flush_tlb_mm when
  // tlb->end (asm-generic/tlb.h); a UP kernel IPIs nobody
  const s = new Sim("nios2", {}, 4).mm("a").on("a", 0, 1);
  s.map("a", A, P).map("a", A + 8n * M, P).touch("a", A).touch("a", A + 8n * M);
  s.unmap("a", A, 12n * M);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  assertEquals(s.fig("a").vmpte, 0);
});

Deno.test("nios2 by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: pgd_alloc calls __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (arch/nios2/mm/pgtable.c)
  const want: Record<string, number> = { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("nios2", { kernel }).mm("a").map("a", A, P).touch("a", A);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 4096, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.sys.leaks, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
