// Exact figures of the sparc configurations, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { assertClean, G, K, M, Sim, T } from "./_testing.ts";
import { bitMapStringGet, nocachePages } from "./sparc.ts";

// ---------------------------------------------------------------------------------------------
// sparc32-srmmu: the nocache pool (arch/sparc/mm/srmmu.c, arch/sparc/lib/bitext.c)

const A = 0x1000_0000n; // 256 MiB: a 16 MiB pgd slot of its own

Deno.test("sparc32 6.6: one page costs two 256-byte tables from the nocache pool", () => {
  // get_pgd_fast: units 0-3 of the pool (1 KiB aligned to 1 KiB) in its first page
  const s = new Sim("sparc32-srmmu").mm("a");
  assertEquals(s.sys.pagetable_frames, 1);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.map("a", A, 4n * K).touch("a", A);
  // pmd_alloc_one: 1 unit, smaller than the last request, so from first_free: unit 4;
  // pte_alloc_one: from last_off: unit 5, the same page, whose _refcount goes 1 -> 2:
  // pagetable_pte_ctor (srmmu.c); mm_inc_nr_pmds / mm_inc_nr_ptes 64 x 4 each
  assertEquals(s.fig("a"), {
    vmpte: 512,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 1); // pgd, pmd and pte in one 4 KiB pool page
  assertEquals(s.sys.ptlocks, 0); // SPLIT_PTLOCK_CPUS 999999 for SPARC32 (mm/Kconfig)
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc32: a region of one PTE table (256 KiB), and 64 PTE tables over 5 pool pages", () => {
  // PMD_SHIFT 18: 64 x 4 KiB per PTE table (asm/pgtable_32.h)
  const s = new Sim("sparc32-srmmu").mm("a").map("a", A, 256n * K).touch("a", A, 256n * K);
  assertEquals(s.fig("a").vmpte, 512);
  assertEquals(s.fig("a").rss, 256 * 1024);
  // 16 MiB at one page per 256 KiB: one PMD (PGDIR_SHIFT 24) and 64 PTE tables at units
  // 5..68 - 11 in page 0, 16 in pages 1-3, 5 in page 4: five pool pages reach refcount 2
  const t = new Sim("sparc32-srmmu").mm("a").map("a", A, 16n * M).touch("a", A, 16n * M, 256n * K);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 64 });
  assertEquals(t.fig("a").vmpte, 256 + 64 * 256);
  assertEquals(t.sys.nr_page_table_pages, 5);
  assertEquals(t.sys.pagetable_frames, 5);
  t.exit("a");
  assertClean(t);
});

Deno.test("sparc32: a page in another 16 MiB pgd slot needs a second PMD table", () => {
  const s = new Sim("sparc32-srmmu").mm("a").map("a", A, 4n * K).map("a", A + 16n * M, 4n * K);
  s.touch("a", A).touch("a", A + 16n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 4 * 256);
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc32: every other region unmapped; the pool searches on from last_off", () => {
  // 16 one-page VMAs, one per 256 KiB slot: PTE tables at units 5..20 (pages 0 and 1)
  const s = new Sim("sparc32-srmmu").mm("a");
  for (let i = 0n; i < 16n; i++) s.map("a", A + i * 256n * K, 4n * K).touch("a", A + i * 256n * K);
  assertEquals(s.fig("a").vmpte, 256 + 16 * 256);
  assertEquals(s.sys.nr_page_table_pages, 2);
  // __pte_free_tlb = pte_free: the unit goes back at once, the page's refcount drops but stays
  // above 1 in both pages (srmmu.c)
  for (let i = 1n; i < 16n; i += 2n) s.unmap("a", A + i * 256n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 256 + 8 * 256);
  assertEquals(s.fig("a").tables.pte, 8);
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.pagetable_frames, 2);
  // no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes, then tlb_finish_mmu flushes the freed
  // tables' range: 2 flush_tlb_range per munmap (asm-generic/tlb.h)
  assertEquals(s.sys.tlb_flushes, 16);
  // the next PTE table does not fill a hole: a request as large as the last one starts at
  // last_off (unit 21, page 1) (bit_map_string_get, arch/sparc/lib/bitext.c)
  s.map("a", A + 16n * 256n * K, 4n * K).touch("a", A + 16n * 256n * K);
  assertEquals(s.sys.pagetable_frames, 2);
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc32: fork shares pool pages; the ctor runs once per page, the dtor at refcount 1", () => {
  // child pgd: 4 units from last_off 6 rounded down to 4, first free aligned run: units 8-11;
  // its pmd: smaller than the last request, so from first_free: unit 6; its pte: unit 7. The
  // pool page's refcount goes 3: one ctor (srmmu.c pte_alloc_one)
  const s = new Sim("sparc32-srmmu").mm("a").map("a", A, 4n * K).touch("a", A).fork("a", "b");
  assertEquals(s.fig("b"), {
    vmpte: 512,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 1);
  s.exit("a"); // refcount 3 -> 2: no dtor
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("b"); // 2 -> 1: pagetable_pte_dtor
  assertClean(s);
});

