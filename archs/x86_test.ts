// Exact figures of the x86 configurations, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, G, K, M, onePage, Sim, T } from "./_testing.ts";

const A = 0x1000_0000_0000n; // 16 TiB: a 512 GiB pgd slot of its own

Deno.test("x86_64 6.6: one page costs one PTE, one PMD and one PUD table", () => {
  assertEquals(onePage("x86_64-4level", { page: 4n * K, slot: 2n * M, addr: A }), {
    // mmap allocates no table; the pgd is order 1 with PTI built in (PGD_ALLOCATION_ORDER,
    // arch/x86/include/asm/pgalloc.h), 2 frames, not counted
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 2 },
    // __pud_alloc/__pmd_alloc/__pte_alloc each add PTRS_PER_X * 8 = 4096 to pgtables_bytes
    // (mm_inc_nr_puds/pmds/ptes, include/linux/mm.h); in 6.6 only the pte and pmd ctors count
    // in NR_PAGETABLE (no pagetable_pud_ctor before 6.7)
    first: {
      vmpte: 12288,
      tables: { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 },
      rss: 4096,
      nrPagetable: 2,
      pagetableFrames: 5,
      // split PTE and PMD ptlocks (USE_SPLIT_PTE_PTLOCKS, ARCH_ENABLE_SPLIT_PMD_PTLOCK on x86_64)
      ptlocks: 2,
    },
    slot: { vmpte: 12288, rss: 2 * 1024 * 1024 }, // the other 511 pages of the same PTE table
    exit: CLEAN,
  });
});

Deno.test("kernel versions: what one page costs in NR_PAGETABLE on x86_64", () => {
  // 6.1/6.6: pte + pmd; 6.12: + pud (pagetable_pud_ctor, 6.7); 6.18: + pgd (__pgd_alloc with
  // pagetable_pgd_ctor, 6.14; order 0 without PTI running, pgd_allocation_order() 6.15)
  assertEquals(byVersion("x86_64-4level", { page: 4n * K, addr: A }), {
    nrPagetable: { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 },
    vmpte: everyKernel(12288), // the counters never changed
    exit: everyKernel(CLEAN),
  });
  // with PTI running the 6.18 pgd is order 1: two pages counted
  const s = new Sim("x86_64-4level", { kernel: "6.18", pti: "on" }).mm("a");
  assertEquals(s.sys.nr_page_table_pages, 2);
});

Deno.test("x86_64-5level: the p4d table is allocated but never counted in VmPTE", () => {
  // p4d has no mm counter (include/linux/mm.h); 6.6 p4d_alloc_one is get_zeroed_page, no ctor;
  // 6.18 __p4d_alloc_one runs pagetable_p4d_ctor (6.14)
  const s = new Sim("x86_64-5level").mm("a").map("a", 1n << 52n, 4n * K).touch("a", 1n << 52n);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 1, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.sys.nr_page_table_pages, 2);
  const t = new Sim("x86_64-5level", { kernel: "6.18" }).mm("a").map("a", A, 4n * K).touch("a", A);
  assertEquals(t.sys.nr_page_table_pages, 5); // pgd, p4d, pud, pmd, pte
});

Deno.test("i386-2level: one 4 KiB PTE table per 4 MiB", () => {
  // PGDIR_SHIFT 22, 1024 x 4-byte entries; pmd/pud/p4d folded (asm-generic/pgtable-nopmd.h)
  const s = new Sim("i386-2level").mm("a").map("a", 0x4000_0000n, 8n * M);
  s.touch("a", 0x4000_0000n, 8n * M, 4n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.sys.nr_page_table_pages, 2);
});

