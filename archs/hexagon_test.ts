// Exact figures of the hexagon configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import {
  byVersion,
  CLEAN,
  everyKernel,
  everyOther,
  K,
  M,
  manyTables,
  onePage,
  Sim,
} from "./_testing.ts";
import { configFor } from "./registry.ts";

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;
const L = { page: P, slot: 4n * M, addr: A }; // PGDIR_SHIFT 22: a PTE table maps 4 MiB

Deno.test("hexagon-4k: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  assertEquals(onePage("hexagon-4k", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1; the pgd
    // (__get_free_page(GFP_KERNEL | __GFP_ZERO), asm/pgalloc.h) is not counted before 6.14
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 1, // split PTE ptlocks: SMP, NR_CPUS 6 (arch/hexagon/Kconfig)
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("hexagon page sizes: PTRS_PER_PTE = 4 MiB / PAGE_SIZE, one page per table", () => {
  // PGDIR_SHIFT 22 for every page size; PTRS_PER_PTE 1024/256/64/16 (asm/pgtable.h); the table
  // is a whole page from pagetable_alloc(.., 0), VmPTE counts PTRS_PER_PTE * 4
  const want: Record<string, [bigint, number, number]> = {
    "4K": [4n * K, 1024, 4096],
    "16K": [16n * K, 256, 1024],
    "64K": [64n * K, 64, 256],
    "256K": [256n * K, 16, 64],
  };
  for (const [size, [page, ptrs, pgtb]] of Object.entries(want)) {
    const cfg = configFor("hexagon-4k", { page_size: size });
    assertEquals(cfg.levels[4].entries, ptrs, size);
    assertEquals(cfg.levels[0].shift, 22, size);
    const s = new Sim("hexagon-4k", { page_size: size }).mm("a").map("a", A, 8n * M);
    s.touch("a", A, 8n * M, page);
    assertEquals(s.fig("a").tables.pte, 2, size);
    assertEquals(s.fig("a").vmpte, 2 * pgtb, size);
    assertEquals(s.fig("a").rss, 8 * 2 ** 20, size);
    assertEquals(s.sys.nr_page_table_pages, 2, size);
    assertEquals(s.sys.pagetable_frames, 3, size); // pgd page + two PTE pages
    s.exit("a");
    assertEquals(s.sys.leaks, 0, size);
    assertEquals(s.violations, [], size);
  }
});

Deno.test("hexagon-4k: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("hexagon-4k", L, { slots: 16, high: 0xbfff_f000n }), {
    // 64 MiB at one page per 4 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 4096, nrPagetable: 16, pagetableFrames: 1 + 16 },
    highPtes: 17, // 0xbffff000: the last user pgd entry
    fork: { childVmpte: 17 * 4096, nrPagetable: 34 },
    exit: CLEAN,
  });
  // one page per 4 MiB slot: each unmapped slot's table goes; two pages apart in one slot: the
  // neighbours keep the table (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("hexagon-4k", L), {
    perSlot: {
      before: { vmpte: 8 * 4096, nrPagetable: 8 },
      after: { vmpte: 4 * 4096, nrPagetable: 4, rss: 4 * 4096 },
      exit: CLEAN,
    },
    inSlot: {
      before: { vmpte: 4096, nrPagetable: 1 },
      after: { vmpte: 4096, nrPagetable: 1, rss: 4 * 4096 },
      exit: CLEAN,
    },
  });
});

Deno.test("hexagon: the VM flushes, no IPIs", () => {
  // flush_tlb_range -> __vmclrmap (arch/hexagon/mm/vm_tlb.c); munmap flushes at tlb_end_vma
  // and at tlb_finish_mmu (no MMU_GATHER_MERGE_VMAS)
  const s = new Sim("hexagon-4k", {}, 4).mm("a").on("a", 0, 1).map("a", A, P).touch("a", A);
  s.unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0);
});

Deno.test("hexagon by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (asm/pgalloc.h)
  assertEquals(byVersion("hexagon-4k", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});

Deno.test("hexagon 64K pages: MAX_GATHER_BATCH_COUNT is 0, so only the 8-entry bundle batches", () => {
  // MAX_GATHER_BATCH = (65536 - 12) / 4 = 16381, MAX_GATHER_BATCH_COUNT = 10000 / 16381 = 0
  // (asm-generic/tlb.h): tlb_next_batch never adds a page, __tlb_remove_page forces a flush
  // whenever the local batch of MMU_GATHER_BUNDLE (8) is full; from 6.9 it is full at 7
  // (mm/mmu_gather.c). Exiting with 64 pages and one PTE table (page batch):
  // 6.6: flushes after pages 8, 16, .. 64, then tlb_finish_mmu for the table = 9;
  // 6.12: after 7, 14, .. 63, then the last page and the table at tlb_finish_mmu = 10
  const cfg = configFor("hexagon-4k", { page_size: "64K" });
  assertEquals([cfg.gather.maxGatherBatch, cfg.gather.maxGatherBatchCount], [16381, 0]);
  for (const [kernel, flushes] of [["6.6", 9], ["6.12", 10]] as const) {
    const s = new Sim("hexagon-4k", { page_size: "64K", kernel }).mm("a").map("a", A, 4n * M);
    s.touch("a", A, 4n * M, 64n * K).exit("a");
    assertEquals(s.sys.tlb_flushes, flushes, kernel);
    assertEquals(s.sys.leaks, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
