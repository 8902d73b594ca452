/**
 * powerpc: arch/powerpc/mm/pgtable-frag.c, arch/powerpc/mm/book3s64/{pgtable,mmu_context,
 * radix_tlb,hash_tlb}.c, arch/powerpc/include/asm/{pgalloc,tlb}.h and the book3s/64, book3s/32
 * and nohash pgalloc.h headers, over the asm-generic defaults. Six configurations: Book3S-64 with
 * the Radix MMU and with the hash MMU, each with 4K and 64K pages; 32-bit Book3S (603/604) and the
 * 8xx with 16K pages.
 *
 * The rules that make powerpc different:
 * - PTE tables (every configuration) and PMD tables (Book3S-64) are fragments of a page
 *   (pte_fragment_alloc / pmd_fragment_alloc). The first fragment of a fresh page is handed out
 *   and the rest cached in mm->context.pte_frag / pmd_frag; pt_frag_refcount starts at FRAG_NR
 *   (every fragment pre-counted) and drops by one per fragment freed, and by the unused tail in
 *   arch_exit_mmap (pte_frag_destroy / pmd_frag_destroy). The ctor (PG_table, ptlock,
 *   NR_PAGETABLE) runs once per page when it is allocated, the dtor once when the refcount hits 0.
 *   So VmPTE (mm_dec_nr_ptes) drops per table at once, nr_page_table_pages only when the whole
 *   page, cached tail included, is free.
 * - Every level is freed through pgtable_free_tlb(tlb, table, index): the index in the pointer's
 *   low 4 bits, tlb_remove_table (the RCU table batch), __tlb_remove_table -> pgtable_free after
 *   the grace period. PUD (and the hash/32-bit pgd) come from the PGT_CACHE kmem_caches: never a
 *   ptdesc, never in NR_PAGETABLE, in no kernel version (no pagetable_pud_ctor, no __pgd_alloc).
 * - tlb_needs_table_invalidate() is radix_enabled(). Flushes are tlbie broadcasts (Radix, hash,
 *   603/604) or local (8xx is UP); Radix sends IPIs only to trim mm_cpumask (exit_flush_lazy_tlbs)
 *   and, from 6.6, with the exit flush; 6.4+ cleanup_lazy_tlbs IPIs what is left in mm_cpumask.
 *
 * What differs by version (kv = 606 for 6.6 ...): the struct page API and +1 NR_PAGETABLE per
 * table in 6.1 (the same figures for order-0 pages); pte_free_defer (PG_active -> call_rcu) from
 * 6.6; MMU_LAZY_TLB_SHOOTDOWN (6.4) and the Radix exit flush that shoots the lazy CPUs (6.6);
 * pagetable_dtor for every level from 6.14. Nothing else on these paths moved through 6.18.
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_KERNEL_ACCOUNT,
  GFP_PGTABLE_KERNEL,
  GFP_PGTABLE_USER,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  memSlot,
  type Mm,
  type MmuGather,
  PG,
  setPageActive,
  tlbRemoveTable,
  Use,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  ctorSpelling,
  dtorSpelling,
  genericBackend,
  pgdFrom,
  tableAlloc,
  tableFree,
} from "./generic.ts";

// ---------------------------------------------------------------------------------------------
// Variants

/** The MMU / platform of a configuration. */
type Mmu = "radix" | "hash" | "book3s32" | "8xx";

/** What a powerpc configuration's code paths depend on. */
interface Variant {
  /** The MMU (radix_enabled(), CONFIG_PPC_BOOK3S_32, CONFIG_PPC_8xx). */
  mmu: Mmu;
  /** PTE_FRAG_NR: PTE tables per page. */
  pteFragNr: number;
  /** PMD_FRAG_NR: PMD tables per page (0: no PMD level). */
  pmdFragNr: number;
  /** The pgd: pages of an order (radix__pgd_alloc) or PGT_CACHE(index size). */
  pgd: { pages: number } | { cache: number };
  /** PUD_CACHE_INDEX: PGT_CACHE of the PUD tables (0: no PUD level). */
  pudCache: number;
  /** sizeof(pgd_t): PGT_CACHE(shift) objects are sizeof(pgd_t) << shift (mm/init-common.c). */
  pgdT: number;
}

const VARIANTS: Record<string, Variant> = {
  // book3s/64/radix-4k.h: 13/9/9/9; RADIX_PTE_FRAG_NR = RADIX_PMD_FRAG_NR = PAGE_SIZE >> 12 = 1
  "radix-4k": { mmu: "radix", pteFragNr: 1, pmdFragNr: 1, pgd: { pages: 4 }, pudCache: 9, pgdT: 8 },
  // book3s/64/radix-64k.h: 13/9/9/5; 256-byte PTE fragments (256 a page), 4K PMD ones (16)
  "radix-64k": {
    mmu: "radix",
    pteFragNr: 256,
    pmdFragNr: 16,
    pgd: { pages: 0 },
    pudCache: 9,
    pgdT: 8,
  },
  // book3s/64/hash-4k.h: 9/7/9/9; 1K PMD fragments (4 a page), one PTE table a page
  "hash-4k": { mmu: "hash", pteFragNr: 1, pmdFragNr: 4, pgd: { cache: 9 }, pudCache: 9, pgdT: 8 },
  // book3s/64/hash-64k.h: 8/10/10/8; a PTE fragment is 2K of PTEs + 2K of hash slots (16 a page),
  // a PMD fragment 8K of PMDs + 8K of deposit slots with THP/HUGETLB (4 a page);
  // H_PUD_CACHE_INDEX = 10 + 1 with HUGETLB_PAGE (book3s/64/hash.h)
  "hash-64k": {
    mmu: "hash",
    pteFragNr: 16,
    pmdFragNr: 4,
    pgd: { cache: 8 },
    pudCache: 11,
    pgdT: 8,
  },
  // book3s/32/pgtable.h: 1024 x 4-byte pgd and pte; PTE_FRAG_NR 1 (asm/pgtable.h default)
  "book3s32": {
    mmu: "book3s32",
    pteFragNr: 1,
    pmdFragNr: 0,
    pgd: { cache: 10 },
    pudCache: 0,
    pgdT: 4,
  },
  // nohash/32/mmu-8xx.h: PTE_FRAG_NR 4, PTE_FRAG_SIZE_SHIFT 12 with 16K pages; PGD_INDEX_SIZE 10
  "8xx-16k": { mmu: "8xx", pteFragNr: 4, pmdFragNr: 0, pgd: { cache: 10 }, pudCache: 0, pgdT: 4 },
};

