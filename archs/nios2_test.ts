// Exact figures of the nios2 configuration, each worked out from the kernel rule cited.
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

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;
const L = { page: P, slot: 4n * M, addr: A }; // the same table maps 4 MiB (PGDIR_SHIFT 22)

Deno.test("nios2: one page costs one 4 KiB PTE table; the pgd page is not counted", () => {
  assertEquals(onePage("nios2", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1
    // (include/asm-generic/pgalloc.h); pgd_alloc = __get_free_page (arch/nios2/mm/pgtable.c)
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 0, // UP: no split ptlocks
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("nios2: many tables, every other region unmapped, a high page, fork", () => {
  assertEquals(manyTables("nios2", L, { slots: 16, high: 0x7ffe_0000n }), {
    // 64 MiB at one page per 4 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 4096, nrPagetable: 16, pagetableFrames: 1 + 16 },
    // a page just under TASK_SIZE (0x7FFF0000) is in the last user pgd entry: one more table
    highPtes: 17,
    // copy_page_range: a table wherever the parent has one (mm/memory.c)
    fork: { childVmpte: 17 * 4096, nrPagetable: 34 },
    exit: CLEAN,
  });
  assertEquals(everyOther("nios2", L), {
    // one-page VMAs one per 4 MiB slot: unmapping every other frees its slot's table (floor =
    // prev->vm_end, ceiling = next->vm_start, mm/memory.c free_pgd_range)
    perSlot: {
      before: { vmpte: 8 * 4096, nrPagetable: 8 },
      after: { vmpte: 4 * 4096, nrPagetable: 4, rss: 4 * 4096 },
      exit: CLEAN,
    },
    // two pages apart in one slot: the neighbours keep the table
    inSlot: {
      before: { vmpte: 4096, nrPagetable: 1 },
      after: { vmpte: 4096, nrPagetable: 1, rss: 4 * 4096 },
      exit: CLEAN,
    },
  });
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
  assertEquals(byVersion("nios2", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});
