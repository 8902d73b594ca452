/**
 * MIPS: arch/mips/include/asm/{pgalloc,pgtable-32,pgtable-64,tlb}.h, arch/mips/mm/pgtable.c and
 * arch/mips/kernel/smp.c over the asm-generic defaults. Seven configurations: MIPS64 with 4K
 * pages and the default 40-bit VA (3 levels, an order-1 pgd), 4K with MIPS_VA_BITS_48 (4 levels),
 * 16K (3 levels) and 64K (2 levels); MIPS32 with 4K pages and a 32-bit PTE, a 64-bit PTE
 * (PHYS_ADDR_T_64BIT: XPA), or MIPS_HUGE_TLB_SUPPORT (a PTE table of half a page).
 *
 * Table sizes come from the *_TABLE_ORDER constants: PTRS_PER_X = (PAGE_SIZE << order) / 8 on
 * MIPS64 (pgtable-64.h); on MIPS32 PGDIR_SHIFT = 2 * PAGE_SHIFT - PTE_T_LOG2 (- 1 with huge TLB
 * support and a 32-bit PTE), the pgd order is 32 - 3 * PAGE_SHIFT + PGD_T_LOG2 + PTE_T_LOG2
 * (+ 1), and PTRS_PER_PTE halves with huge TLB support (pgtable-32.h).
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - pgd: __get_free_pages(GFP_KERNEL, PGD_TABLE_ORDER) in 6.1, pagetable_alloc without a ctor in
 *   6.6-6.13, __pgd_alloc(mm, PGD_TABLE_ORDER) with pagetable_pgd_ctor from 6.14 (an order-1 pgd
 *   then counts 2 pages).
 * - pud (VA48): counted in NR_PAGETABLE from 6.7 (pagetable_pud_ctor in pud_alloc_one).
 * - __pte_free_tlb: dtor + tlb_remove_page(_ptdesc) up to 6.14, tlb_remove_ptdesc from 6.15.
 * - __pmd_free_tlb / __pud_free_tlb: pmd_free / pud_free, DIRECT frees inside free_pgtables, in
 *   every modelled version (7.0 "mips: mm: enable MMU_GATHER_RCU_TABLE_FREE" changes it).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_KERNEL_ACCOUNT,
  hexPage,
  type Machine,
  type Mm,
  type MmuGather,
  PUD,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, LevelSpec, OptionSpec } from "./config.ts";
import {
  directFreeStory,
  freeTlbDirect,
  freeTlbPageBatch,
  genericBackend,
  pageBatchFreeStory,
  pagesUntil,
  pgdFromPages,
  pudFree as genericPudFree,
  tableAllocOne,
} from "./generic.ts";

/** PGD_TABLE_ORDER of the configuration (pgtable-32.h / pgtable-64.h). */
function pgdOrder(k: Machine): number {
  return Number(k.cfg.archData.pgdOrder);
}

/**
 * pgd_alloc (arch/mips/mm/pgtable.c): __get_free_pages(GFP_KERNEL, PGD_TABLE_ORDER) in 6.1,
 * pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, PGD_TABLE_ORDER) without a ctor in 6.6,
 * __pgd_alloc(mm, PGD_TABLE_ORDER) from 6.14 (a9b3c355c2e6); then pgd_init fills every entry with
 * the invalid next-level table and the kernel entries are copied from init_mm. pgd_free:
 * free_pages(pgd, PGD_TABLE_ORDER) in 6.1, pagetable_free (compound order) in 6.6
 * (arch/mips/include/asm/pgalloc.h), the asm-generic __pgd_free with its dtor from 6.14.
 */
const mipsPgd = pgdFromPages({
  order: pgdOrder,
  gfp: GFP.KERNEL,
  pagetableAllocSince: 606,
  init: "pgd_init",
});

/**
 * pmd_alloc_one (arch/mips/include/asm/pgalloc.h): pagetable_alloc(GFP_KERNEL_ACCOUNT,
 * PMD_TABLE_ORDER = 0) (alloc_pages in 6.1) + pagetable_pmd_ctor, freed if the ctor fails, then
 * pmd_init. No ptlock in the ctor: MIPS does not select ARCH_ENABLE_SPLIT_PMD_PTLOCK.
 */