function variant(k: Machine): Variant {
  return VARIANTS[k.cfg.archData.variant as string];
}

const isBook3s64 = (v: Variant) => v.mmu === "radix" || v.mmu === "hash";

/** enum pgtable_index (arch/powerpc/include/asm/book3s/64/pgtable.h). */
const PTE_INDEX = 0, PMD_INDEX = 1, PUD_INDEX = 2;
const INDEX_NAMES = ["PTE_INDEX", "PMD_INDEX", "PUD_INDEX"];

/** PGALLOC_GFP = GFP_KERNEL | __GFP_ZERO (arch/powerpc/include/asm/pgalloc.h). */
const PGALLOC_GFP = GFP_PGTABLE_KERNEL;

/** PGT_CACHE(shift): kmem_cache "pgtable-2^shift" of sizeof(pgd_t) << shift bytes (mm/init-common.c). */
function pgtCache(k: Machine, shift: number) {
  return k.cache(`pgtable-2^${shift}`, variant(k).pgdT << shift);
}

// ---------------------------------------------------------------------------------------------
// mm->context: the fragment caches

/** mm->context.pte_frag: the next unused PTE fragment of the cached page, or -1 (NULL). */
function pteFragGet(mm: Mm): Mem {
  return (mm.context.pteFrag as number | undefined) ?? -1;
}

/** mm->context.pmd_frag, or -1. */
function pmdFragGet(mm: Mm): Mem {
  return (mm.context.pmdFrag as number | undefined) ?? -1;
}

/**
 * init_new_context: pte_frag = pmd_frag = NULL (arch/powerpc/mm/book3s64/mmu_context.c; 32-bit:
 * the context starts zeroed). dup_mm copies the parent's mm_struct, so the child must not
 * inherit the parent's caches.
 */
function ppcInitNewContext(_k: Machine, mm: Mm): void {
  mm.context = { pteFrag: -1, pmdFrag: -1 };
}

/**
 * Takes the next fragment from a cache (get_pte_from_cache / get_pmd_from_cache): advance by one
 * fragment, NULL when the page end is reached (pgtable-frag.c, book3s64/pgtable.c).
 */
function fragFromCache(mm: Mm, key: "pteFrag" | "pmdFrag", nr: number): Mem {
  const ret = (mm.context[key] as number | undefined) ?? -1;
  if (ret < 0) return -1;
  const next = memSlot(ret) + 1;
  mm.context[key] = next === nr ? -1 : memOf(memFrame(ret), next);
  return ret;
}

/**
 * The fragment-page tail shared by __alloc_for_ptecache and __alloc_for_pmdcache: refcount 1;
 * with more than one fragment a page, refcount FRAG_NR and the rest of the page cached in the
 * context, unless a racing fault cached one first (pgtable-frag.c, book3s64/pgtable.c).
 */
