/**
 * arm64: arch/arm64/mm/pgd.c and arch/arm64/include/asm/{pgalloc,tlb,tlbflush,pgtable-hwdef}.h
 * over the asm-generic defaults. Eight granule / VA_BITS combinations (CONFIG_PGTABLE_LEVELS
 * from arch/arm64/Kconfig); none of them is an LPA2 configuration (ARM64_LPA2 needs
 * ARM64_PA_BITS_52, which needs 64K pages or VA_BITS_52), so every fold is at compile time.
 *
 * Geometry (arch/arm64/include/asm/pgtable-hwdef.h): every table below the pgd is one page of
 * PAGE_SIZE / 8 entries; level n's shift is (PAGE_SHIFT - 3) * (4 - n) + 3; the pgd has
 * PTRS_PER_PGD = 1 << (VA_BITS - PGDIR_SHIFT) entries, and is a page when PGD_SIZE ==
 * PAGE_SIZE, else an object of kmem_cache "pgd_cache" (size = align = PGD_SIZE).
 *
 * Freeing: MMU_GATHER_RCU_TABLE_FREE always, so every level goes to the RCU table batch; the TLB
 * is invalidated with broadcast TLBI ...IS instructions, never with IPIs.
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - pud (4-level): no ctor in 6.6; pagetable_pud_ctor in the generic __pud_alloc_one and
 *   pagetable_pud_dtor in __pud_free_tlb from 6.7 ("mm: add statistics for PUD level pagetable").
 * - pgd: __get_free_page(GFP_PGTABLE_USER) (accounted, not counted) up to 6.13;
 *   __pgd_alloc(mm, 0) with pagetable_pgd_ctor from 6.14: one page in NR_PAGETABLE. The
 *   kmem_cache pgds are never counted.
 * - dtor: at __pXd_free_tlb up to 6.13; in the generic __tlb_remove_table after the grace
 *   period from 6.14 ("arm64: pgtable: move pagetable_dtor() to __tlb_remove_table()").
 * - 6.9 LPA2 (pgdir_is_page_size, pgtable_l4_enabled, 52-bit VA with 4K/16K): only other
 *   configurations; here pgtable_l4_enabled() is constant true.
 * - PT_RECLAIM: not before 6.19 on arm64 (only x86_64 selected ARCH_SUPPORTS_PT_RECLAIM).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP_PGTABLE_USER,
  type Machine,
  type Mm,
  type MmuGather,
  PMD,
  PTE,
  PUD,
  tlbUnmapStride,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, LevelSpec, LevelStory } from "./config.ts";
import {
  freeTlbNothing,
  freeTlbTableBatch,
  genericBackend,
  genericTlbRemoveTable,
  pgdFromCache,
  pgdFromPages,
} from "./generic.ts";

// ---------------------------------------------------------------------------------------------
// TLB flushing

/**
 * Every arm64 TLB invalidation of a user mm is a broadcast TLBI (VAE1IS, VALE1IS, ASIDE1IS)
 * followed by DSB ISH: no IPIs, whatever CPUs run the mm (arch/arm64/include/asm/tlbflush.h).
 */
function arm64FlushTlbMm(k: Machine, mm: Mm): void {
  k.tlbFlushed(mm, "flush_tlb_mm", "all (ASIDE1IS)", false, true);
}

/**
 * tlb_flush (arch/arm64/include/asm/tlb.h): for fullmm (exit) only the walk cache matters, as the
 * ASID allocator will not reuse the ASID without a full invalidation, so flush_tlb_mm only when
 * tables were freed, else nothing; otherwise __flush_tlb_range with the stride of the lowest
 * cleared level, last_level = !freed_tables, which falls back to flush_tlb_mm for MAX_DVM_OPS
 * (PTRS_PER_PTE) strides or more without FEAT_TLBIRANGE (arch/arm64/include/asm/tlbflush.h).
 */
