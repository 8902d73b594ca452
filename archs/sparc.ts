/**
 * sparc: sparc32 with the SRMMU (arch/sparc/mm/srmmu.c, arch/sparc/include/asm/pgalloc_32.h) and
 * sparc64 (arch/sparc/mm/init_64.c, arch/sparc/include/asm/{pgalloc_64,tlb_64}.h, arch/sparc/mm/
 * tlb.c), each over the asm-generic defaults.
 *
 * - `sparc32-srmmu` (4K pages, 3 levels): every table comes from the nocache pool, a region
 *   reserved from memblock at boot and handed out by a bitmap of 256-byte units
 *   (bit_map_string_get, arch/sparc/lib/bitext.c: a rotating next-fit search), each table
 *   aligned to its size. A PTE table bumps the _refcount of its 4 KiB pool page, and the pte ctor
 *   runs when that count goes 1 -> 2, the dtor when it comes back to 1. Tables are freed directly
 *   inside free_pgtables. No split ptlocks (SPLIT_PTLOCK_CPUS 999999 for SPARC32); sparc32
 *   selects none of the MMU_GATHER options (only SPARC64 does, arch/sparc/Kconfig).
 * - `sparc64` (8K pages, 4 levels, p4d folded): pgd, pud and pmd tables are PAGE_SIZE objects of
 *   kmem_cache "pgtable_cache" (no ctor, not ptdescs, never counted in NR_PAGETABLE), PTE tables
 *   pagetable_alloc + the pte ctor; __p{te,md,ud}_free_tlb = pgtable_free_tlb, which tags a
 *   PTE page with bit 0 and hands it to the RCU table batch on SMP (tlb_needs_table_invalidate()
 *   is false: the hardware TLB fill never walks these tables), or frees it at once on UP.
 *
 * What differs by version: only the spellings on these paths (pgtable_pte_page_ctor and
 * alloc_page in 6.1, pagetable_* in 6.6, pagetable_dtor in 6.14, the ctor's mm argument in 6.16;
 * arch/sparc/include/asm/pgalloc_{32,64}.h are unchanged 6.12 -> 7.2), plus the engine's generic
 * ones (6.1 counts NR_PAGETABLE per ctor call, 6.9 fills a gather batch one entry early).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  memSlot,
  type Mm,
  type MmuGather,
  pagetableDtor,
  pagetablePteCtor,
  PG,
  tlbRemoveTable,
  Use,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, OptionSpec } from "./config.ts";
import {
  ctorSpelling,
  dtorSpelling,
  genericBackend,
  pgdFrom,
  pgdFromCache,
  tableAlloc,
  tableFree,
} from "./generic.ts";

// ---------------------------------------------------------------------------------------------
// sparc32: the SRMMU nocache pool

/** SRMMU_NOCACHE_BITMAP_SHIFT = PAGE_SHIFT - 4: one bit per 256 bytes (arch/sparc/mm/srmmu.c). */
const UNIT = 256;
/** Pool units per 4 KiB page. */
const UNITS_PER_PAGE = 4096 / UNIT;
/** SRMMU_PGD_TABLE_SIZE, SRMMU_PMD_TABLE_SIZE, SRMMU_PTE_TABLE_SIZE (asm/pgtsrmmu.h). */
const PGD_TABLE_SIZE = 256 * 4, PMD_TABLE_SIZE = 64 * 4, PTE_TABLE_SIZE = 64 * 4;

/** struct bit_map of the nocache pool (arch/sparc/include/asm/bitext.h) and its pages. */
export interface Nocache {
  /** t->size: units. */
  size: number;
  /** t->map: 1 = unit in use. */
  map: Uint8Array;
  /** t->first_free. */
  firstFree: number;
  /** t->last_off. */
  lastOff: number;
  /** t->last_size. */
  lastSize: number;
  /** t->used. */
  used: number;
  /** Frame backing each pool page (-1 until a table first lands in it). */
  frames: Int32Array;
  /** Units in use per pool page. */
  live: Int32Array;
  /** Pool page of each backing frame. */
  pageOf: Map<number, number>;
}

const nocachePools = new WeakMap<Machine, Nocache>();

/**
 * srmmu_nocache_calcsize (arch/sparc/mm/srmmu.c): 256 pages per 64 MB of RAM
 * (SRMMU_NOCACHE_ALCRATIO), at least SRMMU_MIN_NOCACHE_PAGES (550), at most
 * SRMMU_MAX_NOCACHE_PAGES (1280) (arch/sparc/include/asm/vaddrs.h).
 */
