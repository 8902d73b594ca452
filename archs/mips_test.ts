// Exact figures of the MIPS configurations, each worked out from the kernel rule cited.
import { assert, assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, G, K, M, Sim, traceOf } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";

const A = 0x10_0000_0000n; // 64 GiB: a 1 GiB pgd slot of MIPS64 4K (PGDIR_SHIFT 30)
const A32 = 0x1000_0000n; // 256 MiB

Deno.test("mips64-4k-va40 6.6: an order-1 pgd, then a PTE and a PMD table per page", () => {
  // PGD_TABLE_ORDER 1 for 4K pages without MIPS_VA_BITS_48: PTRS_PER_PGD = (4096 << 1) / 8 =
  // 1024, PGDIR_SHIFT 30, 40 bits (arch/mips/include/asm/pgtable-64.h); pgd_alloc:
  // pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 1), no ctor (arch/mips/mm/pgtable.c)
  const s = new Sim("mips64-4k-va40-3level").mm("a").map("a", A, 2n * M);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.touch("a", A);
  assertEquals(s.fig("a"), {
    vmpte: 8192,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4096,
  });
  // pmd_alloc_one: pagetable_alloc(GFP_KERNEL_ACCOUNT, 0) + pagetable_pmd_ctor; no split PMD lock
  // (MIPS does not select ARCH_ENABLE_SPLIT_PMD_PTLOCK): one ptlock, the PTE table's
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.pagetable_frames, 4);
  assertEquals(s.sys.ptlocks, 1);
  s.touch("a", A, 2n * M);
  assertEquals(s.fig("a").vmpte, 8192);
  // the top of the 1 TiB user space (TASK_SIZE64 0x10000000000) is pgd entry 1023, in the
  // second page of the pgd
  const top = (1n << 40n) - 2n * M;
  s.map("a", top, 2n * M).touch("a", top);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 4 * 4096);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("mips64-4k-va40: 1 GiB at one page per 2 MiB is 512 PTE tables under one PMD", () => {
  const s = new Sim("mips64-4k-va40-3level").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 512 });
  assertEquals(s.fig("a").vmpte, 513 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 513);
  s.unmap("a", A, G);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("mips: munmap of every other one-page VMA frees nothing until the last one goes", () => {
  // floor = prev->vm_end and ceiling = next->vm_start stay in the PMD slot (mm/memory.c)
  const s = new Sim("mips64-4k-va40-3level").mm("a");
  for (let i = 0n; i < 8n; i++) s.map("a", A + i * 8n * K, 4n * K).touch("a", A + i * 8n * K);
  for (let i = 0n; i < 8n; i += 2n) s.unmap("a", A + i * 8n * K, 4n * K);
  assertEquals(s.fig("a"), {
    vmpte: 8192,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 4 * 4096,
  });
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A + i * 8n * K, 4n * K);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.violations, []);
});

Deno.test("mips: fork copies the parent's tables", () => {
  const s = new Sim("mips64-4k-va40-3level").mm("a").map("a", A, 4n * M).touch("a", A, 4n * M);
  s.fork("a", "b");
  assertEquals(s.fig("b"), {
    vmpte: 3 * 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 2 },
    rss: 4 * 1024 * 1024,
  });
  // two order-1 pgds, 2 x (2 PTE + 1 PMD) tables
  assertEquals(s.sys.pagetable_frames, 2 * 2 + 6);
  assertEquals(s.sys.nr_page_table_pages, 6);
  s.exit("b").exit("a");
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("mips64-4k-va48-4level: a high page needs a PUD table, counted from 6.7", () => {
  // PGTABLE_LEVELS 4 if PAGE_SIZE_4KB && MIPS_VA_BITS_48 (arch/mips/Kconfig); pud_alloc_one:
  // pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, PUD_TABLE_ORDER 0), + pagetable_pud_ctor in 6.7
  const high = 0xFFFF_0000_0000n;
  for (const [kernel, nr] of [["6.6", 2], ["6.12", 3]] as const) {
    const s = new Sim("mips64-4k-va48-4level", { kernel }).mm("a").map("a", high, 4n * K);
    s.touch("a", high);
    assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 }, kernel);
    assertEquals(s.fig("a").vmpte, 12288, kernel);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.sys.pagetable_frames, 4, kernel); // PGD_TABLE_ORDER 0 with VA48
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});

