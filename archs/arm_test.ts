// Exact figures of the arm (32-bit) configurations, each worked out from the kernel rule cited.
import { assert, assertEquals } from "../testing/assert.ts";
import {
  assertClean,
  byVersion,
  CLEAN,
  everyKernel,
  G,
  K,
  M,
  onePage,
  Sim,
  traced,
} from "./_testing.ts";
import { findConfig } from "./registry.ts";

const A = 0x4000_0000n; // 1 GiB: PMD slot 512 (classic), pgd slot 1 (LPAE)

/** A traced run ({@link traced}) to its end; returns the kernel calls in order and the result. */
function tracedCalls(
  name: string,
  options: Record<string, string>,
  ops: Record<string, unknown>[],
) {
  const r = traced(name, options, ops).finish(ops.length);
  return { calls: r.trace!.map((t) => `${t.fn} ${t.detail ?? ""}`), result: r };
}

// ---------------------------------------------------------------------------------------------
// arm-2level (classic MMU)

Deno.test("arm-2level 6.6: one page costs one PTE page, counted as 2048 bytes", () => {
  assertEquals(onePage("arm-2level", { page: 4n * K, slot: 2n * M, addr: A }), {
    // pgd_alloc: __get_free_pages(GFP_KERNEL, 2), 4 frames, no ctor (arch/arm/mm/pgd.c); vectors
    // high (the default), so no PTE table yet
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 4 },
    // __pte_alloc -> pmd_install: mm_inc_nr_ptes adds PTRS_PER_PTE (512) * sizeof(pte_t) (4) =
    // 2048, though the page also holds the two hardware tables (arch/arm/include/asm/pgalloc.h,
    // pgtable-2level.h); pagetable_pte_ctor: NR_PAGETABLE +1, a split ptlock (ARMv7: VIPT, SMP,
    // NR_CPUS 4)
    first: {
      vmpte: 2048,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 5,
      ptlocks: 1,
    },
    // the other 511 pages of the 2 MiB slot (PMD_SHIFT 21) use the same PTE page
    slot: { vmpte: 2048, rss: 2 * 1024 * 1024 },
    exit: CLEAN,
  });
});

Deno.test("arm-2level: a region of one PTE table, aligned and not", () => {
  // a PTE page maps 2 MiB (PGDIR_SHIFT = PMD_SHIFT = 21): aligned, one table; shifted by 1 MiB,
  // it straddles two pgd entries, two tables
  const s = new Sim("arm-2level").mm("a").map("a", A, 2n * M).touch("a", A, 2n * M);
  assertEquals(s.fig("a").tables.pte, 1);
  assertEquals(s.fig("a").vmpte, 2048);
  const t = new Sim("arm-2level").mm("a").map("a", A + M, 2n * M).touch("a", A + M, 2n * M);
  assertEquals(t.fig("a").tables.pte, 2);
  assertEquals(t.fig("a").vmpte, 4096);
  assertEquals(t.sys.nr_page_table_pages, 2);
});

