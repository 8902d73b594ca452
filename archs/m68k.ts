/**
 * m68k: the three MMU flavours of arch/m68k, each over the asm-generic defaults.
 *
 * - `m68k-motorola` (680x0 MMU, 4K pages, 3 levels): every table is a piece of a page from the
 *   pointer-table pools of arch/m68k/mm/motorola.c (get_pointer_table / free_pointer_table):
 *   512-byte PGD and PMD tables 8 to a page, 256-byte PTE tables 16 to a page, the free slots of
 *   a page in a bitmap kept in page->index, the pages on one list per pool with the pages that
 *   have a free slot in front. Tables are freed directly inside free_pgtables; a page goes back
 *   to the buddy allocator when its last table goes.
 * - `m68k-coldfire` (ColdFire MMU, 8K pages, 2 levels, arch/m68k/include/asm/mcf_pgalloc.h): a
 *   whole ZONE_DMA page per table, the PTE page freed directly by __pte_free_tlb.
 * - `m68k-sun3` (Sun-3 MMU, 8K pages, 2 levels, arch/m68k/include/asm/sun3_pgalloc.h): 16-entry
 *   PTE tables (64 bytes counted) in whole 8 KiB pages, freed through the page batch.
 *
 * m68k has no SMP: no split ptlocks, no IPIs; it selects MMU_GATHER_NO_RANGE (arch/m68k/Kconfig),
 * so every gather flush is a flush_tlb_mm. All of m68k's RAM is ZONE_DMA (paging_init in
 * arch/m68k/mm/{motorola,mcfmmu,sun3mmu}.c sets max_zone_pfn[ZONE_DMA] to the end of memory).
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - 6.1: the struct page spellings (pgtable_pte_page_ctor, __get_free_page, alloc_pages ...);
 *   NR_PAGETABLE +1 per ctor call (the engine).
 * - 6.14 (Kevin Brodsky, "m68k: mm: add calls to pagetable_pmd_[cd]tor" and "mm: introduce
 *   ctor/dtor at PGD level"): motorola splits TABLE_PGD from TABLE_PMD (three pools), the PMD
 *   pool pages get pagetable_pmd_ctor and the PGD pool pages pagetable_pgd_ctor, so they count
 *   in NR_PAGETABLE; ColdFire's pgd_alloc runs pagetable_pgd_ctor; sun3's pgd_alloc becomes
 *   __pgd_alloc (a9b3c355c2e6, "asm-generic: pgalloc: provide generic __pgd_{alloc,free}").
 * - 6.14/6.15 (Qi Zheng): one pagetable_dtor; sun3's __pte_free_tlb becomes tlb_remove_ptdesc.
 * - 6.17 (Vishal Moola, "m68k: mm: Convert get_pointer_table() to use ptdescs"): the motorola
 *   pool pages come from pagetable_alloc(GFP_KERNEL | __GFP_ZERO, 0) and go back through
 *   pagetable_dtor_free instead of get_zeroed_page / free_page.
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  freeFrameChecked,
  GFP,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  memSlot,
  type Mm,
  type MmuGather,
  pagetableAlloc,
  pagetableDtor,
  pagetableDtorFree,
  pagetablePgdCtor,
  pagetablePmdCtor,
  pagetablePteCtor,
  Use,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  ctorSpelling,
  dtorSpelling,
  freeTlbPageBatch,
  genericBackend,
  pgdFrom,
  pgdFromPages,
  tableAlloc,
  tableFree,
} from "./generic.ts";

// ---------------------------------------------------------------------------------------------
// Common to the three flavours

/**
 * tlb_flush with MMU_GATHER_NO_RANGE (asm-generic/tlb.h): flush_tlb_mm for any non-empty range.
 * m68k is uniprocessor, so the flush is local (arch/m68k/include/asm/tlbflush.h) and no IPI is
 * sent whatever CPUs a scenario names.
 */