const mipsPmdAllocOne = tableAllocOne("pmd_alloc_one", GFP_KERNEL_ACCOUNT, 0, "pmd");

/**
 * pud_alloc_one (arch/mips/include/asm/pgalloc.h, 4 levels): __get_free_pages(GFP_KERNEL,
 * PUD_TABLE_ORDER = 0) in 6.1, pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0) from 6.6,
 * + pagetable_pud_ctor from 6.7; then pud_init. Not __GFP_ACCOUNT. pud_free: free_page in 6.1,
 * the asm-generic one (pagetable_pud_dtor from 6.7) after.
 */
const mipsPud = pagesUntil(606, PUD, {
  gfp: GFP.KERNEL,
  then: { alloc: tableAllocOne("pud_alloc_one", GFP.KERNEL, 0, "pud"), free: genericPudFree },
});

/**
 * flush_tlb_mm (mm_users != 0) and flush_tlb_range (arch/mips/kernel/smp.c): a CPU with MMIDs
 * (MIPS R6) invalidates with a globalized ginvt, no IPI; otherwise an mm with other users is
 * flushed by smp_on_other_tlbs = smp_call_function, an IPI to EVERY other online CPU
 * (mm_cpumask is not looked at), and a single-threaded mm drops the other CPUs' ASIDs
 * (set_cpu_context(cpu, mm, 0)) and flushes locally. flush_pmd_tlb_range is flush_tlb_range
 * (include/linux/pgtable.h).
 */
function mipsFlush(k: Machine, mm: Mm, fn: string, what: string): void {
  if (k.cfg.options.mmid === "on") {
    k.tlbFlushed(mm, fn, `${what}, ginvt_va_mmid (globalized)`, false, true);
  } else if (mm.cpus.length > 1) {
    k.tlbFlushed(mm, fn, `${what}, smp_on_other_tlbs + local`, false, true);
    k.ipiAllOthers(`smp_on_other_tlbs(${fn}_ipi)`, mm);
  } else {
    k.tlbFlushed(mm, fn, `${what}, mm_users == 1: local, other ASIDs dropped`, false, true);
  }
}

/**
 * tlb_flush: the asm-generic one (include/asm-generic/tlb.h): flush_tlb_mm for fullmm /
 * need_flush_all, flush_tlb_range over the gathered range otherwise; flush_tlb_mm returns at once
 * when mm_users is 0, as it is in exit_mmap (arch/mips/kernel/smp.c).
 */
function mipsTlbFlush(k: Machine, tlb: MmuGather): void {
  const mm = tlb.mm;
  if (tlb.fullmm) {
    k.tlbFlushed(mm, "flush_tlb_mm", "mm_users == 0 (exit_mmap): returns at once", false, true);
  } else if (tlb.needFlushAll) {
    mipsFlush(k, mm, "flush_tlb_mm", "all");
  } else if (tlb.end > 0) {
    mipsFlush(k, mm, "flush_tlb_range", `${tlb.end - tlb.start} page(s) from page ${tlb.start}`);
  }
}

/** The MIPS backend. */
export const mipsBackend: Backend = {
  ...genericBackend,
  name: "mips",
  ...mipsPgd,
  pudAllocOne: mipsPud.alloc,
  pudFree: mipsPud.free,
  pmdAllocOne: mipsPmdAllocOne,
  // pte_alloc_one is the asm-generic __pte_alloc_one(mm, GFP_PGTABLE_USER) + pagetable_pte_ctor
  // __pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc (tlb_remove_ptdesc from 6.15)
  pteFreeTlb: freeTlbPageBatch(4),
  // #define __pmd_free_tlb(tlb, x, addr) pmd_free((tlb)->mm, x), and pud_free likewise
  pmdFreeTlb: freeTlbDirect(3),
  pudFreeTlb: freeTlbDirect(2),
  tlbFlush: mipsTlbFlush,
  // dup_mmap's flush_tlb_mm(oldmm) and a THP split's flush_pmd_tlb_range
  flushTlbMm: (k: Machine, mm: Mm) => mipsFlush(k, mm, "flush_tlb_mm", "all"),
  flushPmdTlbRange: (k: Machine, mm: Mm, vpn: number) =>
    mipsFlush(k, mm, "flush_pmd_tlb_range", hexPage(k, vpn)),
};