Deno.test("floor/ceiling: a neighbour in the same PMD slot keeps the PTE table", () => {
  // unmap_region: floor = prev->vm_end, ceiling = next->vm_start; free_pgd_range rounds the
  // ceiling down to PMD_MASK, and end > ceiling drops the last PMD slot (mm/memory.c)
  const s = new Sim("x86_64-4level").mm("a");
  s.map("a", A, 4n * K).map("a", A + 8n * K, 4n * K).touch("a", A).touch("a", A + 8n * K);
  assertEquals(s.fig("a").vmpte, 12288);
  s.unmap("a", A, 4n * K);
  assertEquals(s.fig("a").vmpte, 12288); // nothing freed, the PTE was only cleared
  assertEquals(s.fig("a").rss, 4096);
  s.unmap("a", A + 8n * K, 4n * K); // no neighbour any more: floor 0, ceiling 0 (the top)
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.fig("a").tables.pud, 0);
});

Deno.test("floor/ceiling: a neighbour in the next PMD slot keeps the PMD table only", () => {
  // the PTE table of [A, A+2M) is freed (its slot ends at the ceiling's PMD slot); the PMD
  // table is kept because the ceiling rounded to PUD_MASK is A's own PUD slot (free_pmd_range)
  const s = new Sim("x86_64-4level").mm("a");
  s.map("a", A, 4n * K).map("a", A + 2n * M, 4n * K).touch("a", A).touch("a", A + 2n * M);
  assertEquals(s.fig("a").vmpte, 16384);
  s.unmap("a", A, 4n * K);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 12288);
});

Deno.test("floor/ceiling: a neighbour below in the same PMD slot is the floor", () => {
  // free_pgd_range: addr &= PMD_MASK; addr < floor, so addr += PMD_SIZE and the walk is empty
  const s = new Sim("x86_64-4level").mm("a");
  s.map("a", A, 4n * K).map("a", A + 16n * K, 4n * K).touch("a", A).touch("a", A + 16n * K);
  s.unmap("a", A + 16n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 12288);
});

Deno.test("free_pgtables groups VMAs closer than PMD_SIZE; floor is not raised between groups", () => {
  // two VMAs 1 MiB apart go down in one free_pgd_range call; the third, 1 GiB further, is a
  // second group with the same floor (mm/memory.c free_pgtables)
  const s = new Sim("x86_64-4level").mm("a");
  s.map("a", A, 4n * K).map("a", A + M, 4n * K).map("a", A + G, 4n * K);
  s.touch("a", A).touch("a", A + M).touch("a", A + G);
  // PTE tables at A and A+1G; PMD tables for the PUD slots of A and A+1G; one PUD
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 2, pte: 2 });
  s.unmap("a", A, 2n * G);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 0 });
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.violations, []);
});

Deno.test("munmap frees through one mmu_gather: one flush, IPIs to the other CPUs", () => {
  // tlb_finish_mmu -> tlb_flush_mmu -> tlb_flush (arch/x86/include/asm/tlb.h) ->
  // flush_tlb_mm_range: IPIs to mm_cpumask minus this CPU; lazy CPUs only when freed_tables
  const s = new Sim("x86_64-4level", {}, 4).mm("a").on("a", 0, 1, 2);
  s.map("a", A, 2n * M).touch("a", A, 2n * M);
  s.on("a", 0, 1); // CPU 2 goes lazy
  s.dontneed("a", A, M); // zaps, frees no table: lazy CPU 2 is spared
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 1);
  s.unmap("a", A, 2n * M); // frees tables: lazy CPU 2 gets the IPI too
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 3);
});