function cacheFreshPage(k: Machine, mm: Mm, frame: number, key: "pteFrag" | "pmdFrag", nr: number) {
  k.frames.fragRefcount[frame] = 1;
  if (nr === 1) return;
  if (((mm.context[key] as number | undefined) ?? -1) < 0) {
    k.frames.fragRefcount[frame] = nr;
    mm.context[key] = memOf(frame, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// PTE fragments (arch/powerpc/mm/pgtable-frag.c)

/**
 * pte_fragment_alloc(mm, 0): a cached fragment, else a fresh page: pagetable_alloc(PGALLOC_GFP |
 * __GFP_ACCOUNT, 0) + pagetable_pte_ctor (6.1: alloc_page + pgtable_pte_page_ctor), once per
 * page (pgtable-frag.c).
 */
function pteFragmentAlloc(k: Machine, mm: Mm): Mem {
  const v = variant(k);
  if (k.trace) k.call("pte_fragment_alloc", mm.name);
  if (k.shouldFail("pte_fragment_alloc")) return -1;
  // get_pte_from_cache: nothing to take when PTE_FRAG_NR == 1
  if (v.pteFragNr > 1) {
    const ret = fragFromCache(mm, "pteFrag", v.pteFragNr);
    if (ret >= 0) {
      if (k.trace) k.call("get_pte_from_cache", `frame ${memFrame(ret)} fragment ${memSlot(ret)}`);
      return ret;
    }
  }
  // __alloc_for_ptecache
  const f = tableAlloc(k, PGALLOC_GFP | GFP.ACCOUNT, 0, "pte");
  if (f < 0) return -1;
  cacheFreshPage(k, mm, f, "pteFrag", v.pteFragNr);
  return memOf(f, 0);
}

/** pte_free_now: pagetable_pte_dtor (6.14: pagetable_dtor) + pagetable_free (pgtable-frag.c). */
function pteFreeNow(k: Machine, frame: number): void {
  tableFree(k, frame, 4);
}

/**
 * pte_fragment_free(table, 0): drop one pt_frag_refcount; at 0 the dtor and the free, through
 * call_rcu when pte_free_defer marked the page PG_active (6.6+) (pgtable-frag.c).
 */
function pteFragmentFree(k: Machine, mem: Mem): void {
  const f = memFrame(mem);
  if (k.trace) k.call("pte_fragment_free", `frame ${f} fragment ${memSlot(mem)}`);
  const fr = k.frames.fragRefcount;
  if (fr[f] <= 0) {
    // BUG_ON(atomic_read(&ptdesc->pt_frag_refcount) <= 0)
    k.violate("frag-refcount", `pte_fragment_free: pfn ${f} has pt_frag_refcount ${fr[f]}`, {
      frame: f,
    });
    return;
  }
  if (--fr[f] > 0) return;
  // folio_test_clear_active (6.6+): a page pte_free_defer marked is freed after a grace period
  if (k.kv >= 606 && k.frames.flags[f] & PG.active) {
    k.frames.flags[f] &= ~PG.active;
    k.callRcu([memOf(f)], () => pteFreeNow(k, f));
    return;
  }
  pteFreeNow(k, f);
}

/**
 * pte_frag_destroy: drop the PTE_FRAG_NR - index references of the never handed out fragments;
 * at 0, folio_clear_active (6.6+), the dtor and the free (pgtable-frag.c).
 */
function pteFragDestroy(k: Machine, frag: Mem): void {
  const f = memFrame(frag);
  const drop = variant(k).pteFragNr - memSlot(frag);
  if (k.trace) k.call("pte_frag_destroy", `frame ${f}: ${drop} unused fragment(s)`);
  k.frames.fragRefcount[f] -= drop;
  if (k.frames.fragRefcount[f] === 0) {
    k.frames.flags[f] &= ~PG.active;
    pteFreeNow(k, f);
  }
}

/**
 * pte_free_defer (pgtable-frag.c, 6.6+): folio_set_active + pte_fragment_free, so the last
 * fragment's page goes through call_rcu (khugepaged retract_page_tables). 6.1 has no
 * pte_free_defer: khugepaged freed a retracted table with pte_free after
 * tlb_remove_table_sync_one (mm/khugepaged.c).
 */
export function pteFreeDefer(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.kv >= 606) {
    if (k.trace) k.call("pte_free_defer", `frame ${memFrame(mem)}`);
    setPageActive(k, memFrame(mem));
  }
  pteFragmentFree(k, mem);
}

// ---------------------------------------------------------------------------------------------
// PMD fragments (arch/powerpc/mm/book3s64/pgtable.c)

/**
 * pmd_fragment_alloc: a cached fragment, else a fresh page: pagetable_alloc(GFP_KERNEL_ACCOUNT |
 * __GFP_ZERO, 0) + pagetable_pmd_ctor, once per page (book3s64/pgtable.c).
 */
function pmdFragmentAlloc(k: Machine, mm: Mm): Mem {
  const v = variant(k);
  if (k.trace) k.call("pmd_fragment_alloc", mm.name);
  if (k.shouldFail("pmd_fragment_alloc")) return -1;
  if (v.pmdFragNr > 1) {
    const ret = fragFromCache(mm, "pmdFrag", v.pmdFragNr);
    if (ret >= 0) {
      if (k.trace) k.call("get_pmd_from_cache", `frame ${memFrame(ret)} fragment ${memSlot(ret)}`);
      return ret;
    }
  }
  // __alloc_for_pmdcache
  const f = tableAlloc(k, GFP_KERNEL_ACCOUNT | GFP.ZERO, 0, "pmd");
  if (f < 0) return -1;
  cacheFreshPage(k, mm, f, "pmdFrag", v.pmdFragNr);
  return memOf(f, 0);
}

/** pmd_fragment_free: drop one reference; at 0 pagetable_pmd_dtor + pagetable_free (book3s64/pgtable.c). */
function pmdFragmentFree(k: Machine, mem: Mem): void {
  const f = memFrame(mem);
  if (k.trace) k.call("pmd_fragment_free", `frame ${f} fragment ${memSlot(mem)}`);
  const fr = k.frames.fragRefcount;
  if (fr[f] <= 0) {
    k.violate("frag-refcount", `pmd_fragment_free: pfn ${f} has pt_frag_refcount ${fr[f]}`, {
      frame: f,
    });
    return;
  }
  if (--fr[f] > 0) return;
  tableFree(k, f, 3);
}

/** pmd_frag_destroy: drop the PMD_FRAG_NR - index unused references (book3s64/mmu_context.c). */
function pmdFragDestroy(k: Machine, frag: Mem): void {
  const f = memFrame(frag);
  const drop = variant(k).pmdFragNr - memSlot(frag);
  if (k.trace) k.call("pmd_frag_destroy", `frame ${f}: ${drop} unused fragment(s)`);
  k.frames.fragRefcount[f] -= drop;
  if (k.frames.fragRefcount[f] === 0) tableFree(k, f, 3);
}

/**
 * arch_exit_mmap -> destroy_pagetable_cache (book3s64/mmu_context.c; the 32-bit arch_exit_mmap in
 * arch/powerpc/mm/mmu_context.c drops the PTE cache only): the cached tails go at the start of
 * exit_mmap.
 */
function destroyPagetableCache(k: Machine, mm: Mm): void {
  if (k.trace) k.call("arch_exit_mmap", `${mm.name}: destroy_pagetable_cache`);
  const pte = pteFragGet(mm);
  if (pte >= 0) pteFragDestroy(k, pte);
  const pmd = pmdFragGet(mm);
  if (pmd >= 0) pmdFragDestroy(k, pmd);
  mm.context.pteFrag = -1;
  mm.context.pmdFrag = -1;
}

/** Frames the mm's fragment caches keep (the leak check counts them as owned). */
function ppcCachedFrames(_k: Machine, mm: Mm): number[] {
  const out: number[] = [];
  const pte = pteFragGet(mm);
  if (pte >= 0) out.push(memFrame(pte));
  const pmd = pmdFragGet(mm);
  if (pmd >= 0) out.push(memFrame(pmd));
  return out;
}

// ---------------------------------------------------------------------------------------------
// pgd, pud

/**
 * pgd_alloc: Radix alloc_pages(PGALLOC_GFP | __GFP_RETRY_MAYFAIL, 4) with 4K pages and
 * __get_free_page with 64K (book3s/64/pgalloc.h radix__pgd_alloc); hash, 603/604 and 8xx a
 * PGT_CACHE(PGD_INDEX_SIZE) object, pgtable_gfp_flags(GFP_KERNEL) (book3s/64, book3s/32 and
 * nohash pgalloc.h). Never a ptdesc, never counted: powerpc never moved to __pgd_alloc. pgd_free:
 * free_pages / kmem_cache_free.
 */
const ppcPgd = pgdFrom({
  alloc(k: Machine): Mem {
    const v = variant(k);
    if ("pages" in v.pgd) {
      const f = k.getFreePages(GFP_PGTABLE_USER | GFP.RETRY_MAYFAIL, v.pgd.pages, Use.Table);
      return f < 0 ? -1 : memOf(f);
    }
    // pgtable_gfp_flags(mm, GFP_KERNEL): __GFP_ACCOUNT for a user mm (asm/pgalloc.h)
    return k.kmemCacheAlloc(pgtCache(k, v.pgd.cache), GFP_KERNEL_ACCOUNT);
  },
  free(k: Machine, _mm: Mm, mem: Mem): void {
    const v = variant(k);
    if ("pages" in v.pgd) k.freePages(memFrame(mem), v.pgd.pages);
    else k.kmemCacheFree(pgtCache(k, v.pgd.cache), mem);
  },
});

/**
 * __mmdrop (kernel/fork.c) as far as powerpc is concerned: cleanup_lazy_tlbs
 * (MMU_LAZY_TLB_SHOOTDOWN, Book3S-64 from 6.4: an IPI to every other CPU still in mm_cpumask),
 * then pgd_free. (A pgd_alloc that failed half way has no fragment cached yet; exit_mmap's
 * arch_exit_mmap emptied them otherwise.)
 */
function ppcPgdFree(k: Machine, mm: Mm): void {
  if (isBook3s64(variant(k)) && k.kv >= 606) {
    // cleanup_lazy_tlbs: on_each_cpu_mask(mm_cpumask(mm), do_shoot_lazy_tlb) (kernel/fork.c)
    const n = k.flushIpis(mm, true);
    if (k.trace) k.call("cleanup_lazy_tlbs", `${mm.name}: ${n} IPI(s)`);
  }
  ppcPgd.pgdFree(k, mm);
}

/**
 * pud_alloc_one: kmem_cache_alloc(PGT_CACHE(PUD_CACHE_INDEX), pgtable_gfp_flags(GFP_KERNEL)), no
 * ctor in any version (book3s/64/pgalloc.h).
 */
function ppcPudAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pud_alloc_one", mm.name);
  return k.kmemCacheAlloc(pgtCache(k, variant(k).pudCache), GFP_KERNEL_ACCOUNT);
}

/** __pud_free: kmem_cache_free(PGT_CACHE(PUD_CACHE_INDEX)) (book3s/64/pgalloc.h). */
function __pudFree(k: Machine, mem: Mem): void {
  if (k.trace) k.call("__pud_free", `frame ${memFrame(mem)}`);
  k.kmemCacheFree(pgtCache(k, variant(k).pudCache), mem);
}

// ---------------------------------------------------------------------------------------------
// Freeing through the gather

/**
 * pgtable_free_tlb: the table pointer | index (BUG_ON(index > MAX_PGTABLE_INDEX_SIZE = 0xf)) to
 * tlb_remove_table, the RCU table batch (book3s64/pgtable.c; book3s/32 and nohash pgalloc.h,
 * where the "index" is the PGT_CACHE shift, 0 for a PTE fragment).
 */
function pgtableFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, index: number): void {
  if (k.trace) {
    const what = isBook3s64(variant(k)) ? INDEX_NAMES[index] : `shift ${index}`;
    k.call("pgtable_free_tlb", `frame ${memFrame(mem)} ${what}`);
  }
  tlbRemoveTable(k, tlb, mem, index);
}