Deno.test("arm-2level: 1 GiB at one page per 2 MiB is 512 PTE pages, 1 MiB of VmPTE", () => {
  // 512 x 2048 = 1 MiB counted for 512 x 4 KiB = 2 MiB of PTE pages
  const s = new Sim("arm-2level").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").vmpte, 512 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 512);
  assertEquals(s.sys.pagetable_frames, 4 + 512);
  // munmap: tlb_end_vma flushes (no MMU_GATHER_MERGE_VMAS), tlb_finish_mmu flushes again; the
  // 512 data pages and 512 PTE pages fit the page batch (8 + 9 x 1021 entries, 32-bit 4K)
  s.unmap("a", A, G);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.pagetable_frames, 4);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm-2level: munmap of every other page frees nothing until the last one goes", () => {
  // 16 pages, one VMA, one PTE page; each munmap of an even page leaves neighbours in the same
  // 2 MiB slot: free_pgd_range's floor (prev->vm_end) and ceiling (next->vm_start) keep the
  // table (mm/memory.c)
  const s = new Sim("arm-2level").mm("a").map("a", A, 64n * K).touch("a", A, 64n * K);
  for (let i = 0n; i < 16n; i += 2n) s.unmap("a", A + i * 4n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 2048);
  assertEquals(s.fig("a").rss, 8 * 4096);
  assertEquals(s.run.k.mms.get("a")!.vmas.length, 8);
  for (let i = 1n; i < 15n; i += 2n) s.unmap("a", A + i * 4n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 2048);
  // the last VMA: no prev (floor FIRST_USER_ADDRESS), no next (ceiling 0): the table goes
  s.unmap("a", A + 15n * 4n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.fig("a").tables.pte, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm-2level: fork copies the PTE pages of the written VMAs", () => {
  // copy_pte_range allocates the child's table where the parent's pmd is present (mm/memory.c)
  const s = new Sim("arm-2level").mm("a").map("a", A, 4n * M).touch("a", A, 4n * M);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 4096);
  assertEquals(s.fig("b").rss, 4 * 1024 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 4);
  assertEquals(s.sys.pagetable_frames, 2 * (4 + 2));
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("arm-2level: a page just below TASK_SIZE is another pgd entry, no upper level", () => {
  // TASK_SIZE = PAGE_OFFSET - 16M = 0xBF000000 (arch/arm/include/asm/memory.h): the last user
  // page is in pgd entry 0x5F7; two levels only, so one more PTE page and nothing else
  const top = 0xBF00_0000n - 4n * K;
  const s = new Sim("arm-2level").mm("a").map("a", A, 4n * K).map("a", top, 4n * K);
  s.touch("a", A).touch("a", top);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(s.fig("a").vmpte, 4096);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm-2level: FIRST_USER_ADDRESS keeps the PTE page of 0..2 MiB; pgd_free frees it", () => {
  // FIRST_USER_ADDRESS = 2 * PAGE_SIZE (arch/arm/include/asm/pgtable.h): free_pgd_range rounds
  // addr down to 0, which is below the floor, so it starts at the next PMD slot and the table
  // of slot 0 survives munmap and exit; pgd_free then does pte_free + mm_dec_nr_ptes
  // (arch/arm/mm/pgd.c), before check_mm
  const s = new Sim("arm-2level").mm("a").map("a", 0x1_0000n, 64n * K).touch("a", 0x1_0000n);
  assertEquals(s.fig("a").vmpte, 2048);
  s.unmap("a", 0x1_0000n, 64n * K);
  assertEquals(s.fig("a").vmpte, 2048); // the only VMA gone, its table kept
  assertEquals(s.fig("a").rss, 0);
  s.map("a", 0x1_0000n, 64n * K).touch("a", 0x1_0000n).exit("a");
  assertClean(s); // no "non-zero pgtables_bytes", no leaked table
});

Deno.test("arm-2level vectors=low: every mm starts with the vectors PTE page", () => {
  // !vectors_high(): pgd_alloc -> pte_alloc_map(mm, new_pmd, 0) -> __pte_alloc: a counted PTE
  // page in every mm, the child of a fork included (arch/arm/mm/pgd.c)
  const s = new Sim("arm-2level", { vectors: "low" }).mm("a");
  assertEquals(s.fig("a").vmpte, 2048);
  assertEquals(s.fig("a").tables.pte, 1);
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 5);
  // a VMA at 64 KiB (the classic ELF text address) shares that PTE page
  s.map("a", 0x1_0000n, 64n * K).touch("a", 0x1_0000n, 64n * K);
  assertEquals(s.fig("a").vmpte, 2048);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 2048);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.exit("a").exit("b");
  assertClean(s);
  // vectors high (the default, CR_V set): nothing at pgd_alloc
  assertEquals(new Sim("arm-2level").mm("a").fig("a").vmpte, 0);
});

Deno.test("arm-2level: __pte_free_tlb widens the flush across the 1 MiB boundary", () => {
  // __tlb_adjust_range(tlb, (addr & PMD_MASK) + SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE)
  // (arch/arm/include/asm/tlb.h): after the zap's own flush (tlb_end_vma), the range is the
  // pte_free_tlb page at A (page 0x40000) up to A + 1 MiB + 4 KiB: 257 pages
  const { calls } = tracedCalls("arm-2level", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * K },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: A, size: 4n * K },
  ]);
  const flushes = calls.filter((c) => c.startsWith("flush_tlb_range"));
  assertEquals(flushes, [
    "flush_tlb_range a 1 page(s) from page 262144",
    "flush_tlb_range a 257 page(s) from page 262144",
  ]);
  // the dtor ran at __pte_free_tlb time, then the page went to the page batch
  // (tlb_remove_table = tlb_remove_page without MMU_GATHER_TABLE_FREE)
  const i = calls.findIndex((c) => c.startsWith("pte_free_tlb"));
  assertEquals(calls[i + 1].split(" ")[0], "pagetable_pte_dtor");
  assert(calls.some((c) => c.startsWith("tlb_remove_page")));
  assert(!calls.some((c) => c.startsWith("call_rcu")));
});

