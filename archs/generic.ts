/**
 * The asm-generic defaults (include/asm-generic/pgalloc.h, include/asm-generic/tlb.h) as a
 * backend every arch spreads, and the neutral `generic` configuration that runs them as they are.
 *
 * @module
 */

import type { Backend, FreeTlb } from "../engine/backend.ts";
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

/** The dtor of a table of `level`, if it has one in this version, then pagetable_free. */
export function tableFree(k: Machine, frame: number, level: number): void {
  if (levelHasCtor(k.kv, level)) pagetableDtor(k, frame, level);
  pagetableFree(k, frame);
}

/**
 * pgd_alloc / pgd_free for a pgd of whole pages: __get_free_pages(gfp, order), not a ptdesc and
 * never counted, until the arch moved to __pgd_alloc (pagetable_pgd_ctor, counted) in kernel
 * `pgdAllocSince` (e.g. 614; null: never in a modelled version). `level` is the root's level.
 */
export function pgdFromPages(
  opts: { order: number; gfp: number; pgdAllocSince?: number | null; level?: number },
): Pick<Backend, "pgdAlloc" | "pgdFree"> {
  const since = opts.pgdAllocSince === undefined ? 614 : opts.pgdAllocSince;
  const counted = (k: Machine) => since !== null && k.kv >= since;
  return {
    pgdAlloc(k: Machine, mm: Mm): boolean {
      if (k.trace) k.call("pgd_alloc", mm.name);
      const f = counted(k)
        ? __pgdAlloc(k, mm, opts.order)
        : k.getFreePages(opts.gfp, opts.order, Use.Table);
      if (f < 0) return false;
      installPgd(k, mm, memOf(f), opts.level ?? 0);
      return true;
    },
    pgdFree(k: Machine, mm: Mm): void {
      if (k.trace) k.call("pgd_free", mm.name);
      const f = memFrame(k.pool.mem[mm.pgd]);
      k.pool.destroy(mm.pgd);
      mm.tables[mm.top]--;
      if (counted(k)) __pgdFree(k, f);
      else k.freePages(f, opts.order);
    },
  };
}

/**
 * pgd_alloc / pgd_free for a pgd that is a kmem_cache object (`size` bytes, aligned to its size):
 * arm64 with PGD_SIZE < PAGE_SIZE, powerpc's PGT_CACHE, sh, x86 PAE.
 */
export function pgdFromCache(
  opts: { cache: string; size: number; gfp: number },
): Pick<Backend, "pgdAlloc" | "pgdFree"> {
  return {
    pgdAlloc(k: Machine, mm: Mm): boolean {
      if (k.trace) k.call("pgd_alloc", mm.name);
      const mem = k.kmemCacheAlloc(k.cache(opts.cache, opts.size), opts.gfp);
      if (mem < 0) return false;
      installPgd(k, mm, mem);
      return true;
    },
    pgdFree(k: Machine, mm: Mm): void {
      if (k.trace) k.call("pgd_free", mm.name);
      const mem = k.pool.mem[mm.pgd];
      k.pool.destroy(mm.pgd);
      mm.tables[mm.top]--;
      k.kmemCacheFree(k.cache(opts.cache, opts.size), mem);
    },
  };
}

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

/**
 * __tlb_remove_table for MMU_GATHER_TABLE_FREE: free_page_and_swap_cache (the dtor already ran)
 * before 6.14; pagetable_dtor_free from 6.14 (asm-generic/tlb.h).
 */
export function genericTlbRemoveTable(k: Machine, mem: Mem, _tag = 0): void {
  if (k.trace) k.call("__tlb_remove_table", `frame ${memFrame(mem)}`);
  if (k.kv >= 614) pagetableDtorFree(k, memFrame(mem), 4);
  else pagetableFree(k, memFrame(mem));
}

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