/**
 * __tlb_remove_table -> pgtable_free(table, index): PTE_INDEX pte_fragment_free, PMD_INDEX
 * pmd_fragment_free, PUD_INDEX __pud_free, anything else BUG (book3s64/pgtable.c: "We don't free
 * pgd table via RCU callback"); 32-bit: shift 0 pte_fragment_free, else
 * kmem_cache_free(PGT_CACHE(shift)) (book3s/32/pgalloc.h, nohash/pgalloc.h).
 */
function ppcTlbRemoveTable(k: Machine, mem: Mem, index: number): void {
  if (k.trace) k.call("__tlb_remove_table", `frame ${memFrame(mem)} index ${index}`);
  if (!isBook3s64(variant(k))) {
    if (index === 0) pteFragmentFree(k, mem);
    else k.kmemCacheFree(pgtCache(k, index), mem);
    return;
  }
  switch (index) {
    case PTE_INDEX:
      return pteFragmentFree(k, mem);
    case PMD_INDEX:
      return pmdFragmentFree(k, mem);
    case PUD_INDEX:
      return __pudFree(k, mem);
    default:
      k.violate("pgtable-free-index", `pgtable_free: BUG() on index ${index}`, {
        frame: memFrame(mem),
      });
  }
}

/** __pte_free_tlb: pgtable_free_tlb(tlb, table, PTE_INDEX) (book3s/64, book3s/32, nohash pgalloc.h). */
function ppcPteFreeTlb(k: Machine, tlb: MmuGather, mem: Mem): void {
  pgtableFreeTlb(k, tlb, mem, PTE_INDEX);
}

/** __pmd_free_tlb: pgtable_free_tlb(tlb, pmd, PMD_INDEX) (book3s/64/pgalloc.h). */
function ppcPmdFreeTlb(k: Machine, tlb: MmuGather, mem: Mem): void {
  pgtableFreeTlb(k, tlb, mem, PMD_INDEX);
}

/** __pud_free_tlb: pgtable_free_tlb(tlb, pud, PUD_INDEX) (book3s/64/pgalloc.h). */
function ppcPudFreeTlb(k: Machine, tlb: MmuGather, mem: Mem): void {
  pgtableFreeTlb(k, tlb, mem, PUD_INDEX);
}