Deno.test("mips64-16k-3level and 64k-2level: bigger tables, bigger spans", () => {
  // 16K: 2048 x 8-byte tables, PMD_SHIFT 25 (32 MiB per PTE table), 16 KiB counted per table
  const s = new Sim("mips64-16k-3level").mm("a").map("a", A, 64n * M);
  s.touch("a", A, 64n * M, 32n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 2 });
  assertEquals(s.fig("a").vmpte, 3 * 16384);
  assertEquals(s.sys.nr_page_table_pages, 3);
  // 64K: 2 levels, PGDIR_SHIFT = 16 + 13 = 29: one 8192 x 8-byte PTE table per 512 MiB
  const t = new Sim("mips64-64k-2level").mm("a").map("a", A, G).touch("a", A, G, 64n * K);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 2 });
  assertEquals(t.fig("a").vmpte, 2 * 65536);
  assertEquals(t.fig("a").rss, 2 ** 30);
  t.exit("a");
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("mips32: PTE tables of 4 MiB, of 2 MiB with 64-bit PTEs, of 2 KiB with huge TLBs", () => {
  // mips32-4k: PGDIR_SHIFT = 2 * 12 - 2 = 22, 1024 x 4-byte PTEs, pgd order 32 - 36 + 2 + 2 = 0
  const a = new Sim("mips32-4k").mm("a").map("a", A32, 8n * M).touch("a", A32, 8n * M, 4n * M);
  assertEquals(a.fig("a").tables.pte, 2);
  assertEquals(a.fig("a").vmpte, 2 * 4096);
  assertEquals(a.sys.pagetable_frames, 1 + 2);
  // 64-bit PTE (PHYS_ADDR_T_64BIT): PGDIR_SHIFT = 24 - 3 = 21, 512 x 8-byte PTEs, pgd order
  // 32 - 36 + 2 + 3 = 1 (2048 x 4-byte entries in 8 KiB) (arch/mips/include/asm/pgtable-32.h)
  const b = new Sim("mips32-4k-64bitpte").mm("a").map("a", A32, 8n * M);
  b.touch("a", A32, 8n * M, 2n * M);
  assertEquals(b.fig("a").tables.pte, 4);
  assertEquals(b.fig("a").vmpte, 4 * 4096);
  assertEquals(b.sys.pagetable_frames, 2 + 4);
  // MIPS_HUGE_TLB_SUPPORT with a 32-bit PTE: PGDIR_SHIFT 21, PTRS_PER_PTE = 4096 / 4 / 2 = 512:
  // a PTE table uses 2 KiB of its page and mm_inc_nr_ptes adds 512 * 4 = 2048; NR_PAGETABLE
  // still counts the whole page (pagetable_pte_ctor); the pgd is order 1 again (+ 1)
  const c = new Sim("mips32-4k-hugetlb").mm("a").map("a", A32, 8n * M);
  c.touch("a", A32, 8n * M, 2n * M);
  assertEquals(c.fig("a").tables.pte, 4);
  assertEquals(c.fig("a").vmpte, 4 * 2048);
  assertEquals(c.sys.nr_page_table_pages, 4);
  assertEquals(c.sys.pagetable_frames, 2 + 4);
  for (const s of [a, b, c]) {
    s.exit("a");
    assertEquals(s.sys.pagetable_frames, 0);
    assertEquals(s.sys.leaks, 0);
    assertEquals(s.violations, []);
  }
  // user space is 2 GiB (TASK_SIZE 0x80000000, PTRS_PER_PGD = USER_PTRS_PER_PGD * 2)
  assertEquals(configFor("mips32-4k").taskSize, 0x8000_0000n);
});