export function nocachePages(ramBytes: number): number {
  const kb = Math.floor(ramBytes / 1024);
  const pages = Math.floor(Math.floor(kb / 64) / 1024) * 256;
  return Math.min(1280, Math.max(550, pages));
}

/**
 * The machine's nocache pool (srmmu_nocache_init). It starts empty: the kernel's own tables
 * (srmmu_swapper_pg_dir, the skeletons of the nocache area, I/O space, DVMA, fixmap and pkmap,
 * the context table) that take the first units at boot are not modelled.
 */
function nocache(k: Machine): Nocache {
  let t = nocachePools.get(k);
  if (!t) {
    const pages = nocachePages(k.cfg.ramBytes);
    const frames = new Int32Array(pages).fill(-1);
    t = {
      size: pages * UNITS_PER_PAGE,
      map: new Uint8Array(pages * UNITS_PER_PAGE),
      firstFree: 0,
      lastOff: 0,
      lastSize: 0,
      used: 0,
      frames,
      live: new Int32Array(pages),
      pageOf: new Map(),
    };
    nocachePools.set(k, t);
  }
  return t;
}

/** find_next_zero_bit. */
function findNextZeroBit(t: Nocache, from: number): number {
  for (let i = from; i < t.size; i++) if (t.map[i] === 0) return i;
  return t.size;
}

/**
 * bit_map_string_get (arch/sparc/lib/bitext.c): `len` free units aligned to `align` units. The
 * search starts at first_free for a request smaller than the last one, else at last_off rounded
 * down to the alignment, and wraps around once. Returns the offset, or -1.
 */
export function bitMapStringGet(t: Nocache, len: number, align: number): number {
  if (align === 0) align = 1;
  const align1 = align - 1;
  let offset = len < t.lastSize ? t.firstFree : t.lastOff & ~align1;
  let count = 0;
  for (;;) {
    let offNew = findNextZeroBit(t, offset);
    offNew = (offNew + align1) & ~align1;
    count += offNew - offset;
    offset = offNew;
    if (offset >= t.size) offset = 0;
    if (count + len > t.size) return -1;
    if (offset + len > t.size) {
      count += t.size - offset;
      offset = 0;
      continue;
    }
    let i = 0;
    while (t.map[offset + i] === 0) {
      i++;
      if (i === len) {
        t.map.fill(1, offset, offset + len);
        if (offset === t.firstFree) t.firstFree = findNextZeroBit(t, t.firstFree + len);
        t.lastOff = offset + len;
        if (t.lastOff >= t.size) t.lastOff = 0;
        t.used += len;
        t.lastSize = len;
        return offset;
      }
    }
    count += i + 1;
    offset += i + 1;
    if (offset >= t.size) offset = 0;
  }
}

/**
 * Marks a pool page as holding tables or not. Its frame stays reserved for good (the pool is
 * memblock memory, never given back); it counts in pagetable_frames, and is checked for leaks,
 * only while a table lives in it.
 */
function poolPageHolds(k: Machine, frame: number, holds: boolean): void {
  k.frames.setUse(frame, holds ? Use.Pool : Use.Other);
}

/**
 * __srmmu_get_nocache(size, align) (arch/sparc/mm/srmmu.c): units from the bitmap; -1 with
 * "srmmu: out of nocache" when none are left. The pool page's frame is taken from RAM the
 * first time a table lands in it (the kernel reserved the whole pool at boot).
 */
function srmmuGetNocache(k: Machine, size: number, align: number): Mem {
  if (k.shouldFail("__srmmu_get_nocache")) return -1;
  const t = nocache(k);
  const off = bitMapStringGet(t, size / UNIT, align / UNIT);
  if (off < 0) {
    k.event(
      "nocache-exhausted",
      `srmmu: out of nocache ${size}: ${t.size * UNIT}/${t.used * UNIT}`,
    );
    return -1;
  }
  const page = Math.floor(off / UNITS_PER_PAGE);
  let f = t.frames[page];
  if (f < 0) {
    f = k.frames.alloc(GFP.KERNEL, 0, Use.Other);
    if (f < 0) {
      t.map.fill(0, off, off + size / UNIT);
      t.used -= size / UNIT;
      return -1;
    }
    k.frames.flags[f] |= PG.reserved;
    t.frames[page] = f;
    t.pageOf.set(f, page);
  }
  if (t.live[page] === 0) poolPageHolds(k, f, true);
  t.live[page] += size / UNIT;
  if (k.trace) k.call("srmmu_get_nocache", `${size} bytes at unit ${off} (frame ${f})`);
  return memOf(f, off % UNITS_PER_PAGE);
}