Deno.test("the page batch forces a flush every 8 + 19 * 510 pages", () => {
  // MMU_GATHER_BUNDLE 8 + MAX_GATHER_BATCH_COUNT (10000/510 = 19) * MAX_GATHER_BATCH (510) =
  // 9698 pages; the 9698th makes tlb_next_batch fail and __tlb_remove_page returns true
  // (mm/mmu_gather.c), so zapping 20480 pages flushes at 9698 and 19396, then once more at
  // tlb_finish_mmu with the remaining pages and the 42 tables
  const s = new Sim("x86_64-4level").mm("a").map("a", A, 80n * M).touch("a", A, 80n * M);
  assertEquals(s.fig("a").tables.pte, 40);
  s.unmap("a", A, 80n * M);
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("1 GiB at one page per 2 MiB: 512 PTE tables", () => {
  const s = new Sim("x86_64-4level").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").vmpte, (512 + 1 + 1) * 4096);
  assertEquals(s.sys.nr_page_table_pages, 513);
  s.unmap("a", A, G);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
});

Deno.test("64 GiB at one page per 1 GiB crosses PUD slots, not PGD slots", () => {
  // 64 PUD entries of one PUD table, each with its own PMD and PTE table
  const s = new Sim("x86_64-4level").mm("a").map("a", A, 64n * G).touch("a", A, 64n * G, G);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 64, pte: 64 });
  assertEquals(s.fig("a").vmpte, (64 + 64 + 1) * 4096);
});

Deno.test("1 TiB at one page per 2 MiB: 524,288 PTE tables, counted per table", () => {
  const s = new Sim("x86_64-4level").mm("a").map("a", A, T).touch("a", A, T, 2n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 1024, pte: 524288 });
  assertEquals(s.fig("a").vmpte, (524288 + 1024 + 2) * 4096);
  s.unmap("a", A, T);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.leaks, 0);
});

Deno.test("i386-pae: pgd_alloc preallocates the PMDs, so a fresh mm has VmPTE", () => {
  // preallocate_pmds: PREALLOCATED_PMDS = KERNEL_PGD_BOUNDARY (3) with a shared kernel PMD,
  // each with pagetable_pmd_ctor and mm_inc_nr_pmds; pud_populate flushes the TLB each time
  // (arch/x86/mm/pgtable.c); the pgd is a 32-byte pgd_cache object
  const s = new Sim("i386-pae").mm("a");
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.fig("a").tables.pmd, 3);
  assertEquals(s.sys.nr_page_table_pages, 3);
  assertEquals(s.sys.tlb_flushes, 3);
  // PTI running: the kernel PMD is not shared (4) plus KERNEL_PGD_PTRS (1) user PMD
  assertEquals(new Sim("i386-pae", { pti: "on" }).mm("a").fig("a").vmpte, 20480);
  // 6.16 preallocates all four PMDs and the pgd is a whole page (__pgd_alloc, counted)
  const t = new Sim("i386-pae", { kernel: "6.18" }).mm("a");
  assertEquals(t.fig("a").vmpte, 16384);
  assertEquals(t.sys.nr_page_table_pages, 5);
});

Deno.test("i386-pae: munmap can free a preallocated PMD; a later fault reallocates it", () => {
  // free_pmd_range frees the PMD of a 1 GiB slot no VMA is left in; ___pmd_free_tlb sets
  // need_flush_all (PDPT change), so the flush is TLB_FLUSH_ALL; __pmd_alloc then
  // repopulates with pud_populate -> flush_tlb_mm
  const B = 0x4000_0000n;
  const s = new Sim("i386-pae").mm("a").map("a", B, 4n * K).touch("a", B);
  assertEquals(s.fig("a").vmpte, 16384);
  s.unmap("a", B, 4n * K);
  assertEquals(s.fig("a").vmpte, 8192); // two preallocated PMDs left
  assertEquals(s.fig("a").tables.pmd, 2);
  const flushes = s.sys.tlb_flushes;
  s.map("a", B, 4n * K).touch("a", B);
  assertEquals(s.fig("a").vmpte, 16384);
  assertEquals(s.sys.tlb_flushes, flushes + 1); // pud_populate's flush_tlb_mm
  s.exit("a"); // pgd_mop_up_pmds frees what exit's free_pgtables left
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.violations, []);
});

