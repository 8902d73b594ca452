// Exact figures of the microblaze configuration, each worked out from the kernel rule cited.
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

const A = 0x1000_0000n; // a 4 MiB pgd slot of its own
const P = 4n * K;
const L = { page: P, slot: 4n * M, addr: A }; // PGDIR_SHIFT 22: a PTE table maps 4 MiB

Deno.test("microblaze: one page costs one 4 KiB PTE table; a table maps 4 MiB", () => {
  assertEquals(onePage("microblaze", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // __pte_alloc_one + pagetable_pte_ctor: VmPTE += 1024 * 4, NR_PAGETABLE +1; the pgd
    // (__get_free_pages(GFP_KERNEL | __GFP_ZERO, 0), asm/pgalloc.h) is not counted before 6.14
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 0, // UP
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 },
    exit: CLEAN,
  });
});

Deno.test("microblaze: many tables, a high page, every other region unmapped, fork", () => {
  assertEquals(manyTables("microblaze", L, { slots: 16, high: 0xbfff_f000n }), {
    // 64 MiB at one page per 4 MiB: 16 PTE tables, 16 pages beside the pgd's
    spread: { vmpte: 16 * 4096, nrPagetable: 16, pagetableFrames: 1 + 16 },
    highPtes: 17, // 0xbffff000: the last user pgd entry (TASK_SIZE 3G)
    fork: { childVmpte: 17 * 4096, nrPagetable: 34 },
    exit: CLEAN,
  });
  // one page per 4 MiB slot: each unmapped slot's table goes; two pages apart in one slot: the
  // neighbours keep the table (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("microblaze", L), {
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

Deno.test("microblaze: __pte_free_tlb = pte_free frees the table before the one flush", () => {
  // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, (pte)) (asm/pgalloc.h);
  // MMU_GATHER_NO_RANGE: one flush_tlb_mm at tlb_finish_mmu (asm-generic/tlb.h); UP: no IPI
  const run = traced("microblaze", {}, [
    { op: "mm", name: "a" },
    { op: "run", mm: "a", cpus: [0, 1] },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "touch", mm: "a", addr: A, size: P, step: P },
    { op: "unmap", mm: "a", addr: A, size: P },
  ]);
  const ev = run.k.trace!.filter((e) => e.line === 5).map((e) => e.fn);
  assertEquals(ev.filter((f) => f.startsWith("flush_tlb")), ["flush_tlb_mm"]);
  assertEquals(ev.indexOf("pagetable_free") < ev.indexOf("flush_tlb_mm"), true);
  assertEquals(ev.includes("pagetable_free"), true);
  assertEquals(run.k.ipis, 0);
  assertEquals(run.k.nrPagetable, 0);
});

Deno.test("microblaze by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: pgd_alloc(mm) = __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (asm/pgalloc.h)
  assertEquals(byVersion("microblaze", L), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});
