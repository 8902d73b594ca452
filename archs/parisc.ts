/**
 * parisc (PA-RISC): arch/parisc/include/asm/{pgalloc,pgtable,page,tlb,tlbflush}.h and
 * arch/parisc/kernel/cache.c, arch/parisc/mm/init.c over the asm-generic defaults.
 *
 * - parisc32: 4K pages, 2 levels; the pgd is allocated with PGD_TABLE_ORDER 1 (8 KiB) although
 *   BITS_PER_PGD is clipped to 32 - PGDIR_SHIFT = 10 bits, so only 1024 x 4 bytes are used.
 * - parisc64 with 4K pages: 3 levels; pgd 1024 x 4 (order 0), pmd 2048 x 4 = 8 KiB
 *   (PMD_TABLE_ORDER 1), pte 512 x 8. Up to 6.13 the pmd is __get_free_pages(GFP_PGTABLE_KERNEL,
 *   1): no ctor, not a counted ptdesc, not memcg-accounted, yet mm_inc_nr_pmds counts its 8192
 *   bytes in VmPTE. From 6.14 ("parisc: mm: Ensure pagetable_pmd_[cd]tor are called") it is
 *   pagetable_alloc(GFP_PGTABLE_USER, 1) + pagetable_pmd_ctor: 2 pages in NR_PAGETABLE.
 * - Both: __pte_free_tlb = pte_free and __pmd_free_tlb = pmd_free, freed inside free_pgtables,
 *   before the flush, through 6.18 (the table batch came with MMU_GATHER_RCU_TABLE_FREE, posted
 *   2025-11-19, after 6.18). The pgd moved to __pgd_alloc(mm, PGD_TABLE_ORDER) in 6.14.
 * - Split PTE locks only with PA20 (SPLIT_PTLOCK_CPUS 999999 for PARISC && !PA20): parisc64
 *   needs PA8X00; parisc32 here is the PA7100LC of generic-32bit_defconfig.
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_PGTABLE_KERNEL,
  GFP_PGTABLE_USER,
  type Machine,
  type MmuGather,
  PMD,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  directFreeStory,
  freeTlbDirect,
  genericBackend,
  genericTlbFlushBy,
  NO_MERGE_VMAS_NOTE,
  pagesUntil,
  pgdFromPages,
  pmdFree as genericPmdFree,
  pteStory,
  tableAllocOne,
} from "./generic.ts";

/** PMD_TABLE_ORDER (asm/pgtable.h, 3 levels). */
const PMD_TABLE_ORDER = 1;

/**
 * pmd_alloc_one (asm/pgalloc.h): __get_free_pages(GFP_PGTABLE_KERNEL, PMD_TABLE_ORDER) up to
 * 6.13; pagetable_alloc(GFP_PGTABLE_USER, PMD_TABLE_ORDER) + pagetable_pmd_ctor from 6.14.
 * pmd_free: free_pages(pmd, PMD_TABLE_ORDER) up to 6.13, the generic pmd_free from 6.14.
 */
const pariscPmd = pagesUntil(614, PMD, {
  gfp: GFP_PGTABLE_KERNEL,
  order: PMD_TABLE_ORDER,
  then: {
    alloc: tableAllocOne("pmd_alloc_one", GFP_PGTABLE_USER, PMD_TABLE_ORDER, "pmd"),
    free: genericPmdFree,
  },
});

/**
 * parisc_tlb_flush_threshold is measured at boot and never below FLUSH_TLB_THRESHOLD (16 KiB)
 * (arch/parisc/kernel/cache.c parisc_setup_cache_timing); the model takes that floor.
 */
const TLB_FLUSH_THRESHOLD = 16 * 1024;

/**
 * The generic tlb_flush (asm-generic/tlb.h). flush_tlb_mm is flush_tlb_all: on_each_cpu
 * (arch/parisc/include/asm/tlbflush.h, arch/parisc/mm/init.c); flush_tlb_range is
 * __flush_tlb_range: pdtlb/pitlb per page, which the hardware broadcasts, or flush_tlb_all at
 * parisc_tlb_flush_threshold bytes and above (arch/parisc/kernel/cache.c).
 */
const pariscTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather, { all }) => {
  const bytes = (tlb.end - tlb.start) * 2 ** k.cfg.pageShift;
  if (!all && bytes < TLB_FLUSH_THRESHOLD) {
    k.tlbFlushed(tlb.mm, "__flush_tlb_range", `${tlb.end - tlb.start} page(s) pdtlb`, false, true);
    return;
  }
  k.tlbFlushed(tlb.mm, "flush_tlb_all", all ? "flush_tlb_mm" : `${bytes} bytes`, false, true);
  k.ipiAllOthers("on_each_cpu(flush_tlb_all_local)", tlb.mm);
});