Deno.test("arm-2level: the 16 KiB pgd is neither accounted nor counted until 6.14", () => {
  // 6.6: __get_free_pages(GFP_KERNEL, 2); 6.14: __pgd_alloc(mm, 2) = pagetable_alloc(
  // GFP_PGTABLE_USER, 2) + pagetable_pgd_ctor: an order-2 compound page, NR_PAGETABLE +4
  // (folio_nr_pages / compound_nr), charged to the memcg
  const want: Record<string, [number, number]> = {
    "6.1": [0, 0],
    "6.6": [0, 0],
    "6.12": [0, 0],
    "6.18": [4, 1],
  };
  for (const [kernel, [nr, memcg]] of Object.entries(want)) {
    const s = new Sim("arm-2level", { kernel }).mm("a");
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    const pgd = Math.floor(s.run.k.pool.mem[s.run.k.mms.get("a")!.pgd] / 256);
    assertEquals(s.run.k.frames.memcg[pgd], memcg, kernel);
    assertEquals(s.fig("a").vmpte, 0, kernel); // the pgd is never in VmPTE
    s.map("a", A, 4n * K).touch("a", A);
    assertEquals(s.sys.nr_page_table_pages, nr + 1, kernel);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("arm-2level: split PTE ptlocks only with CPU_CACHE_VIPT and SMP", () => {
  // SPLIT_PTLOCK_CPUS 999999 for ARM && !CPU_CACHE_VIPT (mm/Kconfig 6.1/6.6; 6.12:
  // SPLIT_PTE_PTLOCKS depends on SMP, NR_CPUS >= 4, !ARM || CPU_CACHE_VIPT); ARM never selects
  // ARCH_ENABLE_SPLIT_PMD_PTLOCK
  const cases: [Record<string, string>, number][] = [
    [{}, 2],
    [{ cpu: "v6k" }, 2],
    [{ cpu: "v5" }, 0],
    [{ smp: "off" }, 0],
    [{ kernel: "6.12", cpu: "v5" }, 0],
    [{ alloc_split_ptlocks: "on" }, 2],
  ];
  for (const [opts, locks] of cases) {
    const s = new Sim("arm-2level", opts).mm("a").map("a", A, 4n * M).touch("a", A, 4n * M, 2n * M);
    assertEquals(s.sys.ptlocks, locks, JSON.stringify(opts));
    assertEquals(s.run.k.ptlockObjs.size, opts.alloc_split_ptlocks ? 2 : 0);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("arm-2level: HIGHPTE puts user PTE pages in HIGHMEM", () => {
  // pte_alloc_one: GFP_PGTABLE_USER | __GFP_HIGHMEM with CONFIG_HIGHPTE (default y with
  // HIGHMEM, arch/arm/Kconfig); the pgd stays in lowmem
  for (const [highpte, high] of [["on", 1], ["off", 0]] as const) {
    const s = new Sim("arm-2level", { highpte }).mm("a").map("a", A, 4n * K).touch("a", A);
    assertEquals(s.run.k.frames.inUse[1], high, highpte); // ZONE_HIGHMEM
    assertEquals(s.run.k.frames.inUse[0], 5 - high, highpte);
  }
});

Deno.test("arm: ARMv7 broadcasts TLB maintenance; ARMv6K SMP flushes by IPI to mm_cpumask", () => {
  // tlb_ops_need_broadcast(): ID_MMFR3 says whether TLB maintenance is broadcast in hardware
  // (arch/arm/include/asm/smp_plat.h); if not, flush_tlb_mm/range IPI mm_cpumask
  // (arch/arm/kernel/smp_tlb.c), which the ASID allocator never trims (arch/arm/mm/context.c)
  for (const [cpu, ipis] of [["v7", [0, 0]], ["v6k", [4, 6]]] as const) {
    const s = new Sim("arm-2level", { cpu }).mm("a").on("a", 0, 1, 2);
    s.map("a", A, 4n * M).touch("a", A, 4n * M);
    // munmap of one table: tlb_end_vma flush + tlb_finish_mmu flush, to CPUs 1 and 2
    s.unmap("a", A, 2n * M);
    assertEquals(s.sys.tlb_flushes, 2, cpu);
    assertEquals(s.sys.ipis, ipis[0], cpu);
    // CPU 2 stops running the mm but stays in mm_cpumask; fork's flush_tlb_mm(oldmm) reaches
    // CPUs 1 and 2, the child's first CPU is 0
    s.on("a", 0, 1).fork("a", "b");
    assertEquals(s.sys.tlb_flushes, 3, cpu);
    assertEquals(s.sys.ipis, ipis[1], cpu);
  }
});

// ---------------------------------------------------------------------------------------------
// arm-lpae

Deno.test("arm-lpae: pgd_alloc allocates the modules PMD, so a fresh mm has VmPTE 4 kB", () => {
  // pgd: kmalloc_array(4, 8, GFP_KERNEL), a kmalloc-64 object (ARCH_DMA_MINALIGN 64); then
  // pmd_alloc on pgd entry pgd_index(MODULES_VADDR = 0xBF000000) = 2 -> __pmd_alloc:
  // pmd_alloc_one (pagetable_pmd_ctor, NR_PAGETABLE +1, no split PMD lock) + mm_inc_nr_pmds
  // 512 x 8 = 4096 (arch/arm/mm/pgd.c, mm/memory.c)
  for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
    const s = new Sim("arm-lpae", { kernel }).mm("a");
    assertEquals(s.fig("a").vmpte, 4096, kernel);
    assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 0 }, kernel);
    assertEquals(s.sys.nr_page_table_pages, 1, kernel); // the kmalloc pgd is never counted
    assertEquals(s.sys.pagetable_frames, 2, kernel); // one kmalloc-64 slab page + the PMD
    assertEquals(s.sys.ptlocks, 0, kernel);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("arm-lpae: one page in a new 1 GiB slot costs a PMD and a PTE table", () => {
  // pgd slot 1 (PGDIR_SHIFT 30): __pmd_alloc + __pte_alloc, 4096 each; the PTE ctor takes a
  // split ptlock, the PMD ctor none (ARM does not select ARCH_ENABLE_SPLIT_PMD_PTLOCK)
  const s = new Sim("arm-lpae").mm("a").map("a", A, 2n * M).touch("a", A);
  assertEquals(s.fig("a").vmpte, 4096 + 8192);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 1 });
  assertEquals(s.sys.nr_page_table_pages, 3);
  assertEquals(s.sys.ptlocks, 1);
  s.touch("a", A, 2n * M); // the rest of the PTE table (PMD_SHIFT 21)
  assertEquals(s.fig("a").vmpte, 12288);
  // 1 GiB at one page per 2 MiB: 512 PTE tables under that PMD
  s.map("a", A + 2n * M, G - 2n * M).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").vmpte, 4096 * (1 + 1 + 512));
  assertEquals(s.sys.nr_page_table_pages, 1 + 1 + 512);
  s.unmap("a", A, G);
  assertEquals(s.fig("a").vmpte, 4096); // the modules PMD
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm-lpae: user space above 2 GiB uses the modules PMD; the ceiling keeps it", () => {
  // 0x80000000..TASK_SIZE lies in pgd entry 2, the modules PMD: a page there costs only a PTE
  // table. USER_PGTABLES_CEILING = TASK_SIZE (arch/arm/include/asm/pgtable.h) rounded to
  // PUD_MASK is 0x80000000, so free_pmd_range never frees that PMD; pgd_free does
  const B = 0xBE00_0000n;
  const s = new Sim("arm-lpae").mm("a").map("a", B, 2n * M).touch("a", B);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").tables.pmd, 1);
  s.unmap("a", B, 2n * M);
  assertEquals(s.fig("a").vmpte, 4096);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 0 });
  s.map("a", B, 2n * M).touch("a", B).exit("a");
  assertClean(s);
});

Deno.test("arm-lpae: the PMD and PTE table of address 0 are pgd_free's", () => {
  // FIRST_USER_ADDRESS 8 KiB: free_pmd_range's start (0) < floor keeps the PMD of pgd entry 0,
  // free_pgd_range skips PMD slot 0; pgd_free frees the PTE table (mm_dec_nr_ptes), that PMD
  // and the modules PMD (mm_dec_nr_pmds each) (arch/arm/mm/pgd.c)
  const s = new Sim("arm-lpae").mm("a").map("a", 0x1_0000n, 4n * M).touch("a", 0x1_0000n, 4n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 3 });
  assertEquals(s.fig("a").vmpte, 4096 * 5);
  s.unmap("a", 0x1_0000n, 4n * M);
  // the tables of 2..4 MiB go; 0..2 MiB and its PMD stay
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 1 });
  s.map("a", 0x1_0000n, 4n * M).touch("a", 0x1_0000n).exit("a");
  assertClean(s);
});

