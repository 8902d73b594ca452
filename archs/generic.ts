/**
 * The asm-generic defaults (include/asm-generic/pgalloc.h, include/asm-generic/tlb.h) as a
 * backend every arch spreads, and the neutral `generic` configuration that runs them as they are.
 *
 * @module
 */

import type { AllocOne, Backend, FreeOne, FreeTlb } from "../engine/backend.ts";
import { GFP, GFP_PGTABLE_USER, Use } from "../engine/frames.ts";
import {
  type ArchConfig,
  installPgd,
  levelHasCtor,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  type Mm,
  type MmuGather,
  pagetableAlloc,
  pagetableDtor,
  pagetableDtorFree,
  pagetableFree,
  pagetableP4dCtor,
  pagetablePgdCtor,
  pagetablePmdCtor,
  pagetablePteCtor,
  pagetablePudCtor,
  tlbFlushRange,
  tlbRemovePagePtdesc,
  tlbRemovePtdesc,
} from "../engine/api.ts";
import type { ConfigSpec, LevelStory } from "./config.ts";

// ---------------------------------------------------------------------------------------------
// Tables that are ptdescs: pagetable_alloc + the level's ctor

/** Which constructor a table runs: the level's pagetable_*_ctor, or none. */
export type CtorKind = "pte" | "pmd" | "pud" | "p4d" | "pgd" | null;

/**
 * pagetable_alloc(gfp, order) and the ctor, if the level has one in this version (pud from
 * 6.7, p4d and pgd from 6.14); the page goes back when the ctor fails. Returns the frame or -1.
 */
export function tableAlloc(k: Machine, gfp: number, order: number, ctor: CtorKind): number {
  const f = pagetableAlloc(k, gfp, order);
  if (f < 0) return -1;
  switch (ctor) {
    case "pte":
      if (!pagetablePteCtor(k, f)) {
        pagetableFree(k, f);
        return -1;
      }
      break;
    case "pmd":
      if (!pagetablePmdCtor(k, f)) {
        pagetableFree(k, f);
        return -1;
      }
      break;
    case "pud":
      if (k.kv >= 607) pagetablePudCtor(k, f);
      break;
    case "p4d":
      if (k.kv >= 614) pagetableP4dCtor(k, f);
      break;
    case "pgd":
      if (k.kv >= 614) pagetablePgdCtor(k, f);
      break;
  }
  return f;
}

/**
 * The dtor of a table of `level`, if it has one in this version, then pagetable_free: the
 * pagetable_dtor_free of include/linux/mm.h (6.14), spelt dtor + free before.
 */
export function tableFree(k: Machine, frame: number, level: number): void {
  if (levelHasCtor(k.kv, level)) pagetableDtor(k, frame, level);
  pagetableFree(k, frame);
}

/**
 * A pXd_alloc_one that is pagetable_alloc(gfp, order) + the level's ctor (tableAlloc), traced as
 * `call`: the asm-generic pmd_alloc_one and __pud_alloc_one (include/asm-generic/pgalloc.h), and
 * the arch copies with other flags (loongarch and mips pmd/pud, parisc's order-1 pmd from 6.14).
 */
export function tableAllocOne(
  call: string,
  gfp: number,
  order: number,
  ctor: CtorKind,
): (k: Machine, mm: Mm) => Mem {
  return (k: Machine, _mm: Mm): Mem => {
    if (k.trace) k.call(call);
    const f = tableAlloc(k, gfp, order, ctor);
    return f < 0 ? -1 : memOf(f);
  };
}

// ---------------------------------------------------------------------------------------------
// The asm-generic allocators (include/asm-generic/pgalloc.h)

/** __pte_alloc_one: pagetable_alloc + pagetable_pte_ctor; the page is freed if the ctor fails. */
export function __pteAllocOne(k: Machine, _mm: Mm, gfp: number): Mem {
  if (k.trace) k.call("__pte_alloc_one");
  const f = tableAlloc(k, gfp, 0, "pte");
  return f < 0 ? -1 : memOf(f);
}

