// Exact figures of the m68k configurations, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import {
  assertClean,
  byVersion,
  CLEAN,
  everyKernel,
  K,
  M,
  onePage,
  Sim,
  traced,
} from "./_testing.ts";

const A = 0x1000_0000n; // 256 MiB: a 32 MiB PMD slot (motorola) / 4 MiB pgd slot (ColdFire)

// ---------------------------------------------------------------------------------------------
// m68k-motorola: pointer-table pools (arch/m68k/mm/motorola.c)

Deno.test("motorola 6.6: one page costs a 512-byte PMD and a 256-byte PTE table from the pools", () => {
  // PMD_SHIFT 18: a PTE table maps 64 x 4 KiB (pgtable_mm.h)
  assertEquals(onePage("m68k-motorola", { page: 4n * K, slot: 256n * K, addr: A }), {
    // pgd_alloc = get_pointer_table(TABLE_PGD): a fresh pool page (get_zeroed_page), table 0;
    // no ctor on the PGD/PMD pool before 6.14 (motorola_pgalloc.h, motorola.c)
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // pmd_alloc_one: table 1 of the same page (TABLE_PMD == TABLE_PGD); pte_alloc_one: a fresh
    // TABLE_PTE page, pagetable_pte_ctor once for the page; mm_inc_nr_pmds 128 x 4 +
    // mm_inc_nr_ptes 64 x 4 (include/linux/mm.h)
    first: {
      vmpte: 512 + 256,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 0, // no SMP, no split ptlocks
    },
    slot: { vmpte: 768, rss: 256 * 1024 }, // the region of one PTE table (256 KiB)
    exit: CLEAN,
  });
});

Deno.test("motorola: a region the size of one PTE table (256 KiB) and one spanning 32 of them", () => {
  // PMD_SHIFT 18: a PTE table maps 64 x 4 KiB (pgtable_mm.h); VmPTE and RSS of the 256 KiB: the
  // one-page case's `slot`, in one table
  const s = new Sim("m68k-motorola").mm("a").map("a", A, 256n * K).touch("a", A, 256n * K);
  assertEquals(s.fig("a").tables.pte, 1);
  // 8 MiB: 32 PTE tables, 16 to a pool page -> 2 PTE pages, each counted once; one PMD table
  const t = new Sim("m68k-motorola").mm("a").map("a", A, 8n * M).touch("a", A, 8n * M);
  assertEquals(t.fig("a"), {
    vmpte: 512 + 32 * 256,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 32 },
    rss: 8 * 1024 * 1024,
  });
  assertEquals(t.sys.nr_page_table_pages, 2);
  assertEquals(t.sys.pagetable_frames, 3); // PGD/PMD page + 2 PTE pages: 12 KiB for 8.5 KiB counted
  t.unmap("a", A, 8n * M);
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.pagetable_frames, 1); // the pgd's page
  t.exit("a");
  assertClean(t);
});

Deno.test("motorola: a page in another 32 MiB slot needs a second PMD table", () => {
  // PGDIR_SHIFT 25: a pgd entry maps 32 MiB; the second PMD table is table 2 of the first page
  const s = new Sim("m68k-motorola").mm("a").map("a", A, 4n * K).map("a", A + 32n * M, 4n * K);
  s.touch("a", A).touch("a", A + 32n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 2 * 512 + 2 * 256);
  assertEquals(s.sys.pagetable_frames, 2); // pgd + 2 PMDs share a page; 2 PTEs share one
  assertEquals(s.sys.nr_page_table_pages, 1);
  // free_pgd_range with no neighbour: both PTE tables and both PMD tables go
  s.unmap("a", A + 32n * M, 4n * K);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 });
  s.exit("a");
  assertClean(s);
});