function m68kTlbFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.end > 0) m68kFlushTlbMm(k, tlb.mm);
}

/** flush_tlb_mm (arch/m68k/include/asm/tlbflush.h): a local flush of the current context. */
function m68kFlushTlbMm(k: Machine, mm: Mm): void {
  k.tlbFlushed(mm, "flush_tlb_mm", "all", false, true);
}

/**
 * GFP_DMA for a table allocation. All m68k RAM is ZONE_DMA (paging_init, arch/m68k/mm/*.c), so
 * GFP_DMA and GFP_KERNEL take the same pages (every configuration here has dmaBytes = RAM).
 */
function gfpDma(_k: Machine): number {
  return GFP.DMA;
}

// ---------------------------------------------------------------------------------------------
// Motorola: the pointer-table pools of arch/m68k/mm/motorola.c

/** enum m68k_table_types (arch/m68k/include/asm/motorola_pgalloc.h), as logical types. */
const TABLE_PGD = 0, TABLE_PMD = 1, TABLE_PTE = 2;
const TYPE_NAMES = ["TABLE_PGD", "TABLE_PMD", "TABLE_PTE"];
/** Page-table level (0 = pgd, 3 = pmd, 4 = pte) of each logical type. */
const TYPE_LEVEL = [0, 3, 4];

/**
 * Index in ptable_list of a table type: TABLE_PGD and TABLE_PMD were both 0 (one pool of 512-byte
 * tables) and TABLE_PTE 1 until 6.14 separated them (motorola_pgalloc.h).
 */
function poolOf(kv: number, type: number): number {
  return kv >= 614 ? type : type === TABLE_PTE ? 1 : 0;
}

/** ptable_size(type): 1 << ptable_shift, 7+2 for PGD and PMD, 6+2 for PTE (motorola.c). */
function ptableSize(type: number): number {
  return type === TABLE_PTE ? 256 : 512;
}

/** ptable_mask(type): a bit per table of a page, (1 << PAGE_SIZE / ptable_size) - 1 (motorola.c). */
function ptableMask(type: number): number {
  return 2 ** (4096 / ptableSize(type)) - 1;
}

/** The pointer-table lists of one machine (ptable_list[] and each page's PD_MARKBITS). */
interface PointerTables {
  /** ptable_list[pool]: frames, first entry first; pages with a free table in front. */
  lists: number[][];
  /** PD_MARKBITS (page->index): the free tables of each pool page, a bit each. */
  marks: Map<number, number>;
}

const pointerTables = new WeakMap<Machine, PointerTables>();

/**
 * The pools of a machine. They start empty: the kernel's own boot tables that
 * init_pointer_tables (arch/m68k/mm/init.c) puts on the lists are not modelled.
 */
function pools(k: Machine): PointerTables {
  let s = pointerTables.get(k);
  if (!s) pointerTables.set(k, s = { lists: [[], [], []], marks: new Map() });
  return s;
}

/**
 * A fresh pool page (get_pointer_table, motorola.c): get_zeroed_page(GFP_KERNEL) up to 6.16,
 * pagetable_alloc(GFP_KERNEL | __GFP_ZERO, 0) from 6.17; the type's ctor (PTE always; PMD and
 * PGD from 6.14; m68k ignores its result, it cannot fail without split ptlocks); then
 * mmu_page_ctor makes the page non-cacheable. Returns the frame or -1.
 */
function pointerTablePage(k: Machine, type: number): number {
  const f = k.kv >= 617
    ? pagetableAlloc(k, GFP.KERNEL | GFP.ZERO, 0)
    : k.getFreePages(GFP.KERNEL | GFP.ZERO, 0, Use.Pool);
  if (f < 0) return -1;
  if (type === TABLE_PTE) pagetablePteCtor(k, f);
  else if (k.kv >= 614 && type === TABLE_PMD) pagetablePmdCtor(k, f);
  else if (k.kv >= 614) pagetablePgdCtor(k, f);
  if (k.trace) k.call("mmu_page_ctor", `frame ${f}`);
  return f;
}