function arm64TlbFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.fullmm) {
    if (tlb.freedTables) k.tlbFlushed(tlb.mm, "flush_tlb_mm", "all (ASIDE1IS)", false, true);
    else if (k.trace) k.call("tlb_flush", "fullmm without freed tables: nothing to invalidate");
    return;
  }
  const stride = tlbUnmapStride(k, tlb);
  const strides = Math.ceil((tlb.end - tlb.start) / stride);
  const all = strides >= k.geo.entries[PTE];
  k.tlbFlushed(
    tlb.mm,
    all ? "flush_tlb_mm" : "__flush_tlb_range",
    all
      ? `${strides} stride(s) >= MAX_DVM_OPS: all (ASIDE1IS)`
      : `${strides} stride(s), ${tlb.freedTables ? "VAE1IS (tables freed)" : "VALE1IS"}`,
    false,
    true,
  );
}

// ---------------------------------------------------------------------------------------------
// pgd_alloc / pgd_free

/** pgd_alloc / pgd_free when PGD_SIZE == PAGE_SIZE (arch/arm64/mm/pgd.c). */
const pagePgd = pgdFromPages({ order: 0, gfp: GFP_PGTABLE_USER, pgdAllocSince: 614 });
/**
 * pgd_alloc / pgd_free of a PGD_SIZE-byte kmem_cache "pgd_cache" object:
 * kmem_cache_create("pgd_cache", PGD_SIZE, PGD_SIZE, SLAB_PANIC, NULL); GFP_PGTABLE_USER.
 */
const cachePgd = pgdFromCache({
  cache: "pgd_cache",
  size: (k) => k.cfg.archData.pgdCache as number,
  gfp: GFP_PGTABLE_USER,
});
const pgdOf = (k: Machine) => k.cfg.archData.pgdCache ? cachePgd : pagePgd;

/** The arm64 backend. */
export const arm64Backend: Backend = {
  ...genericBackend,
  // "IPI1: Function call interrupts" (arch/arm64/kernel/smp.c IPI_CALL_FUNC); arm64 keeps no
  // mm_cpumask (its TLBI is broadcast)
  interrupts: { flush: ["IPI1"], call: ["IPI1"] },
  name: "arm64",
  // pgd_alloc: __get_free_page(GFP_PGTABLE_USER) (6.14: __pgd_alloc(mm, 0)) when the pgd is a
  // page, kmem_cache_alloc(pgd_cache, GFP_PGTABLE_USER) otherwise (arch/arm64/mm/pgd.c)
  pgdAlloc: (k, mm) => pgdOf(k).pgdAlloc(k, mm),
  pgdFree: (k, mm) => pgdOf(k).pgdFree(k, mm),
  // pte/pmd/pud_alloc_one and *_free: the generic ones (arch/arm64/include/asm/pgalloc.h)
  p4dFreeTlb: freeTlbNothing,
  // __pud_free_tlb: (6.7+ pagetable_pud_dtor +) tlb_remove_ptdesc; __pmd_free_tlb and
  // __pte_free_tlb: the dtor (up to 6.13) + tlb_remove_ptdesc (arch/arm64/include/asm/tlb.h)
  pudFreeTlb: freeTlbTableBatch(PUD),
  pmdFreeTlb: freeTlbTableBatch(PMD),
  pteFreeTlb: freeTlbTableBatch(PTE),
  tlbFlush: arm64TlbFlush,
  flushTlbMm: arm64FlushTlbMm,
  flushPmdTlbRange: (k, mm) => arm64FlushTlbMm(k, mm),
  // __tlb_remove_table: free_page_and_swap_cache up to 6.13 (arch/arm64/include/asm/tlb.h),
  // the generic pagetable_dtor_free from 6.14
  tlbRemoveTable: genericTlbRemoveTable,
};

// ---------------------------------------------------------------------------------------------
// Configurations

/** The eight configurations: granule shift, VA_BITS, CONFIG_PGTABLE_LEVELS (arch/arm64/Kconfig). */
const VARIANTS: [number, number, number][] = [
  [12, 39, 3],
  [12, 48, 4],
  [14, 36, 2],
  [14, 47, 3],
  [14, 48, 4],
  [16, 42, 2],
  [16, 48, 3],
  [16, 52, 3],
];

const GRANULE: Record<number, string> = { 12: "4k", 14: "16k", 16: "64k" };

