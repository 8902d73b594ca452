// Exact figures of the alpha configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import {
  byVersion,
  CLEAN,
  everyKernel,
  everyOther,
  G,
  K,
  M,
  onePage,
  Sim,
  traced,
} from "./_testing.ts";

const A = 0x10_0000_0000n; // 64 GiB: an 8 GiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K
// PMD_SHIFT = 13 + 10 = 23, PGDIR_SHIFT = 13 + 20 = 33 (asm/pgtable.h): a PTE table maps 8 MiB
const L = { page: P, slot: 8n * M, addr: A };

Deno.test("alpha: one page costs an 8 KiB PMD and an 8 KiB PTE table, both counted", () => {
  assertEquals(onePage("alpha", L), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // pmd_alloc_one + pagetable_pmd_ctor, __pte_alloc_one + pagetable_pte_ctor: each VmPTE +=
    // 1024 * 8 and NR_PAGETABLE +1 (include/asm-generic/pgalloc.h); the pgd page is not counted
    first: {
      vmpte: 16384,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 8192,
      nrPagetable: 2,
      pagetableFrames: 3,
      ptlocks: 1, // split PTE locks only: no ARCH_ENABLE_SPLIT_PMD_PTLOCK
    },
    slot: { vmpte: 16384, rss: 8 * 2 ** 20 }, // 8 MiB per PTE table
    exit: CLEAN,
  });
  // pgd_alloc writes the VPTB self-map into entry PTRS_PER_PGD - 1 (arch/alpha/mm/init.c)
  const s = new Sim("alpha").mm("a");
  assertEquals(s.run.k.mms.get("a")!.context.vptbSelfMap, 1023);
});

Deno.test("alpha: 8 MiB per PTE table, 8 GiB per PMD table", () => {
  // 8 MiB per PTE table: the one-page case's `slot`. PGDIR_SHIFT = 13 + 20 = 33
  // (asm/pgtable.h): 1 GiB at one page per 8 MiB is 128 PTE tables under one PMD table
  const t = new Sim("alpha").mm("a").map("a", A, G).touch("a", A, G, 8n * M);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 128 });
  assertEquals(t.fig("a").vmpte, (128 + 1) * 8192);
  assertEquals(t.sys.nr_page_table_pages, 129);
  t.map("a", A + 8n * G, P).touch("a", A + 8n * G, P, P); // the next pgd slot
  assertEquals(t.fig("a").tables.pmd, 2);
  assertEquals(t.fig("a").vmpte, (129 + 2) * 8192);
  t.fork("a", "b");
  assertEquals(t.fig("b").vmpte, (129 + 2) * 8192);
  assertEquals(t.sys.nr_page_table_pages, 2 * 131);
  t.exit("b");
  t.unmap("a", A, 9n * G);
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  t.exit("a");
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("alpha: munmap of every other one-page region", () => {
  // one page per 8 MiB slot: each unmapped slot's PTE table goes, the PMD table stays; two pages
  // apart in one slot: nothing goes (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("alpha", L), {
    perSlot: {
      before: { vmpte: (8 + 1) * 8192, nrPagetable: 9 },
      after: { vmpte: (4 + 1) * 8192, nrPagetable: 5, rss: 4 * 8192 },
      exit: CLEAN,
    },
    inSlot: {
      before: { vmpte: 16384, nrPagetable: 2 },
      after: { vmpte: 16384, nrPagetable: 2, rss: 4 * 8192 },
      exit: CLEAN,
    },
  });
});

Deno.test("alpha: pte_free and pmd_free both run before the one flush_tlb_mm", () => {
  // __pte_free_tlb = pte_free, __pmd_free_tlb = pmd_free (asm/tlb.h); NO_RANGE (with
  // MERGE_VMAS): no flush at tlb_end_vma, one flush_tlb_mm at tlb_finish_mmu
  const run = traced("alpha", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "map", mm: "a", addr: A + 16n * G, size: P },
    { op: "touch", mm: "a", addr: A + 16n * G, size: P, step: P },
    { op: "unmap", mm: "a", addr: A + 16n * G, size: P },
  ]);
  const ev = run.k.trace!.filter((e) => e.line === 5).map((e) => e.fn);
  assertEquals(ev.filter((f) => f.startsWith("flush_tlb")), ["flush_tlb_mm"]);
  const flush = ev.indexOf("flush_tlb_mm");
  const frees = ev.flatMap((f, i) => f === "pagetable_free" ? [i] : []);
  assertEquals(frees.length, 2);
  assertEquals(frees[1] < flush, true);
  assertEquals(run.k.nrPagetable, 0);
});

Deno.test("alpha: flush_tlb_mm IPIs all other CPUs only for an mm with several users", () => {
  // arch/alpha/kernel/smp.c flush_tlb_mm: mm_users <= 1 -> local flush and zeroed contexts;
  // otherwise smp_call_function(ipi_flush_tlb_mm); exit_mmap runs with mm_users 0
  const s = new Sim("alpha", {}, 4).mm("a").map("a", A, P).touch("a", A, P, P).unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  s.on("a", 0, 1).map("a", A, P).touch("a", A, P, P).unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 3);
  s.map("a", A, P).touch("a", A, P, P).exit("a");
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 3);
});

Deno.test("alpha by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  // 6.14: __pgd_alloc(mm, 0) -> pagetable_pgd_ctor (arch/alpha/mm/init.c)
  assertEquals(byVersion("alpha", L), {
    nrPagetable: { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 },
    vmpte: everyKernel(16384),
    exit: everyKernel(CLEAN),
  });
});
