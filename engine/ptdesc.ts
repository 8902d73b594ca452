/**
 * The ptdesc helpers of include/linux/mm.h: pagetable_alloc / pagetable_free, the PTE, PMD and
 * (6.7+) PUD constructors and destructors, split ptlocks and NR_PAGETABLE accounting.
 *
 * @module
 */

import { GFP, PAGE_TYPE_TABLE, PG, Use } from "./frames.ts";
import type { Machine } from "./machine.ts";

/** pagetable_alloc(gfp, order): alloc_pages(gfp | __GFP_COMP, order); -1 on failure (mm.h). */
export function pagetableAlloc(k: Machine, gfp: number, order: number): number {
  if (k.shouldFail("pagetable_alloc")) {
    if (k.trace) k.call("pagetable_alloc", `order ${order} failed (injected)`);
    return -1;
  }
  const f = k.frames.alloc(gfp | GFP.COMP, order, Use.Table);
  if (k.trace) {
    k.call("pagetable_alloc", f < 0 ? `order ${order} failed: out of memory` : `frame ${f}`);
  }
  return f;
}

/**
 * pagetable_free: __free_pages(page, compound_order(page)) (mm.h), after the checks
 * free_pages_prepare makes (mm/page_alloc.c: "Bad page state").
 */
export function pagetableFree(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_free", `frame ${frame}`);
  freeFrameChecked(k, frame, k.frames.order[frame]);
}

/** Frees frames the way free_pages_prepare would: a page still typed or mapped is "bad". */
export function freeFrameChecked(k: Machine, frame: number, order: number): void {
  const f = k.frames;
  if (f.use[frame] === Use.Free) {
    k.violate("double-free", `freeing frame ${frame}, which is already free`, { frame });
    return;
  }
  if (frame < k.pool.frameRefs.length && k.pool.frameRefs[frame] > 0) {
    k.violate(
      "freed-while-referenced",
      `pfn ${frame} freed while a page-table entry still points to a table in it`,
      { frame },
    );
  }
  if (f.fragRefcount[frame] !== 0) {
    k.violate(
      "frag-refcount",
      `pfn ${frame} freed with pt_frag_refcount ${f.fragRefcount[frame]} (must be 0)`,
      { frame },
    );
  }
  if (f.refcount[frame] >>> 24 !== 0) {
    // s390 keeps its 2K-table AA/PP bits in _refcount's upper byte; left set, free_pages_prepare
    // sees "nonzero _refcount"
    k.violate(
      "s390-frag-bits",
      `BUG: Bad page state: pfn ${frame} nonzero _refcount (fragment bits 0x${
        (f.refcount[frame] >>> 24).toString(16)
      })`,
      { frame },
    );
  }
  k.noteUnflushedFree(frame, order);
  // mm/page_alloc.c page_bad_reason(): page_type aliases _mapcount in 6.6, so a page freed with
  // PG_table still set reads as "nonzero mapcount"; mapping/_pt_s390_gaddr must be NULL.
  if (f.pageType[frame] === PAGE_TYPE_TABLE) {
    k.violate(
      "bad-page-state",
      `BUG: Bad page state: pfn ${frame} freed with page type PG_table still set (nonzero mapcount)`,
      { frame },
    );
  }
  if (f.mapping[frame] !== 0) {
    k.violate("bad-page-state", `BUG: Bad page state: pfn ${frame} non-NULL mapping`, { frame });
  }
  if (f.ptl[frame] > 0) {
    // ALLOC_SPLIT_PTLOCKS: the lock object is never given back (an inline lock just goes away
    // with the page)
    k.violate("ptlock-leak", `pfn ${frame} freed with its split ptlock still allocated`, {
      frame,
    });
    k.ptlockObjFree(f.ptl[frame]);
  }
  if (f.ptl[frame] !== 0) k.ptlocks--;
  f.free(frame, order);
}