/** pte_alloc_one: pte_fragment_alloc(mm, 0) (asm/pgalloc.h). */
function ppcPteAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pte_alloc_one");
  return pteFragmentAlloc(k, mm);
}

/** pte_free: pte_fragment_free(table, 0), at once (asm/pgalloc.h): THP's zap_deposited_table. */
function ppcPteFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pte_free");
  pteFragmentFree(k, mem);
}

/** pmd_alloc_one: pmd_fragment_alloc (book3s/64/pgalloc.h). */
function ppcPmdAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pmd_alloc_one");
  return pmdFragmentAlloc(k, mm);
}

/** pmd_free: pmd_fragment_free (book3s/64/pgalloc.h). */
function ppcPmdFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pmd_free");
  pmdFragmentFree(k, mem);
}

/** pud_free: __pud_free (book3s/64/pgalloc.h). */
function ppcPudFree(k: Machine, _mm: Mm, mem: Mem): void {
  __pudFree(k, mem);
}

// ---------------------------------------------------------------------------------------------
// TLB flushes

/** mm_cpumask(mm) as powerpc keeps it: every CPU that ran the mm and was not trimmed since. */
function cpumaskOthers(k: Machine, mm: Mm): number {
  const self = mm.cpu;
  const mask = new Set([...mm.cpus, ...mm.lazy].filter((c) => c < k.ncpus));
  mask.delete(self);
  return mask.size;
}

/**
 * exit_flush_lazy_tlbs: smp_call_function_many(mm_cpumask(mm)); each CPU runs
 * exit_lazy_flush_tlb, leaves mm_cpumask and flushes locally (book3s64/radix_tlb.c).
 */
function exitFlushLazyTlbs(k: Machine, mm: Mm, what: string): void {
  k.tlbFlushed(mm, "radix__tlb_flush", what, true, false);
  mm.lazy = [];
  mm.cpus = [mm.cpu];
}

/**
 * radix__tlb_flush (book3s64/radix_tlb.c) with flush_type_needed: a local tlbiel when only this
 * CPU is in mm_cpumask; for a single-threaded mm (mm_users <= 1, current->mm == mm) the other CPUs
 * are trimmed with exit_flush_lazy_tlbs IPIs, then tlbiel; otherwise a broadcast tlbie, no IPI.
 * The exit (fullmm) flush: 6.1 __flush_all_mm(mm, true), tlbiel or tlbie; from 6.6
 * exit_flush_lazy_tlbs first (MMU_LAZY_TLB_SHOOTDOWN, "combine final TLB flush and lazy tlb mm
 * shootdown IPIs"). The 1-in-1073 mm_cpumask_trim_clock of a multi-threaded mm is not modelled.
 */
function radixTlbFlush(k: Machine, tlb: MmuGather): void {
  const what = tlb.fullmm
    ? "fullmm"
    : `${tlb.end - tlb.start} page(s) from page ${tlb.start}${tlb.freedTables ? " + PWC" : ""}`;
  radixFlush(k, tlb.mm, tlb.fullmm, "radix__tlb_flush", what);
}

/** The radix flush decision of flush_type_needed, for a gather or a flush_tlb_mm (radix_tlb.c). */
function radixFlush(k: Machine, mm: Mm, fullmm: boolean, fn: string, what: string): void {
  const others = cpumaskOthers(k, mm);
  if (fullmm && k.kv >= 606) {
    exitFlushLazyTlbs(k, mm, `${what}: exit_flush_lazy_tlbs + tlbiel`);
    return;
  }
  if (others === 0) {
    k.tlbFlushed(mm, fn, `${what}: tlbiel (local)`, false, true);
  } else if (!fullmm && mm.cpus.length <= 1) {
    exitFlushLazyTlbs(k, mm, `${what}: exit_flush_lazy_tlbs + tlbiel`);
  } else {
    k.tlbFlushed(mm, fn, `${what}: tlbie (broadcast)`, false, true);
  }
}

/**
 * flush_tlb_mm outside a gather (dup_mmap's flush of the parent, a THP split): radix__flush_tlb_mm
 * with the same decision; on hash a no-op, the hash PTEs having been flushed as they changed
 * (book3s/64/tlbflush.h); tlbie / _tlbia broadcasts on 32-bit.
 */
function ppcFlushTlbMm(k: Machine, mm: Mm): void {
  const v = variant(k);
  if (v.mmu === "radix") radixFlush(k, mm, false, "radix__flush_tlb_mm", "all");
  else if (v.mmu === "hash") {
    if (k.trace) k.call("hash__flush_tlb_mm", "nothing to do");
  } else k.tlbFlushed(mm, "flush_tlb_mm", "all", false, true);
}

/**
 * hash__tlb_flush: flush the pending ppc64_tlb_batch; the hash PTEs were invalidated with tlbie
 * as they were zapped, and the hash MMU does not walk the Linux tables (book3s64/hash_tlb.c).
 */
function hashTlbFlush(k: Machine, tlb: MmuGather): void {
  k.tlbFlushed(tlb.mm, "hash__tlb_flush", "ppc64_tlb_batch", false, true);
}

/**
 * 32-bit tlb_flush: 603/604 hash__flush_gather or _tlbia, tlbie broadcast on SMP
 * (book3s/32/tlbflush.h); 8xx flush_tlb_mm, local (nohash/tlb.c; the 8xx is UP).
 */
function ppc32TlbFlush(k: Machine, tlb: MmuGather): void {
  const fn = variant(k).mmu === "8xx" ? "flush_tlb_mm" : "hash__flush_gather";
  k.tlbFlushed(tlb.mm, fn, tlb.fullmm ? "all" : "range", false, true);
}

function ppcTlbFlush(k: Machine, tlb: MmuGather): void {
  const v = variant(k);
  if (v.mmu === "radix") radixTlbFlush(k, tlb);
  else if (v.mmu === "hash") hashTlbFlush(k, tlb);
  else ppc32TlbFlush(k, tlb);
}

