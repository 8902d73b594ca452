// Exact figures of the arc configuration, each worked out from the kernel rule cited.
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
  traced,
} from "./_testing.ts";

const A = 0x1000_0000n; // a 2 MiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K
const L = { page: P, slot: 2n * M, addr: A }; // 256 pages of 8 KiB: one table maps 2 MiB

Deno.test("arc-8k-2level: a 1 KiB PTE table in an 8 KiB page: VmPTE counts 1024", () => {
  assertEquals(onePage("arc-8k-2level", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // PTRS_PER_PTE = BIT(PMD_SHIFT - PAGE_SHIFT) = BIT(21 - 13) = 256 (asm/pgtable-levels.h);
    // mm_inc_nr_ptes adds PTRS_PER_PTE * sizeof(pte_t) = 1024 (include/linux/mm.h), but
    // __pte_alloc_one takes a whole page (include/asm-generic/pgalloc.h); the pgd is 2048 x 4
    // = the other 8 KiB page, not counted before 6.14
    first: {
      vmpte: 1024,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 8192,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 1, // split PTE ptlocks: SMP, NR_CPUS 4 (arch/arc/Kconfig)
    },
    slot: { vmpte: 1024, rss: 2 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("arc-8k-2level: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("arc-8k-2level", L, { slots: 32, high: 0x5fff_e000n }), {
    // 64 MiB at one page per 2 MiB: 32 tables, 32 KiB of VmPTE in 32 pages
    spread: { vmpte: 32 * 1024, nrPagetable: 32, pagetableFrames: 33 },
    highPtes: 33, // 0x5fffe000: pgd entry 767 (TASK_SIZE)
    fork: { childVmpte: 33 * 1024, nrPagetable: 66 },
    exit: CLEAN,
  });
  // one page per 2 MiB slot: each unmapped slot's table goes; two pages apart in one slot: the
  // neighbours keep the table (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("arc-8k-2level", L), {
    perSlot: {
      before: { vmpte: 8 * 1024, nrPagetable: 8 },
      after: { vmpte: 4 * 1024, nrPagetable: 4, rss: 4 * 8192 },
      exit: CLEAN,
    },
    inSlot: {
      before: { vmpte: 1024, nrPagetable: 1 },
      after: { vmpte: 1024, nrPagetable: 1, rss: 4 * 8192 },
      exit: CLEAN,
    },
  });
});

Deno.test("arc: pte_free inside free_pgtables; IPIs to every CPU that ever ran the mm", () => {
  // __pte_free_tlb = pte_free (asm/pgalloc.h); flush_tlb_range = on_each_cpu_mask(mm_cpumask)
  // and the mask only aggregates (arch/arc/mm/tlb.c): CPU 1, now lazy, still gets both flushes
  // of a munmap (tlb_end_vma, tlb_finish_mmu)
  const run = traced("arc-8k-2level", {}, [
    { op: "mm", name: "a" },
    { op: "run", mm: "a", cpus: [0, 1] },
    { op: "run", mm: "a", cpus: [0] },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "touch", mm: "a", addr: A, size: P, step: P },
    { op: "unmap", mm: "a", addr: A, size: P },
  ]);
  const ev = run.k.trace!.filter((e) => e.line === 6).map((e) => e.fn);
  const flushes = ev.flatMap((f, i) => f === "flush_tlb_range" ? [i] : []);
  assertEquals(flushes.length, 2);
  const free = ev.indexOf("pagetable_free");
  assertEquals(free > flushes[0] && free < flushes[1], true);
  assertEquals(run.k.ipis, 2);
});

Deno.test("arc by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (arch/arc/include/asm/pgalloc.h)
  assertEquals(byVersion("arc-8k-2level", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(1024),
    exit: everyKernel(CLEAN),
  });
});
