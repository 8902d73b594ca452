// Exact figures of the riscv configurations, each worked out from the kernel rule cited.
import { assert, assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, G, K, M, onePage, Sim, traceOf } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";

const A39 = 0x20_0000_0000n; // 128 GiB: a 1 GiB pgd slot of Sv39 (PGDIR_SHIFT 30)
const A48 = 0x1000_0000_0000n; // 16 TiB: a 512 GiB pgd slot of Sv48 (PGDIR_SHIFT 39)
const A57 = 0x10_0000_0000_0000n; // 4 PiB: a 256 TiB pgd slot of Sv57 (PGDIR_SHIFT 48)
const A32 = 0x1000_0000n; // 256 MiB: a 4 MiB pgd slot of Sv32

const onePageUnmap = (a: bigint) => [
  { op: "mm", name: "a" },
  { op: "map", mm: "a", addr: a, size: 2n * M },
  { op: "touch", mm: "a", addr: a, size: 4n * K, step: 4n * K },
  { op: "unmap", mm: "a", addr: a, size: 2n * M },
];

Deno.test("riscv64-sv39 6.6: one page costs a PTE and a PMD table, the pud and p4d fold", () => {
  assertEquals(onePage("riscv64-sv39", { page: 4n * K, slot: 2n * M, addr: A39 }), {
    // pgd_alloc: __get_free_page(GFP_KERNEL), not counted (arch/riscv/include/asm/pgalloc.h)
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // p4d_none/pud_none read 0 with pgtable_l4/l5_enabled false: no table is allocated there, and
    // mm_pud_folded skips mm_inc_nr_puds (arch/riscv/include/asm/pgtable-64.h); __pmd_alloc and
    // __pte_alloc add PTRS_PER_PMD/PTE * 8 = 4096 each (include/linux/mm.h)
    first: {
      vmpte: 8192,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 4096,
      // pagetable_pte_ctor + pagetable_pmd_ctor; split PTE and PMD ptlocks
      // (ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2, arch/riscv/Kconfig)
      nrPagetable: 2,
      pagetableFrames: 3,
      ptlocks: 2,
    },
    // the other 511 pages of the 2 MiB slot use the same PTE table
    slot: { vmpte: 8192, rss: 2 * 1024 * 1024 },
    exit: CLEAN,
  });
});

Deno.test("riscv64-sv39: 1 GiB at one page per 2 MiB fills one PMD table; the next GiB is a pgd slot", () => {
  // 512 PTE tables under one PMD table (PUD_SIZE = PGDIR_SIZE = 1 GiB with Sv39)
  const s = new Sim("riscv64-sv39").mm("a").map("a", A39, 2n * G).touch("a", A39, G, 2n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 512 });
  assertEquals(s.fig("a").vmpte, (512 + 1) * 4096);
  assertEquals(s.sys.nr_page_table_pages, 513);
  // one page in the next GiB: pgd entry 129, a second PMD table
  s.touch("a", A39 + G);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 513 });
  assertEquals(s.fig("a").vmpte, (513 + 2) * 4096);
  s.unmap("a", A39, 2n * G);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("riscv: munmap of every other one-page VMA frees nothing until the last one goes", () => {
  // 8 one-page VMAs 8 KiB apart share one PTE table; unmap_region's floor (prev->vm_end) and
  // ceiling (next->vm_start) fall in the same PMD slot, so free_pgd_range returns at once
  // (mm/memory.c); the last munmap has no neighbour: floor 0, ceiling 0 frees PTE and PMD tables
  const s = new Sim("riscv64-sv39").mm("a");
  for (let i = 0n; i < 8n; i++) s.map("a", A39 + i * 8n * K, 4n * K).touch("a", A39 + i * 8n * K);
  assertEquals(s.run.k.mms.get("a")!.vmas.length, 8);
  assertEquals(s.fig("a").vmpte, 8192);
  for (let i = 0n; i < 8n; i += 2n) s.unmap("a", A39 + i * 8n * K, 4n * K);
  assertEquals(s.fig("a"), {
    vmpte: 8192,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4 * 4096,
  });
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A39 + i * 8n * K, 4n * K);
  assertEquals(s.fig("a"), {
    vmpte: 0,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 0 },
    rss: 0,
  });
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.violations, []);
});