Deno.test("sparc32: the pool's bitmap search, unit by unit", () => {
  // bit_map_string_get: next-fit from last_off, first_free for a smaller request, alignment
  const t = {
    size: 64,
    map: new Uint8Array(64),
    firstFree: 0,
    lastOff: 0,
    lastSize: 0,
    used: 0,
    frames: new Int32Array(4).fill(-1),
    live: new Int32Array(4),
    pageOf: new Map<number, number>(),
  };
  assertEquals(bitMapStringGet(t, 4, 4), 0); // a pgd
  assertEquals(bitMapStringGet(t, 1, 1), 4); // smaller than the last: first_free
  assertEquals(bitMapStringGet(t, 1, 1), 5); // as large: last_off
  assertEquals(bitMapStringGet(t, 4, 4), 8); // last_off 6 & ~3 = 4, first aligned run at 8
  t.map[4] = 0; // a freed unit (bit_map_clear lowers first_free)
  t.firstFree = 4;
  assertEquals(bitMapStringGet(t, 1, 1), 4); // smaller than 4 units: from first_free
  assertEquals(bitMapStringGet(t, 1, 1), 6); // then from last_off 5: the next zero bit
  // wrap-around: from last_off 62 the next aligned free run would pass the end, so the search
  // starts over at 0 and takes the first aligned run of 4 free units (12-15)
  t.lastOff = 62;
  t.lastSize = 4;
  t.map.fill(1, 16, 62);
  assertEquals(bitMapStringGet(t, 4, 4), 12);
  // nothing aligned left: -1 ("srmmu: out of nocache")
  assertEquals(bitMapStringGet(t, 4, 4), -1);
  assertEquals(bitMapStringGet(t, 1, 1), 7); // a single unit still fits
});

