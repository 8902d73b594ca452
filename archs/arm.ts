/**
 * arm (32-bit): arch/arm/mm/pgd.c and arch/arm/include/asm/{pgalloc,tlb,pgtable*}.h over the
 * asm-generic defaults. Two configurations, both VMSPLIT_3G (PAGE_OFFSET 0xC0000000, TASK_SIZE
 * = PAGE_OFFSET - 16M = 0xBF000000) with HIGHMEM:
 *
 * - arm-2level, the classic short-descriptor MMU: a 16 KiB order-2 pgd of 2048 two-word
 *   entries (PGDIR_SHIFT = PMD_SHIFT = 21), and PTE pages that hold the 512 Linux PTEs in
 *   their first half and the two 256-entry hardware tables in the second, so VmPTE counts
 *   2048 bytes per 4 KiB PTE page.
 * - arm-lpae, ARM_LPAE long descriptors: a 4-entry pgd from kmalloc, 512 x 8-byte PMD and PTE
 *   tables, and a PMD for the modules/pkmap slot allocated by pgd_alloc itself.
 *
 * Both: FIRST_USER_ADDRESS = 2 * PAGE_SIZE, so free_pgtables never frees the PTE table (and
 * with LPAE the PMD) covering address 0: pgd_free does, with mm_dec_nr_ptes / mm_dec_nr_pmds.
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - pgd (classic): __get_free_pages(GFP_KERNEL, 2), neither accounted nor counted, up to 6.13;
 *   __pgd_alloc(mm, 2) = pagetable_alloc(GFP_PGTABLE_USER, 2) + pagetable_pgd_ctor from 6.14
 *   ("asm-generic: pgalloc: provide generic __pgd_{alloc,free}", a9b3c355c2e6): 4 pages in
 *   NR_PAGETABLE. The LPAE pgd stays a kmalloc object (never counted).
 * - dtor: at __pte_free_tlb / __pmd_free_tlb up to 6.13; from 6.14 ("arm: pgtable: move
 *   pagetable_dtor() to __tlb_remove_table()") in __tlb_remove_table after the RCU grace period
 *   with MMU_GATHER_TABLE_FREE (LPAE SMP), and in the !MMU_GATHER_TABLE_FREE tlb_remove_table
 *   (still before the flush) otherwise.
 * - 6.1 counts NR_PAGETABLE +1 per table (the engine's ctors know).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_PGTABLE_USER,
  installTable,
  type Machine,
  type Mem,
  memFrame,
  type Mm,
  mmIncNr,
  type MmuGather,
  pagetableDtor,
  PMD,
  PTE,
  pteAllocMap,
  tlbAdjustRange,
  tlbRemovePtdesc,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, LevelStory, OptionSpec } from "./config.ts";
import {
  __pteAllocOne,
  freeTlbNothing,
  freeTlbTableBatch,
  genericBackend,
  genericTlbFlushBy,
  genericTlbRemoveTable,
  pgdCache,
  pgdFrom,
  pgdPages,
  releasePgd,
} from "./generic.ts";

const lpae = (k: Machine) => k.cfg.archData.lpae === true;
const option = (k: Machine, name: string) => k.cfg.options[name];

/** VMSPLIT_3G: PAGE_OFFSET (arch/arm/Kconfig CONFIG_PAGE_OFFSET default 0xC0000000). */
const PAGE_OFFSET = 0xC000_0000n;
/** TASK_SIZE = PAGE_OFFSET - SZ_16M (arch/arm/include/asm/memory.h), also MODULES_VADDR. */
const TASK_SIZE = PAGE_OFFSET - 0x100_0000n;
/** pgd_index(MODULES_VADDR) with LPAE: (0xBF000000 >> 30) & 3 = 2 (pgtable-3level.h). */
const MODULES_PGD_SLOT = Number(TASK_SIZE >> 30n);

// ---------------------------------------------------------------------------------------------
// TLB flushing

/**
 * Whether flush_tlb_mm/flush_tlb_range IPI the CPUs of mm_cpumask: tlb_ops_need_broadcast() is
 * true on an SMP ARMv6K (ID_MMFR3 without TLB maintenance broadcast, ARM11MPCore); an ARMv7 with
 * the MP extensions broadcasts in hardware, a UP kernel flushes locally
 * (arch/arm/kernel/smp_tlb.c, arch/arm/include/asm/smp_plat.h).
 */
