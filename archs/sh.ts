/**
 * sh (SuperH): arch/sh/mm/pgtable.c, arch/sh/include/asm/{pgalloc,pgtable-2level,pgtable-3level}.h
 * over the asm-generic defaults. Two configurations: 32-bit PTEs with 2 levels, and the SH-X2 TLB
 * (X2TLB) with 64-bit PTEs and 3 levels.
 *
 * What is special: the pgd is an object of kmem_cache "pgd_cache" created with align PAGE_SIZE,
 * so each pgd takes a page of its own even when it is 32 bytes (3-level); the 3-level PMD is an
 * object of kmem_cache "pmd_cache" (no ctor, not accounted, counted in VmPTE only) and
 * __pmd_free_tlb frees it directly. The pgd never moved to __pgd_alloc (no counted pgd in 6.14+).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  type Machine,
  type Mem,
  type Mm,
  type MmuGather,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  freeTlbDirect,
  genericBackend,
  genericTlbFlushBy,
  NO_MERGE_VMAS_NOTE,
  pgdFromCache,
  pteStory,
} from "./generic.ts";

/**
 * Bytes a slab object takes with SLAB alignment `align`: kmem_cache_create(..., size, align)
 * rounds the object up to its alignment (mm/slab_common.c calculate_alignment, SLUB).
 */
const aligned = (size: number, align: number) => Math.ceil(size / align) * align;

/**
 * The object size of pgd_cache / pmd_cache: PTRS_PER_PGD / PTRS_PER_PMD * (1 << PTE_MAGNITUDE)
 * bytes, align PAGE_SIZE (arch/sh/mm/pgtable.c).
 */
function cacheBytes(k: Machine, level: number): number {
  const g = k.cfg.levels[level];
  return aligned(g.entries * g.entryBytes, 2 ** k.cfg.pageShift);
}

/** pmd_cache (arch/sh/mm/pgtable.c). */
function pmdCache(k: Machine) {
  return k.cache("pmd_cache", cacheBytes(k, 3));
}

/**
 * pgd_alloc: kmem_cache_alloc(pgd_cachep, GFP_KERNEL), pgd_ctor copies the kernel part; pgd_free:
 * kmem_cache_free(pgd_cachep, pgd) (__HAVE_ARCH_PGD_FREE) (arch/sh/mm/pgtable.c).
 */
const shPgd = pgdFromCache({
  cache: "pgd_cache",
  size: (k) => cacheBytes(k, 0),
  gfp: GFP.KERNEL,
});

/** pmd_alloc_one: kmem_cache_alloc(pmd_cachep, GFP_KERNEL | __GFP_ZERO): no ctor, no memcg. */
function shPmdAllocOne(k: Machine, _mm: Mm): Mem {
  if (k.trace) k.call("pmd_alloc_one");
  return k.kmemCacheAlloc(pmdCache(k), GFP.KERNEL | GFP.ZERO);
}

/** pmd_free: kmem_cache_free(pmd_cachep, pmd) (arch/sh/mm/pgtable.c). */
function shPmdFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pmd_free");
  k.kmemCacheFree(pmdCache(k), mem);
}

/**
 * tlb_flush is the generic one (asm-generic/tlb.h); flush_tlb_mm / flush_tlb_range
 * (arch/sh/kernel/smp.c) run smp_call_function to every other online CPU unless the mm has one
 * user and is current's; at exit_mmap current->mm is already NULL (kernel/exit.c exit_mm).
 */
const shTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather, { fn, what }) => {
  k.tlbFlushed(tlb.mm, fn, what, false, true);
  // mm_users != 1 (threads on other CPUs) || current->mm != mm (exit)
  if (tlb.fullmm || tlb.mm.cpus.length > 1) k.ipiAllOthers(fn, tlb.mm);
});

/** The sh backend. */
export const shBackend: Backend = {
  ...genericBackend,
  name: "sh",
  ...shPgd,
  pmdAllocOne: shPmdAllocOne,
  pmdFree: shPmdFree,
  // #define __pmd_free_tlb(tlb, pmdp, addr) pmd_free((tlb)->mm, (pmdp)) (asm/pgalloc.h)
  pmdFreeTlb: freeTlbDirect(3),
  // __pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc (6.6), tlb_remove_ptdesc (6.15):
  // the page batch with the dtor at queue time, genericBackend's freeTlbPageBatch(4)
  tlbFlush: shTlbFlush,
};