/** How MIPS allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function mipsStory(cfg: ArchConfig, kv: number): ConfigStory {
  const l = cfg.levels;
  const order = Number(cfg.archData.pgdOrder);
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc:
        (kv >= 614
          ? `__pgd_alloc(mm, PGD_TABLE_ORDER = ${order}) = pagetable_alloc + pagetable_pgd_ctor`
          : kv >= 606
          ? `pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, PGD_TABLE_ORDER = ${order}), no ctor`
          : `__get_free_pages(GFP_KERNEL, PGD_TABLE_ORDER = ${order})`) +
        ", pgd_init, kernel entries copied (arch/mips/mm/pgtable.c)",
      counted: kv >= 614 ? `NR_PAGETABLE +${1 << order} (6.14+); never VmPTE` : "never",
      free: "pgd_free at __mmdrop: free_pages (6.1), pagetable_free (6.6, " +
        "arch/mips/include/asm/pgalloc.h), the asm-generic __pgd_free with pagetable_dtor (6.14)",
      via: "pgd_free",
    },
  };
  if (l[2].folded === "none") {
    levels.pud = {
      alloc: (kv >= 606
        ? "pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, PUD_TABLE_ORDER = 0)"
        : "__get_free_pages(GFP_KERNEL, PUD_TABLE_ORDER = 0)") +
        (kv >= 607 ? " + pagetable_pud_ctor" : ", no ctor") +
        ", pud_init (arch/mips/include/asm/pgalloc.h)",
      counted: `VmPTE +${l[2].pgtablesBytes} (mm_inc_nr_puds)` +
        (kv >= 607 ? "; NR_PAGETABLE +1 (6.7+)" : "; not in NR_PAGETABLE (no ctor before 6.7)"),
      ...directFreeStory("pud", "arch/mips/include/asm/pgalloc.h"),
    };
  }
  if (l[3].folded === "none") {
    levels.pmd = {
      alloc: "pmd_alloc_one: pagetable_alloc(GFP_KERNEL_ACCOUNT, PMD_TABLE_ORDER = 0) + " +
        "pagetable_pmd_ctor (no ptlock: no ARCH_ENABLE_SPLIT_PMD_PTLOCK), pmd_init " +
        "(arch/mips/include/asm/pgalloc.h)",
      counted: `VmPTE +${l[3].pgtablesBytes} (mm_inc_nr_pmds); NR_PAGETABLE +1`,
      ...directFreeStory("pmd", "arch/mips/include/asm/pgalloc.h"),
    };
  }
  const half = l[4].tableBytes !== l[4].entries * l[4].entryBytes;
  levels.pte = {
    alloc: "pte_alloc_one -> __pte_alloc_one(mm, GFP_PGTABLE_USER) + pagetable_pte_ctor: one " +
      "page (include/asm-generic/pgalloc.h)" +
      (half ? "; PTRS_PER_PTE = PAGE_SIZE / sizeof(pte_t) / 2 uses half of it (pgtable-32.h)" : ""),
    counted: `VmPTE +${l[4].pgtablesBytes} (PTRS_PER_PTE * sizeof(pte_t), mm_inc_nr_ptes)` +
      "; NR_PAGETABLE +1",
    ...pageBatchFreeStory(kv, "arch/mips/include/asm/pgalloc.h"),
  };
  const notes = [
    "tlb_flush is the asm-generic one: flush_tlb_mm for fullmm (a no-op at exit_mmap: mm_users is " +
    "0), flush_tlb_range otherwise; no MMU_GATHER_MERGE_VMAS, so tlb_end_vma flushes at each VMA",
    cfg.options.mmid === "on"
      ? "MMIDs (MIPS R6): flush_tlb_range invalidates with ginvt, globalized by the hardware: no IPIs"
      : "flush IPIs: smp_on_other_tlbs = smp_call_function, to every other online CPU, when the mm " +
        "has more than one user; a single-threaded mm drops the other CPUs' ASIDs and flushes " +
        "locally (arch/mips/kernel/smp.c)",
    "no MMU_GATHER_RCU_TABLE_FREE before 7.0: PMD and PUD tables are freed directly, PTE tables " +
    "after the flush",
  ];
  if (cfg.bits === 32) {
    notes.push(
      "HIGHMEM: page tables come from low memory (GFP_PGTABLE_USER has no __GFP_HIGHMEM; KSEG0 " +
        "maps the first 512 MiB)",
    );
  }
  return { levels, notes };
}

const mipsGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

const mmidOption: OptionSpec[] = [{
  name: "mmid",
  values: ["on", "off"],
  default: "off",
  doc: "a MIPS R6 CPU with MemoryMapIDs (cpu_has_mmid): TLB invalidations are globalized " +
    "by the hardware, so flush_tlb_range sends no IPIs",
}];

interface MipsVariant {
  name: string;
  description: string;
  bits: 32 | 64;
  pageShift: number;
  levels: ConfigSpec["levels"];
  pgdOrder: number;
  taskSize: bigint;
  thp: boolean;
  ramBytes: number;
  lowmemBytes?: number;
}

function mips(v: MipsVariant): ConfigSpec {
  return {
    name: v.name,
    family: "mips",
    description: v.description,
    bits: v.bits,
    pageShift: v.pageShift,
    levels: v.levels,
    taskSize: v.taskSize,
    thpAvailable: v.thp,
    splitPmdPtlockArch: false,
    // ARCH_SUPPORTS_HUGETLBFS if CPU_SUPPORTS_HUGEPAGES: HPAGE_SIZE = PMD_SIZE pages on 64-bit,
    // pgd leaves with MIPS_HUGE_TLB_SUPPORT on 32-bit (asm/page.h)
    hugetlb: v.bits === 64 || v.name === "mips32-4k-hugetlb" ? ["pmd"] : [],
    gather: mipsGather,
    lowmemBytes: v.lowmemBytes,
    ramBytes: v.ramBytes,
    options: v.bits === 64 ? mmidOption : [],
    archData: { pgdOrder: v.pgdOrder },
    backend: mipsBackend,
    story: mipsStory,
  };
}

/** A MIPS64 table of 2^order pages of 8-byte entries, or a folded level. */
function t64(pageShift: number, order = 0): LevelSpec {
  return { entries: (2 ** pageShift << order) / 8, entryBytes: 8 };
}
const F64: LevelSpec = { entries: 1, entryBytes: 8, folded: "compile" };
const F32: LevelSpec = { entries: 1, entryBytes: 4, folded: "compile" };