/**
 * get_pointer_table (arch/m68k/mm/motorola.c): the lowest free table of the first page of the
 * type's list; a new page (its table 0 taken, put in front) when that page has none; a page
 * left without a free table moves to the tail. -1 when no page could be had.
 */
export function getPointerTable(k: Machine, type: number): Mem {
  if (k.trace) k.call("get_pointer_table", TYPE_NAMES[type]);
  if (k.shouldFail("get_pointer_table")) return -1;
  const s = pools(k);
  const list = s.lists[poolOf(k.kv, type)];
  const dp = list[0];
  const mask = list.length === 0 ? 0 : s.marks.get(dp)!;
  if (mask === 0) {
    const f = pointerTablePage(k, type);
    if (f < 0) return -1;
    s.marks.set(f, ptableMask(type) - 1);
    // list_add_tail(new, dp): before the first entry, i.e. at the front
    list.unshift(f);
    return memOf(f, 0);
  }
  let slot = 0;
  while ((mask & (1 << slot)) === 0) slot++;
  const left = mask & ~(1 << slot);
  s.marks.set(dp, left);
  if (left === 0) list.push(list.shift()!); // list_move_tail
  return memOf(dp, slot);
}

/**
 * free_pointer_table (arch/m68k/mm/motorola.c): marks the table free; the last one frees the page
 * (mmu_page_dtor, the type's dtor, free_page; pagetable_dtor_free from 6.17), otherwise the page
 * moves to the front of its list. Returns 1 when the page was freed.
 */
export function freePointerTable(k: Machine, mem: Mem, type: number): number {
  const f = memFrame(mem);
  const bit = 1 << memSlot(mem);
  if (k.trace) k.call("free_pointer_table", `${TYPE_NAMES[type]} frame ${f} table ${memSlot(mem)}`);
  const s = pools(k);
  const list = s.lists[poolOf(k.kv, type)];
  const m = s.marks.get(f);
  if (m === undefined || (m & bit) !== 0) {
    k.violate("double-free", `free_pointer_table: table already free! (frame ${f})`, { frame: f });
    return 0;
  }
  const marks = m | bit;
  if (marks === ptableMask(type)) {
    // all tables in the page are free: list_del, mmu_page_dtor, dtor, free the page
    list.splice(list.indexOf(f), 1);
    s.marks.delete(f);
    if (k.trace) k.call("mmu_page_dtor", `frame ${f}`);
    const level = TYPE_LEVEL[type];
    if (k.kv >= 617) {
      pagetableDtorFree(k, f, level);
    } else {
      if (type === TABLE_PTE || k.kv >= 614) pagetableDtor(k, f, level);
      if (k.trace) k.call("free_page", `frame ${f}`);
      freeFrameChecked(k, f, 0);
    }
    return 1;
  }
  s.marks.set(f, marks);
  if (list[0] !== f) {
    // list_move: a page with a free table goes to the front
    list.splice(list.indexOf(f), 1);
    list.unshift(f);
  }
  return 0;
}