// ---------------------------------------------------------------------------------------------
// The backend

function noPmd(k: Machine, _mm: Mm): Mem {
  k.violate("folded-level", "pmd_alloc_one on a configuration without a PMD level");
  return -1;
}

/** The powerpc backend. */
export const powerpcBackend: Backend = {
  injectSites: ["pte_fragment_alloc", "pmd_fragment_alloc"],
  ...genericBackend,
  // mm_cpumask is kept: switch_mm_irqs_off (arch/powerpc/mm/mmu_context.c) sets the CPU in it
  maintainsMmCpumask: true,
  name: "powerpc",
  initNewContext: ppcInitNewContext,
  archExitMmap: destroyPagetableCache,
  flushTlbMm: ppcFlushTlbMm,
  flushPmdTlbRange: (k, mm) => ppcFlushTlbMm(k, mm),
  pgdAlloc: ppcPgd.pgdAlloc,
  pgdFree: ppcPgdFree,
  pudAllocOne: ppcPudAllocOne,
  pmdAllocOne: (k, mm) => variant(k).pmdFragNr ? ppcPmdAllocOne(k, mm) : noPmd(k, mm),
  pteAllocOne: ppcPteAllocOne,
  pudFree: ppcPudFree,
  pmdFree: ppcPmdFree,
  pteFree: ppcPteFree,
  pudFreeTlb: ppcPudFreeTlb,
  // book3s/32 and nohash/32: #define __pmd_free_tlb(tlb,x,a) do { } while (0) (folded anyway)
  pmdFreeTlb: (k, tlb, mem) => {
    if (variant(k).pmdFragNr) ppcPmdFreeTlb(k, tlb, mem);
  },
  pteFreeTlb: ppcPteFreeTlb,
  tlbFlush: ppcTlbFlush,
  tlbRemoveTable: ppcTlbRemoveTable,
  cachedFrames: ppcCachedFrames,
  // book3s64 pgtable.h: arch_needs_pgtable_deposit() is !radix_enabled()
  archNeedsPgtableDeposit: (k) => variant(k).mmu === "hash",
  pteFreeDefer,
};

// ---------------------------------------------------------------------------------------------
// The story (`ptlab explain`)