/** srmmu_free_nocache (arch/sparc/mm/srmmu.c) -> bit_map_clear (arch/sparc/lib/bitext.c). */
function srmmuFreeNocache(k: Machine, mem: Mem, size: number): void {
  const t = nocache(k);
  const f = memFrame(mem);
  const page = t.pageOf.get(f);
  if (k.trace) k.call("srmmu_free_nocache", `${size} bytes (frame ${f})`);
  const len = size / UNIT;
  const off = page === undefined ? -1 : page * UNITS_PER_PAGE + memSlot(mem);
  // "Vaddr %lx is not aligned to size", then bit_map_clear's BUG() on a clear bit
  if (off < 0 || off % len !== 0 || t.map.subarray(off, off + len).includes(0)) {
    k.violate("double-free", `srmmu_free_nocache: unit ${off} is not allocated`, { frame: f });
    return;
  }
  t.map.fill(0, off, off + len);
  if (off < t.firstFree) t.firstFree = off;
  t.used -= len;
  t.live[page!] -= len;
  if (t.live[page!] === 0) poolPageHolds(k, f, false);
}

/**
 * pgd_alloc = get_pgd_fast: 1 KiB aligned to 1 KiB, the kernel entries copied in
 * (arch/sparc/mm/srmmu.c); pgd_free = free_pgd_fast: srmmu_free_nocache(pgd,
 * SRMMU_PGD_TABLE_SIZE) (pgalloc_32.h).
 */
const sparc32Pgd = pgdFrom({
  alloc: (k: Machine) => srmmuGetNocache(k, PGD_TABLE_SIZE, PGD_TABLE_SIZE),
  free: (k: Machine, _mm: Mm, mem: Mem) => srmmuFreeNocache(k, mem, PGD_TABLE_SIZE),
  calls: ["get_pgd_fast", "free_pgd_fast"],
});

/**
 * pte_alloc_one (arch/sparc/mm/srmmu.c): pte_alloc_one_kernel's 256 bytes from the pool, then,
 * under page_table_lock, page_ref_inc_return on the pool page: the pte ctor runs when it reaches
 * 2. If the ctor failed the kernel drops the reference and returns NULL without giving the
 * 256 bytes back (it cannot fail on sparc32: no split ptlocks).
 */
function sparc32PteAllocOne(k: Machine): Mem {
  const mem = srmmuGetNocache(k, PTE_TABLE_SIZE, PTE_TABLE_SIZE);
  if (mem < 0) return -1;
  const f = memFrame(mem);
  if (++k.frames.refcount[f] === 2 && !pagetablePteCtor(k, f)) {
    k.frames.refcount[f]--;
    return -1;
  }
  return mem;
}

/**
 * pte_free (arch/sparc/mm/srmmu.c): page_ref_dec_return on the pool page, the pte dtor when it is
 * back to 1, then the 256 bytes go back to the pool. __pte_free_tlb is this: DIRECT.
 */
function sparc32PteFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("pte_free", `frame ${memFrame(mem)}`);
  const f = memFrame(mem);
  if (--k.frames.refcount[f] === 1) pagetableDtor(k, f, 4);
  srmmuFreeNocache(k, mem, PTE_TABLE_SIZE);
}

/** pmd_free = free_pmd_fast; __pmd_free_tlb is this: DIRECT (pgalloc_32.h). */
function sparc32PmdFree(k: Machine, _mm: Mm, mem: Mem): void {
  if (k.trace) k.call("free_pmd_fast", `frame ${memFrame(mem)}`);
  srmmuFreeNocache(k, mem, PMD_TABLE_SIZE);
}

/** Whether a CPU other than this one is in mm_cpumask (any_other_mm_cpus, srmmu.c). */
function anyOtherMmCpus(k: Machine, mm: Mm): boolean {
  // switch_to sets the bit of every CPU that runs the mm (asm/switch_to_32.h); nothing clears it
  // but the single-user trim of smp_flush_tlb_mm
  const self = mm.cpu;
  return [...mm.cpus, ...mm.lazy].some((c) => c !== self && c < k.ncpus);
}