function tlbIpis(k: Machine): boolean {
  return option(k, "smp") === "on" && option(k, "cpu") === "v6k";
}

/**
 * flush_tlb_mm outside a gather (dup_mmap, a THP split) the arm way: no IPI unless
 * tlb_ops_need_broadcast(), and then to the whole mm_cpumask, which the ASID allocator only
 * clears at a rollover, so CPUs that ran the mm earlier get one as well
 * (arch/arm/include/asm/tlbflush.h, arch/arm/kernel/smp_tlb.c, arch/arm/mm/context.c).
 */
function armFlushTlbMm(k: Machine, mm: Mm): void {
  const ipi = tlbIpis(k);
  k.tlbFlushed(mm, "flush_tlb_mm", "all", ipi, !ipi);
}

/**
 * The generic tlb_flush (arm has none of its own, asm-generic/tlb.h): flush_tlb_mm for fullmm
 * or need_flush_all, else flush_tlb_range over the gathered range.
 */
const armTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather, { all, fn }) => {
  const what = all ? "all" : `${tlb.end - tlb.start} page(s) from page ${tlb.start}`;
  k.tlbFlushed(tlb.mm, fn, what, tlbIpis(k), !tlbIpis(k));
});

// ---------------------------------------------------------------------------------------------
// pgd_alloc / pgd_free

/**
 * The classic pgd: __get_free_pages(GFP_KERNEL, 2), 16 KiB, until 6.14's __pgd_alloc(mm, 2)
 * (arch/arm/mm/pgd.c).
 */
const classicTable = pgdPages({ order: 2, gfp: GFP.KERNEL, pgdAllocSince: 614 });
const classicPgd = pgdFrom(classicTable);
/**
 * The LPAE pgd: kmalloc_array(PTRS_PER_PGD = 4, sizeof(pgd_t) = 8, GFP_KERNEL), 32 bytes, which
 * kmalloc serves from kmalloc-64 since ARCH_KMALLOC_MINALIGN = ARCH_DMA_MINALIGN = L1_CACHE_BYTES
 * = 64 on ARMv7 (arch/arm/mm/pgd.c, arch/arm/include/asm/cache.h, include/linux/slab.h).
 */
const KMALLOC_PGD = { name: "kmalloc-64", size: 64 };
const lpaeTable = pgdCache({ cache: KMALLOC_PGD.name, size: KMALLOC_PGD.size, gfp: GFP.KERNEL });
const lpaePgd = pgdFrom(lpaeTable);

/** pgd_alloc (arch/arm/mm/pgd.c). */
function armPgdAlloc(k: Machine, mm: Mm): boolean {
  if (lpae(k)) {
    if (!lpaePgd.pgdAlloc(k, mm)) return false;
    // "Allocate PMD table for modules and pkmap mappings": pmd_alloc on the (zeroed) pgd slot of
    // MODULES_VADDR -> __pmd_alloc: pmd_alloc_one + mm_inc_nr_pmds + pud_populate (mm/memory.c)
    if (k.trace) k.call("__pmd_alloc", `${mm.name} modules/pkmap PMD`);
    const vpn = MODULES_PGD_SLOT * k.geo.span[0];
    const pmd = k.be.pmdAllocOne(k, mm, vpn);
    if (pmd < 0) {
      lpaePgd.pgdFree(k, mm); // no_pmd ... no_p4d: _pgd_free
      return false;
    }
    installTable(k, mm, mm.pgd, MODULES_PGD_SLOT, PMD, pmd);
    return true;
  }
  if (!classicPgd.pgdAlloc(k, mm)) return false;
  if (option(k, "vectors") === "low") {
    // !vectors_high(): the machine vectors live at address 0, so pgd_alloc maps them with
    // pte_alloc_map(mm, new_pmd, 0) -> __pte_alloc: pte_alloc_one + mm_inc_nr_ptes
    if (k.trace) k.call("pte_alloc_map", `${mm.name} vectors page at 0`);
    if (pteAllocMap(k, mm, 0) === 0) {
      classicPgd.pgdFree(k, mm); // no_pte ... no_p4d: _pgd_free
      return false;
    }
  }
  return true;
}