/** The parisc backend, for a pgd of `pgdOrder` (PGD_TABLE_ORDER). */
function pariscBackend(pgdOrder: number): Backend {
  return {
    ...genericBackend,
    name: "parisc",
    // pgd_alloc: __get_free_pages(GFP_KERNEL, PGD_TABLE_ORDER) + memset; pgd_free: free_pages
    // (asm/pgalloc.h); from 6.14 __pgd_alloc(mm, PGD_TABLE_ORDER) and the generic pgd_free
    ...pgdFromPages({ order: pgdOrder, gfp: GFP.KERNEL, pgdAllocSince: 614 }),
    pmdAllocOne: pariscPmd.alloc,
    pmdFree: pariscPmd.free,
    // #define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd) (asm/tlb.h)
    pmdFreeTlb: freeTlbDirect(3),
    // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, pte) (asm/tlb.h)
    pteFreeTlb: freeTlbDirect(4),
    tlbFlush: pariscTlbFlush,
  };
}

/** How parisc allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function pariscStory(cfg: ArchConfig, kv: number): ConfigStory {
  const three = cfg.levels[3].folded === "none";
  const order = three ? 0 : 1;
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc:
        (kv >= 614
          ? `__pgd_alloc(mm, PGD_TABLE_ORDER = ${order})`
          : `__get_free_pages(GFP_KERNEL, PGD_TABLE_ORDER = ${order}) + memset`) +
        (three ? "" : ": 8 KiB for 1024 x 4 bytes used") + " (arch/parisc/include/asm/pgalloc.h)",
      counted: kv >= 614
        ? `NR_PAGETABLE +${1 << order} (pagetable_pgd_ctor, 6.14+); never VmPTE`
        : "never",
      free: "pgd_free at __mmdrop (asm/pgalloc.h up to 6.13, include/asm-generic/pgalloc.h after)",
      via: "pgd_free",
    },
  };
  if (three) {
    levels.pmd = {
      alloc: kv >= 614
        ? "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 1) + pagetable_pmd_ctor " +
          "(arch/parisc/include/asm/pgalloc.h, 6.14)"
        : "pmd_alloc_one: __get_free_pages(GFP_PGTABLE_KERNEL, PMD_TABLE_ORDER = 1): 2048 x 4 " +
          "bytes, no ctor, not memcg-accounted (arch/parisc/include/asm/pgalloc.h)",
      counted: "VmPTE +8192 (mm_inc_nr_pmds); " +
        (kv >= 614 ? "NR_PAGETABLE +2 (an order-1 folio)" : "never NR_PAGETABLE (no ctor)"),
      free: "__pmd_free_tlb = pmd_free" + (kv >= 614 ? " (pagetable_dtor_free)" : " (free_pages)") +
        " inside free_pgtables, before the flush (arch/parisc/include/asm/tlb.h)",
      via: "direct",
    };
  }
  levels.pte = pteStory(cfg, directFreeStory("pte", "arch/parisc/include/asm/tlb.h"));
  return {
    levels,
    notes: [
      "generic tlb_flush: flush_tlb_mm is flush_tlb_all, on_each_cpu (IPIs to every other CPU); " +
      "flush_tlb_range purges with broadcast pdtlb/pitlb below parisc_tlb_flush_threshold " +
      "(measured at boot, at least 16 KiB: modelled as 16 KiB) and is flush_tlb_all above " +
      "(arch/parisc/kernel/cache.c)",
      NO_MERGE_VMAS_NOTE,
    ],
  };
}

const pariscGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

/** The parisc configurations. */
export const pariscConfigs: ConfigSpec[] = [
  {
    name: "parisc32",
    family: "parisc",
    description: "PA-RISC 32-bit (PA7100LC, PA1.1), 4K pages, 2 levels of 1024 x 4 bytes; an " +
      "8 KiB (order 1) pgd",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4, tableBytes: 8192 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1024, entryBytes: 4 },
    ],
    // DEFAULT_TASK_SIZE32 0xFFF00000 (asm/processor.h)
    taskSize: 0xfff0_0000n,
    // RLIMIT_STACK's rlim_max is infinite: STACK_SIZE_DEFAULT, CONFIG_STACK_MAX_DEFAULT_SIZE_MB
    // (100) for a narrow process (arch/parisc/kernel/sys_parisc.c)
    mmap: { stackReserve: 100n << 20n },
    thpAvailable: false,
    splitPmdPtlockArch: false,
    noSplitPtlocks: true,
    gather: pariscGather,
    ramBytes: 512 * 2 ** 20,
    backend: pariscBackend(1),
    story: pariscStory,
  },
  {
    name: "parisc64-4k-3level",
    family: "parisc",
    description: "PA-RISC 64-bit (PA8X00), 4K pages, 3 levels: pgd 1024 x 4 (PGDIR_SHIFT 32), " +
      "pmd 2048 x 4 in 8 KiB, pte 512 x 8",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 2048, entryBytes: 4 },
      { entries: 512, entryBytes: 8 },
    ],
    // DEFAULT_TASK_SIZE = MAX_ADDRESS - 0xf000000, MAX_ADDRBITS = PGDIR_SHIFT + BITS_PER_PGD = 42
    // (asm/processor.h, asm/pgtable.h)
    taskSize: (1n << 42n) - 0xf00_0000n,
    // STACK_SIZE_DEFAULT for a wide (64-bit) process: 1 GiB (arch/parisc/kernel/sys_parisc.c)
    mmap: { stackReserve: 1n << 30n },
    thpAvailable: false,
    splitPmdPtlockArch: false,
    gather: pariscGather,
    ramBytes: 4 * 2 ** 30,
    backend: pariscBackend(0),
    story: pariscStory,
  },
];