/** pte_alloc_one = __pte_alloc_one(mm, GFP_PGTABLE_USER) (asm-generic/pgalloc.h). */
export function pteAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pte_alloc_one");
  return __pteAllocOne(k, mm, GFP_PGTABLE_USER);
}

/** pte_free: pagetable_pte_dtor + pagetable_free (6.14+: pagetable_dtor_free). */
export function pteFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pte_free");
  pagetableDtorFree(k, memFrame(mem), 4);
}

/** pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pmd_ctor (asm-generic/pgalloc.h). */
export const pmdAllocOne = tableAllocOne("pmd_alloc_one", GFP_PGTABLE_USER, 0, "pmd");

/** pmd_free: pagetable_pmd_dtor + pagetable_free (asm-generic/pgalloc.h). */
export function pmdFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pmd_free");
  pagetableDtorFree(k, memFrame(mem), 3);
}

/**
 * __pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0); from 6.7 also
 * pagetable_pud_ctor (asm-generic/pgalloc.h).
 */
export const pudAllocOne = tableAllocOne(
  "__pud_alloc_one",
  GFP_PGTABLE_USER & ~GFP.HIGHMEM,
  0,
  "pud",
);

/** pud_free: (6.7+ pagetable_pud_dtor +) pagetable_free (asm-generic/pgalloc.h). */
export function pudFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pud_free");
  tableFree(k, memFrame(mem), 2);
}

/** __p4d_alloc_one (asm-generic/pgalloc.h, 6.14+): pagetable_alloc + pagetable_p4d_ctor. */
export function p4dAllocOne(k: Machine, _mm: Mm): Mem {
  if (k.trace) k.call("__p4d_alloc_one");
  const f = pagetableAlloc(k, GFP_PGTABLE_USER & ~GFP.HIGHMEM, 0);
  if (f < 0) return -1;
  pagetableP4dCtor(k, f);
  return memOf(f);
}

/** p4d_free (asm-generic/pgalloc.h, 6.14+): pagetable_dtor_free. */
export function p4dFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("p4d_free");
  pagetableDtorFree(k, memFrame(mem), 1);
}

/**
 * __pgd_alloc (asm-generic/pgalloc.h, 6.14+): pagetable_alloc(GFP_PGTABLE_USER & ~HIGHMEM,
 * order) + pagetable_pgd_ctor. Returns the frame or -1.
 */
export function __pgdAlloc(k: Machine, _mm: Mm, order: number): number {
  if (k.trace) k.call("__pgd_alloc", `order ${order}`);
  const f = pagetableAlloc(k, GFP_PGTABLE_USER & ~GFP.HIGHMEM, order);
  if (f < 0) return -1;
  pagetablePgdCtor(k, f);
  return f;
}

/** __pgd_free (asm-generic/pgalloc.h, 6.14+): pagetable_dtor_free. */
export function __pgdFree(k: Machine, frame: number): void {
  if (k.trace) k.call("__pgd_free");
  pagetableDtorFree(k, frame, 0);
}

/**
 * pXd_alloc_one / pXd_free of a level whose table is a plain page before kernel `since`:
 * __get_free_pages(gfp, order) (get_zeroed_page ...), traced as pXd_alloc_one / pXd_free: no
 * ptdesc, no ctor, never in NR_PAGETABLE (only in VmPTE, by mm_inc_nr_*); from `since` the
 * allocator and free `then` (a ptdesc with the level's ctor). The pattern of the riscv and x86
 * p4d (6.14), the parisc pmd (6.14) and the loongarch and mips pud (6.6) in their asm/pgalloc.h.
 */