/** Clears pgd/pmd entry `idx` of `parent` and frees the PTE table there: pte_free + mm_dec_nr_ptes. */
function freeSlotPte(k: Machine, mm: Mm, parent: number, idx: number): void {
  const p = k.pool;
  const pte = p.dir(parent)[idx];
  if (pte <= 0) return; // pmd_none_or_clear_bad
  const mem = p.mem[pte];
  p.dir(parent)[idx] = 0; // pmd_clear
  p.count[parent]--;
  mm.tables[PTE]--;
  p.destroy(pte);
  k.be.pteFree(k, mm, mem);
  mmIncNr(k, mm, PTE, -1);
}

/** Clears pgd entry `idx` and frees the PMD table there: pud_clear, pmd_free, mm_dec_nr_pmds. */
function freeSlotPmd(k: Machine, mm: Mm, idx: number): void {
  const p = k.pool;
  const pmd = p.dir(mm.pgd)[idx];
  if (pmd <= 0) return; // pud_none_or_clear_bad
  const mem = p.mem[pmd];
  p.dir(mm.pgd)[idx] = 0;
  p.count[mm.pgd]--;
  mm.tables[PMD]--;
  p.destroy(pmd);
  k.be.pmdFree(k, mm, mem);
  mmIncNr(k, mm, PMD, -1);
}

/**
 * pgd_free (arch/arm/mm/pgd.c): the tables of address 0 that exit's free_pgtables left (its floor
 * FIRST_USER_ADDRESS = 8 KiB lies above their slot): the PTE table of pmd 0 with mm_dec_nr_ptes,
 * with LPAE its PMD with mm_dec_nr_pmds; then, with LPAE, every PMD of a pgd entry that is not a
 * swapper (L_PGD_SWAPPER) entry, i.e. the modules PMD; then the pgd itself.
 */
function armPgdFree(k: Machine, mm: Mm): void {
  if (k.trace) k.call("pgd_free", mm.name);
  const p = k.pool;
  if (lpae(k)) {
    const pmd0 = p.dir(mm.pgd)[0];
    if (pmd0 > 0) {
      freeSlotPte(k, mm, pmd0, 0);
      freeSlotPmd(k, mm, 0);
    }
    for (let i = 0; i < k.geo.entries[0]; i++) freeSlotPmd(k, mm, i);
  } else {
    freeSlotPte(k, mm, mm.pgd, 0); // pmd_free / mm_dec_nr_pmds are no-ops: the PMD is folded
  }
  // _pgd_free: kfree (LPAE), free_pages(pgd, 2) up to 6.13, __pgd_free from 6.14
  (lpae(k) ? lpaeTable : classicTable).free(k, mm, releasePgd(k, mm));
}

// ---------------------------------------------------------------------------------------------
// PTE tables

/**
 * pte_alloc_one (arch/arm/include/asm/pgalloc.h): __pte_alloc_one(mm, GFP_PGTABLE_USER |
 * PGTABLE_HIGHMEM) (__GFP_HIGHMEM with CONFIG_HIGHPTE), then clean_pte_table (a dcache clean of
 * the hardware half) when the page is not highmem.
 */
function armPteAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pte_alloc_one");
  const high = option(k, "highpte") === "on" ? GFP.HIGHMEM : 0;
  return __pteAllocOne(k, mm, GFP_PGTABLE_USER | high);
}

/**
 * __pte_free_tlb (arch/arm/include/asm/tlb.h): the dtor here up to 6.13 (from 6.14 only without
 * MMU_GATHER_TABLE_FREE, and from the generic tlb_remove_table); the classic MMU widens the
 * flush to the page on each side of the 1 MiB boundary, since a PTE page backs two pmd entries
 * of 1 MiB: __tlb_adjust_range((addr & PMD_MASK) + SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE); then
 * tlb_remove_ptdesc (tlb_remove_table: the page batch, or the RCU table batch with LPAE on SMP).
 */
function armPteFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void {
  if (k.kv < 614) pagetableDtor(k, memFrame(mem), PTE);
  if (!lpae(k)) {
    const pmdPages = k.geo.pmdPages;
    const mib = 2 ** (20 - k.cfg.pageShift);
    tlbAdjustRange(tlb, Math.floor(vpn / pmdPages) * pmdPages + mib - 1, 2);
  }
  tlbRemovePtdesc(k, tlb, mem, PTE);
}