Deno.test("THP: a write fault on an aligned 2 MiB range deposits a PTE table", () => {
  // __do_huge_pmd_anonymous_page: pte_alloc_one + pgtable_trans_huge_deposit + mm_inc_nr_ptes
  // (mm/huge_memory.c); one touched byte maps all 512 pages
  const s = new Sim("x86_64-4level", { thp: "on" }).mm("a").map("a", A, 4n * M).touch("a", A);
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 2); // the deposit (pte ctor) and the PMD
  s.fork("a", "b"); // copy_huge_pmd: a PTE table for the child's deposit, mm_inc_nr_ptes
  assertEquals(s.fig("b").vmpte, 12288);
  assertEquals(s.fig("b").rss, 2 * 1024 * 1024);
  // zap_huge_pmd -> zap_deposited_table: pte_free at once + mm_dec_nr_ptes
  s.dontneed("a", A, 2n * M);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").rss, 0);
  s.exit("a").exit("b");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.violations, []);
});

Deno.test("THP: a VMA that does not cover the aligned range gets PTEs", () => {
  // transhuge_vma_suitable: [haddr, haddr + HPAGE_PMD_SIZE) must lie inside the VMA
  const s = new Sim("x86_64-4level", { thp: "on" }).mm("a").map("a", A + 4n * K, 2n * M);
  s.touch("a", A + 4n * K);
  assertEquals(s.fig("a").rss, 4096);
  assertEquals(s.fig("a").tables.pte, 1);
});

Deno.test("THP: unmapping part of a huge pmd splits it into the deposited table", () => {
  // zap_pmd_range: next - addr != HPAGE_PMD_SIZE -> __split_huge_pmd; the withdrawn deposit
  // becomes the PTE table (already counted)
  const s = new Sim("x86_64-4level", { thp: "on" }).mm("a").map("a", A, 2n * M).touch("a", A);
  s.unmap("a", A, 4n * K);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024 - 4096);
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.fig("a").tables.pte, 1);
  s.exit("a");
  assertEquals(s.violations, []);
});

Deno.test("fork copies every table the parent has in anonymous VMAs, empty ones too", () => {
  // copy_p4d_range .. copy_pte_range allocate the child's table wherever the parent's entry is
  // present (mm/memory.c); MADV_DONTNEED before 6.14 leaves the parent's PTE table empty
  const s = new Sim("x86_64-4level").mm("a").map("a", A, 4n * M).touch("a", A, 4n * M);
  s.dontneed("a", A, 2n * M);
  assertEquals(s.fig("a").vmpte, 16384);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 16384);
  assertEquals(s.fig("b").rss, 2 * 1024 * 1024);
  // a VMA never written has no anon_vma: vma_needs_copy is false
  s.map("a", A + G, 2n * M).fork("a", "c");
  assertEquals(s.fig("c").vmpte, 16384);
});

Deno.test("6.18 PT_RECLAIM: MADV_DONTNEED frees a PTE table it empties whole", () => {
  // zap_pte_range with details->reclaim_pt: only when end - start >= PMD_SIZE for the table
  // (reclaim_pt_is_enabled, mm/pt_reclaim.c), then free_pte: pte_free_tlb + mm_dec_nr_ptes
  const s = new Sim("x86_64-4level", { kernel: "6.18" }).mm("a").map("a", A, 4n * M);
  s.touch("a", A, 4n * M);
  s.dontneed("a", A + M, 2n * M); // covers neither table whole
  assertEquals(s.fig("a").vmpte, 16384);
  s.dontneed("a", A, 2n * M);
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.fig("a").tables.pte, 1);
  s.dontneed("a", 0x1000_0000_0000n, 4n * M); // the other table was emptied before: freed too
  assertEquals(s.fig("a").vmpte, 8192);
  // 6.6 never frees tables on MADV_DONTNEED
  const t = new Sim("x86_64-4level", { kernel: "6.6" }).mm("a").map("a", A, 4n * M);
  t.touch("a", A, 4n * M).dontneed("a", A, 4n * M);
  assertEquals(t.fig("a").vmpte, 16384);
});