Deno.test("mips32 HIGHMEM: page tables come from the 512 MiB of low memory", () => {
  // 1 GiB of RAM, KSEG0 maps the first 512 MiB: the rest is ZONE_HIGHMEM. pgd_alloc uses
  // GFP_KERNEL and __pte_alloc_one GFP_PGTABLE_USER, neither with __GFP_HIGHMEM
  // (arch/mips/mm/pgtable.c, include/asm-generic/pgalloc.h): every table is in ZONE_NORMAL
  const s = new Sim("mips32-4k").mm("a").map("a", 4n * M, 0x7000_0000n);
  s.touch("a", 4n * M, 0x7000_0000n, 4n * M);
  assertEquals(s.fig("a").tables.pte, 448);
  const f = s.run.k.frames;
  assertEquals(f.zonePages[1], (2 ** 30 - 512 * 2 ** 20) / 4096);
  assertEquals(f.inUse[1], 0); // nothing in HIGHMEM
  assertEquals(f.inUse[0], 1 + 448);
  s.exit("a");
  assertEquals(s.violations, []);
});

Deno.test("kernel versions: what one page costs in NR_PAGETABLE on MIPS", () => {
  // 6.7: pagetable_pud_ctor; 6.14: __pgd_alloc(mm, PGD_TABLE_ORDER) with pagetable_pgd_ctor,
  // which counts folio_nr_pages: 2 for an order-1 pgd
  const cases: [string, bigint, Record<string, number>, number][] = [
    ["mips64-4k-va40-3level", A, { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 4 }, 8192],
    ["mips64-4k-va48-4level", A, { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 }, 12288],
    ["mips32-4k", A32, { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 }, 4096],
    ["mips32-4k-hugetlb", A32, { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 3 }, 2048],
  ];
  for (const [name, a, nrPagetable, vmpte] of cases) {
    const want = { nrPagetable, vmpte: everyKernel(vmpte), exit: everyKernel(CLEAN) };
    assertEquals(byVersion(name, { page: 4n * K, addr: a }), want, name);
  }
  // 6.18: a fresh mm already counts its pgd: 2 pages for the order-1 pgd
  assertEquals(
    new Sim("mips64-4k-va40-3level", { kernel: "6.18" }).mm("a").sys.nr_page_table_pages,
    2,
  );
});

Deno.test("mips: PMD and PUD tables are freed directly, before the TLB flush", () => {
  // #define __pmd_free_tlb(tlb, x, addr) pmd_free((tlb)->mm, x) and __pud_free_tlb likewise
  // (arch/mips/include/asm/pgalloc.h, up to 6.18); __pte_free_tlb batches the page
  for (const kernel of ["6.1", "6.6", "6.12", "6.18"]) {
    const fns = traceOf("mips64-4k-va48-4level", { kernel }, [
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: A, size: 4n * K },
      { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
      { op: "unmap", mm: "a", addr: A, size: 4n * K },
    ]).map((e) => e.fn);
    const flush = fns.lastIndexOf("flush_tlb_range");
    const direct = fns.flatMap((f, i) => f === "pmd_free" || f === "pud_free" ? [i] : []);
    assertEquals(direct.length, 2, kernel);
    assert(direct.every((i) => i < flush), kernel);
    assert(fns.indexOf("free_pages_and_swap_cache") > flush, kernel);
  }
});