Deno.test("arm-lpae: munmap of every other page, and fork", () => {
  const s = new Sim("arm-lpae").mm("a").map("a", A, 64n * K).touch("a", A, 64n * K);
  for (let i = 0n; i < 16n; i += 2n) s.unmap("a", A + i * 4n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 12288); // modules PMD, PMD, PTE: all shared by neighbours
  assertEquals(s.fig("a").rss, 8 * 4096);
  // the child gets its own modules PMD at pgd_alloc, then a PMD and a PTE table for the VMAs
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 12288);
  assertEquals(s.fig("b").rss, 8 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 6);
  s.exit("b").exit("a");
  assertClean(s);
});

Deno.test("arm-lpae: tables go to the RCU table batch on SMP, the page batch on UP", () => {
  // select MMU_GATHER_RCU_TABLE_FREE if SMP && ARM_LPAE (arch/arm/Kconfig); 6.6: the dtor at
  // __pte_free_tlb (arch/arm/include/asm/tlb.h), the page after the grace period
  // (__tlb_remove_table = free_page_and_swap_cache)
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: A, size: 2n * M },
  ];
  const smp = tracedCalls("arm-lpae", {}, ops).calls;
  const dtor = smp.findIndex((c) => c.startsWith("pagetable_pte_dtor"));
  const rcu = smp.findIndex((c) => c.startsWith("call_rcu"));
  assert(dtor >= 0 && rcu > dtor, "6.6: dtor before call_rcu");
  assertEquals(smp.filter((c) => c.startsWith("call_rcu")), ["call_rcu 2 table(s)"]); // PTE, PMD
  assert(!smp.some((c) => c.startsWith("tlb_remove_page ")));
  const up = tracedCalls("arm-lpae", { smp: "off" }, ops).calls;
  assert(!up.some((c) => c.startsWith("call_rcu")));
  assertEquals(up.filter((c) => c.startsWith("tlb_remove_page ")).length, 2);
  // 6.18: pagetable_dtor runs in the generic __tlb_remove_table, after the grace period
  // ("arm: pgtable: move pagetable_dtor() to __tlb_remove_table()", 6.14)
  const late = tracedCalls("arm-lpae", { kernel: "6.18" }, ops).calls;
  const rcu18 = late.findIndex((c) => c.startsWith("call_rcu"));
  const dtor18 = late.findIndex((c) => c.startsWith("pagetable_dtor"));
  assert(rcu18 >= 0 && dtor18 > rcu18, "6.18: dtor after call_rcu");
  for (const r of [smp, up, late]) assert(!r.some((c) => c.startsWith("violation")));
});