export function pagesUntil(
  since: number,
  level: number,
  opts: { gfp: number; order?: number; then: { alloc: AllocOne; free: FreeOne } },
): { alloc: AllocOne; free: FreeOne } {
  const name = ["pgd", "p4d", "pud", "pmd", "pte"][level];
  const order = opts.order ?? 0;
  return {
    alloc(k: Machine, mm: Mm, vpn: number): Mem {
      if (k.kv >= since) return opts.then.alloc(k, mm, vpn);
      if (k.trace) k.call(`${name}_alloc_one`);
      const f = k.getFreePages(opts.gfp, order, Use.Table);
      return f < 0 ? -1 : memOf(f);
    },
    free(k: Machine, mm: Mm, mem: Mem): void {
      if (k.kv >= since) return opts.then.free(k, mm, mem);
      if (k.trace) k.call(`${name}_free`);
      k.freePages(memFrame(mem), order);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// __pXd_free_tlb

/**
 * A page-batch __pXd_free_tlb (the pattern of nios2, csky, um and the generic model): 6.6
 * runs the level's dtor now and batches the page with tlb_remove_page_ptdesc; from 6.14 the
 * arch calls tlb_remove_ptdesc, whose !MMU_GATHER_TABLE_FREE tlb_remove_table runs the
 * dtor and batches the page (asm-generic/tlb.h).
 */
export function freeTlbPageBatch(level: number) {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    const f = memFrame(mem);
    if (k.kv >= 614) {
      tlbRemovePtdesc(k, tlb, mem, level);
    } else {
      if (levelHasCtor(k.kv, level)) pagetableDtor(k, f, level);
      tlbRemovePagePtdesc(k, tlb, f);
    }
  };
}

/** A folded level's __pXd_free_tlb: nothing to free. */
export function freeTlbNothing(): void {}

/**
 * A table-batch __pXd_free_tlb (arm64, arm LPAE with SMP): up to 6.13 the dtor runs here and
 * tlb_remove_ptdesc queues the page for RCU; from 6.14 tlb_remove_ptdesc alone, the dtor running
 * in the generic __tlb_remove_table after the grace period (asm-generic/tlb.h).
 */
export function freeTlbTableBatch(level: number): FreeTlb {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    if (k.kv < 614 && levelHasCtor(k.kv, level)) pagetableDtor(k, memFrame(mem), level);
    tlbRemovePtdesc(k, tlb, mem, level);
  };
}

/**
 * A direct __pXd_free_tlb: `#define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd)`,
 * freed inside free_pgtables before any TLB flush (riscv 6.6, mips, loongarch, alpha ...).
 */
export function freeTlbDirect(level: number): FreeTlb {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    const be = k.be;
    const free = [be.pteFree, be.p4dFree, be.pudFree, be.pmdFree, be.pteFree][level];
    free(k, tlb.mm, mem);
  };
}

// ---------------------------------------------------------------------------------------------
// pgd_alloc / pgd_free

/**
 * pgd_free's bookkeeping before the arch frees the root (mm_free_pgd, kernel/fork.c): the root
 * leaves the mm's table tree and count; mm->top still names its level. Returns its memory.
 */
export function releasePgd(k: Machine, mm: Mm): Mem {
  const mem = k.pool.mem[mm.pgd];
  k.pool.destroy(mm.pgd);
  mm.tables[mm.top]--;
  mm.pgd = 0;
  return mem;
}

/** How an arch allocates and frees its root table, for {@link pgdFrom}. */
export interface PgdTable {
  /** The root's memory, or -1 (the arch's own initialisation of it included). */
  alloc(k: Machine, mm: Mm): Mem;
  /** Gives the root's memory back (after {@link releasePgd}). */
  free(k: Machine, mm: Mm, mem: Mem): void;
  /** The level of the root (default 0, the pgd; s390's follows asce_limit). */
  level?(k: Machine, mm: Mm): number;
  /** The trace names of pgd_alloc and pgd_free (sparc32: get_pgd_fast, free_pgd_fast). */
  calls?: readonly [string, string];
}