function ppcStory(cfg: ArchConfig, kv: number): ConfigStory {
  const v = VARIANTS[cfg.archData.variant as string];
  const L = cfg.levels;
  const b64 = isBook3s64(v);
  const ptePer = v.pteFragNr === 1 ? "one table a page" : `${v.pteFragNr} tables a page`;
  const dtor = (lvl: string) => dtorSpelling(kv, lvl);
  const ctor = (lvl: string) => ctorSpelling(kv, lvl);
  const alloc = kv >= 606 ? "pagetable_alloc" : "alloc_page";
  const free = kv >= 606 ? "pagetable_free" : "__free_page";
  const viaBatch = "pgtable_free_tlb(tlb, table, " +
    (b64 ? "%s" : "0") + ") -> tlb_remove_table: the RCU table batch; after the grace period " +
    "__tlb_remove_table -> pgtable_free";
  const levels: ConfigStory["levels"] = {};
  levels.pgd = {
    alloc: "pages" in v.pgd
      ? `radix__pgd_alloc: ${
        v.pgd.pages
          ? "alloc_pages(PGALLOC_GFP | __GFP_RETRY_MAYFAIL, 4), 64 KiB"
          : "__get_free_page"
      } (arch/powerpc/include/asm/book3s/64/pgalloc.h)`
      : `kmem_cache_alloc(PGT_CACHE(${v.pgd.cache}) = "pgtable-2^${v.pgd.cache}", ${
        v.pgdT << v.pgd.cache
      }-byte objects) (arch/powerpc/include/asm/${
        b64 ? "book3s/64" : v.mmu === "8xx" ? "nohash" : "book3s/32"
      }/pgalloc.h)`,
    counted: "never: not a ptdesc in any version (powerpc did not move to __pgd_alloc)",
    free: "pgd_free at __mmdrop: " + ("pages" in v.pgd ? "free_pages" : "kmem_cache_free"),
    via: "pgd_free",
  };
  if (b64) {
    levels.pud = {
      alloc: `pud_alloc_one: kmem_cache_alloc(PGT_CACHE(${v.pudCache}), ${
        v.pgdT << v.pudCache
      }-byte objects), pgtable_gfp_flags(GFP_KERNEL) (arch/powerpc/include/asm/book3s/64/pgalloc.h)`,
      counted: `VmPTE +${L[2].pgtablesBytes} (mm_inc_nr_puds); NR_PAGETABLE never (a slab object)`,
      free: "__pud_free_tlb -> " + viaBatch.replace("%s", "PUD_INDEX") +
        " -> __pud_free: kmem_cache_free (book3s64/pgtable.c)",
      via: "table-batch",
    };
    levels.pmd = {
      alloc: `pmd_fragment_alloc: ${L[3].tableBytes}-byte fragments, ${v.pmdFragNr} a page; a ` +
        `fresh page is ${alloc}(GFP_KERNEL_ACCOUNT | __GFP_ZERO, 0) + ${ctor("pmd")}, its ` +
        `other fragments cached in mm->context.pmd_frag (arch/powerpc/mm/book3s64/pgtable.c)` +
        (v.mmu === "hash" && cfg.pageShift === 16
          ? "; the second half of each fragment holds the THP deposit pointers " +
            "(hash__pgtable_trans_huge_deposit)"
          : ""),
      counted: `VmPTE +${L[3].pgtablesBytes} per table (mm_inc_nr_pmds); NR_PAGETABLE +1 per ` +
        `page of ${v.pmdFragNr}, at the ctor`,
      free: "__pmd_free_tlb -> " + viaBatch.replace("%s", "PMD_INDEX") +
        ` -> pmd_fragment_free: ${dtor("pmd")} + ${free} when pt_frag_refcount reaches 0`,
      via: v.pmdFragNr > 1 ? "fragment" : "table-batch",
    };
  }
  levels.pte = {
    alloc:
      `pte_fragment_alloc: ${L[4].tableBytes}-byte ${v.pteFragNr > 1 ? "fragments" : "tables"}` +
      `, ${ptePer}; a fresh page is ${alloc}(PGALLOC_GFP | __GFP_ACCOUNT, 0) + ${ctor("pte")}` +
      (v.pteFragNr > 1 ? ", its other fragments cached in mm->context.pte_frag" : "") +
      " (arch/powerpc/mm/pgtable-frag.c)",
    counted: `VmPTE +${L[4].pgtablesBytes} per table (mm_inc_nr_ptes); NR_PAGETABLE +1 per page` +
      (v.pteFragNr > 1 ? ` of ${v.pteFragNr}` : "") + ", at the ctor",
    free: "__pte_free_tlb -> " + viaBatch.replace("%s", "PTE_INDEX") +
      ` -> pte_fragment_free: ${dtor("pte")} + ${free} when pt_frag_refcount reaches 0`,
    via: v.pteFragNr > 1 ? "fragment" : "table-batch",
  };
  const notes: string[] = [];
  if (v.pteFragNr > 1 || v.pmdFragNr > 1) {
    notes.push(
      "a fresh fragment page gets pt_frag_refcount = FRAG_NR (every fragment pre-counted); VmPTE " +
        "drops per table, nr_page_table_pages only when the whole page is free; " +
        "arch_exit_mmap drops the FRAG_NR - index unused fragments of the cached page" +
        (b64
          ? "s (pte_frag_destroy / pmd_frag_destroy, arch/powerpc/mm/book3s64/mmu_context.c)"
          : " (pte_frag_destroy, arch/powerpc/mm/mmu_context.c)"),
    );
  }
  if (v.mmu === "radix") {
    notes.push(
      "tlb_needs_table_invalidate() = radix_enabled(): the TLB (and page-walk cache) is flushed " +
        "before a table batch goes to RCU (arch/powerpc/include/asm/tlb.h)",
      "radix__tlb_flush: tlbiel when only this CPU is in mm_cpumask, tlbie broadcast for a " +
        "multi-threaded mm (no IPI); a single-threaded mm first trims the other CPUs with " +
        "exit_flush_lazy_tlbs IPIs" +
        (kv >= 606 ? ", and so does the exit flush (6.6)" : "") +
        " (arch/powerpc/mm/book3s64/radix_tlb.c)",
    );
  } else if (v.mmu === "hash") {
    notes.push(
      "tlb_needs_table_invalidate() is false on hash: the hash MMU never walks the Linux tables; " +
        "hash__tlb_flush only drains the ppc64_tlb_batch, no IPI (arch/powerpc/mm/book3s64/hash_tlb.c)",
    );
  } else {
    notes.push(
      "tlb_needs_table_invalidate() is false (radix_enabled() is 0 on 32-bit); tlb_flush is " +
        (v.mmu === "8xx" ? "a local flush_tlb_mm (the 8xx is UP)" : "a tlbie broadcast") +
        ", no IPI",
    );
  }
  if (b64 && kv >= 606) {
    notes.push(
      "MMU_LAZY_TLB_SHOOTDOWN (6.4): __mmdrop's cleanup_lazy_tlbs IPIs every other CPU left in " +
        "mm_cpumask (kernel/fork.c)",
    );
  }
  if (kv >= 606) {
    notes.push(
      "pte_free_defer (6.6): PG_active on the page, so pte_fragment_free frees it through " +
        "call_rcu (arch/powerpc/mm/pgtable-frag.c)",
    );
  }
  if (cfg.thp && v.mmu === "hash") {
    notes.push(
      "THP: hash deposits the PTE fragment in the PMD fragment's second half " +
        "(hash__pgtable_trans_huge_deposit), which is why a PMD fragment is 16 KiB and 4 fit a " +
        "page; the deposit still costs a PTE fragment and mm_inc_nr_ptes (VmPTE +2048)",
    );
  }
  return { levels, notes };
}

// ---------------------------------------------------------------------------------------------
// Configurations

const ppcGather = (radix: boolean) => ({
  tableFree: true,
  rcuTableFree: true,
  noGather: false,
  mergeVmas: true,
  noRange: false,
  // tlb_needs_table_invalidate() radix_enabled() (arch/powerpc/include/asm/tlb.h)
  needsTableInvalidate: radix,
});

const GiB = 2 ** 30;