Deno.test("arm-lpae: THP maps 2 MiB with one pmd and a deposited PTE table", () => {
  // HAVE_ARCH_TRANSPARENT_HUGEPAGE if ARM_LPAE; __do_huge_pmd_anonymous_page: pte_alloc_one +
  // pgtable_trans_huge_deposit + mm_inc_nr_ptes (mm/huge_memory.c)
  const s = new Sim("arm-lpae", { thp: "on" }).mm("a").map("a", A, 4n * M).touch("a", A);
  assertEquals(s.fig("a").vmpte, 4096 * 3); // modules PMD, PMD, the deposit
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  s.exit("a");
  assertClean(s);
  // the classic MMU has no THP option at all
  assertEquals(findConfig("arm-2level")!.thpAvailable, false);
});

Deno.test("arm: figures per kernel version", () => {
  // NR_PAGETABLE of a fresh mm plus one page at A: classic 6.1-6.12 the PTE page only, 6.18 the
  // pgd (4, __pgd_alloc 6.14) too; LPAE the modules PMD, the PMD and the PTE table in every
  // version (6.1 counts +1 per table, the same for order-0 tables)
  assertEquals(byVersion("arm-2level", { page: 4n * K, addr: A }), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 5 },
    vmpte: everyKernel(2048),
    exit: everyKernel(CLEAN),
  });
  assertEquals(byVersion("arm-lpae", { page: 4n * K, addr: A }), {
    nrPagetable: everyKernel(3),
    vmpte: everyKernel(12288),
    exit: everyKernel(CLEAN),
  });
});