// TASK_SIZE64 is 0x10000000000 (1 TiB) without MIPS_VA_BITS_48, 1 << min(vmbits, 48) with it
// (arch/mips/include/asm/processor.h); TASK_SIZE is 0x80000000 on MIPS32.
const TB = 1n << 40n;

/** The MIPS configurations. */
export const mipsConfigs: ConfigSpec[] = [
  mips({
    name: "mips64-4k-va40-3level",
    description: "MIPS64, 4K pages, default 40-bit VA: 3 levels, PGD_TABLE_ORDER 1 (1024 x 8 " +
      "bytes in 8 KiB), 512-entry pmd and pte",
    bits: 64,
    pageShift: 12,
    levels: [{ ...t64(12, 1), tableBytes: 8192 }, F64, F64, t64(12), t64(12)],
    pgdOrder: 1,
    taskSize: TB,
    // select HAVE_ARCH_TRANSPARENT_HUGEPAGE if CPU_SUPPORTS_HUGEPAGES (arch/mips/Kconfig);
    // HPAGE_SHIFT = 2 * PAGE_SHIFT - 3 = PMD_SHIFT
    thp: true,
    ramBytes: 8 * 2 ** 30,
  }),
  mips({
    name: "mips64-4k-va48-4level",
    description: "MIPS64, 4K pages, MIPS_VA_BITS_48: 4 levels of 512 x 8 bytes, all order 0",
    bits: 64,
    pageShift: 12,
    levels: [t64(12), F64, t64(12), t64(12), t64(12)],
    pgdOrder: 0,
    taskSize: 1n << 48n,
    thp: true,
    ramBytes: 8 * 2 ** 30,
  }),
  mips({
    name: "mips64-16k-3level",
    description: "MIPS64, 16K pages, default VA: 3 levels of 2048 x 8 bytes (47 bits of " +
      "tables, 1 TiB user), 32 MiB PMD",
    bits: 64,
    pageShift: 14,
    levels: [t64(14), F64, F64, t64(14), t64(14)],
    pgdOrder: 0,
    taskSize: TB,
    thp: true,
    ramBytes: 8 * 2 ** 30,
  }),
  mips({
    name: "mips64-64k-2level",
    description: "MIPS64, 64K pages, default VA: 2 levels of 8192 x 8 bytes (42 bits of tables, " +
      "1 TiB user)",
    bits: 64,
    pageShift: 16,
    levels: [t64(16), F64, F64, F64, t64(16)],
    pgdOrder: 0,
    taskSize: TB,
    thp: true, // HPAGE_PMD_SIZE is a pgd entry's span with the PMD folded
    ramBytes: 8 * 2 ** 30,
  }),
  mips({
    name: "mips32-4k",
    description: "MIPS32, 4K pages, 32-bit PTE, no huge TLB support: 2 levels of 1024 x 4 bytes, " +
      "PGDIR_SHIFT 22, HIGHMEM",
    bits: 32,
    pageShift: 12,
    levels: [{ entries: 1024, entryBytes: 4 }, F32, F32, F32, { entries: 1024, entryBytes: 4 }],
    pgdOrder: 0,
    taskSize: 0x8000_0000n,
    // THP needs MIPS_HUGE_TLB_SUPPORT, which would make this the mips32-4k-hugetlb geometry
    thp: false,
    ramBytes: 2 ** 30,
    lowmemBytes: 512 * 2 ** 20,
  }),
  mips({
    name: "mips32-4k-64bitpte",
    description: "MIPS32, 4K pages, 64-bit PTE (PHYS_ADDR_T_64BIT, XPA): PGDIR_SHIFT 21, a " +
      "2048 x 4-byte pgd of order 1, 512 x 8-byte PTE tables, HIGHMEM",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 2048, entryBytes: 4, tableBytes: 8192 },
      F32,
      F32,
      F32,
      { entries: 512, entryBytes: 8 },
    ],
    pgdOrder: 1,
    taskSize: 0x8000_0000n,
    // CPU_SUPPORTS_HUGEPAGES depends on !(32BIT && (PHYS_ADDR_T_64BIT || EVA))
    thp: false,
    ramBytes: 4 * 2 ** 30,
    lowmemBytes: 512 * 2 ** 20,
  }),
  mips({
    name: "mips32-4k-hugetlb",
    description: "MIPS32, 4K pages, 32-bit PTE, MIPS_HUGE_TLB_SUPPORT: PGDIR_SHIFT 21, a 2048 x " +
      "4-byte pgd of order 1, 512 x 4-byte PTE tables in half a page, HIGHMEM",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 2048, entryBytes: 4, tableBytes: 8192 },
      F32,
      F32,
      F32,
      // PTRS_PER_PTE = PAGE_SIZE / sizeof(pte_t) / 2: 2 KiB of a 4 KiB page, counted 2048
      { entries: 512, entryBytes: 4, tableBytes: 4096 },
    ],
    pgdOrder: 1,
    taskSize: 0x8000_0000n,
    thp: true, // HPAGE_PMD_SIZE is a pgd entry's span with the PMD folded
    ramBytes: 2 ** 30,
    lowmemBytes: 512 * 2 ** 20,
  }),
];