Deno.test("6.18 frees tables through the RCU table batch, the dtor after the grace period", () => {
  // x86 selects MMU_GATHER_RCU_TABLE_FREE unconditionally (6.15); __tlb_remove_table =
  // pagetable_dtor_free (asm-generic/tlb.h, 6.14): the figures settle between operations
  const s = new Sim("x86_64-4level", { kernel: "6.18" }).mm("a").map("a", A, G);
  s.touch("a", A, G, 2n * M);
  assertEquals(s.sys.nr_page_table_pages, 1 + 512 + 1 + 1);
  s.unmap("a", A, G);
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.rcu_pending, 0);
});

Deno.test("from 6.9 a gather batch is full one entry early: 7 + 19 * 509 pages per flush", () => {
  // __tlb_remove_folio_pages_size: "if (batch->nr >= batch->max - 1)" keeps room for a page
  // and its nr_pages (mm/mmu_gather.c, 6.9); 20480 pages: flushes at 9678 and 19356, then
  // the finish
  const s = new Sim("x86_64-4level", { kernel: "6.12" }).mm("a").map("a", A, 80n * M);
  s.touch("a", A, 80n * M).unmap("a", A, 80n * M);
  assertEquals(s.sys.tlb_flushes, 3);
  // 29100 pages: 6.6 flushes at 9698, 19396, 29094, then the finish (4); 6.12 at 9678,
  // 19356, 29034, then the finish (4); 29040 pages tell them apart (6.6: 3, 6.12: 4)
  for (const [kernel, flushes] of [["6.6", 3], ["6.12", 4]] as const) {
    const t = new Sim("x86_64-4level", { kernel }).mm("a").map("a", A, 29040n * 4n * K);
    t.touch("a", A, 29040n * 4n * K).dontneed("a", A, 29040n * 4n * K);
    assertEquals(t.sys.tlb_flushes, flushes, kernel);
  }
});

Deno.test("split ptlocks: inline, allocated from the page->ptl cache, or none", () => {
  // USE_SPLIT_PTE_PTLOCKS / USE_SPLIT_PMD_PTLOCKS: ptlock_init in the pte and pmd ctors;
  // ALLOC_SPLIT_PTLOCKS: ptlock_alloc from kmem_cache "page->ptl" (include/linux/mm.h)
  for (
    const [opts, locks] of [[{}, 2], [{ alloc_split_ptlocks: "on" }, 2], [
      { split_ptlocks: "off" },
      0,
    ]] as const
  ) {
    const s = new Sim("x86_64-4level", opts).mm("a").map("a", A, 4n * K).touch("a", A);
    assertEquals(s.sys.ptlocks, locks, JSON.stringify(opts));
    assertEquals(s.run.k.ptlockObjs.size, "alloc_split_ptlocks" in opts ? 2 : 0);
    s.exit("a");
    assertEquals(s.sys.ptlocks, 0);
    assertEquals(s.run.k.ptlockObjs.size, 0);
    assertEquals(s.violations, []);
  }
  // i386 without PAE has no PMD level: only the PTE table's lock
  const t = new Sim("i386-2level").mm("a").map("a", 0x1000_0000n, 4n * K).touch("a", 0x1000_0000n);
  assertEquals(t.sys.ptlocks, 1);
});

Deno.test("a KVM guest before 6.15 frees tables after RCU, with the dtor at free_tlb time", () => {
  // kvm_guest_init: pv_ops.mmu.tlb_remove_table = tlb_remove_table when PV TLB flush is
  // supported (arch/x86/kernel/kvm.c), so tables go to the RCU table batch; NR_PAGETABLE
  // still drops in ___pte_free_tlb (arch/x86/mm/pgtable.c)
  const s = new Sim("x86_64-4level", { guest: "kvm" }).mm("a").map("a", A, G);
  s.touch("a", A, G, 2n * M).unmap("a", A, G);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});