Deno.test("riscv: fork copies every table of the parent's written VMAs", () => {
  // copy_pmd_range / copy_pte_range allocate the child's tables where the parent has them
  // (mm/memory.c): 2 PTE tables and 1 PMD table; dup_mmap ends with flush_tlb_mm(oldmm)
  const s = new Sim("riscv64-sv39").mm("a").map("a", A39, 4n * M).touch("a", A39, 4n * M);
  assertEquals(s.fig("a").vmpte, 3 * 4096);
  s.fork("a", "b");
  assertEquals(s.fig("b"), {
    vmpte: 3 * 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 2 },
    rss: 4 * 1024 * 1024,
  });
  assertEquals(s.sys.nr_page_table_pages, 6);
  assertEquals(s.sys.tlb_flushes, 1);
  s.exit("b").exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("riscv64-sv48 and sv57: a high page needs a PUD (and a P4D) table", () => {
  // Sv48: pud_alloc_one -> __pud_alloc_one while pgtable_l4_enabled, no ctor in 6.6 (counted in
  // VmPTE by mm_inc_nr_puds, not in NR_PAGETABLE)
  const s = new Sim("riscv64-sv48").mm("a").map("a", A48, 4n * K).touch("a", A48);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.sys.nr_page_table_pages, 2);
  // Sv57: p4d_alloc_one is get_zeroed_page(GFP_PGTABLE_USER), no ctor, no mm counter
  const t = new Sim("riscv64-sv57").mm("a").map("a", A57, 4n * K).touch("a", A57);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 1, pud: 1, pmd: 1, pte: 1 });
  assertEquals(t.fig("a").vmpte, 12288);
  assertEquals(t.sys.nr_page_table_pages, 2);
  assertEquals(t.sys.pagetable_frames, 5);
  // a second P4D slot (256 TiB further) costs another P4D, PUD, PMD and PTE table
  t.map("a", A57 + (1n << 48n), 4n * K).touch("a", A57 + (1n << 48n));
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 2, pud: 2, pmd: 2, pte: 2 });
  assertEquals(t.fig("a").vmpte, 2 * 12288);
  t.exit("a");
  assertEquals(t.sys.pagetable_frames, 0);
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("riscv32-sv32: one 4 KiB PTE table of 1024 entries per 4 MiB", () => {
  // PGDIR_SHIFT 22, pte_t 4 bytes (arch/riscv/include/asm/pgtable-32.h); PMD folded
  const s = new Sim("riscv32-sv32").mm("a").map("a", A32, 8n * M).touch("a", A32, 8n * M, 4n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.ptlocks, 2); // split PTE locks only
  s.unmap("a", A32, 8n * M);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.violations, []);
});

Deno.test("kernel versions: what one page costs in NR_PAGETABLE on riscv", () => {
  // 6.1/6.6: pte + pmd ctors; 6.7 adds pagetable_pud_ctor; 6.14 pagetable_p4d_ctor (generic
  // __p4d_alloc_one) and pagetable_pgd_ctor (__pgd_alloc); VmPTE never changed
  // [configuration, address, NR_PAGETABLE by version, VmPTE]
  const want: [string, bigint, Record<string, number>, number][] = [
    ["riscv64-sv39", A39, { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 }, 8192],
    ["riscv64-sv48", A48, { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 }, 12288],
    ["riscv64-sv57", A57, { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 5 }, 12288],
    ["riscv32-sv32", A32, { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 }, 4096],
  ];
  for (const [name, addr, nrPagetable, vmpte] of want) {
    const r = byVersion(name, { page: 4n * K, addr });
    assertEquals(r, { nrPagetable, vmpte: everyKernel(vmpte), exit: everyKernel(CLEAN) }, name);
  }
});