/**
 * tlb_flush: sparc32 has the asm-generic one (asm/tlb_32.h includes asm-generic/tlb.h):
 * flush_tlb_mm for fullmm, else flush_tlb_range over the gathered range. On SMP both become
 * smp_flush_tlb_{mm,range} (srmmu.c), which cross-call (xc1 / xc3) every other online CPU as
 * soon as one other CPU is in mm_cpumask (asm/smp_32.h passes cpu_online_mask).
 */
function sparc32TlbFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.fullmm || tlb.needFlushAll) smpFlushTlbMm(k, tlb.mm);
  else if (tlb.end > 0) {
    // smp_flush_tlb_range: xc3(local_ops->tlb_range) if any_other_mm_cpus, then the local flush
    k.tlbFlushed(tlb.mm, "flush_tlb_range", `${tlb.end - tlb.start} page(s)`, false, true);
    if (anyOtherMmCpus(k, tlb.mm)) k.ipiAllOthers("xc3(local_ops->tlb_range)", tlb.mm);
  }
}

/**
 * flush_tlb_mm = smp_flush_tlb_mm (arch/sparc/mm/srmmu.c): xc1(local_ops->tlb_mm) if
 * any_other_mm_cpus, then, when mm_users is 1 and the mm is current's (one CPU runs it),
 * mm_cpumask is trimmed to this CPU, so the CPUs that ran it before get no more cross-calls;
 * then the local flush.
 */
function smpFlushTlbMm(k: Machine, mm: Mm): void {
  k.tlbFlushed(mm, "flush_tlb_mm", "all", false, true);
  if (!anyOtherMmCpus(k, mm)) return;
  k.ipiAllOthers("xc1(local_ops->tlb_mm)", mm);
  if (mm.cpus.length === 1) mm.lazy = [];
}

/** The sparc32 SRMMU backend (arch/sparc/include/asm/pgalloc_32.h, arch/sparc/mm/srmmu.c). */
export const sparc32Backend: Backend = {
  injectSites: ["__srmmu_get_nocache"],
  ...genericBackend,
  // mm_cpumask is kept: switch_mm (arch/sparc/mm/srmmu.c) sets the CPU in it
  maintainsMmCpumask: true,
  name: "sparc",
  ...sparc32Pgd,
  // pmd_alloc_one: srmmu_get_nocache(SRMMU_PMD_TABLE_SIZE, SRMMU_PMD_TABLE_SIZE)
  pmdAllocOne(k: Machine): Mem {
    return srmmuGetNocache(k, PMD_TABLE_SIZE, PMD_TABLE_SIZE);
  },
  pteAllocOne: sparc32PteAllocOne,
  pmdFree: sparc32PmdFree,
  pteFree: sparc32PteFree,
  // #define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd): DIRECT
  pmdFreeTlb: (k: Machine, tlb: MmuGather, mem: Mem) => sparc32PmdFree(k, tlb.mm, mem),
  // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, pte): DIRECT
  pteFreeTlb: (k: Machine, tlb: MmuGather, mem: Mem) => sparc32PteFree(k, tlb.mm, mem),
  tlbFlush: sparc32TlbFlush,
  // dup_mmap's flush_tlb_mm of the parent
  flushTlbMm: smpFlushTlbMm,
};

