// Exact figures of the LoongArch configurations, each worked out from the kernel rule cited.
import { assert, assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, G, K, M, onePage, Sim, traceOf } from "./_testing.ts";
import { configFor } from "./registry.ts";

// 16K pages: a PTE table maps 2048 x 16 KiB = 32 MiB, a PMD table 2048 x 32 MiB = 64 GiB, the
// pgd 2048 x 64 GiB = 128 TiB (PAGE_SHIFT 14, PAGE_SHIFT - 3 bits a level,
// arch/loongarch/include/asm/pgtable.h)
const P16 = 16n * K;
const A = 0x10_0000_0000n; // 64 GiB: a PMD-table slot of its own
const A2 = 0x4000_0000n; // 1 GiB, inside the 64 GiB of the 2-level configuration
const A4 = 0x7f00_0000_0000n; // 4K pages, 4 levels: a 512 GiB pgd slot

Deno.test("loongarch64-16k-3level 6.6: one page costs a 16 KiB PTE and PMD table", () => {
  assertEquals(onePage("loongarch64-16k-3level", { page: P16, slot: 32n * M, addr: A }), {
    // pgd_alloc: pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0), no ctor
    // (arch/loongarch/mm/pgtable.c)
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 },
    // mm_inc_nr_pmds / mm_inc_nr_ptes: 2048 entries x 8 bytes = 16384 each (include/linux/mm.h);
    // pagetable_pmd_ctor and pagetable_pte_ctor count a page each; only the PTE table gets a
    // split ptlock: LoongArch does not select ARCH_ENABLE_SPLIT_PMD_PTLOCK (arch/loongarch/Kconfig)
    first: {
      vmpte: 32768,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 16384,
      nrPagetable: 2,
      pagetableFrames: 3,
      ptlocks: 1,
    },
    slot: { vmpte: 32768, rss: 32 * 1024 * 1024 }, // the whole 32 MiB of the PTE table's slot
    exit: CLEAN,
  });
});

Deno.test("loongarch64-16k-3level: 2 GiB at one page per 32 MiB is 64 PTE tables", () => {
  const s = new Sim("loongarch64-16k-3level").mm("a").map("a", A, 2n * G);
  s.touch("a", A, 2n * G, 32n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 64 });
  assertEquals(s.fig("a").vmpte, (64 + 1) * 16384);
  assertEquals(s.sys.nr_page_table_pages, 65);
  // a page 64 GiB further needs a second PMD table (pgd entry 2)
  s.map("a", A + 64n * G, P16).touch("a", A + 64n * G, P16, P16);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 65 });
  assertEquals(s.fig("a").vmpte, (65 + 2) * 16384);
  s.unmap("a", A, 2n * G);
  assertEquals(s.fig("a").vmpte, 2 * 16384);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("loongarch: munmap of every other one-page VMA frees nothing until the last one goes", () => {
  // one-page VMAs 32 KiB apart share a PTE table; unmap_region's floor and ceiling stay inside
  // its 32 MiB PMD slot, so free_pgd_range frees nothing (mm/memory.c)
  const s = new Sim("loongarch64-16k-3level").mm("a");
  for (let i = 0n; i < 8n; i++) {
    s.map("a", A + i * 2n * P16, P16).touch("a", A + i * 2n * P16, P16, P16);
  }
  assertEquals(s.run.k.mms.get("a")!.vmas.length, 8);
  for (let i = 0n; i < 8n; i += 2n) s.unmap("a", A + i * 2n * P16, P16);
  assertEquals(s.fig("a"), {
    vmpte: 32768,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4 * 16384,
  });
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A + i * 2n * P16, P16);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 0 });
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.violations, []);
});

Deno.test("loongarch: fork copies the parent's tables", () => {
  // copy_pmd_range / copy_pte_range (mm/memory.c): 2 PTE tables + 1 PMD table in the child
  const s = new Sim("loongarch64-16k-3level").mm("a").map("a", A, 64n * M);
  s.touch("a", A, 64n * M, 32n * M);
  s.fork("a", "b");
  assertEquals(s.fig("b"), {
    vmpte: 3 * 16384,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 2 },
    rss: 2 * 16384,
  });
  assertEquals(s.sys.nr_page_table_pages, 6);
  s.exit("a").exit("b");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("loongarch64-16k-2level: a 16 KiB PTE table per 32 MiB, 64 GiB of user space", () => {
  // CONFIG_PGTABLE_LEVELS=2: PGDIR_SHIFT = 14 + 11 = 25, VA_BITS 36 (pgtable.h); pmd folded
  assertEquals(configFor("loongarch64-16k-2level").taskSize, 1n << 36n);
  const s = new Sim("loongarch64-16k-2level").mm("a").map("a", A2, 64n * M);
  s.touch("a", A2, 64n * M, 32n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(s.fig("a").vmpte, 2 * 16384);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.exit("a");
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("loongarch64-4k-4level: a high page needs PUD, PMD and PTE tables", () => {
  // pud_alloc_one: pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0) + pud_init, no ctor in 6.6
  // (arch/loongarch/include/asm/pgalloc.h): VmPTE counts it (mm_inc_nr_puds), NR_PAGETABLE not
  const s = new Sim("loongarch64-4k-4level").mm("a").map("a", A4, 4n * K).touch("a", A4);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 12288);
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.pagetable_frames, 4);
  // TASK_SIZE64 = 1 << min(cpu_vabits 47, VA_BITS 48)
  assertEquals(configFor("loongarch64-4k-4level").taskSize, 1n << 47n);
  s.exit("a");
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.violations, []);
});

Deno.test("kernel versions: what one page costs in NR_PAGETABLE on LoongArch", () => {
  // 6.7 adds pagetable_pud_ctor to pud_alloc_one; 6.14 __pgd_alloc with pagetable_pgd_ctor
  const cases: [string, bigint, bigint, Record<string, number>, number][] = [
    ["loongarch64-16k-3level", A, P16, { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 }, 32768],
    ["loongarch64-16k-2level", A2, P16, { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 }, 16384],
    ["loongarch64-4k-4level", A4, 4n * K, { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 }, 12288],
  ];
  for (const [name, addr, page, nrPagetable, vmpte] of cases) {
    const want = { nrPagetable, vmpte: everyKernel(vmpte), exit: everyKernel(CLEAN) };
    assertEquals(byVersion(name, { page, addr }), want, name);
  }
});

Deno.test("loongarch: PMD and PUD tables are freed directly inside free_pgtables", () => {
  // #define __pmd_free_tlb(tlb, x, addr) pmd_free((tlb)->mm, x) and __pud_free_tlb likewise, in
  // every version up to 6.18 (arch/loongarch/include/asm/pgalloc.h); the PTE table goes to the
  // page batch and is freed after tlb_finish_mmu's flush
  for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
    const fns = traceOf("loongarch64-4k-4level", { kernel }, [
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: A4, size: 4n * K },
      { op: "touch", mm: "a", addr: A4, size: 4n * K, step: 4n * K },
      { op: "unmap", mm: "a", addr: A4, size: 4n * K },
    ]).map((e) => e.fn);
    const flush = fns.lastIndexOf("flush_tlb_range");
    assert(flush > 0, kernel);
    // pmd_free and pud_free run before the flush; the pte's page after it
    const direct = fns.flatMap((f, i) => f === "pmd_free" || f === "pud_free" ? [i] : []);
    assertEquals(direct.length, 2, kernel);
    assert(direct.every((i) => i < flush), kernel);
    assert(fns.indexOf("free_pages_and_swap_cache") > flush, kernel);
    assertEquals(fns.includes("call_rcu"), false, kernel);
  }
});