Deno.test("riscv 6.6: PMD, PUD and P4D tables are freed directly, before any TLB flush", () => {
  // #define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd) (and pud_free, p4d_free)
  // in 6.6 (arch/riscv/include/asm/pgalloc.h): the page is back in the allocator inside
  // free_pgtables, while tlb_finish_mmu's flush_tlb_mm is still to come; the PTE table waits in
  // the page batch (pagetable_pte_dtor + tlb_remove_page_ptdesc) until after that flush
  const t = traceOf("riscv64-sv57", { kernel: "6.6" }, onePageUnmap(A57));
  const fns = t.map((e) => e.fn);
  const lastFlush = fns.lastIndexOf("flush_tlb_mm");
  const frees = fns.flatMap((f, i) => f === "pagetable_free" || f === "free_page" ? [i] : []);
  // pmd_free -> pagetable_free, pud_free -> pagetable_free, p4d_free -> free_page: all before
  assertEquals(frees.length, 3);
  assert(frees.every((i) => i < lastFlush));
  assertEquals(fns.filter((f) => f === "free_pages_and_swap_cache").length, 1);
  assert(fns.indexOf("free_pages_and_swap_cache") > lastFlush);
  // 6.12: the dtor runs in __pXd_free_tlb and riscv_tlb_remove_ptdesc queues every level on the
  // RCU table batch (SBI fences): nothing is freed before the flush
  const u = traceOf("riscv64-sv57", { kernel: "6.12" }, onePageUnmap(A57)).map((e) => e.fn);
  const flush12 = u.lastIndexOf("flush_tlb_mm");
  const frees12 = u.flatMap((f, i) => f === "pagetable_free" || f === "free_page" ? [i] : []);
  // 4 tables from __tlb_remove_table, then the table-batch page itself
  assertEquals(frees12.length, 5);
  assert(frees12.every((i) => i > flush12));
  assertEquals(u.filter((f) => f === "__tlb_remove_table").length, 4);
});

Deno.test("riscv: runtime folding keeps the generic pud_free_tlb and p4d_free_tlb wrappers", () => {
  // CONFIG_PGTABLE_LEVELS=5: free_pud_range and free_p4d_range still end in pud_free_tlb /
  // p4d_free_tlb, which widen the range and set freed_tables (include/asm-generic/tlb.h); the arch
  // __pud_free_tlb / __p4d_free_tlb do nothing when the level is folded (pgtable_l4/l5_enabled)
  const details = (name: string, a: bigint) =>
    traceOf(name, {}, onePageUnmap(a))
      .filter((e) => e.fn === "pud_free_tlb" || e.fn === "p4d_free_tlb")
      .map((e) => `${e.fn} ${e.detail?.startsWith("frame") ? "table" : e.detail}`);
  assertEquals(details("riscv64-sv39", A39), ["pud_free_tlb folded", "p4d_free_tlb folded"]);
  assertEquals(details("riscv64-sv48", A48), ["pud_free_tlb table", "p4d_free_tlb folded"]);
  assertEquals(details("riscv64-sv57", A57), ["pud_free_tlb table", "p4d_free_tlb table"]);
  // Sv32 folds at compile time (asm-generic/pgtable-nopmd.h): the wrappers are empty macros
  assertEquals(details("riscv32-sv32", A32), []);
});