/** The arm backend. */
export const armBackend: Backend = {
  ...genericBackend,
  // mm_cpumask is kept: check_and_switch_context (arch/arm/mm/context.c) sets the CPU in it
  maintainsMmCpumask: true,
  name: "arm",
  pgdAlloc: armPgdAlloc,
  pgdFree: armPgdFree,
  pteAllocOne: armPteAllocOne,
  // generic pmd_alloc_one / pmd_free (LPAE; the classic PMD is folded: pmd_alloc_one BUG()s)
  p4dFreeTlb: freeTlbNothing,
  pudFreeTlb: freeTlbNothing,
  // __pmd_free_tlb: LPAE pagetable_pmd_dtor (up to 6.13) + tlb_remove_ptdesc; classic: nothing
  pmdFreeTlb: freeTlbTableBatch(PMD),
  pteFreeTlb: armPteFreeTlb,
  tlbFlush: armTlbFlush,
  flushTlbMm: armFlushTlbMm,
  flushPmdTlbRange: (k, mm) => armFlushTlbMm(k, mm),
  // __tlb_remove_table (only with MMU_GATHER_TABLE_FREE): free_page_and_swap_cache up to 6.13,
  // pagetable_dtor + pagetable_free from 6.14 (arch/arm/include/asm/tlb.h, then asm-generic)
  tlbRemoveTable: genericTlbRemoveTable,
};

// ---------------------------------------------------------------------------------------------
// Configurations

/** Options of the arm configurations (`classic`: arm-2level). */
function armOptions(classic: boolean): OptionSpec[] {
  const o: OptionSpec[] = [{
    name: "smp",
    values: ["on", "off"],
    default: "on",
    doc: "CONFIG_SMP: split ptlocks need it" +
      (classic ? "" : "; LPAE selects MMU_GATHER_RCU_TABLE_FREE only with it"),
  }, {
    name: "highpte",
    values: ["on", "off"],
    default: "on",
    doc: "CONFIG_HIGHPTE (default y with HIGHMEM): user PTE pages from HIGHMEM",
  }];
  if (classic) {
    o.unshift({
      name: "cpu",
      values: ["v7", "v6k", "v5"],
      default: "v7",
      doc: "v7: VIPT caches, TLB maintenance broadcast in hardware; v6k (ARM11MPCore): VIPT, " +
        "TLB flushes by IPI; v5 (ARM926): VIVT caches, so no split ptlocks, and UP",
    }, {
      name: "vectors",
      values: ["high", "low"],
      default: "high",
      doc: "low: !vectors_high(), pgd_alloc maps the vectors page at address 0 (a counted " +
        "PTE table in every mm)",
    });
  }
  return o;
}

/** Option-dependent Kconfig of an arm configuration. */
function armAdjust(cfg: ArchConfig, _kv: number): void {
  const o = { ...cfg.options };
  // ARMv5 cores have VIVT caches and no SMP support in these configurations
  if (o.cpu === "v5") o.smp = "off";
  // SPLIT_PTLOCK_CPUS is 999999 for ARM && !CPU_CACHE_VIPT (mm/Kconfig, 6.1/6.6); from 6.12
  // SPLIT_PTE_PTLOCKS depends on SMP, NR_CPUS >= 4 and (!ARM || CPU_CACHE_VIPT)
  if (o.smp === "off") o.split_ptlocks = "off";
  if (o.split_ptlocks === "off") {
    o.alloc_split_ptlocks = "off";
    cfg.splitPtePtlocks = cfg.splitPmdPtlocks = cfg.allocSplitPtlocks = false;
  }
  // arch/arm/Kconfig: select MMU_GATHER_RCU_TABLE_FREE if SMP && ARM_LPAE
  if (cfg.archData.lpae && o.smp === "on") {
    cfg.gather.tableFree = true;
    cfg.gather.rcuTableFree = true;
  }
  cfg.options = o;
}

const via = (cfg: ArchConfig): "table-batch" | "page-batch" =>
  cfg.gather.tableFree ? "table-batch" : "page-batch";