/**
 * pgd_alloc / pgd_free around an arch's root-table allocator (kernel/fork.c mm_alloc_pgd,
 * mm_free_pgd): pgd_alloc installs what `alloc` returns as mm->pgd; pgd_free (from __mmdrop)
 * releases the root and `free`s it.
 */
export function pgdFrom(t: PgdTable): Pick<Backend, "pgdAlloc" | "pgdFree"> {
  const [allocCall, freeCall] = t.calls ?? ["pgd_alloc", "pgd_free"];
  return {
    pgdAlloc(k: Machine, mm: Mm): boolean {
      if (k.trace) k.call(allocCall, mm.name);
      const mem = t.alloc(k, mm);
      if (mem < 0) return false;
      installPgd(k, mm, mem, t.level?.(k, mm) ?? 0);
      return true;
    },
    pgdFree(k: Machine, mm: Mm): void {
      if (k.trace) k.call(freeCall, mm.name);
      t.free(k, mm, releasePgd(k, mm));
    },
  };
}

/**
 * A pgd of whole pages (the arch's asm/pgalloc.h or mm/pgtable.c, then the asm-generic
 * __pgd_alloc / __pgd_free of include/asm-generic/pgalloc.h): __get_free_pages(gfp, order), not a
 * ptdesc and never counted (from kernel `pagetableAllocSince`, e.g. 606 on loongarch and mips,
 * pagetable_alloc(gfp, order) without a ctor), until the arch moved to __pgd_alloc
 * (pagetable_pgd_ctor, counted) in kernel `pgdAllocSince` (default 614; null: never in a
 * modelled version). `order` may depend on the configuration; `init` is a call traced once the
 * page is had (pgd_init).
 */
export function pgdPages(opts: {
  order: number | ((k: Machine) => number);
  gfp: number;
  pgdAllocSince?: number | null;
  pagetableAllocSince?: number;
  init?: string;
}): PgdTable {
  const since = opts.pgdAllocSince === undefined ? 614 : opts.pgdAllocSince;
  const counted = (k: Machine) => since !== null && k.kv >= since;
  const ptdesc = (k: Machine) => k.kv >= (opts.pagetableAllocSince ?? Infinity);
  const order = typeof opts.order === "number" ? () => opts.order as number : opts.order;
  return {
    alloc(k: Machine, mm: Mm): Mem {
      const f = counted(k)
        ? __pgdAlloc(k, mm, order(k))
        : ptdesc(k)
        ? pagetableAlloc(k, opts.gfp, order(k))
        : k.getFreePages(opts.gfp, order(k), Use.Table);
      if (f < 0) return -1;
      if (opts.init && k.trace) k.call(opts.init);
      return memOf(f);
    },
    free(k: Machine, _mm: Mm, mem: Mem): void {
      const f = memFrame(mem);
      if (counted(k)) __pgdFree(k, f);
      else if (ptdesc(k)) pagetableFree(k, f);
      else k.freePages(f, order(k));
    },
  };
}

/**
 * A pgd that is an object of kmem_cache `cache` (`size` bytes, aligned to its size, per
 * configuration if need be), kmem_cache_alloc / kmem_cache_free in the arch's pgd code: arm64
 * with PGD_SIZE < PAGE_SIZE (arch/arm64/mm/pgd.c), arm LPAE's kmalloc (arch/arm/mm/pgd.c), sh's
 * pgd_cache (arch/sh/mm/pgtable.c), sparc64's pgtable_cache, x86 PAE's pgd_cache.
 */
export function pgdCache(
  opts: { cache: string; size: number | ((k: Machine) => number); gfp: number },
): PgdTable {
  const size = typeof opts.size === "number" ? () => opts.size as number : opts.size;
  return {
    alloc: (k: Machine): Mem => k.kmemCacheAlloc(k.cache(opts.cache, size(k)), opts.gfp),
    free: (k: Machine, _mm: Mm, mem: Mem): void =>
      k.kmemCacheFree(k.cache(opts.cache, size(k)), mem),
  };
}