Deno.test("sparc32: the nocache pool is sized to RAM and can run out", () => {
  // srmmu_nocache_calcsize: 256 pages per 64 MB, between 550 and 1280 pages (asm/vaddrs.h)
  assertEquals(nocachePages(64 * 2 ** 20), 550);
  assertEquals(nocachePages(256 * 2 ** 20), 1024);
  assertEquals(nocachePages(2 ** 30), 1280);
  // 64 MB: 550 x 16 = 8800 units. One page per 256 KiB from 256 MiB: the pgd (4), then per
  // 16 MiB a PMD (1) and 64 PTE tables: 135 full slots (8775 units), a PMD and 20 PTE tables;
  // the next pte_alloc_one gets NULL ("srmmu: out of nocache"): VM_FAULT_OOM
  const s = new Sim("sparc32-srmmu", { ram: "64M" }).mm("a").map("a", A, 0xB000_0000n);
  s.touch("a", A, 0xB000_0000n, 256n * K);
  assertEquals(s.sys.ooms, 1);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 136, pte: 135 * 64 + 20 });
  assertEquals(s.fig("a").vmpte, (136 + 135 * 64 + 20) * 256);
  assertEquals(s.sys.nr_page_table_pages, 550); // every pool page holds a user PTE table
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc32 SMP: flushes cross-call every other online CPU once one more runs the mm", () => {
  // smp_flush_tlb_range / smp_flush_tlb_mm: xc3 / xc1 to cpu_online_mask minus this CPU when
  // any_other_mm_cpus (arch/sparc/mm/srmmu.c, asm/smp_32.h)
  const s = new Sim("sparc32-srmmu", {}, 4).mm("a").map("a", A, 4n * K).touch("a", A);
  s.unmap("a", A, 4n * K); // tlb_end_vma + tlb_finish_mmu: 2 flush_tlb_range, no IPI
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 0);
  s.on("a", 0, 1).map("a", A, 4n * K).touch("a", A).unmap("a", A, 4n * K);
  assertEquals(s.sys.tlb_flushes, 4);
  assertEquals(s.sys.ipis, 2 * 3); // all three other CPUs, twice
});

Deno.test("sparc32: fork's flush_tlb_mm cross-calls, then trims mm_cpumask to this CPU", () => {
  // dup_mmap -> flush_tlb_mm(oldmm) = smp_flush_tlb_mm: CPU 1 ran the mm before (switch_to set
  // its bit, asm/switch_to_32.h), so xc1 goes to the 3 other online CPUs; mm_users is 1, so
  // mm_cpumask becomes this CPU alone and the next munmap cross-calls nobody (srmmu.c)
  const s = new Sim("sparc32-srmmu", {}, 4).mm("a").on("a", 0, 1).on("a", 0);
  s.map("a", A, 4n * K).touch("a", A).fork("a", "b");
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 3);
  s.unmap("a", A, 4n * K);
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 3);
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("sparc32: every version gives the same figures", () => {
  // the 6.1 -> 6.18 diffs of srmmu.c / pgalloc_32.h are spellings only
  for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
    const s = new Sim("sparc32-srmmu", { kernel }).mm("a").map("a", A, 16n * M);
    s.touch("a", A, 16n * M, 256n * K);
    assertEquals(s.fig("a").vmpte, 256 + 64 * 256, kernel);
    assertEquals(s.sys.nr_page_table_pages, 5, kernel);
    s.exit("a");
    assertClean(s);
  }
});

// ---------------------------------------------------------------------------------------------
// sparc64 (arch/sparc/include/asm/pgalloc_64.h, arch/sparc/mm/init_64.c)

const B = 0x1000_0000_0000n; // 16 TiB: pgd entry 2 (PGDIR_SHIFT 43)

Deno.test("sparc64 6.6: one page costs three 8 KiB tables, only the PTE page is counted", () => {
  // pgd/pud/pmd: kmem_cache "pgtable_cache" objects, no ctor; pte: pagetable_alloc +
  // pagetable_pte_ctor with a split ptlock (SMP, NR_CPUS >= 4); mm_inc_nr_* 1024 x 8 each
  const s = new Sim("sparc64").mm("a");
  assertEquals(s.sys.pagetable_frames, 1);
  s.map("a", B, 8n * K).touch("a", B, 8n * K, 8n * K);
  assertEquals(s.fig("a"), {
    vmpte: 3 * 8192,
    tables: { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 },
    rss: 8192,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 4);
  assertEquals(s.sys.ptlocks, 1); // no ARCH_ENABLE_SPLIT_PMD_PTLOCK, and the PMD is no ptdesc
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc64: 8 MiB per PTE table; 1 GiB at one page per 8 MiB is 128 of them", () => {
  // PMD_SHIFT 23, PUD_SHIFT 33, PGDIR_SHIFT 43 (asm/pgtable_64.h)
  const s = new Sim("sparc64").mm("a").map("a", B, 8n * M).touch("a", B, 8n * M, 8n * K);
  assertEquals(s.fig("a").vmpte, 3 * 8192);
  assertEquals(s.fig("a").rss, 8 * 1024 * 1024);
  const t = new Sim("sparc64").mm("a").map("a", B, G).touch("a", B, G, 8n * M);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 128 });
  assertEquals(t.fig("a").vmpte, (128 + 2) * 8192);
  assertEquals(t.sys.nr_page_table_pages, 128);
  t.unmap("a", B, G);
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.rcu_pending, 0);
  t.exit("a");
  assertClean(t);
});