/** The powerpc configurations. */
export const powerpcConfigs: ConfigSpec[] = [
  {
    name: "ppc64-radix-4k",
    family: "powerpc",
    description:
      "PPC_BOOK3S_64, Radix MMU, 4K pages: 13/9/9/9 (p4d folded), 64 KiB pgd, one PTE and one " +
      "PMD table a page",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 8192, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    // TASK_SIZE_USER64 = TASK_SIZE_64TB without PPC_64K_PAGES (asm/task_size_64.h)
    taskSize: 1n << 46n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // radix: 2M and 1G pages at PMD and PUD (radix__hugetlb ...); hash uses hugepd (not modelled)
    hugetlb: ["pmd", "pud"],
    // radix: the page-walk cache holds upper entries until a tlbie with PWC invalidation
    walkerCaches: true,
    gather: ppcGather(true),
    ramBytes: 64 * GiB,
    archData: { variant: "radix-4k" },
    backend: powerpcBackend,
    story: ppcStory,
    // PPC_BOOK3S_64 selects HAVE_MOVE_PMD and HAVE_MOVE_PUD; arch_supports_page_table_move is
    // radix_enabled() (arch/powerpc/include/asm/tlb.h): hash moves entry by entry
    adjust: (cfg) => {
      cfg.moveTables = { pmd: true, pud: true };
    },
  },
  {
    name: "ppc64-radix-64k",
    family: "powerpc",
    description:
      "PPC_BOOK3S_64, Radix MMU, 64K pages: 13/9/9/5 (p4d folded), 256-byte PTE fragments (256 a " +
      "page), 4 KiB PMD fragments (16 a page)",
    bits: 64,
    pageShift: 16,
    levels: [
      { entries: 8192, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
      { entries: 32, entryBytes: 8 },
    ],
    // TASK_SIZE_USER64 = TASK_SIZE_4PB with PPC_64K_PAGES (asm/task_size_64.h)
    taskSize: 1n << 52n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // radix 64K: 2M (PMD) and 1G (PUD) pages
    hugetlb: ["pmd", "pud"],
    // STACK_TOP = DEFAULT_MAP_WINDOW = TASK_SIZE_128TB (asm/task_size_64.h)
    mmap: { stackTop: 1n << 47n },
    // radix: the page-walk cache holds upper entries until a tlbie with PWC invalidation
    walkerCaches: true,
    gather: ppcGather(true),
    ramBytes: 64 * GiB,
    archData: { variant: "radix-64k" },
    backend: powerpcBackend,
    story: ppcStory,
    // PPC_BOOK3S_64 selects HAVE_MOVE_PMD and HAVE_MOVE_PUD; arch_supports_page_table_move is
    // radix_enabled() (arch/powerpc/include/asm/tlb.h): hash moves entry by entry
    adjust: (cfg) => {
      cfg.moveTables = { pmd: true, pud: true };
    },
  },
  {
    name: "ppc64-hash-4k",
    family: "powerpc",
    description:
      "PPC_BOOK3S_64, hash MMU, 4K pages: 9/9/7/9 (p4d folded), 1 KiB PMD fragments (4 a page); " +
      "no THP (hash__has_transparent_hugepage needs 16M PMDs)",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 512, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 128, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    // TASK_SIZE_64TB = H_PGTABLE_RANGE (asm/task_size_64.h, book3s/64/hash.h)
    taskSize: 1n << 46n,
    thpAvailable: false,
    splitPmdPtlockArch: true,
    gather: ppcGather(false),
    ramBytes: 64 * GiB,
    archData: { variant: "hash-4k" },
    backend: powerpcBackend,
    story: ppcStory,
  },
  {
    name: "ppc64-hash-64k",
    family: "powerpc",
    description:
      "PPC_BOOK3S_64, hash MMU, 64K pages, THP and HUGETLB_PAGE: 8/10/10/8 (p4d folded); 4 KiB " +
      "PTE fragments (2K PTEs + 2K hash slots, 16 a page), 16 KiB PMD fragments (8K PMDs + 8K " +
      "deposit slots, 4 a page), 16 KiB PUD objects",
    bits: 64,
    pageShift: 16,
    levels: [
      { entries: 256, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      // H_PUD_TABLE_SIZE doubles with HUGETLB_PAGE; PUD_CACHE_INDEX 11 (book3s/64/hash-64k.h)
      { entries: 1024, entryBytes: 8, tableBytes: 16384 },
      // H_PMD_TABLE_SIZE doubles with THP or HUGETLB_PAGE (book3s/64/hash-64k.h)
      { entries: 1024, entryBytes: 8, tableBytes: 16384 },
      // H_PTE_TABLE_SIZE = PTE_FRAG_SIZE = 4K: the real_pte_t hash slots (book3s/64/hash-64k.h)
      { entries: 256, entryBytes: 8, tableBytes: 4096 },
    ],
    taskSize: 1n << 52n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // STACK_TOP = DEFAULT_MAP_WINDOW = TASK_SIZE_128TB (asm/task_size_64.h)
    mmap: { stackTop: 1n << 47n },
    gather: ppcGather(false),
    ramBytes: 64 * GiB,
    archData: { variant: "hash-64k" },
    backend: powerpcBackend,
    story: ppcStory,
  },
  {
    name: "ppc32-book3s32",
    family: "powerpc",
    description:
      "PPC_BOOK3S_32 (603/604), 4K pages, 32-bit PTEs: 2 levels of 1024 x 4 bytes, HIGHMEM " +
      "with 768 MiB of low memory",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1024, entryBytes: 4 },
    ],
    // CONFIG_TASK_SIZE 0xb0000000 for PPC_BOOK3S_32 with modules (arch/powerpc/Kconfig); 6.18's
    // USER_TOP = MODULES_BASE is the same address (asm/task_size_32.h)
    taskSize: 0xb000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    gather: ppcGather(false),
    // CONFIG_LOWMEM_SIZE 0x30000000; page tables are never HIGHMEM (PGALLOC_GFP)
    lowmemBytes: 768 * 2 ** 20,
    ramBytes: GiB,
    archData: { variant: "book3s32" },
    backend: powerpcBackend,
    story: ppcStory,
  },
  {
    name: "ppc32-8xx-16k",
    family: "powerpc",
    description:
      "PPC_8xx with PPC_16K_PAGES (UP): 16-byte PTEs (4 hardware entries each), 256 a table, 4 " +
      "KiB PTE fragments (4 a page); 1024 x 4-byte pgd",
    bits: 32,
    pageShift: 14,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      // pte_t is { pte, pte1, pte2, pte3 } (asm/pgtable-types.h); PTE_SHIFT = PAGE_SHIFT -
      // PTE_T_LOG2 - 2 = 8 (asm/page_32.h)
      { entries: 256, entryBytes: 16 },
    ],
    // CONFIG_TASK_SIZE 0x80000000 for PPC_8xx (arch/powerpc/Kconfig)
    taskSize: 0x8000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    // SMP depends on PPC_BOOK3S || PPC_E500 || PPC_47x: an 8xx kernel is UP, NR_CPUS = 1
    noSplitPtlocks: true,
    gather: ppcGather(false),
    ramBytes: 256 * 2 ** 20,
    archData: { variant: "8xx-16k" },
    backend: powerpcBackend,
    story: ppcStory,
  },
];