/** The motorola backend (arch/m68k/include/asm/motorola_pgalloc.h). */
export const motorolaBackend: Backend = {
  injectSites: ["get_pointer_table"],
  ...genericBackend,
  name: "m68k",
  // pgd_alloc = get_pointer_table(TABLE_PGD): the user root is empty (user and kernel have
  // their own root pointers), nothing is copied; pgd_free = free_pointer_table(pgd, TABLE_PGD)
  ...pgdFrom({
    alloc: (k: Machine) => getPointerTable(k, TABLE_PGD),
    free: (k: Machine, _mm: Mm, mem: Mem) => void freePointerTable(k, mem, TABLE_PGD),
  }),
  // pmd_alloc_one / pte_alloc_one = get_pointer_table(TABLE_PMD / TABLE_PTE)
  pmdAllocOne: (k: Machine) => getPointerTable(k, TABLE_PMD),
  pteAllocOne: (k: Machine) => getPointerTable(k, TABLE_PTE),
  pmdFree: (k: Machine, _mm: Mm, mem: Mem) => void freePointerTable(k, mem, TABLE_PMD),
  pteFree: (k: Machine, _mm: Mm, mem: Mem) => void freePointerTable(k, mem, TABLE_PTE),
  // __pmd_free_tlb / __pte_free_tlb = free_pointer_table: DIRECT, before any flush
  pmdFreeTlb: (k: Machine, _tlb: MmuGather, mem: Mem) => void freePointerTable(k, mem, TABLE_PMD),
  pteFreeTlb: (k: Machine, _tlb: MmuGather, mem: Mem) => void freePointerTable(k, mem, TABLE_PTE),
  tlbFlush: m68kTlbFlush,
  flushTlbMm: m68kFlushTlbMm,
};

