// Exact figures of the um configurations, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, everyOther, G, K, M, onePage, Sim } from "./_testing.ts";
import { configFor } from "./registry.ts";

const A = 0x10_0000_0000n; // 64 GiB: a 1 GiB pgd slot (3-level) of its own
const P = 4n * K;
// PMD_SHIFT 21, PGDIR_SHIFT 30 (arch/um/include/asm/pgtable-3level.h): a PTE table maps 2 MiB
const L = { page: P, slot: 2n * M, addr: A };

Deno.test("um-x86_64 6.6: one page costs a PMD and a PTE table; the pgd is not counted", () => {
  assertEquals(onePage("um-x86_64", L), {
    // pgd_alloc = __get_free_page(GFP_KERNEL) (arch/um/kernel/mem.c): a page, no ctor
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // __pmd_alloc / __pte_alloc: pmd_alloc_one + pagetable_pmd_ctor, __pte_alloc_one +
    // pagetable_pte_ctor, each VmPTE += 512 * 8 (include/asm-generic/pgalloc.h, mm/memory.c)
    first: {
      vmpte: 8192,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 4096,
      nrPagetable: 2,
      pagetableFrames: 3,
      ptlocks: 0, // NR_CPUS is 1 (arch/um/Kconfig): no split ptlocks
    },
    slot: { vmpte: 8192, rss: 2 * 2 ** 20 }, // 2 MiB per PTE table
    exit: CLEAN,
  });
});

Deno.test("um-x86_64: 2 MiB per PTE table, 1 GiB per PMD table", () => {
  // 2 MiB per PTE table: the one-page case's `slot`; 1 GiB at one page per 2 MiB is 512 PTE
  // tables under one PMD table
  const t = new Sim("um-x86_64").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 512 });
  assertEquals(t.fig("a").vmpte, (512 + 1) * 4096);
  assertEquals(t.sys.nr_page_table_pages, 513);
  // a page in the next 1 GiB pgd slot needs a second PMD table
  t.map("a", A + G, P).touch("a", A + G);
  assertEquals(t.fig("a").tables.pmd, 2);
  assertEquals(t.fig("a").vmpte, (512 + 1 + 2) * 4096);
  t.unmap("a", A, 2n * G); // no neighbours left: everything under the pgd goes
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.leaks, 0);
});

Deno.test("um-x86_64: munmap of every other one-page region", () => {
  assertEquals(everyOther("um-x86_64", L), {
    // one page per 2 MiB slot: each unmapped VMA's PTE table lies between floor (prev->vm_end)
    // and ceiling (next->vm_start) and is freed; the PMD table stays (mm/memory.c)
    perSlot: {
      before: { vmpte: (8 + 1) * 4096, nrPagetable: 9 },
      after: { vmpte: (4 + 1) * 4096, nrPagetable: 5, rss: 4 * 4096 },
      exit: CLEAN,
    },
    // two pages apart in one 2 MiB slot: nothing is freed
    inSlot: {
      before: { vmpte: 8192, nrPagetable: 2 },
      after: { vmpte: 8192, nrPagetable: 2, rss: 4 * 4096 },
      exit: CLEAN,
    },
  });
});