Deno.test("motorola: munmap of every other one-page region frees tables, not the shared page", () => {
  // 16 one-page VMAs, one per 256 KiB slot: 16 PTE tables fill one TABLE_PTE page exactly
  const s = new Sim("m68k-motorola").mm("a");
  for (let i = 0n; i < 16n; i++) s.map("a", A + i * 256n * K, 4n * K).touch("a", A + i * 256n * K);
  assertEquals(s.fig("a").vmpte, 512 + 16 * 256);
  assertEquals(s.sys.pagetable_frames, 2);
  // each odd region's PTE table lies between its neighbours' slots: floor = prev->vm_end and
  // ceiling = next->vm_start do not reach into it (free_pgd_range, mm/memory.c), so
  // __pte_free_tlb = free_pointer_table frees it; the page keeps 8 tables
  for (let i = 1n; i < 16n; i += 2n) s.unmap("a", A + i * 256n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 512 + 8 * 256);
  assertEquals(s.fig("a").tables.pte, 8);
  assertEquals(s.sys.nr_page_table_pages, 1); // counted per page, not per table
  assertEquals(s.sys.pagetable_frames, 2);
  // a new PTE table takes a free table of that page (the lowest): no new page, no ctor
  s.map("a", A + 16n * 256n * K, 4n * K).touch("a", A + 16n * 256n * K);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.nr_page_table_pages, 1);
  // the last table of the page frees it (pagetable_pte_dtor + free_page)
  for (let i = 0n; i <= 16n; i += 2n) s.unmap("a", A + i * 256n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("motorola: a page that gets a table back moves to the front of the pool list", () => {
  // 17 PTE tables: page P1 full (moved to the tail, list_move_tail), page P2 in front with 1
  const s = new Sim("m68k-motorola").mm("a");
  const r = (i: bigint) => A + i * 256n * K;
  for (let i = 0n; i < 17n; i++) s.map("a", r(i), 4n * K).touch("a", r(i));
  assertEquals(s.sys.pagetable_frames, 3);
  // free_pointer_table of a P1 table: list_move(dp, &ptable_list[type]) puts P1 in front, so
  // the next get_pointer_table takes that table from P1, not table 1 of P2 (motorola.c)
  s.unmap("a", r(3n), 4n * K);
  s.map("a", r(17n), 4n * K).touch("a", r(17n));
  assertEquals(s.sys.pagetable_frames, 3);
  // P2's only table goes: free_pointer_table frees P2 (it would still hold the new table had
  // that gone to P2)
  s.unmap("a", r(16n), 4n * K);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("motorola: fork takes the child's tables from the same pool pages", () => {
  // the pools are global: the child's pgd and PMD are tables 2 and 3 of the parent's PGD/PMD
  // page, its PTE table table 1 of the parent's PTE page, which is counted once
  const s = new Sim("m68k-motorola").mm("a").map("a", A, 4n * K).touch("a", A).fork("a", "b");
  assertEquals(s.fig("b"), {
    vmpte: 768,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("a");
  assertEquals(s.sys.pagetable_frames, 2); // the child still has tables in both pages
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("b");
  assertClean(s);
});

Deno.test("motorola: PGD and PMD share one pool up to 6.12; 6.14 splits them and counts them", () => {
  // four processes with one page each: 4 pgds + 4 PMDs fill one 8-table page up to 6.12
  // (TABLE_PGD == TABLE_PMD); 6.14 gives each type its own list, with pagetable_pgd_ctor and
  // pagetable_pmd_ctor on the page ("m68k: mm: add calls to pagetable_pmd_[cd]tor",
  // "mm: introduce ctor/dtor at PGD level")
  const want: Record<string, [number, number]> = {
    "6.1": [2, 1],
    "6.6": [2, 1],
    "6.12": [2, 1],
    "6.18": [3, 3],
  };
  for (const [kernel, [frames, nr]] of Object.entries(want)) {
    const s = new Sim("m68k-motorola", { kernel });
    for (const p of ["a", "b", "c", "d"]) s.mm(p).map(p, A, 4n * K).touch(p, A);
    assertEquals(s.sys.pagetable_frames, frames, kernel);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 768, kernel); // the counters never changed
    // a fifth process: its pgd needs a new page up to 6.12 (the shared page is full)
    s.mm("e");
    assertEquals(s.sys.pagetable_frames, frames + (kernel === "6.18" ? 0 : 1), kernel);
    for (const p of ["a", "b", "c", "d", "e"]) s.exit(p);
    assertClean(s);
  }
});

Deno.test("motorola 6.18: a fresh mm already counts its pgd's pool page", () => {
  // get_pointer_table(TABLE_PGD) on a new page: pagetable_alloc (6.17) + pagetable_pgd_ctor
  const s = new Sim("m68k-motorola", { kernel: "6.18" }).mm("a");
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.fig("a").vmpte, 0);
  s.map("a", A, 4n * K).touch("a", A);
  assertEquals(s.sys.nr_page_table_pages, 3); // PGD, PMD and PTE pool pages
  s.exit("a");
  assertClean(s);
});

Deno.test("motorola: no page for a new PTE pool page: VM_FAULT_OOM, nothing leaks", () => {
  // get_pointer_table returns NULL when get_zeroed_page fails (motorola.c): the fault fails;
  // the PMD table it already took stays in the mm until exit
  const s = new Sim("m68k-motorola").mm("a").map("a", A, 4n * K);
  s.run.k.addInject("__get_free_pages", "at", 1); // calls count from here
  s.touch("a", A);
  assertEquals(s.sys.ooms, 1);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 0 });
  assertEquals(s.fig("a").vmpte, 512);
  s.exit("a");
  assertClean(s);
});

Deno.test("motorola: __pte_free_tlb and __pmd_free_tlb free before the TLB flush", () => {
  // free_pointer_table from free_pgtables, then tlb_finish_mmu's flush_tlb_mm
  // (MMU_GATHER_NO_RANGE, asm-generic/tlb.h): the pages are gone before the flush
  const run = traced("m68k-motorola", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * K },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: A, size: 4n * K },
  ], 1);
  const fns = run.k.trace!.filter((e) => e.line === 4).map((e) => e.fn);
  const freed = fns.indexOf("free_page");
  const flushed = fns.indexOf("flush_tlb_mm");
  assertEquals(freed >= 0 && flushed > freed, true);
  assertEquals(run.k.tlbFlushes, 1);
  assertEquals(run.k.ipis, 0);
});

