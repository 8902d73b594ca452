// Exact figures of the sh configurations, each worked out from the kernel rule cited.
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

const A = 0x1000_0000n; // 256 MiB: a 4 MiB (2-level) and 1 GiB (3-level) slot of its own
const P = 4n * K;
// PGDIR_SHIFT = PAGE_SHIFT + (PAGE_SHIFT - PTE_MAGNITUDE) = 22 (asm/pgtable-2level.h)
const L2 = { page: P, slot: 4n * M, addr: A };

Deno.test("sh-2level: one page costs one 4 KiB PTE table; the pgd is a page-aligned slab object", () => {
  assertEquals(onePage("sh-2level", L2), {
    // the pgd comes from kmem_cache "pgd_cache" (4096-byte objects, align PAGE_SIZE): one slab
    // page, never counted (arch/sh/mm/pgtable.c)
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // __pte_alloc -> __pte_alloc_one + pagetable_pte_ctor: VmPTE += PTRS_PER_PTE * 4 = 4096,
    // NR_PAGETABLE +1 (include/asm-generic/pgalloc.h, mm/memory.c)
    first: {
      vmpte: 4096,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 1, // split PTE lock (SMP, NR_CPUS >= 4); no PMD level
    },
    slot: { vmpte: 4096, rss: 4 * 2 ** 20 }, // one PTE table maps 4 MiB
    exit: CLEAN,
  });
});

Deno.test("sh-2level: one PTE table maps 4 MiB; 64 MiB at one page per 4 MiB is 16 tables", () => {
  // one PTE table maps 4 MiB: the one-page case's `slot`, in one table
  const s = new Sim("sh-2level").mm("a").map("a", A, 4n * M).touch("a", A, 4n * M);
  assertEquals(s.fig("a").tables.pte, 1);
  const t = new Sim("sh-2level").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 4n * M);
  assertEquals(t.fig("a").vmpte, 16 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 16);
  t.unmap("a", A, 64n * M); // no neighbours: floor 0, ceiling 0 frees every table
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.leaks, 0);
});

Deno.test("sh-2level: munmap of every other one-page region", () => {
  assertEquals(everyOther("sh-2level", L2), {
    // one page per 4 MiB slot: each unmapped VMA's slot lies between floor and ceiling, so its
    // PTE table is freed (4 of 8)
    perSlot: {
      before: { vmpte: 8 * 4096, nrPagetable: 8 },
      after: { vmpte: 4 * 4096, nrPagetable: 4, rss: 4 * 4096 },
      exit: CLEAN,
    },
    // eight one-page VMAs two pages apart share one PTE table: unmapping every other one only
    // clears PTEs, the neighbours' floor/ceiling fall in the same 4 MiB slot (mm/memory.c
    // free_pgd_range)
    inSlot: {
      before: { vmpte: 4096, nrPagetable: 1 },
      after: { vmpte: 4096, nrPagetable: 1, rss: 4 * 4096 },
      exit: CLEAN,
    },
  });
});