/** pgd_alloc / pgd_free for a pgd of whole pages ({@link pgdPages}). */
export function pgdFromPages(
  opts: Parameters<typeof pgdPages>[0],
): Pick<Backend, "pgdAlloc" | "pgdFree"> {
  return pgdFrom(pgdPages(opts));
}

/** pgd_alloc / pgd_free for a pgd that is a kmem_cache object ({@link pgdCache}). */
export function pgdFromCache(
  opts: Parameters<typeof pgdCache>[0],
): Pick<Backend, "pgdAlloc" | "pgdFree"> {
  return pgdFrom(pgdCache(opts));
}

// ---------------------------------------------------------------------------------------------
// tlb_flush, __tlb_remove_table

/**
 * tlb_flush for hardware that broadcasts TLB invalidations (arm64 TLBI IS, powerpc tlbie, s390
 * IDTE, ARMv7 SMP): the generic decision between a whole-mm and a range flush, no IPIs.
 */
export function broadcastTlbFlush(k: Machine, tlb: MmuGather): void {
  const all = tlb.fullmm || tlb.needFlushAll || k.cfg.gather.noRange;
  if (!all && tlb.end === 0) return;
  k.tlbFlushed(
    tlb.mm,
    all ? "flush_tlb_mm" : "flush_tlb_range",
    all ? "all" : "range",
    false,
    true,
  );
}

/**
 * The generic tlb_flush (asm-generic/tlb.h): flush_tlb_mm for fullmm or need_flush_all (and
 * for MMU_GATHER_NO_RANGE), else flush_tlb_range over the gathered range.
 */
export function genericTlbFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.fullmm || tlb.needFlushAll || k.cfg.gather.noRange) {
    k.tlbFlushed(tlb.mm, "flush_tlb_mm", "all", false);
  } else if (tlb.end > 0) {
    tlbFlushRange(k, tlb, "flush_tlb_range");
  }
}

/** What {@link genericTlbFlushBy} hands the arch's flush. */
export interface GenericFlush {
  /** fullmm || need_flush_all: the whole mm. */
  all: boolean;
  /** The function the generic tlb_flush calls: flush_tlb_mm (all) or flush_tlb_range. */
  fn: "flush_tlb_mm" | "flush_tlb_range";
  /** "all", or the gathered range in pages (tlb->start..end). */
  what: string;
}

/**
 * The generic tlb_flush (asm-generic/tlb.h) over an arch's own flush_tlb_mm / flush_tlb_range
 * (arm, sh, xtensa, arc, parisc; openrisc and alpha, NO_RANGE, flush the whole mm either way):
 * nothing for an empty range, else `flush` with the decision ({@link GenericFlush}).
 */
export function genericTlbFlushBy(
  flush: (k: Machine, tlb: MmuGather, f: GenericFlush) => void,
): (k: Machine, tlb: MmuGather) => void {
  return (k: Machine, tlb: MmuGather): void => {
    const all = tlb.fullmm || tlb.needFlushAll;
    if (!all && tlb.end === 0) return;
    flush(k, tlb, {
      all,
      fn: all ? "flush_tlb_mm" : "flush_tlb_range",
      what: all ? "all" : `${tlb.end - tlb.start} page(s)`,
    });
  };
}

/**
 * __tlb_remove_table for MMU_GATHER_TABLE_FREE: free_page_and_swap_cache (the dtor already ran)
 * before 6.14; pagetable_dtor_free from 6.14 (asm-generic/tlb.h).
 */
export function genericTlbRemoveTable(k: Machine, mem: Mem, _tag = 0): void {
  if (k.trace) k.call("__tlb_remove_table", `frame ${memFrame(mem)}`);
  if (k.kv >= 614) pagetableDtorFree(k, memFrame(mem), 4);
  else pagetableFree(k, memFrame(mem));
}

// ---------------------------------------------------------------------------------------------
// Stories (`ptlab explain`) of the asm-generic paths