/** ptlock_init (mm.h): initialise the table page's split lock; false if ptlock_alloc failed. */
export function ptlockInit(k: Machine, frame: number): boolean {
  if (k.frames.ptl[frame] !== 0) {
    // VM_BUG_ON_PAGE(*(unsigned long *)&ptdesc->ptl, ...) in ptlock_init
    k.violate("ptlock-reinit", `ptlock_init: pfn ${frame} already has a ptlock`, { frame });
  }
  if (k.cfg.allocSplitPtlocks) {
    // ptlock_alloc: kmem_cache_alloc(page_ptl_cachep, GFP_KERNEL) (mm/memory.c)
    const id = k.ptlockAlloc();
    if (k.trace) k.call("ptlock_alloc", id ? `ptlock ${id}` : "failed");
    if (!id) return false;
    k.frames.ptl[frame] = id;
  } else {
    k.frames.ptl[frame] = -1;
  }
  k.ptlocks++;
  return true;
}

/** ptlock_free (mm.h / mm/memory.c). */
export function ptlockFree(k: Machine, frame: number): void {
  const p = k.frames.ptl[frame];
  if (p === 0) return;
  if (p > 0) {
    if (k.trace) k.call("ptlock_free", `ptlock ${p}`);
    k.ptlockObjFree(p);
  }
  k.frames.ptl[frame] = 0;
  k.ptlocks--;
}

/** Adds (or subtracts) the folio's pages to NR_PAGETABLE: lruvec_stat_add_folio (mm.h). */
function nrPagetableAdd(k: Machine, frame: number, sign: 1 | -1): void {
  // 6.1 inc_lruvec_page_state counts 1 per table; 6.6 lruvec_stat_add_folio counts the folio
  const pages = k.kv < 606 ? 1 : 1 << k.frames.order[frame];
  k.nrPagetable += sign * pages;
  if (k.nrPagetable < 0) {
    k.violate("nr-pagetable-negative", `NR_PAGETABLE went negative (${k.nrPagetable})`, {
      frame,
    });
  }
}

/** __folio_set_pgtable + NR_PAGETABLE, the tail every ctor shares (mm.h). */
function setPgtable(k: Machine, frame: number): void {
  if (k.frames.use[frame] === Use.Slab) {
    k.violate("ctor-on-slab", `page-table ctor on pfn ${frame}, a slab page`, { frame });
  }
  if (k.frames.pageType[frame] === PAGE_TYPE_TABLE) {
    k.violate("double-ctor", `page-table ctor twice on pfn ${frame}`, { frame });
    return;
  }
  k.frames.pageType[frame] = PAGE_TYPE_TABLE;
  nrPagetableAdd(k, frame, 1);
}

/** __folio_clear_pgtable + NR_PAGETABLE, the tail every dtor shares (mm.h). */
function clearPgtable(k: Machine, frame: number, what: string): void {
  const f = k.frames;
  if (f.pageType[frame] !== PAGE_TYPE_TABLE) {
    // __folio_clear_pgtable: VM_BUG_ON_FOLIO(!folio_test_pgtable(folio)) (page-flags.h)
    if (f.flags[frame] & PG.dtord) {
      k.violate("double-dtor", `${what} twice on pfn ${frame}`, { frame });
    } else {
      k.violate("dtor-without-ctor", `${what} on pfn ${frame}, which had no ctor`, { frame });
    }
    return;
  }
  f.pageType[frame] = 0;
  f.flags[frame] |= PG.dtord;
  nrPagetableAdd(k, frame, -1);
}

/** pagetable_pte_ctor (mm.h): split PTE ptlock, PG_table, NR_PAGETABLE. */
export function pagetablePteCtor(k: Machine, frame: number): boolean {
  if (k.trace) k.call("pagetable_pte_ctor", `frame ${frame}`);
  if (k.cfg.splitPtePtlocks && !ptlockInit(k, frame)) return false;
  setPgtable(k, frame);
  return true;
}

/** pagetable_pte_dtor (mm.h). */
export function pagetablePteDtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_pte_dtor", `frame ${frame}`);
  if (k.cfg.splitPtePtlocks) ptlockFree(k, frame);
  clearPgtable(k, frame, "pagetable_pte_dtor");
}

