// Exact figures of the xtensa configuration, each worked out from the kernel rule cited.
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
  traced,
} from "./_testing.ts";

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;
const L = { page: P, slot: 4n * M, addr: A }; // PGDIR_SHIFT 22: a PTE table maps 4 MiB

Deno.test("xtensa: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  assertEquals(onePage("xtensa", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // pte_alloc_one = __pte_alloc_one(mm, GFP_PGTABLE_USER) + ptes_clear: VmPTE += 1024 * 4,
    // NR_PAGETABLE +1 (asm/pgalloc.h); the pgd page is not counted before 6.14
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 1, // SMP, NR_CPUS 4 (arch/xtensa/Kconfig)
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("xtensa: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("xtensa", L, { slots: 16, high: 0x3fff_f000n }), {
    // 64 MiB at one page per 4 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 4096, nrPagetable: 16, pagetableFrames: 1 + 16 },
    highPtes: 17, // 0x3ffff000: the last user pgd entry (TASK_SIZE 1G)
    fork: { childVmpte: 17 * 4096, nrPagetable: 34 },
    exit: CLEAN,
  });
  // one page per 4 MiB slot: each unmapped slot's table goes; two pages apart in one slot: the
  // neighbours keep the table (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("xtensa", L), {
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

Deno.test("xtensa: pte_free before the flush; every flush IPIs all other CPUs", () => {
  // __pte_free_tlb = pte_free (asm/tlb.h): the table is gone before tlb_finish_mmu flushes;
  // flush_tlb_range / flush_tlb_mm are on_each_cpu (arch/xtensa/kernel/smp.c), so a
  // single-threaded munmap on 4 CPUs costs 2 flushes (tlb_end_vma, tlb_finish_mmu) x 3 IPIs
  const run = traced("xtensa", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "touch", mm: "a", addr: A, size: P, step: P },
    { op: "unmap", mm: "a", addr: A, size: P },
  ]);
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
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (arch/xtensa/include/asm/pgalloc.h)
  assertEquals(byVersion("xtensa", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});