/** How sh allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function shStory(cfg: ArchConfig, kv: number): ConfigStory {
  const three = cfg.levels[3].entries > 1;
  const pgdBytes = cfg.levels[0].entries * cfg.levels[0].entryBytes;
  const story: ConfigStory = {
    levels: {
      pgd: {
        alloc: `kmem_cache_alloc(pgd_cachep, GFP_KERNEL): a ${pgdBytes}-byte object of ` +
          `"pgd_cache" created with align PAGE_SIZE, so one pgd per page (arch/sh/mm/pgtable.c)`,
        counted: "never: a slab object, no ctor (sh kept its kmem_cache pgd in 6.14+)",
        free: "pgd_free: kmem_cache_free at __mmdrop (arch/sh/mm/pgtable.c)",
        via: "pgd_free",
      },
      pte: pteStory(cfg, {
        free: kv >= 615
          ? "__pte_free_tlb: tlb_remove_ptdesc -> tlb_remove_table (pagetable_dtor, then the " +
            "page batch) (arch/sh/include/asm/pgalloc.h, asm-generic/tlb.h)"
          : "__pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, the page batch " +
            "(arch/sh/include/asm/pgalloc.h)",
        via: "page-batch",
      }),
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range IPI every other online CPU " +
      "(smp_call_function) unless mm_users == 1 and current->mm == mm, so always at exit " +
      "(arch/sh/kernel/smp.c)",
      NO_MERGE_VMAS_NOTE,
    ],
  };
  if (three) {
    story.levels.pmd = {
      alloc: "pmd_alloc_one: kmem_cache_alloc(pmd_cachep, GFP_KERNEL | __GFP_ZERO), a 4096-byte " +
        `"pmd_cache" object aligned to PAGE_SIZE, no ctor, not memcg-accounted (arch/sh/mm/pgtable.c)`,
      counted: "VmPTE +4096 (mm_inc_nr_pmds); never NR_PAGETABLE (no pagetable_pmd_ctor)",
      free: "__pmd_free_tlb = pmd_free: kmem_cache_free inside free_pgtables, before the flush " +
        "(arch/sh/include/asm/pgalloc.h)",
      via: "direct",
    };
  }
  return story;
}

const shGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

const sh2Levels = [
  { entries: 1024, entryBytes: 4, tableBytes: 4096 },
  { entries: 1, entryBytes: 4, folded: "compile" as const },
  { entries: 1, entryBytes: 4, folded: "compile" as const },
  { entries: 1, entryBytes: 4, folded: "compile" as const },
  { entries: 1024, entryBytes: 4 },
] as const;

const sh3Levels = [
  // PTRS_PER_PGD 4 x 8 bytes = 32 bytes, but a pgd_cache object is PAGE_SIZE-aligned
  { entries: 4, entryBytes: 8, tableBytes: 4096 },
  { entries: 1, entryBytes: 8, folded: "compile" as const },
  { entries: 1, entryBytes: 8, folded: "compile" as const },
  { entries: 512, entryBytes: 8 },
  { entries: 512, entryBytes: 8 },
] as const;

/** The sh configurations. */
export const shConfigs: ConfigSpec[] = [
  {
    name: "sh-2level",
    family: "sh",
    description:
      "SuperH 32-bit, 4K pages, 32-bit PTEs: 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22)",
    bits: 32,
    pageShift: 12,
    levels: sh2Levels,
    // TASK_SIZE 0x7c000000 (arch/sh/include/asm/processor_32.h)
    taskSize: 0x7c00_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    mmap: { legacyBase: 0x2955_6000n }, // PAGE_ALIGN(TASK_SIZE / 3), bottom-up (arch/sh/mm/mmap.c)
    gather: shGather,
    ramBytes: 256 * 2 ** 20,
    backend: shBackend,
    story: shStory,
  },
  {
    name: "sh-3level-x2tlb",
    family: "sh",
    description: "SuperH X2TLB, 4K pages, 64-bit PTEs: pgd 4 x 8 (PGDIR_SHIFT 30), pmd and pte " +
      "512 x 8",
    bits: 32,
    pageShift: 12,
    levels: sh3Levels,
    taskSize: 0x7c00_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    mmap: { legacyBase: 0x2955_6000n }, // PAGE_ALIGN(TASK_SIZE / 3), bottom-up
    gather: shGather,
    ramBytes: 256 * 2 ** 20,
    backend: shBackend,
    story: shStory,
  },
];