// ---------------------------------------------------------------------------------------------
// m68k-coldfire (arch/m68k/include/asm/mcf_pgalloc.h)

Deno.test("coldfire 6.6: one page costs a 2 KiB-counted PTE table in a whole 8 KiB page", () => {
  // PGDIR_SHIFT 22, PTRS_PER_PTE 512 x 8 KiB (pgtable_mm.h): one PTE table maps 4 MiB
  assertEquals(onePage("m68k-coldfire", { page: 8n * K, slot: 4n * M, addr: A }), {
    // pgd_alloc: a ZONE_DMA page, no ctor before 6.14
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // pte_alloc_one: pagetable_alloc(GFP_DMA | __GFP_ZERO, 0) + pagetable_pte_ctor;
    // mm_inc_nr_ptes 512 x 4
    first: {
      vmpte: 2048,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 8192,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 0, // no SMP, no split ptlocks
    },
    slot: { vmpte: 2048, rss: 4 * 1024 * 1024 },
    exit: CLEAN,
  });
});

Deno.test("coldfire: one PTE table maps 4 MiB; 64 MiB at one page per 4 MiB is 16 tables", () => {
  // one PTE table maps 4 MiB: the one-page case's `slot`
  const t = new Sim("m68k-coldfire").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, 4n * M);
  assertEquals(t.fig("a").tables.pte, 16);
  assertEquals(t.fig("a").vmpte, 16 * 2048);
  assertEquals(t.sys.nr_page_table_pages, 16);
  assertEquals(t.sys.pagetable_frames, 17);
  t.exit("a");
  assertClean(t);
});

Deno.test("coldfire: every other one-page region unmapped frees its PTE page at once", () => {
  // __pte_free_tlb = pagetable_pte_dtor + pagetable_free: DIRECT, inside free_pgtables
  const s = new Sim("m68k-coldfire").mm("a");
  for (let i = 0n; i < 8n; i++) {
    s.map("a", A + i * 4n * M, 8n * K).touch("a", A + i * 4n * M, 8n * K, 8n * K);
  }
  assertEquals(s.fig("a").vmpte, 8 * 2048);
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A + i * 4n * M, 8n * K);
  assertEquals(s.fig("a").vmpte, 4 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4);
  assertEquals(s.sys.pagetable_frames, 5);
  assertEquals(s.sys.tlb_flushes, 4); // one flush_tlb_mm per munmap (MMU_GATHER_NO_RANGE)
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 4 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 8);
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("coldfire: a page in another 4 MiB pgd slot needs another PTE table", () => {
  // 2 levels: the pgd entry maps the PTE table directly (pgtable-nopmd.h)
  const s = new Sim("m68k-coldfire").mm("a").map("a", A, 8n * K).map("a", A + 4n * M, 8n * K);
  s.touch("a", A, 8n * K, 8n * K).touch("a", A + 4n * M, 8n * K, 8n * K);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(s.fig("a").vmpte, 4096);
});

Deno.test("coldfire: versions - 6.14 runs pagetable_pgd_ctor in pgd_alloc", () => {
  assertEquals(byVersion("m68k-coldfire", { page: 8n * K, addr: A }), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    vmpte: everyKernel(2048),
    exit: everyKernel(CLEAN),
  });
});

// ---------------------------------------------------------------------------------------------
// m68k-sun3 (arch/m68k/include/asm/sun3_pgalloc.h)