function sparc32Story(cfg: ArchConfig, kv: number): ConfigStory {
  const pages = nocachePages(cfg.ramBytes);
  const ctor = ctorSpelling(kv, "pte");
  const dtor = dtorSpelling(kv, "pte");
  return {
    levels: {
      pgd: {
        alloc: "pgd_alloc = get_pgd_fast: __srmmu_get_nocache(1024, 1024), the kernel entries " +
          "copied in (arch/sparc/mm/srmmu.c)",
        counted: "never",
        free: "pgd_free = free_pgd_fast: srmmu_free_nocache at __mmdrop (asm/pgalloc_32.h)",
        via: "pgd_free",
      },
      pmd: {
        alloc:
          "pmd_alloc_one: srmmu_get_nocache(256, 256) from the nocache pool (asm/pgalloc_32.h)",
        counted: "VmPTE +256 (mm_inc_nr_pmds, PTRS_PER_PMD 64 x 4); NR_PAGETABLE: never",
        free: "__pmd_free_tlb = pmd_free -> srmmu_free_nocache: at once inside free_pgtables, " +
          "before the flush (asm/pgalloc_32.h)",
        via: "direct",
      },
      pte: {
        alloc:
          "pte_alloc_one: srmmu_get_nocache(256, 256), then page_ref_inc_return on the 4 KiB " +
          `pool page under page_table_lock; ${ctor} when it reaches 2 (arch/sparc/mm/srmmu.c)`,
        counted: "VmPTE +256 (mm_inc_nr_ptes, PTRS_PER_PTE 64 x 4); NR_PAGETABLE +1 per pool " +
          "page holding at least one user PTE table (the ctor at refcount 1 -> 2)",
        free: `__pte_free_tlb = pte_free: page_ref_dec_return, ${dtor} when back to 1, then ` +
          "srmmu_free_nocache: at once inside free_pgtables, before the flush (srmmu.c)",
        via: "direct",
      },
    },
    notes: [
      `the nocache pool: ${pages} pages (${pages * UNITS_PER_PAGE} units of 256 bytes) for ` +
      "this RAM (srmmu_nocache_calcsize: 256 pages per 64 MB, 550 to 1280); " +
      "bit_map_string_get searches from last_off (from first_free for a smaller request than " +
      "the last one) and wraps (arch/sparc/lib/bitext.c); tables of every process share its pages",
      "the pool is memblock memory reserved for good; pagetable_frames counts its pages while " +
      "they hold a table. The kernel's own tables at the start of the pool are not modelled",
      "no MMU_GATHER_* option (only SPARC64 selects them, arch/sparc/Kconfig): a flush at every " +
      "VMA (tlb_end_vma), flush_tlb_range or flush_tlb_mm, which cross-call every other online " +
      "CPU once another CPU is in mm_cpumask (arch/sparc/mm/srmmu.c, asm/smp_32.h)",
      "no split ptlocks: SPLIT_PTLOCK_CPUS is 999999 for SPARC32 (mm/Kconfig)",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// sparc64

/** kmem_cache "pgtable_cache": PAGE_SIZE objects, aligned, _clear_page ctor (arch/sparc/mm/tsb.c). */
const PGTABLE_CACHE = "pgtable_cache";

const smp = (k: Machine) => k.cfg.options.smp !== "off";

/** pud_alloc_one / pmd_alloc_one: kmem_cache_alloc(pgtable_cache, GFP_KERNEL) (pgalloc_64.h). */
function sparc64CacheAlloc(k: Machine): Mem {
  return k.kmemCacheAlloc(k.cache(PGTABLE_CACHE, k.geo.pageSize), GFP.KERNEL);
}

/** pud_free / pmd_free: kmem_cache_free(pgtable_cache, table) (pgalloc_64.h). */
function sparc64CacheFree(k: Machine, mem: Mem): void {
  k.kmemCacheFree(k.cache(PGTABLE_CACHE, k.geo.pageSize), mem);
}

/**
 * pte_alloc_one (arch/sparc/mm/init_64.c): pagetable_alloc(GFP_KERNEL | __GFP_ZERO, 0) (6.1:
 * alloc_page), not memcg-accounted, then the pte ctor; the page goes back if it fails.
 */
function sparc64PteAllocOne(k: Machine): Mem {
  const f = tableAlloc(k, GFP.KERNEL | GFP.ZERO, 0, "pte");
  return f < 0 ? -1 : memOf(f);
}

/** __pte_free (arch/sparc/mm/init_64.c): the pte dtor, then pagetable_free. */
function sparc64PteFreeNow(k: Machine, mem: Mem): void {
  tableFree(k, memFrame(mem), 4);
}

/** pgtable_free (arch/sparc/mm/init_64.c): __pte_free for a page, else kmem_cache_free. */
function pgtableFree(k: Machine, mem: Mem, isPage: boolean): void {
  if (k.trace) k.call("pgtable_free", `frame ${memFrame(mem)}${isPage ? " (page)" : ""}`);
  if (isPage) sparc64PteFreeNow(k, mem);
  else sparc64CacheFree(k, mem);
}

/**
 * pgtable_free_tlb (arch/sparc/include/asm/pgalloc_64.h): on SMP the table, bit 0 set for a
 * PTE page, goes to tlb_remove_table (the RCU table batch); on UP pgtable_free at once.
 */
function pgtableFreeTlb(isPage: boolean) {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    if (k.trace) k.call("pgtable_free_tlb", `frame ${memFrame(mem)}${isPage ? " | 1" : ""}`);
    if (smp(k)) tlbRemoveTable(k, tlb, mem, isPage ? 1 : 0);
    else pgtableFree(k, mem, isPage);
  };
}

/**
 * Drains a tlb_batch of `n` user addresses: flush_tlb_pending (arch/sparc/mm/tlb.c) flushes one
 * address with global_flush_tlb_page = smp_flush_tlb_page, more with smp_flush_tlb_pending;
 * both cross-call the other CPUs of mm_cpumask (arch/sparc/kernel/smp_64.c), which sparc64
 * never clears, so lazy CPUs count. On UP: __flush_tlb_page / __flush_tlb_pending, no IPI.
 */
function drainTlbBatch(k: Machine, mm: Mm, n: number, why: string): void {
  const fn = n === 1
    ? (smp(k) ? "smp_flush_tlb_page" : "__flush_tlb_page")
    : (smp(k) ? "smp_flush_tlb_pending" : "__flush_tlb_pending");
  k.tlbFlushed(mm, fn, `${n} page(s), ${why}`, smp(k), !smp(k));
}

/**
 * tlb_flush = flush_tlb_pending() (arch/sparc/include/asm/tlb_64.h): flushes this CPU's
 * tlb_batch, which set_pte_at -> tlb_batch_add fills with every valid PTE cleared. The kernel
 * drains it at the end of each zap_pte_range (arch_leave_lazy_mmu_mode) and every 192 PTEs;
 * the engine has no per-PTE hook, so the model takes the PTEs the gather cleared as one batch
 * drained here. Freeing tables needs no flush: with no PTE cleared the batch is empty.
 */
function flushTlbPending(k: Machine, tlb: MmuGather): void {
  if (!tlb.clearedPtes) return;
  drainTlbBatch(k, tlb.mm, tlb.end - tlb.start, "the range the gather cleared");
}

/**
 * dup_mmap's flush_tlb_mm is empty on sparc64 (asm/tlbflush_64.h); what flushes at fork is
 * copy_pte_range write-protecting the parent's present PTEs (ptep_set_wrprotect -> set_pte_at
 * -> tlb_batch_add), drained when it leaves lazy MMU mode. The model counts that as one batch
 * when the parent has present pages.
 */
function sparc64FlushTlbMm(k: Machine, mm: Mm): void {
  if (mm.rssPages > 0) drainTlbBatch(k, mm, mm.rssPages, "copy_pte_range write-protect");
}

/**
 * pmdp_invalidate when a huge pmd is split (arch/sparc/mm/tlb.c): pmdp_establish ->
 * __set_pmd_acct queues both 4 MiB halves (REAL_HPAGE_SHIFT) with tlb_batch_add_one outside lazy
 * MMU mode, each flushed at once by global_flush_tlb_page; the flush_tlb_range after it is empty.
 */
function sparc64FlushPmdTlbRange(k: Machine, mm: Mm): void {
  drainTlbBatch(k, mm, 1, "pmdp_invalidate, first 4 MiB half");
  drainTlbBatch(k, mm, 1, "pmdp_invalidate, second 4 MiB half");
}

/** The sparc64 backend (arch/sparc/include/asm/pgalloc_64.h, arch/sparc/mm/init_64.c). */
export const sparc64Backend: Backend = {
  ...genericBackend,
  // mm_cpumask is kept: switch_mm (arch/sparc/include/asm/mmu_context_64.h) sets the CPU in it
  maintainsMmCpumask: true,
  name: "sparc",
  // pgd_alloc / pgd_free: kmem_cache_alloc(pgtable_cache, GFP_KERNEL) / kmem_cache_free
  ...pgdFromCache({ cache: PGTABLE_CACHE, size: 8192, gfp: GFP.KERNEL }),
  pudAllocOne(k: Machine): Mem {
    if (k.trace) k.call("pud_alloc_one");
    return sparc64CacheAlloc(k);
  },
  pmdAllocOne(k: Machine): Mem {
    return sparc64CacheAlloc(k);
  },
  pteAllocOne: sparc64PteAllocOne,
  pudFree: (k: Machine, _mm: Mm, mem: Mem) => sparc64CacheFree(k, mem),
  pmdFree: (k: Machine, _mm: Mm, mem: Mem) => sparc64CacheFree(k, mem),
  pteFree(k: Machine, _mm: Mm, mem: Mem): void {
    if (k.trace) k.call("pte_free");
    sparc64PteFreeNow(k, mem);
  },
  // __pte_free_tlb: pgtable_free_tlb(tlb, pte, true); __pmd/__pud_free_tlb: (…, false)
  pteFreeTlb: pgtableFreeTlb(true),
  pmdFreeTlb: pgtableFreeTlb(false),
  pudFreeTlb: pgtableFreeTlb(false),
  tlbFlush: flushTlbPending,
  flushTlbMm: sparc64FlushTlbMm,
  flushPmdTlbRange: sparc64FlushPmdTlbRange,
  // __tlb_remove_table (pgalloc_64.h): strip bit 0, pgtable_free(table, is_page), after RCU
  tlbRemoveTable(k: Machine, mem: Mem, tag: number): void {
    if (k.trace) k.call("__tlb_remove_table", `frame ${memFrame(mem)}`);
    pgtableFree(k, mem, tag === 1);
  },
};

/** sparc64 options. */
const sparc64Options: OptionSpec[] = [{
  name: "smp",
  values: ["on", "off"],
  default: "on",
  doc: "CONFIG_SMP: MMU_GATHER_RCU_TABLE_FREE and split ptlocks; off frees tables at once " +
    "(pgtable_free_tlb -> pgtable_free) and sends no IPI",
}];

/** A UP kernel selects no MMU_GATHER_RCU_TABLE_FREE and has no split ptlocks (arch/sparc/Kconfig). */
function sparc64Adjust(cfg: ArchConfig): void {
  if (cfg.options.smp !== "off") return;
  cfg.gather.tableFree = false;
  cfg.gather.rcuTableFree = false;
  cfg.splitPtePtlocks = false;
  cfg.splitPmdPtlocks = false;
  cfg.allocSplitPtlocks = false;
}

function sparc64Story(cfg: ArchConfig, kv: number): ConfigStory {
  const up = cfg.options.smp === "off";
  const ctor = ctorSpelling(kv, "pte");
  const dtor = dtorSpelling(kv, "pte");
  const via = up ? "direct" : "table-batch";
  const path = (what: string) =>
    up
      ? `pgtable_free_tlb -> pgtable_free at once (UP): ${what} (asm/pgalloc_64.h)`
      : `pgtable_free_tlb -> tlb_remove_table, the RCU table batch; __tlb_remove_table -> ` +
        `pgtable_free after the grace period: ${what} (asm/pgalloc_64.h)`;
  const cache = "kmem_cache_alloc(pgtable_cache, GFP_KERNEL): an 8 KiB object, not a ptdesc, " +
    "no ctor (asm/pgalloc_64.h, arch/sparc/mm/tsb.c)";
  return {
    levels: {
      pgd: {
        alloc: `pgd_alloc: ${cache}`,
        counted: "never",
        free: "pgd_free: kmem_cache_free at __mmdrop",
        via: "pgd_free",
      },
      pud: {
        alloc: `pud_alloc_one: ${cache}`,
        counted: "VmPTE +8192 (mm_inc_nr_puds); NR_PAGETABLE: never (no ctor in any version)",
        free: `__pud_free_tlb = ${path("kmem_cache_free")}`,
        via,
      },
      pmd: {
        alloc: `pmd_alloc_one: ${cache}`,
        counted: "VmPTE +8192 (mm_inc_nr_pmds); NR_PAGETABLE: never",
        free: `__pmd_free_tlb = ${path("kmem_cache_free")}`,
        via,
      },
      pte: {
        alloc: `pte_alloc_one: ${kv >= 606 ? "pagetable_alloc" : "alloc_page"}(GFP_KERNEL | ` +
          `__GFP_ZERO, 0) + ${ctor}, not memcg-accounted (arch/sparc/mm/init_64.c)`,
        counted: "VmPTE +8192 (mm_inc_nr_ptes); NR_PAGETABLE +1",
        free: `__pte_free_tlb = ${path(`__pte_free: ${dtor} + pagetable_free`)}; the ` +
          "PTE page's pointer carries bit 0 (is_page) through the batch",
        via,
      },
    },
    notes: [
      up
        ? "UP: no MMU_GATHER_RCU_TABLE_FREE, tables freed inside free_pgtables"
        : "MMU_GATHER_RCU_TABLE_FREE if SMP; tlb_needs_table_invalidate() is false: the table " +
          "batch goes to RCU without a TLB flush (asm/tlb_64.h); the dtor runs at the real free",
      "tlb_flush = flush_tlb_pending: flushes the per-CPU tlb_batch that set_pte_at fills for " +
      "every valid PTE cleared (arch/sparc/mm/tlb.c), cross-calling the other CPUs of " +
      "mm_cpumask (smp_64.c); the kernel drains it at the end of each zap_pte_range " +
      "(arch_leave_lazy_mmu_mode) and every 192 PTEs (TLB_BATCH_NR). The model has no per-PTE " +
      "hook: it counts one flush_tlb_pending per gather flush that cleared PTEs (exact for one " +
      "PTE table of at most 192 pages), one at fork for the parent's write-protected PTEs " +
      "(copy_pte_range), two when a huge pmd is split (pmdp_invalidate), none for a whole huge " +
      "pmd zapped (two in the kernel: set_pmd_at -> tlb_batch_add_one)",
      "flush_tlb_mm, flush_tlb_range and flush_tlb_page are empty on sparc64 " +
      "(asm/tlbflush_64.h): dup_mmap's flush_tlb_mm flushes nothing",
      "user space modelled: below the VA hole of a T4 or later CPU (VA_EXCLUDE_START " +
      "0x0007ffff00000000, arch/sparc/mm/init_64.c)",
      "pte_free_defer (khugepaged) is sparc64's own: call_rcu, then __pte_free (init_64.c)",
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Configurations

/** The sparc configurations. */
export const sparcConfigs: ConfigSpec[] = [
  {
    name: "sparc32-srmmu",
    family: "sparc",
    description: "sparc32 with the SRMMU (sun4m/sun4d/LEON), 4K pages, 3 levels (PMD_SHIFT 18, " +
      "PGDIR_SHIFT 24), every table from the nocache pool",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 256, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 64, entryBytes: 4 },
      { entries: 64, entryBytes: 4 },
    ],
    // TASK_SIZE = PAGE_OFFSET (asm/processor_32.h, asm/page_32.h)
    taskSize: 0xF000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    // legacy bottom-up layout (arch/sparc/kernel/sys_sparc_32.c)
    mmap: { legacyBase: 0x5000_0000n },
    noSplitPtlocks: true, // SPLIT_PTLOCK_CPUS 999999 for SPARC32 (mm/Kconfig)
    gather: {
      // arch/sparc/Kconfig: the MMU_GATHER selects are under SPARC64 only
      tableFree: false,
      rcuTableFree: false,
      noGather: false,
      mergeVmas: false,
      noRange: false,
      needsTableInvalidate: true,
    },
    // SRMMU_MAXMEM (0x0c000000) of low memory, the rest HIGHMEM (asm/vaddrs.h)
    lowmemBytes: 0x0C00_0000,
    ramBytes: 256 * 2 ** 20,
    backend: sparc32Backend,
    story: sparc32Story,
  },
  {
    name: "sparc64",
    family: "sparc",
    description: "sparc64, 8K pages, 4 levels of 1024 8-byte entries (p4d folded), SMP",
    bits: 64,
    pageShift: 13,
    levels: [
      { entries: 1024, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1024, entryBytes: 8 },
      { entries: 1024, entryBytes: 8 },
      { entries: 1024, entryBytes: 8 },
    ],
    // below the VA hole of T4 and later: VA_EXCLUDE_START = sparc64_va_hole_bottom - 4 GiB
    taskSize: 0x0008_0000_0000_0000n - (1n << 32n),
    thpAvailable: true,
    splitPmdPtlockArch: false,
    // hugetlb 8M (PMD), 256M and 2G (32 and 256 PMD entries), 16G (2 PUD entries)
    // (arch/sparc/mm/hugetlbpage.c setup_hugepagesz)
    hugetlb: ["pmd", { at: "pmd", cont: 32 }, { at: "pmd", cont: 256 }, { at: "pud", cont: 2 }],
    // bottom-up from VA_EXCLUDE_END for 64-bit tasks (arch/sparc/kernel/sys_sparc_64.c), above
    // the part of the address space ptlab models: an address-less map cannot be placed
    mmap: { legacyBase: 0xfffff801_0000_0000n },
    gather: {
      // MMU_GATHER_RCU_TABLE_FREE if SMP, MMU_GATHER_MERGE_VMAS; tlb_needs_table_invalidate()
      // is false (asm/tlb_64.h)
      tableFree: true,
      rcuTableFree: true,
      noGather: false,
      mergeVmas: true,
      noRange: false,
      needsTableInvalidate: false,
    },
    ramBytes: 16 * 2 ** 30,
    options: sparc64Options,
    backend: sparc64Backend,
    adjust: sparc64Adjust,
    story: sparc64Story,
  },
];