Deno.test("mips flush IPIs: smp_call_function to every other CPU for a shared mm", () => {
  // flush_tlb_range: mm_users != 1 -> smp_on_other_tlbs = smp_call_function, all online CPUs but
  // this one, whatever mm_cpumask says; mm_users == 1 -> no IPI (arch/mips/kernel/smp.c). No
  // MMU_GATHER_MERGE_VMAS: a munmap flushes at tlb_end_vma and at tlb_finish_mmu
  const s = new Sim("mips64-4k-va40-3level", {}, 8).mm("a").on("a", 0, 1);
  s.map("a", A, 2n * M).touch("a", A, 2n * M);
  s.unmap("a", A, 2n * M);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 2 * 7);
  // single-threaded: set_cpu_context(cpu, mm, 0) on the others, a local flush
  const t = new Sim("mips64-4k-va40-3level", {}, 8).mm("a").map("a", A, 2n * M);
  t.touch("a", A, 2n * M).unmap("a", A, 2n * M);
  assertEquals(t.sys.tlb_flushes, 2);
  assertEquals(t.sys.ipis, 0);
  // MMIDs (MIPS R6): ginvt is globalized by the hardware, no IPI even for a shared mm
  const u = new Sim("mips64-4k-va40-3level", { mmid: "on" }, 8).mm("a").on("a", 0, 1);
  u.map("a", A, 2n * M).touch("a", A, 2n * M).unmap("a", A, 2n * M);
  assertEquals(u.sys.tlb_flushes, 2);
  assertEquals(u.sys.ipis, 0);
  // dup_mmap's flush_tlb_mm(oldmm) of the two-threaded mm: smp_on_other_tlbs, 7 IPIs
  s.map("a", A, 2n * M).touch("a", A, 2n * M).fork("a", "b");
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 3 * 7);
  // exit_mmap: flush_tlb_mm returns at once (mm_users == 0): counted, no IPI
  s.exit("a").exit("b");
  assertEquals(s.sys.tlb_flushes, 5);
  assertEquals(s.sys.ipis, 3 * 7);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("mips64: THP deposits a PTE table on the mm; none on folded-PMD configurations", () => {
  // HAVE_ARCH_TRANSPARENT_HUGEPAGE if CPU_SUPPORTS_HUGEPAGES (arch/mips/Kconfig); HPAGE_SHIFT =
  // 2 * PAGE_SHIFT - 3 = PMD_SHIFT (arch/mips/include/asm/page.h); without split PMD locks the
  // deposit hangs off mm->pmd_huge_pte (mm/pgtable-generic.c)
  const s = new Sim("mips64-4k-va40-3level", { thp: "on" }).mm("a").map("a", A, 4n * M);
  s.touch("a", A);
  assertEquals(s.fig("a").vmpte, 8192);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  s.dontneed("a", A, 2n * M); // zap_deposited_table: pte_free + mm_dec_nr_ptes
  assertEquals(s.fig("a").vmpte, 4096);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
  // 2 levels: the PMD is folded into the pgd and HPAGE_PMD_SIZE is a pgd entry's span
  // (HPAGE_SHIFT = 2 * PAGE_SHIFT - 3: 512 MiB with 64K pages, 2 MiB on mips32 with the huge-TLB
  // geometry); the fault deposits one PTE table all the same
  for (
    const [n, page, hpage, pte] of [
      ["mips64-64k-2level", 64n * K, 512n * M, 65536],
      ["mips32-4k-hugetlb", 4n * K, 2n * M, 2048],
    ] as const
  ) {
    const t = new Sim(n, { thp: "on" }).mm("a").map("a", 0x4000_0000n, 2n * hpage);
    t.touch("a", 0x4000_0000n, page, page);
    assertEquals(t.fig("a").vmpte, pte, n);
    assertEquals(BigInt(t.fig("a").rss), hpage, n);
    t.exit("a");
    assertEquals(t.violations, [], n);
  }
  // CPU_SUPPORTS_HUGEPAGES depends on !(32BIT && (PHYS_ADDR_T_64BIT || EVA)); plain mips32-4k
  // has no MIPS_HUGE_TLB_SUPPORT geometry
  for (const n of ["mips32-4k", "mips32-4k-64bitpte"]) {
    assertEquals(findConfig(n)!.thpAvailable, false, n);
  }
});
