// Exact figures of the openrisc configuration, each worked out from the kernel rule cited.
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

const A = 0x1000_0000n; // a 16 MiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K
// one PTE table maps 2048 * 8 KiB = 16 MiB (PGDIR_SHIFT 24)
const L = { page: P, slot: 16n * M, addr: A };

Deno.test("openrisc: one page costs one 8 KiB PTE table of 2048 entries", () => {
  assertEquals(onePage("openrisc", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // __pte_alloc_one + pagetable_pte_ctor: VmPTE += PTRS_PER_PTE (1 << (13 - 2)) * 4 = 8192,
    // NR_PAGETABLE +1 (include/asm-generic/pgalloc.h); the pgd (256 x 4 bytes) has an 8 KiB page
    // to itself, not counted (arch/openrisc/include/asm/pgalloc.h)
    first: {
      vmpte: 8192,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 8192,
      nrPagetable: 1,
      pagetableFrames: 2, // two 8 KiB frames: the pgd and the PTE table
      ptlocks: 1,
    },
    slot: { vmpte: 8192, rss: 16 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("openrisc: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("openrisc", L, { slots: 16, high: 0x7f00_0000n }), {
    // 256 MiB at one page per 16 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 8192, nrPagetable: 16, pagetableFrames: 1 + 16 },
    // the last user pgd entry (127 of 256: TASK_SIZE 0x80000000 / 16 MiB)
    highPtes: 17,
    fork: { childVmpte: 17 * 8192, nrPagetable: 34 },
    exit: CLEAN,
  });
  assertEquals(everyOther("openrisc", L), {
    // one page per 16 MiB slot, every other one unmapped: its table goes (mm/memory.c)
    perSlot: {
      before: { vmpte: 8 * 8192, nrPagetable: 8 },
      after: { vmpte: 4 * 8192, nrPagetable: 4, rss: 4 * 8192 },
      exit: CLEAN,
    },
    // two pages apart in one slot: nothing freed
    inSlot: {
      before: { vmpte: 8192, nrPagetable: 1 },
      after: { vmpte: 8192, nrPagetable: 1, rss: 4 * 8192 },
      exit: CLEAN,
    },
  });
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
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (arch/openrisc/include/asm/pgalloc.h)
  assertEquals(byVersion("openrisc", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(8192),
    exit: everyKernel(CLEAN),
  });
});