Deno.test("sh-2level: fork copies the PTE tables; each pgd takes its own slab page", () => {
  // copy_page_range allocates the child's table wherever the parent has one (mm/memory.c)
  const s = new Sim("sh-2level").mm("a").map("a", A, 12n * M).touch("a", A, 12n * M, 4n * M);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 3 * 4096);
  assertEquals(s.fig("b").rss, 3 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 6);
  assertEquals(s.sys.pagetable_frames, 2 + 6); // two pgd slab pages, six PTE pages
  s.exit("a").exit("b");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("sh-3level-x2tlb: the PMD is a pmd_cache object, in VmPTE but not in NR_PAGETABLE", () => {
  // __pmd_alloc: pmd_alloc_one = kmem_cache_alloc(pmd_cachep, GFP_KERNEL | __GFP_ZERO), no
  // ctor; mm_inc_nr_pmds still adds PTRS_PER_PMD * 8 = 4096 (arch/sh/mm/pgtable.c,
  // include/linux/mm.h); PTEs are 512 x 8 (PTE_MAGNITUDE 3)
  const s = new Sim("sh-3level-x2tlb").mm("a").map("a", A, P).touch("a", A);
  assertEquals(s.fig("a"), {
    vmpte: 8192,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 3); // pgd slab page, pmd slab page, PTE page
  // a page in the second 1 GiB pgd slot needs a PMD table of its own (PGDIR_SHIFT 30)
  s.map("a", 0x4000_0000n, P).touch("a", 0x4000_0000n);
  assertEquals(s.fig("a").vmpte, 16384);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 2 });
  assertEquals(s.sys.nr_page_table_pages, 2);
  // one PTE table spans 2 MiB (PMD_SHIFT 21): 8 MiB at one page per 2 MiB is 4 tables
  s.map("a", A + 2n * M, 8n * M).touch("a", A + 2n * M, 8n * M, 2n * M);
  assertEquals(s.fig("a").tables.pte, 2 + 4);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("sh-3level-x2tlb: a 32-byte pgd still takes a whole page (pgd_cache align PAGE_SIZE)", () => {
  // kmem_cache_create("pgd_cache", PTRS_PER_PGD * 8 = 32, PAGE_SIZE, ...): the object is
  // rounded up to its alignment, so two mms hold two slab pages (arch/sh/mm/pgtable.c)
  const s = new Sim("sh-3level-x2tlb").mm("a").mm("b");
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.exit("a").exit("b");
  assertEquals(s.sys.pagetable_frames, 0);
});

Deno.test("sh-3level-x2tlb: __pmd_free_tlb frees the PMD at once, before the flush", () => {
  // #define __pmd_free_tlb(tlb, pmdp, addr) pmd_free((tlb)->mm, (pmdp)) (asm/pgalloc.h): the
  // kmem_cache_free runs inside free_pgtables; the PTE page waits in the page batch until
  // tlb_finish_mmu has flushed (asm-generic/tlb.h)
  const run = traced("sh-3level-x2tlb", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "map", mm: "a", addr: 0x4000_0000n, size: P },
    { op: "touch", mm: "a", addr: 0x4000_0000n, size: P, step: P },
    { op: "unmap", mm: "a", addr: 0x4000_0000n, size: P },
  ]);
  const ev = run.k.trace!.filter((e) => e.line === 5);
  const pmdFree = ev.findIndex((e) => e.fn === "kmem_cache_free" && e.detail === "pmd_cache");
  const flushes = ev.flatMap((e, i) => e.fn.startsWith("flush_tlb") ? [i] : []);
  const pages = ev.findIndex((e) => e.fn === "free_pages_and_swap_cache");
  assertEquals(flushes.length, 2); // tlb_end_vma, then tlb_finish_mmu
  assertEquals(pmdFree >= 0 && pmdFree < flushes[1], true);
  assertEquals(pages > flushes[1], true);
  const s = new Sim("sh-3level-x2tlb").mm("a").map("a", A, P).touch("a", A);
  s.map("a", G, P).touch("a", G).unmap("a", G, P);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").tables.pmd, 1);
  assertEquals(s.sys.pagetable_frames, 3);
});

Deno.test("sh: flushes IPI every other CPU unless the mm has one user and is current's", () => {
  // flush_tlb_range / flush_tlb_mm: smp_call_function when mm_users != 1 || current->mm != mm
  // (arch/sh/kernel/smp.c); no MMU_GATHER_MERGE_VMAS, so munmap flushes at tlb_end_vma and again
  // at tlb_finish_mmu once the PTE table went (asm-generic/tlb.h)
  const s = new Sim("sh-2level", {}, 4).mm("a").map("a", A, P).touch("a", A);
  s.unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0); // one thread, current->mm == mm: no IPI
  s.map("a", A, P).touch("a", A).on("a", 0, 1).unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 4);
  assertEquals(s.sys.ipis, 6); // two flushes to the 3 other online CPUs, not only CPU 1
  s.on("a", 0).map("a", A, P).touch("a", A).exit("a");
  // exit_mmap: current->mm is NULL already (exit_mm), so flush_tlb_mm IPIs all others
  assertEquals(s.sys.tlb_flushes, 5);
  assertEquals(s.sys.ipis, 9);
});

Deno.test("sh: every kernel version counts the same (no __pgd_alloc, no pmd ctor)", () => {
  // the pgd and the X2TLB pmd stay kmem_cache objects through 6.18 (arch/sh/mm/pgtable.c;
  // sh is not among the __pgd_alloc conversions of 6.14); only the PTE ctor counts
  assertEquals(byVersion("sh-3level-x2tlb", { page: P, addr: A }), {
    nrPagetable: everyKernel(1),
    vmpte: everyKernel(8192),
    exit: everyKernel(CLEAN),
  });
});