Deno.test("loongarch: MMU_GATHER_MERGE_VMAS, and flush IPIs only for an mm with other users", () => {
  // select MMU_GATHER_MERGE_VMAS: tlb_end_vma does not flush between VMAs, so unmapping two
  // VMAs is one flush at tlb_finish_mmu (asm-generic/tlb.h)
  const s = new Sim("loongarch64-16k-3level", {}, 4).mm("a");
  s.map("a", A, 32n * M).map("a", A + 64n * M, 32n * M);
  s.touch("a", A, 32n * M, P16).touch("a", A + 64n * M, 32n * M, P16);
  s.unmap("a", A, 96n * M);
  assertEquals(s.sys.tlb_flushes, 1);
  // single-threaded: flush_tlb_range drops the other CPUs' ASIDs and flushes locally
  // (mm_users == 1 && current->mm == mm, arch/loongarch/kernel/smp.c)
  assertEquals(s.sys.ipis, 0);
  // threads on CPUs 0 and 1, CPU 2 ran it before (lazy): on_each_cpu_mask(mm_cpumask) reaches
  // CPUs 1 and 2, since switch_mm_irqs_off never clears mm_cpumask
  const t = new Sim("loongarch64-16k-3level", {}, 4).mm("a").on("a", 0, 1, 2);
  t.map("a", A, 32n * M).touch("a", A, 32n * M, P16).on("a", 0, 1);
  t.unmap("a", A, 32n * M);
  assertEquals(t.sys.tlb_flushes, 1);
  assertEquals(t.sys.ipis, 2);
  // dup_mmap's flush_tlb_mm(oldmm): mm_users 2, so on_each_cpu_mask(mm_cpumask) again
  t.map("a", A, 32n * M).touch("a", A, 32n * M, P16).fork("a", "b");
  assertEquals(t.sys.tlb_flushes, 2);
  assertEquals(t.sys.ipis, 4);
  // exit_mmap: tlb_flush -> flush_tlb_mm, which returns at once with mm_users == 0
  t.exit("a").exit("b");
  assertEquals(t.sys.tlb_flushes, 4);
  assertEquals(t.sys.ipis, 4);
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("loongarch: THP of 32 MiB deposits a PTE table on the mm (no split PMD lock)", () => {
  // select HAVE_ARCH_TRANSPARENT_HUGEPAGE (arch/loongarch/Kconfig); HPAGE_PMD_SIZE = PMD_SIZE =
  // 32 MiB with 16K pages; __do_huge_pmd_anonymous_page deposits a PTE table (pte_alloc_one) on
  // mm->pmd_huge_pte and counts it (mm_inc_nr_ptes) (mm/huge_memory.c, mm/pgtable-generic.c)
  const s = new Sim("loongarch64-16k-3level", { thp: "on" }).mm("a").map("a", A, 64n * M);
  s.touch("a", A, P16, P16);
  assertEquals(s.fig("a").vmpte, 32768);
  assertEquals(s.fig("a").rss, 32 * 1024 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.ptlocks, 1); // the deposited table's PTE lock
  s.fork("a", "b"); // copy_huge_pmd: a deposit for the child too
  assertEquals(s.fig("b").vmpte, 32768);
  s.exit("a").exit("b");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
  // 2 levels: the PMD is folded into the pgd, so a THP is a pgd entry's span (PGDIR_SHIFT 25)
  const B = 0x1000_0000n; // below the 2-level configuration's 36-bit user space
  const t = new Sim("loongarch64-16k-2level", { thp: "on" }).mm("a").map("a", B, 64n * M);
  t.touch("a", B, P16, P16);
  assertEquals(t.fig("a").vmpte, 16384);
  assertEquals(t.fig("a").rss, 32 * 1024 * 1024);
  t.exit("a");
  assertEquals(t.violations, []);
});
