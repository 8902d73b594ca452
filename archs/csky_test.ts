// Exact figures of the csky configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { K, M, Sim } from "./_testing.ts";

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;

Deno.test("csky: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1
  // (include/asm-generic/pgalloc.h); the pgd page is not counted before 6.14
  const s = new Sim("csky").mm("a").map("a", A, 4n * M).touch("a", A);
  assertEquals(s.fig("a"), {
    vmpte: 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.ptlocks, 1); // SMP, NR_CPUS 4 (arch/csky/Kconfig)
  s.touch("a", A, 4n * M);
  assertEquals(s.fig("a").vmpte, 4096);
  assertEquals(s.fig("a").rss, 4 * 2 ** 20);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.ptlocks, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("csky: many tables, a high page, every other region unmapped, fork", () => {
  const s = new Sim("csky").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 4n * M);
  assertEquals(s.fig("a").vmpte, 16 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 16);
  s.map("a", 0x7fff_0000n, P).touch("a", 0x7fff_0000n); // pgd entry 511, under TASK_SIZE
  assertEquals(s.fig("a").tables.pte, 17);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 17 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 34);
  s.exit("b").exit("a");
  const t = new Sim("csky").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", A + i * 4n * M, P).touch("a", A + i * 4n * M);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", A + i * 4n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 4);
  const u = new Sim("csky").mm("a");
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

Deno.test("csky: TLBI broadcasts, so flushes send no IPI", () => {
  // flush_tlb_range: tlbi.vas per page pair; flush_tlb_mm: tlbi.asids (arch/csky/mm/tlb.c);
  // munmap flushes at tlb_end_vma and at tlb_finish_mmu (asm-generic/tlb.h)
  const s = new Sim("csky", {}, 4).mm("a").on("a", 0, 1, 2).map("a", A, P).touch("a", A);
  s.unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0);
});

Deno.test("csky by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  const want: Record<string, number> = { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("csky", { kernel }).mm("a").map("a", A, P).touch("a", A);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 4096, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