Deno.test("sparc64: pages 8 GiB and 8 TiB away need another PMD and another PUD", () => {
  // a PUD entry maps 8 GiB, a pgd entry 8 TiB
  const s = new Sim("sparc64").mm("a").map("a", B, 8n * K).map("a", B + 8n * G, 8n * K);
  s.map("a", B + 8n * T, 8n * K);
  for (const x of [B, B + 8n * G, B + 8n * T]) s.touch("a", x, 8n * K, 8n * K);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 3, pte: 3 });
  assertEquals(s.fig("a").vmpte, 8 * 8192);
  assertEquals(s.sys.nr_page_table_pages, 3);
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc64: every other region unmapped, fork; tables wait for RCU, the dtor with them", () => {
  // __pte_free_tlb = pgtable_free_tlb(tlb, pte, true): pointer | 1 into the RCU table batch;
  // __tlb_remove_table -> pgtable_free -> __pte_free (dtor + free) after the grace period
  const s = new Sim("sparc64").mm("a");
  for (let i = 0n; i < 8n; i++) {
    s.map("a", B + i * 8n * M, 8n * K).touch("a", B + i * 8n * M, 8n * K, 8n * K);
  }
  assertEquals(s.sys.nr_page_table_pages, 8);
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", B + i * 8n * M, 8n * K);
  assertEquals(s.fig("a").vmpte, (4 + 2) * 8192);
  assertEquals(s.sys.nr_page_table_pages, 4);
  assertEquals(s.sys.rcu_pending, 0);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, (4 + 2) * 8192);
  assertEquals(s.sys.nr_page_table_pages, 8);
  assertEquals(s.sys.pagetable_frames, 2 * (1 + 2 + 4));
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("sparc64: no TLB invalidate for the table batch; flush_tlb_pending cross-calls", () => {
  // tlb_needs_table_invalidate() is false (asm/tlb_64.h): tlb_table_flush goes to call_rcu
  // without a flush; flush_tlb_pending of one page: smp_flush_tlb_page cross-calls the other
  // CPUs of mm_cpumask, lazy CPU 2 included (sparc64 never clears it) (smp_64.c)
  const s = new Sim("sparc64", {}, 4).mm("a").on("a", 0, 1, 2).on("a", 0, 1);
  s.map("a", B, 8n * K).touch("a", B, 8n * K, 8n * K).unmap("a", B, 8n * K);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 2);
  // freeing tables with no PTE cleared (after MADV_DONTNEED): the batch is empty, no flush
  s.map("a", B, 8n * K).touch("a", B, 8n * K, 8n * K).dontneed("a", B, 8n * K);
  assertEquals(s.sys.tlb_flushes, 2);
  s.unmap("a", B, 8n * K);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.fig("a").vmpte, 0);
});