/** The version spelling of a level's ctor (include/linux/mm.h): pgtable_X_page_ctor in 6.1. */
export function ctorSpelling(kv: number, lvl: string): string {
  return kv >= 606 ? `pagetable_${lvl}_ctor` : `pgtable_${lvl}_page_ctor`;
}

/** The version spelling of a level's dtor (include/linux/mm.h): one pagetable_dtor from 6.14. */
export function dtorSpelling(kv: number, lvl: string): string {
  return kv >= 614
    ? "pagetable_dtor"
    : kv >= 606
    ? `pagetable_${lvl}_dtor`
    : `pgtable_${lvl}_page_dtor`;
}

/**
 * A pgd of one page ({@link pgdPages}): the arch's `page` allocator until 6.14, then `pgdAlloc`
 * (__pgd_alloc, pagetable_pgd_ctor: counted), `rest` saying what pgd_alloc does with it and where;
 * freed by the asm-generic pgd_free (include/asm-generic/pgalloc.h).
 */
export function pagePgdStory(
  kv: number,
  page: string,
  rest: string,
  pgdAlloc = "__pgd_alloc(mm, 0)",
): LevelStory {
  return {
    alloc: (kv >= 614 ? pgdAlloc : page) + rest,
    counted: kv >= 614 ? "NR_PAGETABLE +1 (pagetable_pgd_ctor, 6.14+); never VmPTE" : "never",
    free: "pgd_free at __mmdrop (include/asm-generic/pgalloc.h)",
    via: "pgd_free",
  };
}

/** The story note of an arch without MMU_GATHER_MERGE_VMAS (asm-generic/tlb.h tlb_end_vma). */
export const NO_MERGE_VMAS_NOTE =
  "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at each VMA (asm-generic/tlb.h)";

/** __pte_alloc_one (include/asm-generic/pgalloc.h), in words. */
export const GENERIC_PTE_ALLOC = "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + " +
  "pagetable_pte_ctor (include/asm-generic/pgalloc.h)";

/** pmd_alloc_one (include/asm-generic/pgalloc.h), in words. */
export const GENERIC_PMD_ALLOC = "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + " +
  "pagetable_pmd_ctor (include/asm-generic/pgalloc.h)";

/**
 * A PTE table that mm_inc_nr_ptes counts in VmPTE (PTRS_PER_PTE * sizeof(pte_t)) and its ctor in
 * NR_PAGETABLE (include/linux/mm.h): `free` says how __pte_free_tlb frees it; `alloc` defaults
 * to __pte_alloc_one.
 */
export function pteStory(
  cfg: ArchConfig,
  free: Pick<LevelStory, "free" | "via">,
  alloc = GENERIC_PTE_ALLOC,
): LevelStory {
  return {
    alloc,
    counted: `VmPTE +${cfg.levels[4].pgtablesBytes} (mm_inc_nr_ptes); NR_PAGETABLE +1`,
    ...free,
  };
}

/**
 * A page-batch __pte_free_tlb ({@link freeTlbPageBatch}, asm-generic/tlb.h) in words: the dtor
 * and tlb_remove_page_ptdesc, tlb_remove_ptdesc from 6.15; `header` is the arch's asm/pgalloc.h.
 */
export function pageBatchFreeStory(kv: number, header: string): Pick<LevelStory, "free" | "via"> {
  return {
    free: kv >= 615
      ? `__pte_free_tlb: tlb_remove_ptdesc -> pagetable_dtor + the page batch (${header}, ` +
        "asm-generic/tlb.h)"
      : `__pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, the page batch (${header})`,
    via: "page-batch",
  };
}

/**
 * A direct __pXd_free_tlb = pXd_free ({@link freeTlbDirect}: freed inside mm/memory.c's
 * free_pgtables) in words; `header` is the arch's file that #defines it.
 */
