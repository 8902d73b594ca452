// Exact figures of the openrisc configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { K, M, Sim } from "./_testing.ts";

const A = 0x1000_0000n; // a 16 MiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K

Deno.test("openrisc: one page costs one 8 KiB PTE table of 2048 entries", () => {
  // __pte_alloc_one + pagetable_pte_ctor: VmPTE += PTRS_PER_PTE (1 << (13 - 2)) * 4 = 8192,
  // NR_PAGETABLE +1 (include/asm-generic/pgalloc.h); the pgd (256 x 4 bytes) has an 8 KiB page
  // to itself, not counted (arch/openrisc/include/asm/pgalloc.h)
  const s = new Sim("openrisc").mm("a").map("a", A, P).touch("a", A, P, P);
  assertEquals(s.fig("a"), {
    vmpte: 8192,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 8192,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2); // two 8 KiB frames: the pgd and the PTE table
  assertEquals(s.sys.ptlocks, 1);
  // one PTE table maps 2048 * 8 KiB = 16 MiB (PGDIR_SHIFT 24)
  s.map("a", A + P, 16n * M - P).touch("a", A, 16n * M, P);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").rss, 16 * 2 ** 20);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("openrisc: many tables, a high page, every other region unmapped, fork", () => {
  // 256 MiB at one page per 16 MiB: 16 PTE tables
  const s = new Sim("openrisc").mm("a").map("a", A, 256n * M).touch("a", A, 256n * M, 16n * M);
  assertEquals(s.fig("a").vmpte, 16 * 8192);
  assertEquals(s.sys.nr_page_table_pages, 16);
  // the last user pgd entry (127 of 256: TASK_SIZE 0x80000000 / 16 MiB)
  s.map("a", 0x7f00_0000n, P).touch("a", 0x7f00_0000n, P, P);
  assertEquals(s.fig("a").tables.pte, 17);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 17 * 8192);
  assertEquals(s.sys.nr_page_table_pages, 34);
  s.exit("b").exit("a");
  // one page per 16 MiB slot, every other one unmapped: its table goes (mm/memory.c)
  const t = new Sim("openrisc").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", A + i * 16n * M, P).touch("a", A + i * 16n * M, P, P);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", A + i * 16n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 8192);
  assertEquals(t.sys.nr_page_table_pages, 4);
  // two pages apart in one slot: nothing freed
  const u = new Sim("openrisc").mm("a");
  for (let i = 0n; i < 8n; i++) u.map("a", A + 2n * i * P, P).touch("a", A + 2n * i * P, P, P);
  for (let i = 1n; i < 8n; i += 2n) u.unmap("a", A + 2n * i * P, P);
  assertEquals(u.fig("a").vmpte, 8192);
  for (const x of [t, u]) x.exit("a");
  for (const x of [s, t, u]) {
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("openrisc: one flush_tlb_mm per gather, IPIs to mm_cpumask including lazy CPUs", () => {
  // MMU_GATHER_NO_RANGE: flush_tlb_mm (asm-generic/tlb.h) -> smp_flush_tlb_mm:
  // on_each_cpu_mask(mm_cpumask) (arch/openrisc/kernel/smp.c); a CPU that went lazy is still in
  // the mask (switch_mm, arch/openrisc/mm/tlb.c, only runs between user mms)
  const s = new Sim("openrisc", {}, 4).mm("a").on("a", 0, 1).on("a", 0);
  s.map("a", A, P).map("a", A + 32n * M, P).touch("a", A, P, P).touch("a", A + 32n * M, P, P);
  s.unmap("a", A, 48n * M);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 1); // lazy CPU 1
  s.on("a", 0, 2).map("a", A, P).touch("a", A, P, P).exit("a");
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 3); // CPU 2 running it, CPU 1 lazy
});

Deno.test("openrisc by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  const want: Record<string, number> = { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("openrisc", { kernel }).mm("a").map("a", A, P).touch("a", A, P, P);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 8192, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