Deno.test("riscv tlb_flush: flush_tlb_mm in 6.6, a range flush for zaps from 6.7", () => {
  // 6.6: tlb_flush = flush_tlb_mm(tlb->mm); 6.7 (c5e9b2c2ae82) + 6.8 (97cf301fa42e): flush_tlb_mm
  // only for fullmm, need_flush_all or freed_tables, else flush_tlb_mm_range
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A39, size: 2n * M },
    { op: "touch", mm: "a", addr: A39, size: 2n * M, step: 4n * K },
    { op: "madvise", mm: "a", advice: "dontneed", addr: A39, size: M },
  ];
  const flushes = (kernel: string) =>
    traceOf("riscv64-sv39", { kernel }, ops).map((e) => e.fn).filter((f) => f.startsWith("flush"));
  assertEquals(flushes("6.6"), ["flush_tlb_mm"]);
  assertEquals(flushes("6.12"), ["flush_tlb_mm_range"]);
  assertEquals(flushes("6.18"), ["flush_tlb_mm_range"]);
  // munmap: the zap is flushed at tlb_end_vma (no MMU_GATHER_MERGE_VMAS), the freed tables at
  // tlb_finish_mmu, with freed_tables set: the whole mm
  const unmap = traceOf("riscv64-sv39", { kernel: "6.12" }, onePageUnmap(A39)).map((e) => e.fn);
  assertEquals(unmap.filter((f) => f.startsWith("flush")), ["flush_tlb_mm_range", "flush_tlb_mm"]);
});

Deno.test("riscv flush IPIs reach every other hart in mm_cpumask, lazy ones included", () => {
  // __flush_tlb_range: a remote fence (SBI, or on_each_cpu_mask) to mm_cpumask minus this hart;
  // set_mm_asid never clears mm_cpumask and a lazy hart keeps the mm loaded
  // (arch/riscv/mm/tlbflush.c, context.c)
  const s = new Sim("riscv64-sv39", {}, 4).mm("a").on("a", 0, 1, 2);
  s.map("a", A39, 4n * M).touch("a", A39, 4n * M);
  s.on("a", 0, 1); // hart 2 goes lazy
  s.dontneed("a", A39, M); // one flush, harts 1 and 2
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 2);
  s.unmap("a", A39, 4n * M); // tlb_end_vma flush + tlb_finish_mmu flush
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 6);
  // a single-hart mm flushes locally: no remote fence
  const t = new Sim("riscv64-sv39", {}, 4).mm("a").map("a", A39, 4n * M).touch("a", A39, 4n * M);
  t.unmap("a", A39, 4n * M);
  assertEquals(t.sys.tlb_flushes, 2);
  assertEquals(t.sys.ipis, 0);
  // dup_mmap's flush_tlb_mm(oldmm) goes to the same mask: harts 1 and 2 (kernel/fork.c)
  const u = new Sim("riscv64-sv39", {}, 4).mm("a").on("a", 0, 1, 2).on("a", 0, 1);
  u.map("a", A39, 2n * M).touch("a", A39).fork("a", "b");
  assertEquals(u.sys.tlb_flushes, 1);
  assertEquals(u.sys.ipis, 2);
  // splitting a THP: pmdp_invalidate -> flush_pmd_tlb_range, __flush_tlb_range with a PMD_SIZE
  // stride over mm_cpumask (mm/pgtable-generic.c, arch/riscv/mm/tlbflush.c); then the zap's
  // tlb_end_vma flush; free_pgtables frees nothing (the rest of the VMA is the ceiling)
  const v = new Sim("riscv64-sv39", { thp: "on" }, 4).mm("a").on("a", 0, 1, 2).on("a", 0, 1);
  v.map("a", A39, 2n * M).touch("a", A39).unmap("a", A39, 4n * K);
  assertEquals(v.sys.tlb_flushes, 1 + 1);
  assertEquals(v.sys.ipis, 2 * 2);
  assertEquals(v.violations, []);
});

