// Exact figures of the csky configuration, each worked out from the kernel rule cited.
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
const L = { page: P, slot: 4n * M, addr: A }; // PGDIR_SHIFT 22: a PTE table maps 4 MiB

Deno.test("csky: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  assertEquals(onePage("csky", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1
    // (include/asm-generic/pgalloc.h); the pgd page is not counted before 6.14
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 1, // SMP, NR_CPUS 4 (arch/csky/Kconfig)
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("csky: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("csky", L, { slots: 16, high: 0x7fff_0000n }), {
    // 64 MiB at one page per 4 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 4096, nrPagetable: 16, pagetableFrames: 1 + 16 },
    highPtes: 17, // 0x7fff0000: pgd entry 511, under TASK_SIZE
    fork: { childVmpte: 17 * 4096, nrPagetable: 34 },
    exit: CLEAN,
  });
  // one page per 4 MiB slot: each unmapped slot's table goes; two pages apart in one slot: the
  // neighbours keep the table (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("csky", L), {
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

Deno.test("csky: TLBI broadcasts, so flushes send no IPI", () => {
  // flush_tlb_range: tlbi.vas per page pair; flush_tlb_mm: tlbi.asids (arch/csky/mm/tlb.c);
  // munmap flushes at tlb_end_vma and at tlb_finish_mmu (asm-generic/tlb.h)
  const s = new Sim("csky", {}, 4).mm("a").on("a", 0, 1, 2).map("a", A, P).touch("a", A);
  s.unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0);
});

Deno.test("csky by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor counts the pgd page
  assertEquals(byVersion("csky", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});