export function directFreeStory(lvl: string, header: string): Pick<LevelStory, "free" | "via"> {
  return {
    free: `__${lvl}_free_tlb = ${lvl}_free: freed at once inside free_pgtables, before the TLB ` +
      `flush (${header})`,
    via: "direct",
  };
}

// ---------------------------------------------------------------------------------------------
// The asm-generic backend and configuration

/** The asm-generic backend. */
export const genericBackend: Backend = {
  name: "asm-generic",
  // no asm-generic pgd_alloc exists: the generic model takes the common pattern, a page from
  // __get_free_page(GFP_KERNEL) (never counted) until __pgd_alloc (6.14)
  ...pgdFromPages({ order: 0, gfp: GFP.KERNEL, pgdAllocSince: 614 }),
  p4dAllocOne,
  pudAllocOne,
  pmdAllocOne,
  pteAllocOne,
  p4dFree,
  pudFree,
  pmdFree,
  pteFree,
  p4dFreeTlb: freeTlbPageBatch(1),
  pudFreeTlb: freeTlbPageBatch(2),
  pmdFreeTlb: freeTlbPageBatch(3),
  pteFreeTlb: freeTlbPageBatch(4),
  tlbFlush: genericTlbFlush,
  tlbRemoveTable: genericTlbRemoveTable,
};

/** The neutral asm-generic configuration: 4K pages, 4 levels of 512 8-byte entries, p4d folded. */
export const genericConfigs: ConfigSpec[] = [{
  name: "generic",
  family: "asm-generic",
  description:
    "asm-generic pgalloc.h/tlb.h defaults: 4K pages, 4 levels (p4d folded), 512 x 8-byte entries, " +
    "page-batch freeing with the dtor at __pXd_free_tlb time",
  bits: 64,
  pageShift: 12,
  levels: [
    { entries: 512, entryBytes: 8 },
    { entries: 1, entryBytes: 8, folded: "compile" },
    { entries: 512, entryBytes: 8 },
    { entries: 512, entryBytes: 8 },
    { entries: 512, entryBytes: 8 },
  ],
  taskSize: 1n << 47n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: false,
    noRange: false,
    needsTableInvalidate: true,
  },
  ramBytes: 64 * 2 ** 30,
  backend: genericBackend,
  story: (_cfg, kv) => ({
    levels: {
      pgd: {
        alloc: kv >= 614
          ? "__pgd_alloc: pagetable_alloc + pagetable_pgd_ctor (include/asm-generic/pgalloc.h)"
          : "__get_free_page(GFP_KERNEL) (no generic pgd_alloc exists: the pattern most arches use)",
        counted: kv >= 614 ? "NR_PAGETABLE (6.14+); never VmPTE" : "never",
        free: "pgd_free at __mmdrop",
        via: "pgd_free",
      },
      pud: {
        alloc: "__pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0)" +
          (kv >= 607 ? " + pagetable_pud_ctor (6.7)" : "") + " (include/asm-generic/pgalloc.h)",
        counted: "VmPTE +4096 (mm_inc_nr_puds)" + (kv >= 607 ? "; NR_PAGETABLE +1" : ""),
        free: "__pud_free_tlb: tlb_remove_page_ptdesc, the page batch (asm-generic/tlb.h)",
        via: "page-batch",
      },
      pmd: {
        alloc: "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pmd_ctor",
        counted: "VmPTE +4096 (mm_inc_nr_pmds); NR_PAGETABLE +1",
        free: "__pmd_free_tlb: pagetable_pmd_dtor + tlb_remove_page_ptdesc, the page batch",
        via: "page-batch",
      },
      pte: {
        alloc: "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor",
        counted: "VmPTE +4096 (mm_inc_nr_ptes); NR_PAGETABLE +1",
        free: "__pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, the page batch",
        via: "page-batch",
      },
    },
    notes: [
      "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at every VMA; flush_tlb_range IPIs the " +
      "other CPUs running the mm (asm-generic/tlb.h)",
    ],
  }),
}];