/** The levels of a granule and level count: pgd, p4d, pud, pmd, pte (pgtable-hwdef.h). */
function levelsOf(
  pageShift: number,
  vaBits: number,
  nlevels: number,
): ConfigSpec["levels"] {
  const perTable = 2 ** (pageShift - 3);
  // ARM64_HW_PGTABLE_LEVEL_SHIFT(4 - CONFIG_PGTABLE_LEVELS)
  const pgdirShift = (pageShift - 3) * nlevels + 3;
  const pgdEntries = 2 ** (vaBits - pgdirShift);
  const table: LevelSpec = { entries: perTable, entryBytes: 8 };
  const folded: LevelSpec = { entries: 1, entryBytes: 8, folded: "compile" };
  return [
    { entries: pgdEntries, entryBytes: 8, tableBytes: pgdEntries * 8 },
    folded,
    nlevels >= 4 ? table : folded,
    nlevels >= 3 ? table : folded,
    table,
  ];
}

/** How arm64 allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function arm64Story(cfg: ArchConfig, kv: number): ConfigStory {
  const page = 2 ** cfg.pageShift;
  const pgdCache = cfg.archData.pgdCache as number;
  const kib = (b: number) => b >= 1024 ? `${b / 1024} KiB` : `${b} B`;
  const batch = (dtor: string | null) =>
    (dtor && kv < 614 ? `${dtor} now, ` : "") +
    "tlb_remove_ptdesc -> tlb_remove_table: the RCU table batch (MMU_GATHER_RCU_TABLE_FREE), " +
    "freed after the TLBI and a grace period" +
    (kv >= 614 && dtor ? "; pagetable_dtor_free in __tlb_remove_table (6.14)" : "");
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc: pgdCache
        ? `kmem_cache_alloc(pgd_cache, GFP_PGTABLE_USER): PGD_SIZE ${kib(pgdCache)} < ` +
          `PAGE_SIZE, size = align = PGD_SIZE (arch/arm64/mm/pgd.c)`
        : kv >= 614
        ? "__pgd_alloc(mm, 0) = pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pgd_ctor " +
          "(arch/arm64/mm/pgd.c, include/asm-generic/pgalloc.h, 6.14)"
        : "__get_free_page(GFP_PGTABLE_USER): PGD_SIZE == PAGE_SIZE (arch/arm64/mm/pgd.c)",
      counted: pgdCache
        ? "never (a slab object; memcg-accounted)"
        : kv >= 614
        ? "NR_PAGETABLE +1 (6.14); never VmPTE"
        : "never (memcg-accounted, not a ptdesc)",
      free: "pgd_free at __mmdrop: " +
        (pgdCache ? "kmem_cache_free" : kv >= 614 ? "__pgd_free" : "free_page"),
      via: "pgd_free",
    },
  };
  const table = (name: string, ctor: string): LevelStory => ({
    alloc:
      `${name}: pagetable_alloc(GFP_PGTABLE_USER${
        name.startsWith("__pud") ? " & ~__GFP_HIGHMEM" : ""
      }, 0)` +
      (ctor ? ` + ${ctor}` : "") + " (include/asm-generic/pgalloc.h)",
    counted: `VmPTE +${page} (${page / 8} x 8)` +
      (ctor ? "; NR_PAGETABLE +1" : "; not in NR_PAGETABLE"),
    free: "", // set below
    via: "table-batch",
  });
  if (cfg.levels[PUD].folded === "none") {
    const pud = table("__pud_alloc_one", kv >= 607 ? "pagetable_pud_ctor (6.7)" : "");
    pud.free = "__pud_free_tlb (arch/arm64/include/asm/tlb.h): " +
      batch(kv >= 607 ? "pagetable_pud_dtor" : null);
    levels.pud = pud;
  }
  if (cfg.levels[PMD].folded === "none") {
    const pmd = table("pmd_alloc_one", "pagetable_pmd_ctor (split PMD ptlock)");
    pmd.free = "__pmd_free_tlb (arch/arm64/include/asm/tlb.h): " + batch("pagetable_pmd_dtor");
    levels.pmd = pmd;
  }
  const pte = table("__pte_alloc_one", "pagetable_pte_ctor");
  pte.free = "__pte_free_tlb (arch/arm64/include/asm/tlb.h): " + batch("pagetable_pte_dtor");
  levels.pte = pte;
  const notes = [
    "TLB invalidation is broadcast TLBI ...IS (arch/arm64/include/asm/tlbflush.h): no IPIs; " +
    "tlb_flush at exit (fullmm) invalidates only when tables were freed",
    "tlb_needs_table_invalidate() is the default (true): the TLBI precedes handing the table " +
    "batch to RCU; without a batch page, tlb_remove_table_sync_one IPIs every other CPU",
    cfg.levels[PMD].folded === "none"
      ? "ARCH_ENABLE_SPLIT_PMD_PTLOCK (PGTABLE_LEVELS > 2): PMD tables carry a split ptlock"
      : "2 levels: no PMD level, no split PMD ptlocks; the kernel's THP would be a " +
        `${2 ** (cfg.levels[PMD].shift - 20)} MiB block in the pgd (folded PMD), not modelled`,
  ];
  if (cfg.archData.vaBits === 52) {
    notes.push(
      "VA_BITS 52 (64K, ARMv8.2-LVA): the pgd is sized for 52 bits at compile time; user " +
        "space gets above 48 bits only with an mmap hint (DEFAULT_MAP_WINDOW_64)",
    );
  }
  return { levels, notes };
}

function arm64Config(pageShift: number, vaBits: number, nlevels: number): ConfigSpec {
  const levels = levelsOf(pageShift, vaBits, nlevels);
  const pgdBytes = levels[0].entries * 8;
  const page = 2 ** pageShift;
  const granule = GRANULE[pageShift];
  return {
    name: `arm64-${granule}-${vaBits}`,
    family: "arm64",
    description: `ARM64_${granule.toUpperCase()}_PAGES, ARM64_VA_BITS_${vaBits} ` +
      `(PGTABLE_LEVELS=${nlevels}): pgd ${levels[0].entries} x 8` +
      (pgdBytes < page ? ` from kmem_cache pgd_cache` : "") +
      `, ${page / 8} x 8 below`,
    bits: 64,
    pageShift,
    levels,
    // TASK_SIZE_64 = 1 << vabits_actual (arch/arm64/include/asm/processor.h)
    taskSize: 1n << BigInt(vaBits),
    thpAvailable: true, // arm64 selects HAVE_ARCH_TRANSPARENT_HUGEPAGE; 2-level: block mappings at the pgd
    // select ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2 (arch/arm64/Kconfig)
    splitPmdPtlockArch: nlevels > 2,
    // hugetlb PMD_SIZE, CONT_PMD_SIZE (16 entries with 4K, 32 with 16K and 64K) and, with 4K
    // and a PMD level, PUD_SIZE (pud_sect_supported); the CONT_PTE sizes map PTEs and are not
    // modelled (arch/arm64/mm/hugetlbpage.c __hugetlb_valid_size)
    hugetlb: pageShift === 12
      ? ["pmd", { at: "pmd", cont: 16 }, ...(nlevels > 2 ? ["pud" as const] : [])]
      : ["pmd", { at: "pmd", cont: 32 }],
    // select ARCH_WANT_HUGE_PMD_SHARE if ARM64_4K_PAGES || (ARM64_16K_PAGES &&
    // !ARM64_VA_BITS_36) (arch/arm64/Kconfig)
    hugePmdShare: pageShift === 12 || (pageShift === 14 && vaBits !== 36),
    // STACK_TOP = DEFAULT_MAP_WINDOW: 48 bits with 52-bit VAs (asm/processor.h)
    ...(vaBits > 48 ? { mmap: { stackTop: 1n << 48n } } : {}),
    // walk caches hold upper-level entries until a TLBI (tlb_flush: last_level = !freed_tables)
    walkerCaches: true,
    gather: {
      // select MMU_GATHER_RCU_TABLE_FREE (arch/arm64/Kconfig)
      tableFree: true,
      rcuTableFree: true,
      noGather: false,
      mergeVmas: false,
      noRange: false,
      needsTableInvalidate: true,
    },
    ramBytes: 16 * 2 ** 30,
    archData: { pgdCache: pgdBytes < page ? pgdBytes : 0, vaBits },
    backend: arm64Backend,
    story: arm64Story,
    // select HAVE_MOVE_PMD, select HAVE_MOVE_PUD (arch/arm64/Kconfig, 5.10 / 5.11)
    adjust: (cfg) => {
      cfg.moveTables = { pmd: true, pud: true };
    },
  };
}

/** The arm64 configurations. */
export const arm64Configs: ConfigSpec[] = VARIANTS.map(([p, va, n]) => arm64Config(p, va, n));