Deno.test("um-x86_64: fork copies the PMD and PTE tables", () => {
  const s = new Sim("um-x86_64").mm("a").map("a", A, 8n * M).touch("a", A, 8n * M, 2n * M);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, (4 + 1) * 4096);
  assertEquals(s.fig("b").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 4 });
  assertEquals(s.sys.nr_page_table_pages, 10);
  s.exit("b").exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("um-x86_64 by version: 4 levels from 6.13, a counted pgd from 6.14", () => {
  // 6.1: +1 per table; 6.6/6.12: pmd + pte; 6.18: 4 levels (6.13) so a PUD too, with
  // pagetable_pud_ctor (6.7), and __pgd_alloc + pagetable_pgd_ctor (6.14)
  assertEquals(byVersion("um-x86_64", L), {
    nrPagetable: { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 4 },
    vmpte: { "6.1": 8192, "6.6": 8192, "6.12": 8192, "6.18": 12288 },
    exit: everyKernel(CLEAN),
  });
  // TASK_SIZE: 0x7fc0000000 (6.1), 0x7f80000000 (6.12); limited to the 4-level table and
  // PGDIR-aligned from 6.13: 0x7f8000000000 on a 47-bit host (arch/um/kernel/um_arch.c)
  assertEquals(configFor("um-x86_64", { kernel: "6.1" }).taskSize, 0x7f_c000_0000n);
  assertEquals(configFor("um-x86_64", { kernel: "6.12" }).taskSize, 0x7f_8000_0000n);
  assertEquals(configFor("um-x86_64", { kernel: "6.18" }).taskSize, 0x7f80_0000_0000n);
  // 6.18: a page high up needs its own PUD (PGDIR_SHIFT 39)
  const t = new Sim("um-x86_64", { kernel: "6.18" }).mm("a").map("a", A, P).touch("a", A);
  t.map("a", 0x7f00_0000_0000n, P).touch("a", 0x7f00_0000_0000n);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 2, pte: 2 });
  assertEquals(t.fig("a").vmpte, 6 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 7);
  t.exit("a");
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.leaks, 0);
});

Deno.test("um: a UP kernel sends no IPIs whatever CPUs a scenario names", () => {
  // NR_CPUS range 1 1 (arch/um/Kconfig, through 6.18): nr_cpu_ids is 1; munmap flushes at
  // tlb_end_vma and at tlb_finish_mmu (no MMU_GATHER_MERGE_VMAS)
  const s = new Sim("um-x86_64", {}, 4).mm("a").on("a", 0, 1, 2).map("a", A, P).touch("a", A);
  s.unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0);
});

Deno.test("um-i386: 2 levels of 1024 x 4 bytes", () => {
  // pgtable-2level.h: PGDIR_SHIFT 22, PTRS_PER_PTE 1024 with 4-byte PTEs
  const B = 0x1000_0000n;
  const s = new Sim("um-i386").mm("a").map("a", B, 16n * M).touch("a", B, 16n * M, 4n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 4 });
  assertEquals(s.fig("a").vmpte, 4 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 4);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 4 * 4096);
  s.exit("a").exit("b");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
  // 6.18: the pgd is counted (__pgd_alloc, 6.14)
  const t = new Sim("um-i386", { kernel: "6.18" }).mm("a").map("a", B, P).touch("a", B);
  assertEquals(t.sys.nr_page_table_pages, 2);
  assertEquals(t.fig("a").vmpte, 4096);
});

Deno.test("um-i386 with 3_LEVEL_PGTABLES (up to 6.12): 4-byte entries, 2 KiB PTE tables", () => {
  // asm/page.h: pte_t/pmd_t/pgd_t are unsigned long (4 bytes) for 3_LEVEL_PGTABLES && !64BIT;
  // asm/pgtable-3level.h: PTRS_PER_PTE 512 (VmPTE 2048 for a 4 KiB page), PTRS_PER_PMD 1024
  // (4096), PGDIR_SHIFT 31; the generic pmd_alloc_one runs the pmd ctor
  const B = 0x1000_0000n;
  const s = new Sim("um-i386", { pgtable_levels: "3" }).mm("a").map("a", B, 4n * M);
  s.touch("a", B, 4n * M, 2n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 2 });
  assertEquals(s.fig("a").vmpte, 4096 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 3);
  assertEquals(s.sys.pagetable_frames, 4);
  assertEquals(configFor("um-i386", { pgtable_levels: "3" }).taskSize, 0x8000_0000n);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
  // 6.13 removed the mode: 6.18 is 2-level whatever the option says
  const t = new Sim("um-i386", { pgtable_levels: "3", kernel: "6.18" }).mm("a").map("a", B, P);
  t.touch("a", B);
  assertEquals(t.fig("a").vmpte, 4096);
  assertEquals(t.fig("a").tables.pmd, 0);
  assertEquals(t.run.k.cfg.options.pgtable_levels, "2");
});