const S = 0x0100_0000n; // 16 MiB, below the Sun-3 TASK_SIZE of 224 MiB

Deno.test("sun3 6.6: a 16-entry PTE table is 64 bytes of VmPTE in a whole 8 KiB page", () => {
  // PGDIR_SHIFT 17 (pgtable_mm.h): one PTE table maps 128 KiB
  assertEquals(onePage("m68k-sun3", { page: 8n * K, slot: 128n * K, addr: S }), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // get_zeroed_page pgd, not counted
    // generic __pte_alloc_one (GFP_PGTABLE_USER, pagetable_pte_ctor); mm_inc_nr_ptes 16 x 4
    first: {
      vmpte: 64,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 8192,
      nrPagetable: 1,
      pagetableFrames: 2,
      ptlocks: 0, // no SMP, no split ptlocks
    },
    slot: { vmpte: 64, rss: 128 * 1024 },
    exit: CLEAN,
  });
});

Deno.test("sun3: 128 KiB per PTE table; 8 MiB costs 64 pages for 4 KiB of VmPTE", () => {
  // PGDIR_SHIFT 17 (pgtable_mm.h); VmPTE of the 128 KiB: the one-page case's `slot`, in one table
  const s = new Sim("m68k-sun3").mm("a").map("a", S, 128n * K).touch("a", S, 128n * K, 8n * K);
  assertEquals(s.fig("a").tables.pte, 1);
  const t = new Sim("m68k-sun3").mm("a").map("a", S, 8n * M).touch("a", S, 8n * M, 8n * K);
  assertEquals(t.fig("a").tables.pte, 64);
  assertEquals(t.fig("a").vmpte, 64 * 64);
  assertEquals(t.sys.nr_page_table_pages, 64);
  assertEquals(t.sys.pagetable_frames, 65);
  t.exit("a");
  assertClean(t);
});

Deno.test("sun3: every other region unmapped, then fork; tables go through the page batch", () => {
  // __pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, freed after the flush
  const s = new Sim("m68k-sun3").mm("a");
  for (let i = 0n; i < 8n; i++) {
    s.map("a", S + i * 128n * K, 8n * K).touch("a", S + i * 128n * K, 8n * K, 8n * K);
  }
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", S + i * 128n * K, 8n * K);
  assertEquals(s.fig("a").vmpte, 4 * 64);
  assertEquals(s.sys.nr_page_table_pages, 4);
  assertEquals(s.sys.pagetable_frames, 5);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 4 * 64);
  assertEquals(s.sys.nr_page_table_pages, 8);
  assertEquals(s.sys.pagetable_frames, 10);
  s.exit("b").exit("a");
  assertClean(s);
});

Deno.test("sun3: versions - the pgd is counted from 6.14 (__pgd_alloc)", () => {
  // a9b3c355c2e6 "asm-generic: pgalloc: provide generic __pgd_{alloc,free}": sun3 pgd_alloc =
  // __pgd_alloc(mm, 0), pagetable_pgd_ctor
  const want: Record<string, number> = { "6.1": 0, "6.6": 0, "6.12": 0, "6.18": 1 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("m68k-sun3", { kernel }).mm("a");
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    s.map("a", S, 8n * K).touch("a", S, 8n * K, 8n * K);
    assertEquals(s.sys.nr_page_table_pages, nr + 1, kernel);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("sun3: a gather holds 8 + 4 x 2045 pages (8 + 4 x 2044 from 6.9)", () => {
  // 32-bit, 8 KiB pages: MAX_GATHER_BATCH (8192 - 12) / 4 = 2045, MAX_GATHER_BATCH_COUNT
  // 10000 / 2045 = 4 (asm-generic/tlb.h); from 6.9 a batch is full at max - 1
  // (mm/mmu_gather.c). MADV_DONTNEED of 8184 pages: 6.6 gathers them all and flushes once at
  // tlb_finish_mmu; 6.12 is full at 7 + 4 x 2044 = 8183 and flushes twice
  for (const [kernel, flushes] of [["6.6", 1], ["6.12", 2]] as const) {
    const s = new Sim("m68k-sun3", { kernel }).mm("a").map("a", S, 8184n * 8n * K);
    s.touch("a", S, 8184n * 8n * K, 8n * K).dontneed("a", S, 8184n * 8n * K);
    assertEquals(s.sys.tlb_flushes, flushes, kernel);
    assertEquals(s.fig("a").vmpte, Math.ceil(8184 / 16) * 64, kernel); // DONTNEED frees no table
  }
});