/** How arm allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function armStory(cfg: ArchConfig, kv: number): ConfigStory {
  const isLpae = cfg.archData.lpae === true;
  const o = cfg.options;
  const batch = cfg.gather.tableFree
    ? "tlb_remove_ptdesc -> tlb_remove_table: the RCU table batch (MMU_GATHER_RCU_TABLE_FREE, " +
      "SMP && ARM_LPAE), freed after the flush and a grace period"
    : "tlb_remove_ptdesc -> tlb_remove_table = tlb_remove_page (no MMU_GATHER_TABLE_FREE): " +
      "the page batch, freed after the flush";
  // up to 6.13 the arch runs the dtor before batching; from 6.14 the generic code does
  const dtor = (what: string) => kv < 614 ? `${what} now, ` : "";
  const after = kv < 614
    ? ""
    : cfg.gather.tableFree
    ? "; pagetable_dtor_free in __tlb_remove_table after the grace period (6.14)"
    : "; pagetable_dtor in tlb_remove_table before the page is batched (6.14)";
  const pte: LevelStory = {
    alloc: "pte_alloc_one: __pte_alloc_one(mm, GFP_PGTABLE_USER" +
      (o.highpte === "on" ? " | __GFP_HIGHMEM (HIGHPTE)" : "") +
      ") = pagetable_alloc + pagetable_pte_ctor, then clean_pte_table when lowmem " +
      "(arch/arm/include/asm/pgalloc.h)",
    counted: isLpae
      ? "VmPTE +4096 (512 x 8, mm_inc_nr_ptes); NR_PAGETABLE +1"
      : "VmPTE +2048 (PTRS_PER_PTE 512 x 4-byte Linux PTEs; the hardware tables in the other " +
        "half of the page are not counted); NR_PAGETABLE +1",
    free: "__pte_free_tlb (arch/arm/include/asm/tlb.h): " + dtor("pagetable_pte_dtor") +
      (isLpae ? "" : "__tlb_adjust_range((addr & PMD_MASK) + SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE), ") +
      batch + after,
    via: via(cfg),
  };
  if (!isLpae) {
    return {
      levels: {
        pgd: {
          alloc: kv >= 614
            ? "__pgd_alloc(mm, 2): pagetable_alloc(GFP_PGTABLE_USER, 2) + pagetable_pgd_ctor " +
              "(arch/arm/mm/pgd.c, include/asm-generic/pgalloc.h, 6.14)"
            : "__get_free_pages(GFP_KERNEL, 2): 16 KiB, 2048 entries of two 1 MiB section " +
              "descriptors (arch/arm/mm/pgd.c)",
          counted: kv >= 614
            ? "NR_PAGETABLE +4 (an order-2 compound page); never VmPTE"
            : "never (not a ptdesc, not accounted)",
          free: "pgd_free at __mmdrop: first the PTE table of address 0 (pte_free + " +
            "mm_dec_nr_ptes), then the 16 KiB",
          via: "pgd_free",
        },
        pte,
      },
      notes: [
        "FIRST_USER_ADDRESS = 2 * PAGE_SIZE (arch/arm/include/asm/pgtable.h): free_pgtables " +
        "never frees the PTE table of 0..2 MiB; pgd_free does, with mm_dec_nr_ptes",
        o.vectors === "low"
          ? "vectors low (!vectors_high()): pgd_alloc maps the vectors page at 0 with " +
            "pte_alloc_map, so every mm starts with VmPTE 2 kB and one counted PTE page"
          : "vectors high (CR_V set, the ARMv5+ default): pgd_alloc allocates no PTE table",
        "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at each VMA; tlb_flush is the generic one",
        o.cpu === "v6k" && o.smp === "on"
          ? "ARMv6K SMP: tlb_ops_need_broadcast(), so flush_tlb_mm/range IPI every CPU of " +
            "mm_cpumask, which keeps CPUs that ran the mm (arch/arm/kernel/smp_tlb.c)"
          : o.smp === "on"
          ? "ARMv7 SMP: TLB maintenance is broadcast in hardware, no IPIs " +
            "(arch/arm/kernel/smp_tlb.c; Cortex-A15 erratum 798181 IPIs are not modelled)"
          : "UP: local TLB flushes only",
        o.cpu === "v5"
          ? "ARMv5 (CPU_CACHE_VIVT): no split ptlocks (SPLIT_PTLOCK_CPUS 999999 for ARM && " +
            "!CPU_CACHE_VIPT, mm/Kconfig)"
          : "split PTE ptlocks need CPU_CACHE_VIPT, SMP and NR_CPUS >= 4 (mm/Kconfig); ARM " +
            "never selects ARCH_ENABLE_SPLIT_PMD_PTLOCK",
      ],
    };
  }
  return {
    levels: {
      pgd: {
        alloc: "kmalloc_array(4, sizeof(pgd_t), GFP_KERNEL" + (kv >= 614 ? " | __GFP_ZERO" : "") +
          "): 32 bytes in a kmalloc-64 object (arch/arm/mm/pgd.c)",
        counted: "never (a slab object)",
        free: "pgd_free at __mmdrop: the PTE table of address 0 and its PMD, every other " +
          "non-swapper PMD (the modules PMD) with mm_dec_nr_pmds, then kfree",
        via: "pgd_free",
      },
      pmd: {
        alloc: "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pmd_ctor " +
          "(include/asm-generic/pgalloc.h); pgd_alloc allocates the modules/pkmap one",
        counted: "VmPTE +4096 (mm_inc_nr_pmds); NR_PAGETABLE +1; no split PMD ptlock",
        free: "__pmd_free_tlb (arch/arm/include/asm/tlb.h): " + dtor("pagetable_pmd_dtor") + batch +
          after,
        via: via(cfg),
      },
      pte,
    },
    notes: [
      "pgd_alloc allocates the PMD of the MODULES_VADDR slot (pgd entry 2) through pmd_alloc, " +
      "so a fresh mm has VmPTE 4 kB (arch/arm/mm/pgd.c)",
      "USER_PGTABLES_CEILING = TASK_SIZE (arch/arm/include/asm/pgtable.h): free_pgtables " +
      "never frees the modules PMD, which user space below TASK_SIZE shares",
      "FIRST_USER_ADDRESS = 2 * PAGE_SIZE: the PTE table of 0..2 MiB and the PMD of 0..1 GiB " +
      "are freed by pgd_free, never by free_pgtables",
      cfg.gather.tableFree
        ? "tlb_needs_table_invalidate() is the default (true): the TLB is flushed before the " +
          "table batch goes to RCU; TLB maintenance is broadcast in hardware (ARMv7)"
        : "UP: no MMU_GATHER_RCU_TABLE_FREE, tables go through the page batch",
      "THP at PMD level (HAVE_ARCH_TRANSPARENT_HUGEPAGE if ARM_LPAE); no split PMD ptlocks",
    ],
  };
}

const armGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

/** The arm configurations. */
export const armConfigs: ConfigSpec[] = [
  {
    name: "arm-2level",
    family: "arm",
    description:
      "ARM classic MMU (!ARM_LPAE), 4K pages, VMSPLIT_3G, HIGHMEM: a 16 KiB pgd of 2048 x 8 " +
      "bytes, PTE pages of 512 Linux + 2 x 256 hardware 4-byte entries",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 2048, entryBytes: 8, tableBytes: 16384 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      // one 4 KiB page, the Linux half counted: PTRS_PER_PTE * sizeof(pte_t) = 2048
      { entries: 512, entryBytes: 4, tableBytes: 4096, pgtablesBytes: 2048 },
    ],
    taskSize: TASK_SIZE,
    firstUserAddress: 8192n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    // the ARMv7 walker caches intermediate entries (flush_tlb_range also invalidates them)
    walkerCaches: true,
    gather: armGather,
    lowmemBytes: 768 * 2 ** 20,
    ramBytes: 2 * 2 ** 30,
    options: armOptions(true),
    archData: { lpae: false },
    backend: armBackend,
    adjust: armAdjust,
    story: armStory,
  },
  {
    name: "arm-lpae",
    family: "arm",
    description:
      "ARM_LPAE long descriptors, 4K pages, VMSPLIT_3G, HIGHMEM, SMP: a 4-entry pgd, 512 x 8 " +
      "PMD and PTE tables",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 4, entryBytes: 8, tableBytes: 64 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    taskSize: TASK_SIZE,
    firstUserAddress: 8192n,
    userPgtablesCeiling: TASK_SIZE,
    thpAvailable: true,
    splitPmdPtlockArch: false,
    // ARCH_SUPPORTS_HUGETLBFS if ARM_LPAE: 2M sections in the PMD tables (arch/arm/Kconfig)
    hugetlb: ["pmd"],
    // the ARMv7 walker caches intermediate entries (flush_tlb_range also invalidates them)
    walkerCaches: true,
    gather: armGather,
    lowmemBytes: 768 * 2 ** 20,
    ramBytes: 4 * 2 ** 30,
    options: armOptions(false),
    archData: { lpae: true },
    backend: armBackend,
    adjust: armAdjust,
    story: armStory,
  },
];