Deno.test("riscv 6.8+: the RCU table batch adds a flush when it fills; IPI fences use the page batch", () => {
  // 1 GiB at one page per 2 MiB frees 512 PTE tables and 1 PMD table. 6.6: the page batch
  // (8 + 510 + ...) takes all of them with the 512 user pages: 2 flushes (tlb_end_vma,
  // tlb_finish_mmu). 6.12 with SBI fences: tlb_remove_ptdesc -> the table batch of
  // MAX_TABLE_BATCH = (4096 - 16 - 8) / 8 = 509 entries; the 509th entry runs tlb_table_flush,
  // whose tlb_table_invalidate flushes first (mm/mmu_gather.c): 3 flushes. With IPI fences
  // riscv_tlb_remove_ptdesc uses tlb_remove_page_ptdesc: 2 flushes again. 6.18: always the table
  // batch (tlb_remove_ptdesc since 6.15).
  const cases: [Record<string, string>, number][] = [
    [{ kernel: "6.6" }, 2],
    [{ kernel: "6.12" }, 3],
    [{ kernel: "6.12", rfence: "ipi" }, 2],
    [{ kernel: "6.18", rfence: "ipi" }, 3],
  ];
  for (const [opts, flushes] of cases) {
    const s = new Sim("riscv64-sv39", opts).mm("a").map("a", A39, G).touch("a", A39, G, 2n * M);
    s.unmap("a", A39, G);
    const what = JSON.stringify(opts);
    assertEquals(s.sys.tlb_flushes, flushes, what);
    assertEquals(s.sys.nr_page_table_pages, opts.kernel === "6.18" ? 1 : 0, what); // the pgd
    assertEquals(s.sys.rcu_pending, 0, what);
    assertEquals(s.sys.leaks, 0, what);
    assertEquals(s.violations, [], what);
  }
});

Deno.test("riscv 6.12: a table batch page that cannot be allocated costs an IPI to every CPU", () => {
  // tlb_remove_table: no batch page -> tlb_table_invalidate + tlb_remove_table_one ->
  // tlb_remove_table_sync_one, smp_call_function to all other online CPUs (mm/mmu_gather.c)
  const s = new Sim("riscv64-sv39", { kernel: "6.12" }, 4).mm("a").map("a", A39, 2n * M);
  s.touch("a", A39);
  s.run.k.addInject("tlb_remove_table", "every", 1);
  s.unmap("a", A39, 2n * M);
  // two tables (pte, pmd), each: 3 IPIs; the mm ran on one hart, so the flushes send none
  assertEquals(s.sys.ipis, 6);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("riscv64: THP deposits a PTE table under the PMD (split PMD ptlock)", () => {
  // HAVE_ARCH_TRANSPARENT_HUGEPAGE if 64BIT && MMU (arch/riscv/Kconfig);
  // __do_huge_pmd_anonymous_page: pte_alloc_one + pgtable_trans_huge_deposit + mm_inc_nr_ptes
  const s = new Sim("riscv64-sv39", { thp: "on" }).mm("a").map("a", A39, 4n * M).touch("a", A39);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
  // no THP on rv32
  assertEquals(findConfig("riscv32-sv32")!.thpAvailable, false);
});

Deno.test("riscv TASK_SIZE: PGDIR_SIZE * PTRS_PER_PGD / 2 on rv64, FIXADDR_START on rv32", () => {
  assertEquals(configFor("riscv64-sv39").taskSize, 1n << 38n);
  assertEquals(configFor("riscv64-sv48").taskSize, 1n << 47n);
  assertEquals(configFor("riscv64-sv57").taskSize, 1n << 56n);
  assertEquals(configFor("riscv32-sv32").taskSize, 0x9C80_0000n);
  // MAX_TABLE_BATCH with an rcu_head: (PAGE_SIZE - 16 - 8) / 8 on rv64, (4096 - 12) / 4 on rv32
  assertEquals(configFor("riscv64-sv39", { kernel: "6.12" }).gather.maxTableBatch, 509);
  assertEquals(configFor("riscv32-sv32", { kernel: "6.12" }).gather.maxTableBatch, 1021);
  assertEquals(configFor("riscv64-sv39", { kernel: "6.6" }).gather.tableFree, false);
});