Deno.test("sparc64: fork and a THP split flush through the tlb_batch, not flush_tlb_mm", () => {
  // flush_tlb_mm is empty (asm/tlbflush_64.h): fork's flush is copy_pte_range's
  // ptep_set_wrprotect -> tlb_batch_add, drained as one smp_flush_tlb_pending, cross-calling
  // CPU 1 (smp_64.c); a parent without present pages flushes nothing
  const s = new Sim("sparc64", {}, 4).mm("a").on("a", 0, 1).map("a", B, 16n * K);
  s.fork("a", "b");
  assertEquals(s.sys.tlb_flushes, 0);
  s.touch("a", B, 16n * K, 8n * K).fork("a", "c");
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 1);
  // splitting an 8 MiB huge pmd: pmdp_invalidate queues both 4 MiB halves outside lazy MMU
  // mode, two global_flush_tlb_page (arch/sparc/mm/tlb.c); the zapped PTE is one more
  const t = new Sim("sparc64", { thp: "on" }).mm("a").map("a", B, 8n * M);
  t.touch("a", B, 8n * K, 8n * K).unmap("a", B, 8n * K);
  assertEquals(t.sys.tlb_flushes, 3);
  assertEquals(t.fig("a").rss, 8 * 1024 * 1024 - 8192);
  t.exit("a");
  assertClean(t);
});

Deno.test("sparc64: no table-batch page: tlb_remove_table_sync_one IPIs all, frees at once", () => {
  // tlb_remove_table: __get_free_page fails -> tlb_table_invalidate (nothing, see above) ->
  // tlb_remove_table_one: smp_call_function to every other online CPU, then __tlb_remove_table
  // (mm/mmu_gather.c); the next table gets a batch page
  const s = new Sim("sparc64", {}, 4).mm("a").map("a", B, 8n * K).touch("a", B, 8n * K, 8n * K);
  s.run.k.addInject("tlb_remove_table", "at", 1);
  s.unmap("a", B, 8n * K);
  assertEquals(s.sys.ipis, 3);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc64 UP: pgtable_free_tlb frees at once; no split ptlocks", () => {
  // !CONFIG_SMP: no MMU_GATHER_RCU_TABLE_FREE (arch/sparc/Kconfig), pgtable_free_tlb =
  // pgtable_free (asm/pgalloc_64.h); SPLIT_PTE_PTLOCKS depends on SMP (mm/Kconfig)
  const s = new Sim("sparc64", { smp: "off" }, 1).mm("a").map("a", B, 8n * K);
  s.touch("a", B, 8n * K, 8n * K);
  assertEquals(s.sys.ptlocks, 0);
  assertEquals(s.run.k.cfg.gather.rcuTableFree, false);
  s.unmap("a", B, 8n * K);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("sparc64 THP: an 8 MiB huge pmd deposits a counted PTE table", () => {
  // HAVE_ARCH_TRANSPARENT_HUGEPAGE (arch/sparc/Kconfig); HPAGE_PMD_SIZE = 1 << PMD_SHIFT = 8 MiB;
  // __do_huge_pmd_anonymous_page: pte_alloc_one + deposit + mm_inc_nr_ptes (mm/huge_memory.c)
  const s = new Sim("sparc64", { thp: "on" }).mm("a").map("a", B, 16n * M);
  s.touch("a", B, 8n * K, 8n * K);
  assertEquals(s.fig("a").vmpte, 3 * 8192);
  assertEquals(s.fig("a").rss, 8 * 1024 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("a"); // zap_deposited_table -> pte_free: __pte_free at once
  assertClean(s);
});

Deno.test("sparc64: every version gives the same figures", () => {
  // init_64.c / pgalloc_64.h differ only in spelling 6.1 -> 6.18 (pgalloc_64.h is unchanged
  // 6.12 -> 7.2); nothing here gained a ctor in 6.7 or 6.14
  for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
    const s = new Sim("sparc64", { kernel }).mm("a").map("a", B, G).touch("a", B, G, 8n * M);
    assertEquals(s.fig("a").vmpte, 130 * 8192, kernel);
    assertEquals(s.sys.nr_page_table_pages, 128, kernel);
    s.exit("a");
    assertClean(s);
  }
});
