/**
 * The asm-generic defaults (include/asm-generic/pgalloc.h, include/asm-generic/tlb.h) as a
 * backend every arch spreads, and the neutral `generic` configuration that runs them as they are.
 *
 * @module
 */

import type { Backend } from "../engine/backend.ts";
import { GFP, GFP_PGTABLE_USER, Use } from "../engine/frames.ts";
import {
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
import type { ConfigSpec } from "./config.ts";

/** __pte_alloc_one: pagetable_alloc + pagetable_pte_ctor; the page is freed if the ctor fails. */
export function __pteAllocOne(k: Machine, _mm: Mm, gfp: number): Mem {
  if (k.trace) k.call("__pte_alloc_one");
  const f = pagetableAlloc(k, gfp, 0);
  if (f < 0) return -1;
  if (!pagetablePteCtor(k, f)) {
    pagetableFree(k, f);
    return -1;
  }
  return memOf(f);
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
export function pmdAllocOne(k: Machine, _mm: Mm): Mem {
  if (k.trace) k.call("pmd_alloc_one");
  const f = pagetableAlloc(k, GFP_PGTABLE_USER, 0);
  if (f < 0) return -1;
  if (!pagetablePmdCtor(k, f)) {
    pagetableFree(k, f);
    return -1;
  }
  return memOf(f);
}

/** pmd_free: pagetable_pmd_dtor + pagetable_free (asm-generic/pgalloc.h). */
export function pmdFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pmd_free");
  pagetableDtorFree(k, memFrame(mem), 3);
}

/**
 * __pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0); from 6.7 also
 * pagetable_pud_ctor (asm-generic/pgalloc.h).
 */
export function pudAllocOne(k: Machine, _mm: Mm): Mem {
  if (k.trace) k.call("__pud_alloc_one");
  const f = pagetableAlloc(k, GFP_PGTABLE_USER & ~GFP.HIGHMEM, 0);
  if (f < 0) return -1;
  if (k.kv >= 607) pagetablePudCtor(k, f);
  return memOf(f);
}

/** pud_free: (6.7+ pagetable_pud_dtor +) pagetable_free (asm-generic/pgalloc.h). */
export function pudFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pud_free");
  if (k.kv >= 607) pagetableDtor(k, memFrame(mem), 2);
  pagetableFree(k, memFrame(mem));
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
 * The generic model's pgd_alloc (an arch supplies its own; there is no asm-generic one): a
 * page from __get_free_page(GFP_KERNEL), not accounted, before 6.14; __pgd_alloc from 6.14.
 */
export function genericPgdAlloc(k: Machine, mm: Mm): boolean {
  if (k.trace) k.call("pgd_alloc", mm.name);
  const f = k.kv >= 614 ? __pgdAlloc(k, mm, 0) : k.getFreePages(GFP.KERNEL, 0, Use.Table);
  if (f < 0) return false;
  installPgd(k, mm, memOf(f));
  return true;
}

/** The generic model's pgd_free. */
export function genericPgdFree(k: Machine, mm: Mm): void {
  if (k.trace) k.call("pgd_free", mm.name);
  const f = memFrame(k.pool.mem[mm.pgd]);
  k.pool.destroy(mm.pgd);
  mm.tables[0]--;
  if (k.kv >= 614) __pgdFree(k, f);
  else k.freePages(f, 0);
}

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

/**
 * __tlb_remove_table for MMU_GATHER_TABLE_FREE: free_page_and_swap_cache (the dtor already ran)
 * before 6.14; pagetable_dtor_free from 6.14 (asm-generic/tlb.h).
 */
export function genericTlbRemoveTable(k: Machine, mem: Mem): void {
  if (k.trace) k.call("__tlb_remove_table", `frame ${memFrame(mem)}`);
  if (k.kv >= 614) pagetableDtorFree(k, memFrame(mem), 4);
  else pagetableFree(k, memFrame(mem));
}

/** The asm-generic backend. */
export const genericBackend: Backend = {
  name: "asm-generic",
  pgdAlloc: genericPgdAlloc,
  pgdFree: genericPgdFree,
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
}];