/** pagetable_pmd_ctor (mm.h): pmd_ptlock_init (pmd_huge_pte = NULL, ptlock) only with split PMD locks. */
export function pagetablePmdCtor(k: Machine, frame: number): boolean {
  if (k.trace) k.call("pagetable_pmd_ctor", `frame ${frame}`);
  if (k.cfg.splitPmdPtlocks) {
    k.frames.pmdHugePte[frame] = 0;
    if (!ptlockInit(k, frame)) return false;
  }
  setPgtable(k, frame);
  return true;
}

/** pagetable_pmd_dtor (mm.h): pmd_ptlock_free VM_BUG_ONs a deposit left behind. */
export function pagetablePmdDtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_pmd_dtor", `frame ${frame}`);
  if (k.cfg.splitPmdPtlocks) {
    if (k.frames.pmdHugePte[frame] !== 0) {
      k.violate("pmd-huge-pte-left", `pmd_ptlock_free: pfn ${frame} still has a deposited table`, {
        frame,
      });
    }
    ptlockFree(k, frame);
  }
  clearPgtable(k, frame, "pagetable_pmd_dtor");
}

/** pagetable_pud_ctor (mm.h, 6.7+): PG_table and NR_PAGETABLE, no lock (PUD locks are the mm's). */
export function pagetablePudCtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_pud_ctor", `frame ${frame}`);
  setPgtable(k, frame);
}

/** pagetable_pud_dtor (mm.h, 6.7+). */
export function pagetablePudDtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_pud_dtor", `frame ${frame}`);
  clearPgtable(k, frame, "pagetable_pud_dtor");
}

/** pagetable_p4d_ctor (mm.h, 6.14+). */
export function pagetableP4dCtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_p4d_ctor", `frame ${frame}`);
  setPgtable(k, frame);
}

/** pagetable_pgd_ctor (mm.h, 6.14+). */
export function pagetablePgdCtor(k: Machine, frame: number): void {
  if (k.trace) k.call("pagetable_pgd_ctor", `frame ${frame}`);
  setPgtable(k, frame);
}

/** pagetable_dtor for a level without a lock (pud/p4d/pgd; 6.14 unified the dtors). */
export function pagetableDtorNoLock(k: Machine, frame: number, level: string): void {
  if (k.trace) k.call(`pagetable_${level}_dtor`, `frame ${frame}`);
  clearPgtable(k, frame, "pagetable_dtor");
}

/** Marks a frame PG_active (pte_free_defer on powerpc / s390). */
export function setPageActive(k: Machine, frame: number): void {
  k.frames.flags[frame] |= PG.active;
}

/**
 * Whether tables of `level` get a ctor (PG_table, NR_PAGETABLE) in kernel `kv`: pte and pmd
 * always, pud from 6.7 (pagetable_pud_ctor), p4d and pgd from 6.14 (include/linux/mm.h).
 */
export function levelHasCtor(kv: number, level: number): boolean {
  return level >= 3 || (level === 2 && kv >= 607) || kv >= 614;
}

/**
 * The destructor of a table of `level` (0 = pgd ... 4 = pte) in the modelled version: from 6.14
 * one pagetable_dtor serves every level (ptlock_free, PG_table, NR_PAGETABLE); before, the
 * per-level pagetable_pte_dtor / pagetable_pmd_dtor / pagetable_pud_dtor (include/linux/mm.h).
 */
export function pagetableDtor(k: Machine, frame: number, level: number): void {
  if (k.kv >= 614) {
    if (k.trace) k.call("pagetable_dtor", `frame ${frame}`);
    ptlockFree(k, frame);
    clearPgtable(k, frame, "pagetable_dtor");
    return;
  }
  if (level === 4) pagetablePteDtor(k, frame);
  else if (level === 3) pagetablePmdDtor(k, frame);
  else pagetableDtorNoLock(k, frame, ["pgd", "p4d", "pud"][level]);
}

/** pagetable_dtor_free (mm.h, 6.14+): pagetable_dtor + pagetable_free. */
export function pagetableDtorFree(k: Machine, frame: number, level: number): void {
  pagetableDtor(k, frame, level);
  pagetableFree(k, frame);
}