function motorolaStory(_cfg: ArchConfig, kv: number): ConfigStory {
  const page = kv >= 617
    ? "pagetable_alloc(GFP_KERNEL | __GFP_ZERO, 0)"
    : "get_zeroed_page(GFP_KERNEL)";
  const back = kv >= 617 ? "pagetable_dtor_free" : "free_page";
  const shared = kv < 614;
  const ctor = (type: number) =>
    type === TABLE_PTE
      ? ctorSpelling(kv, "pte")
      : type === TABLE_PMD
      ? "pagetable_pmd_ctor"
      : "pagetable_pgd_ctor";
  const counted = (type: number) => type === TABLE_PTE || kv >= 614;
  const pageCount = (type: number, per: number) =>
    counted(type)
      ? `NR_PAGETABLE +1 per pool page (${ctor(type)} once, when get_pointer_table takes a new ` +
        `page; ${per} tables share it)`
      : "NR_PAGETABLE: never (the pool page gets no ctor before 6.14)";
  return {
    levels: {
      pgd: {
        alloc: `get_pointer_table(TABLE_PGD): a 512-byte table, 8 to a page, from ` +
          (shared ? "the pool it shares with the PMD tables" : "the PGD pool (6.14)") +
          `; pages from ${page}, made non-cacheable (arch/m68k/mm/motorola.c)`,
        counted: "VmPTE: never; " + pageCount(TABLE_PGD, 8),
        free: `pgd_free = free_pointer_table(pgd, TABLE_PGD) at __mmdrop; the page goes back ` +
          `(${back}) with its last table (arch/m68k/include/asm/motorola_pgalloc.h)`,
        via: "pgd_free",
      },
      pmd: {
        alloc: `pmd_alloc_one = get_pointer_table(TABLE_PMD): 512 bytes, 8 to a page` +
          (shared ? ", the same pool as the PGD tables (TABLE_PMD == TABLE_PGD)" : "") +
          " (arch/m68k/mm/motorola.c)",
        counted: "VmPTE +512 (mm_inc_nr_pmds, PTRS_PER_PMD 128 x 4); " + pageCount(TABLE_PMD, 8),
        free: `__pmd_free_tlb = free_pointer_table(pmd, TABLE_PMD): freed at once inside ` +
          `free_pgtables; the page goes back (${back}) when its last table goes ` +
          "(arch/m68k/include/asm/motorola_pgalloc.h)",
        via: "direct",
      },
      pte: {
        alloc: "pte_alloc_one = get_pointer_table(TABLE_PTE): 256 bytes, 16 to a page " +
          "(arch/m68k/mm/motorola.c)",
        counted: "VmPTE +256 (mm_inc_nr_ptes, PTRS_PER_PTE 64 x 4); " + pageCount(TABLE_PTE, 16),
        free: `__pte_free_tlb = free_pointer_table(pte, TABLE_PTE): freed at once; the last ` +
          `table of a page runs ${dtorSpelling(kv, "pte")} and frees the page (${back})`,
        via: "direct",
      },
    },
    notes: [
      "free slots of a pool page: a bitmap in page->index (PD_MARKBITS); get_pointer_table " +
      "takes the lowest free table of the first page of the list, a full page moves to the " +
      "tail, a page that gets a table back moves to the front (arch/m68k/mm/motorola.c)",
      "VmPTE counts 256/512 bytes per table while whole pages are allocated: compare " +
      "pagetable_frames",
      "the pools are shared by every process (and, in the kernel, by its own tables: the boot " +
      "tables init_pointer_tables puts on the lists are not modelled, the pools start empty)",
      "MMU_GATHER_NO_RANGE: every gather flush is flush_tlb_mm; no SMP, no IPIs, no split " +
      "ptlocks (arch/m68k/Kconfig)",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// ColdFire (arch/m68k/include/asm/mcf_pgalloc.h)

/**
 * pgd_alloc: a page of ZONE_DMA, (GFP_DMA | __GFP_NOWARN) & ~__GFP_HIGHMEM: __get_free_page in
 * 6.1, pagetable_alloc from 6.6, with pagetable_pgd_ctor from 6.14; the kernel part of
 * swapper_pg_dir is copied in. pgd_free: free_page (6.1), pagetable_free (6.6),
 * pagetable_dtor_free (6.14) (mcf_pgalloc.h).
 */
const mcfPgd = pgdFrom({
  alloc(k: Machine): Mem {
    const gfp = (gfpDma(k) | GFP.NOWARN) & ~GFP.HIGHMEM;
    const f = k.kv >= 606 ? tableAlloc(k, gfp, 0, "pgd") : k.getFreePages(gfp, 0, Use.Table);
    return f < 0 ? -1 : memOf(f);
  },
  free(k: Machine, _mm: Mm, mem: Mem): void {
    const f = memFrame(mem);
    if (k.kv >= 606) tableFree(k, f, 0);
    else k.freePages(f, 0);
  },
});

/**
 * pte_alloc_one: a whole ZONE_DMA page, pagetable_alloc(GFP_DMA | __GFP_ZERO, 0) (alloc_pages +
 * clear_page in 6.1), no __GFP_ACCOUNT, then the pte ctor; the page goes back if it fails
 * (mcf_pgalloc.h).
 */
function mcfPteAllocOne(k: Machine): Mem {
  const f = tableAlloc(k, gfpDma(k) | GFP.ZERO, 0, "pte");
  return f < 0 ? -1 : memOf(f);
}

/** pte_free and __pte_free_tlb: the pte dtor, then pagetable_free, at once (mcf_pgalloc.h). */
function mcfPteFree(k: Machine, mem: Mem): void {
  tableFree(k, memFrame(mem), 4);
}

/** The ColdFire backend (arch/m68k/include/asm/mcf_pgalloc.h). */
export const coldfireBackend: Backend = {
  ...genericBackend,
  name: "m68k",
  ...mcfPgd,
  pteAllocOne: mcfPteAllocOne,
  pteFree(k: Machine, _mm: Mm, mem: Mem): void {
    if (k.trace) k.call("pte_free");
    mcfPteFree(k, mem);
  },
  // __pte_free_tlb: pagetable_pte_dtor + pagetable_free, DIRECT (no page batch)
  pteFreeTlb(k: Machine, _tlb: MmuGather, mem: Mem): void {
    if (k.trace) k.call("__pte_free_tlb", `frame ${memFrame(mem)}`);
    mcfPteFree(k, mem);
  },
  tlbFlush: m68kTlbFlush,
  flushTlbMm: m68kFlushTlbMm,
};

function coldfireStory(_cfg: ArchConfig, kv: number): ConfigStory {
  const alloc = kv >= 606 ? "pagetable_alloc" : "__get_free_page";
  return {
    levels: {
      pgd: {
        alloc: `pgd_alloc: ${alloc}((GFP_DMA | __GFP_NOWARN) & ~__GFP_HIGHMEM, 0)` +
          (kv >= 614 ? " + pagetable_pgd_ctor (6.14)" : "") +
          ": 1024 x 4 bytes in an 8 KiB ZONE_DMA page, swapper_pg_dir copied in " +
          "(arch/m68k/include/asm/mcf_pgalloc.h)",
        counted: kv >= 614 ? "NR_PAGETABLE +1 (6.14); never VmPTE" : "never",
        free: "pgd_free at __mmdrop: " +
          (kv >= 614 ? "pagetable_dtor_free" : kv >= 606 ? "pagetable_free" : "free_page"),
        via: "pgd_free",
      },
      pte: {
        alloc: `pte_alloc_one: ${kv >= 606 ? "pagetable_alloc" : "alloc_pages"}(GFP_DMA | ` +
          `__GFP_ZERO, 0) + ${
            ctorSpelling(kv, "pte")
          }: 512 x 4 bytes in a whole 8 KiB ZONE_DMA page, ` +
          "not memcg-accounted (arch/m68k/include/asm/mcf_pgalloc.h)",
        counted: "VmPTE +2048 (mm_inc_nr_ptes, PTRS_PER_PTE 512 x 4); NR_PAGETABLE +1",
        free:
          `__pte_free_tlb: ${dtorSpelling(kv, "pte")} + ${
            kv >= 606 ? "pagetable_free" : "__free_page"
          }` +
          ", at once inside free_pgtables, before the flush (mcf_pgalloc.h)",
        via: "direct",
      },
    },
    notes: [
      "all of ColdFire's RAM is ZONE_DMA (paging_init, arch/m68k/mm/mcfmmu.c): GFP_DMA takes " +
      "the same pages as GFP_KERNEL",
      "VmPTE counts 2 KiB per PTE table in an 8 KiB page",
      "MMU_GATHER_NO_RANGE: every gather flush is flush_tlb_mm; no SMP (arch/m68k/Kconfig)",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Sun-3 (arch/m68k/include/asm/sun3_pgalloc.h)

/** The Sun-3 backend: asm-generic PTE tables, a page-batch __pte_free_tlb. */
export const sun3Backend: Backend = {
  ...genericBackend,
  name: "m68k",
  // pgd_alloc: get_zeroed_page(GFP_KERNEL) up to 6.13, __pgd_alloc(mm, 0) (pagetable_pgd_ctor)
  // from 6.14; swapper_pg_dir copied, the user part cleared; pgd_free is the asm-generic one
  ...pgdFromPages({ order: 0, gfp: GFP.KERNEL | GFP.ZERO, pgdAllocSince: 614 }),
  // __pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc (6.6), tlb_remove_ptdesc (6.15)
  pteFreeTlb: freeTlbPageBatch(4),
  tlbFlush: m68kTlbFlush,
  flushTlbMm: m68kFlushTlbMm,
};

function sun3Story(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: {
        alloc:
          (kv >= 614
            ? "__pgd_alloc(mm, 0): pagetable_alloc + pagetable_pgd_ctor (6.14)"
            : "get_zeroed_page(GFP_KERNEL)") +
          ": 2048 x 4 bytes, swapper_pg_dir copied in (arch/m68k/include/asm/sun3_pgalloc.h)",
        counted: kv >= 614 ? "NR_PAGETABLE +1 (6.14); never VmPTE" : "never",
        free: "pgd_free (include/asm-generic/pgalloc.h) at __mmdrop",
        via: "pgd_free",
      },
      pte: {
        alloc: "__pte_alloc_one(mm, GFP_PGTABLE_USER): a whole 8 KiB page for 16 entries + " +
          `${ctorSpelling(kv, "pte")} (include/asm-generic/pgalloc.h)`,
        counted: "VmPTE +64 (mm_inc_nr_ptes, PTRS_PER_PTE 16 x 4) per 8 KiB page; NR_PAGETABLE +1",
        free: kv >= 615
          ? "__pte_free_tlb = tlb_remove_ptdesc: pagetable_dtor, then the page batch, freed after " +
            "the flush (arch/m68k/include/asm/sun3_pgalloc.h, asm-generic/tlb.h)"
          : `__pte_free_tlb: ${kv >= 614 ? "pagetable_dtor" : dtorSpelling(kv, "pte")} + ` +
            `${kv >= 606 ? "tlb_remove_page_ptdesc" : "tlb_remove_page"}: the page batch, freed ` +
            "after the flush (arch/m68k/include/asm/sun3_pgalloc.h)",
        via: "page-batch",
      },
    },
    notes: [
      "PGDIR_SHIFT 17: one PTE table maps 128 KiB; TASK_SIZE 0x0E000000",
      "MMU_GATHER_NO_RANGE: every gather flush is flush_tlb_mm, which walks the PMEGs of the " +
      "context (arch/m68k/include/asm/tlbflush.h); no SMP",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Configurations

const m68kGather = {
  // arch/m68k/Kconfig: select MMU_GATHER_NO_RANGE if MMU (which selects MMU_GATHER_MERGE_VMAS)
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: true,
  noRange: true,
  needsTableInvalidate: true,
};

/** The m68k configurations. */
export const m68kConfigs: ConfigSpec[] = [
  {
    name: "m68k-motorola",
    family: "m68k",
    description: "m68k 680x0 MMU (MMU_MOTOROLA), 4K pages, 3 levels of pointer tables from " +
      "page pools (PMD_SHIFT 18, PGDIR_SHIFT 25), UP",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 128, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 128, entryBytes: 4 },
      { entries: 64, entryBytes: 4 },
    ],
    // arch/m68k/include/asm/processor.h
    taskSize: 0xF000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    mmap: { legacyBase: 0xc000_0000n }, // TASK_UNMAPPED_BASE, bottom-up (asm/processor.h)
    noSplitPtlocks: true, // no SMP on m68k
    gather: m68kGather,
    ramBytes: 128 * 2 ** 20,
    dmaBytes: Infinity, // all m68k RAM is ZONE_DMA (paging_init)
    backend: motorolaBackend,
    story: motorolaStory,
  },
  {
    name: "m68k-coldfire",
    family: "m68k",
    description: "ColdFire MMU (MMU_COLDFIRE), 8K pages, 2 levels (PGDIR_SHIFT 22), page tables " +
      "from ZONE_DMA, UP",
    bits: 32,
    pageShift: 13,
    levels: [
      { entries: 1024, entryBytes: 4, tableBytes: 8192 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 512, entryBytes: 4, tableBytes: 8192 },
    ],
    taskSize: 0xC000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    mmap: { legacyBase: 0x6000_0000n }, // TASK_UNMAPPED_BASE, bottom-up
    noSplitPtlocks: true,
    gather: m68kGather,
    ramBytes: 128 * 2 ** 20,
    dmaBytes: Infinity, // all m68k RAM is ZONE_DMA (paging_init)
    backend: coldfireBackend,
    story: coldfireStory,
  },
  {
    name: "m68k-sun3",
    family: "m68k",
    description: "Sun-3 MMU (SUN3), 8K pages, 2 levels (PGDIR_SHIFT 17), 16-entry PTE tables " +
      "in whole pages, UP",
    bits: 32,
    pageShift: 13,
    levels: [
      { entries: 2048, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 16, entryBytes: 4, tableBytes: 8192 },
    ],
    taskSize: 0x0E00_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    mmap: { legacyBase: 0x0a00_0000n }, // TASK_UNMAPPED_BASE, bottom-up
    noSplitPtlocks: true,
    gather: m68kGather,
    ramBytes: 32 * 2 ** 20,
    dmaBytes: Infinity, // all m68k RAM is ZONE_DMA (paging_init)
    backend: sun3Backend,
    story: sun3Story,
  },
];
