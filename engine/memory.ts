/**
 * The generic mm code: populating tables on a fault (mm/memory.c __pXd_alloc, __pte_alloc,
 * do_anonymous_page, THP in mm/huge_memory.c), zapping (unmap_page_range), free_pgtables with
 * its floor/ceiling rule, munmap, MADV_DONTNEED, fork's copy_page_range and exit_mmap.
 *
 * Addresses are virtual page numbers. Every walk visits tables, never pages.
 *
 * @module
 */

import type { FreeOne } from "./backend.ts";
import {
  batchRoom,
  type MmuGather,
  p4dFreeTlb,
  pmdFreeTlb,
  pteFreeTlb,
  pudFreeTlb,
  tlbAdjustRange,
  tlbBatchFull,
  tlbFinishMmu,
  tlbFlushMmu,
  tlbFlushMmuTlbonly,
  tlbGatherMmu,
  tlbGatherPages,
} from "./gather.ts";
import type { Machine } from "./machine.ts";
import { addFileRss, anonKind, type Mm, type Vma, vmaFrom, type VmaKind } from "./mm.ts";
import {
  clearRange,
  countRange,
  firstSet,
  HUGE,
  lastSet,
  type Mem,
  memFrame,
  nthSet,
  orBetween,
  orRange,
  popcount32,
  setRange,
  setStrided,
} from "./tables.ts";
import { PTE } from "./types.ts";
import { addToCache, cachedBits } from "./filemap.ts";
import { ZONE_HIGHMEM } from "./frames.ts";
import {
  copyHugetlbPageRange,
  hugetlbFaultRange,
  hugetlbSplit,
  unmapHugepageRange,
} from "./hugetlb.ts";

// ---------------------------------------------------------------------------------------------
// Tables and counters

/** mm_inc_nr_ptes / mm_inc_nr_pmds / mm_inc_nr_puds (include/linux/mm.h); p4d and pgd have none. */
export function mmIncNr(k: Machine, mm: Mm, level: number, sign: 1 | -1): void {
  const b = k.cfg.levels[level].pgtablesBytes;
  if (b === 0) return;
  mm.pgtablesBytes += sign * b;
}

/**
 * Creates the root node of `mm` from the pgd memory the arch allocated; `level` is the root's
 * level (s390 starts below the pgd level).
 */
export function installPgd(k: Machine, mm: Mm, mem: Mem, level = 0): void {
  checkLowmem(k, mem, level);
  mm.pgd = k.pool.create(level, mem, 0, k.geo.entries[level]);
  mm.top = level;
  mm.tables[level]++;
}

/**
 * A table the kernel reaches through its linear-map address must be in low memory: every upper
 * level always, PTE tables unless CONFIG_HIGHPTE maps them with kmap_local (pte_offset_map).
 */
function checkLowmem(k: Machine, mem: Mem, level: number): void {
  const frame = memFrame(mem);
  if (k.frames.zone[frame] !== ZONE_HIGHMEM) return;
  if (level === PTE && k.cfg.highpte) return;
  k.violate(
    "highmem-table",
    `a ${["pgd", "p4d", "pud", "pmd", "pte"][level]} table in HIGHMEM (pfn ${frame}) has no ` +
      `kernel address for the page-table code to use`,
    { frame },
  );
}

/**
 * Puts a new root above the current one (s390 crst_table_upgrade): the old root becomes entry 0
 * of a table one level up. Returns the new root node.
 */
export function pushRoot(k: Machine, mm: Mm, mem: Mem): number {
  const p = k.pool;
  const level = mm.top - 1;
  const old = mm.pgd;
  const root = p.create(level, mem, 0, k.geo.entries[level]);
  p.dir(root)[0] = old;
  p.count[root] = 1;
  p.parent[old] = root;
  p.slot[old] = 0;
  mm.pgd = root;
  mm.top = level;
  mm.tables[level]++;
  return root;
}

/**
 * Allocates every table down to the PTE table covering `vpn` (pte_alloc_map; arm's pgd_alloc
 * uses it for the vectors page). Returns the PTE node, or 0 on -ENOMEM.
 */
export function pteAllocMap(k: Machine, mm: Mm, vpn: number): number {
  const parent = walkAllocToPmd(k, mm, vpn);
  if (parent === 0) return 0;
  const lvl = k.pool.level[parent];
  const idx = k.geo.index(lvl, vpn);
  const pte = k.pool.dir(parent)[idx];
  return pte > 0 ? pte : pXdAlloc(k, mm, parent, idx, PTE, vpn);
}

/**
 * Installs a table of `level` at entry `idx` of `parent` (pXd_populate) and counts it. Returns
 * the new node. `count` = false installs without mm_inc_nr_* (callers that count elsewhere).
 */
export function installTable(
  k: Machine,
  mm: Mm,
  parent: number,
  idx: number,
  level: number,
  mem: Mem,
  count = true,
): number {
  const p = k.pool;
  const g = k.geo;
  checkLowmem(k, mem, level);
  const pl = p.level[parent];
  const base = p.base[parent] + idx * g.span[pl];
  const node = p.create(level, mem, base, level === PTE ? 0 : g.entries[level]);
  p.parent[node] = parent;
  p.slot[node] = idx;
  p.dir(parent)[idx] = node;
  p.count[parent]++;
  mm.tables[level]++;
  if (count) mmIncNr(k, mm, level, 1);
  if (k.be.populate) k.be.populate(k, mm, level);
  return node;
}

/** Clears the parent's entry pointing at `node` and forgets the node (pXd_clear). */
export function detachTable(k: Machine, mm: Mm, node: number): void {
  const p = k.pool;
  const parent = p.parent[node];
  p.dir(parent)[p.slot[node]] = 0;
  p.count[parent]--;
  mm.tables[p.level[node]]--;
  p.destroy(node);
}

/** The arch's *_alloc_one for a level. */
function allocOne(k: Machine, mm: Mm, level: number, vpn: number): Mem {
  const be = k.be;
  switch (level) {
    case 1:
      return be.p4dAllocOne(k, mm, vpn);
    case 2:
      return be.pudAllocOne(k, mm, vpn);
    case 3:
      return be.pmdAllocOne(k, mm, vpn);
    default:
      return be.pteAllocOne(k, mm, vpn);
  }
}

/** The arch's pXd_free for a level. */
export function freeOneFn(k: Machine, level: number): FreeOne {
  const be = k.be;
  return [be.pteFree, be.p4dFree, be.pudFree, be.pmdFree, be.pteFree][level];
}

const ALLOC_NAMES = ["", "__p4d_alloc", "__pud_alloc", "__pmd_alloc", "__pte_alloc"];

/**
 * __p4d_alloc / __pud_alloc / __pmd_alloc / __pte_alloc (mm/memory.c): allocate the table below
 * entry `idx` of `parent` and install it, counting it as the kernel does. 0 on -ENOMEM.
 */
export function pXdAlloc(
  k: Machine,
  mm: Mm,
  parent: number,
  idx: number,
  level: number,
  vpn: number,
): number {
  if (k.trace) k.call(ALLOC_NAMES[level], `${mm.name} @${hexPage(k, vpn)}`);
  const mem = allocOne(k, mm, level, vpn);
  if (mem < 0) return 0;
  // pmd_install / pXd_populate under the lock; the model has no racing fault, so it always wins
  return installTable(k, mm, parent, idx, level, mem);
}

/** Formats a page number as a hex address. */
export function hexPage(k: Machine, vpn: number): string {
  return "0x" + (BigInt(vpn) << BigInt(k.cfg.pageShift)).toString(16);
}

/**
 * Walks from the pgd down to the table whose entries map PTE tables (the PMD table, or the
 * lowest present level above the PTEs), allocating what is missing. Returns that node, or 0 on
 * -ENOMEM.
 */
export function walkAllocToPmd(k: Machine, mm: Mm, vpn: number): number {
  const p = k.pool;
  const g = k.geo;
  let node = mm.pgd;
  let level: number = mm.top;
  for (;;) {
    const below = g.below[level];
    if (below === PTE) return node;
    const idx = g.index(level, vpn);
    let child = p.dir(node)[idx];
    if (child === 0) {
      child = pXdAlloc(k, mm, node, idx, below, vpn);
      if (child === 0) return 0;
    }
    node = child;
    level = below;
  }
}

// ---------------------------------------------------------------------------------------------
// Faults

/**
 * THP applies to this fault: the VMA covers the aligned HPAGE_PMD_SIZE range (with a folded PMD
 * that is the range of the entry above the PTE tables).
 */
function thpSuitable(k: Machine, vma: Vma, slotStart: number): boolean {
  // transhuge_vma_suitable (include/linux/huge_mm.h); anonymous private memory only: shmem
  // THP follows shmem_enabled, "never" by default (mm/shmem.c)
  // enabled=always unless VM_NOHUGEPAGE, enabled=madvise only with VM_HUGEPAGE
  // (vma_thp_enabled / hugepage_global_always, include/linux/huge_mm.h)
  const mode = k.cfg.thpMode;
  const wanted = mode === "always"
    ? vma.huge !== "nohuge"
    : mode === "madvise" && vma.huge === "huge";
  return wanted && vma.obj === 0 && !vma.shared && vma.start <= slotStart &&
    slotStart + k.geo.pmdPages <= vma.end;
}

/**
 * do_set_pmd (mm/memory.c): a fault on a page-cache THP maps the whole block with one huge PMD
 * when the VMA covers it at a PMD-aligned address with the same alignment in the file
 * (thp_vma_suitable_order), and, from 6.6 (2b0f922323cc in 6.12, backported to 6.6.y), the VMA
 * is not VM_NOHUGEPAGE. A private write copies one page instead (do_cow_fault).
 */
function fileThpBlock(k: Machine, vma: Vma, slotStart: number): boolean {
  const obj = vma.obj ? k.objects.get(vma.obj) : undefined;
  const n = k.geo.pmdPages;
  if (!obj?.thp || vma.start > slotStart || slotStart + n > vma.end) return false;
  if ((vma.start - vma.pgoff) % n !== 0 || (k.kv >= 606 && vma.huge === "nohuge")) return false;
  return obj.thp.has((vma.pgoff + slotStart - vma.start) / n);
}

/**
 * do_set_pmd: the block's THP mapped by one huge PMD, MM_SHMEMPAGES up by its pages; where
 * arch_needs_pgtable_deposit (powerpc hash) the preallocated PTE table is deposited
 * (deposit_prealloc_pte: mm_inc_nr_ptes). False on VM_FAULT_OOM.
 */
export function doSetPmd(k: Machine, mm: Mm, pmdNode: number, idx: number, vpn: number): boolean {
  if (k.trace) k.call("do_set_pmd", `${mm.name} @${hexPage(k, vpn)}`);
  const p = k.pool;
  if (k.be.archNeedsPgtableDeposit?.(k)) {
    const pgtable = k.be.pteAllocOne(k, mm, vpn);
    if (pgtable < 0) return false;
    depositPgtable(k, mm, pmdNode, pgtable);
    mmIncNr(k, mm, PTE, 1);
    mm.tables[PTE]++;
  }
  p.dir(pmdNode)[idx] = HUGE;
  p.count[pmdNode]++;
  k.hugeFile.add(hugeKey(pmdNode, idx));
  mm.rssShmem += k.geo.pmdPages;
  return true;
}

/** zap_deposited_table where arch_needs_pgtable_deposit: pte_free + mm_dec_nr_ptes. */
function zapFileDeposit(k: Machine, mm: Mm, pmdNode: number): void {
  if (!k.be.archNeedsPgtableDeposit?.(k)) return;
  const pgtable = withdrawPgtable(k, mm, pmdNode);
  if (pgtable >= 0) k.be.pteFree(k, mm, pgtable);
  mmIncNr(k, mm, PTE, -1);
  mm.tables[PTE]--;
}

/** Key of a huge PMD entry in {@link Machine.hugeZero} and {@link Machine.hugeFile}. */
export function hugeKey(pmdNode: number, idx: number): number {
  return pmdNode * 65536 + idx;
}

/**
 * fault_around_pages: 64 KiB of pages, rounded down to a power of two (mm/memory.c; 6.1 kept
 * fault_around_bytes, the same figure). A read fault maps that many around it when above 1.
 */
function faultAroundPages(k: Machine): number {
  return Math.max(1, 2 ** Math.floor(Math.log2(65536 / 2 ** k.cfg.pageShift)));
}

let scratchF = new Uint32Array(16), scratchW = new Uint32Array(16);

/**
 * The faults of a touch in one PTE table for every VMA kind but the plain anonymous write (the
 * fast path of {@link faultRange}), word by word over the table's present bitmap:
 *
 * - anonymous private read: do_anonymous_page maps the zero page (no RSS, no anon_vma);
 * - read of a file or shared anonymous memory: do_read_fault, with do_fault_around mapping the
 *   cached pages of the fault_around_pages-aligned block around each fault (clamped to the VMA
 *   and the PTE table) and shmem_fault adding the faulting page to the cache; the pages count as
 *   MM_SHMEMPAGES (tmpfs); a private mapping maps them read-only (still not its own);
 * - write to shared memory: do_shared_fault, MM_SHMEMPAGES;
 * - write to private memory: do_anonymous_page or do_cow_fault for a page not present,
 *   wp_page_copy for one that mapped the zero page or a page-cache page: MM_ANONPAGES, and the
 *   page-cache page it mapped is no longer counted (mm/memory.c).
 */
export function faultTable(
  k: Machine,
  mm: Mm,
  vma: Vma,
  pte: number,
  first: number,
  end: number,
  step: number,
  read: boolean,
): void {
  const p = k.pool;
  const words = p.words;
  if (scratchF.length < words) scratchF = new Uint32Array(words), scratchW = new Uint32Array(words);
  const F = scratchF, W = scratchW;
  F.fill(0, 0, words);
  const base = p.base[pte];
  const off = p.bits(pte);
  const P = p.bitmap;
  setStrided(F, 0, first - base, end - base, step);
  const obj = vma.obj ? k.objects.get(vma.obj) : undefined;
  const opage = vma.pgoff + (base - vma.start); // object page of the table's first entry
  if (read && !obj) {
    // do_anonymous_page, read: the zero page
    const N = p.nonAnonOf(pte);
    let n = 0;
    for (let w = 0; w < words; w++) {
      const add = F[w] & ~P[off + w];
      if (add === 0) continue;
      n += popcount32(add);
      P[off + w] = (P[off + w] | add) >>> 0;
      N[w] = (N[w] | add) >>> 0;
    }
    p.count[pte] += n;
    return;
  }
  if (read) {
    // do_read_fault -> do_fault_around (filemap_map_pages), then __do_fault for the page itself
    const C = cachedBits(obj!, opage, words);
    const nr = obj!.noFaultAround ? 1 : Math.min(32, faultAroundPages(k));
    const lo = Math.max(vma.start, base) - base;
    const hi = Math.min(vma.end, base + k.geo.tableSpan[PTE]) - base;
    const blockMask = nr >= 32 ? 0xffffffff : 2 ** nr - 1;
    for (let w = 0; w < words; w++) {
      const faulting = F[w] & ~P[off + w];
      F[w] = faulting;
      let win = 0;
      if (nr > 1 && faulting !== 0) {
        for (let b = 0; b < 32; b += nr) {
          if ((faulting >>> b) & blockMask) win |= blockMask << b;
        }
      }
      W[w] = win >>> 0;
    }
    // the window stays inside the VMA
    for (let w = 0; w < words; w++) {
      const w0 = w * 32;
      let m = 0xffffffff;
      if (w0 < lo) m = lo - w0 >= 32 ? 0 : (m << (lo - w0)) >>> 0;
      if (w0 + 32 > hi) m = hi <= w0 ? 0 : (m & (2 ** (hi - w0) - 1)) >>> 0;
      W[w] = (W[w] & m) >>> 0;
    }
    const N = vma.shared ? undefined : p.nonAnonOf(pte);
    let n = 0;
    for (let w = 0; w < words; w++) {
      const add = (F[w] | (W[w] & C[w])) & ~P[off + w];
      if (add === 0) continue;
      n += popcount32(add);
      P[off + w] = (P[off + w] | add) >>> 0;
      if (N) N[w] = (N[w] | add) >>> 0;
    }
    addToCache(obj!, opage, F);
    p.count[pte] += n;
    addFileRss(mm, obj, n);
    return;
  }
  if (vma.shared) {
    // do_shared_fault (shmem_fault allocates what is not cached)
    let n = 0;
    for (let w = 0; w < words; w++) {
      const add = F[w] & ~P[off + w];
      F[w] = add;
      if (add === 0) continue;
      n += popcount32(add);
      P[off + w] = (P[off + w] | add) >>> 0;
    }
    if (obj) addToCache(obj, opage, F);
    p.count[pte] += n;
    addFileRss(mm, obj, n);
    return;
  }
  // private write: do_anonymous_page / do_cow_fault for new pages, wp_page_copy for the others
  if (vma.anonVma === 0) vma.anonVma = k.newAnonVma(); // anon_vma_prepare
  const N = p.nonAnon.get(pte);
  let added = 0, cowed = 0, fileCowed = 0;
  if (p.cowIds.has(pte)) {
    // do_wp_page of anonymous pages fork left shared: wp_page_copy where another process still
    // maps the page, wp_page_reuse (no flush) where this was its last mapping (mm/memory.c)
    for (let w = 0; w < words; w++) W[w] = (F[w] & P[off + w] & ~(N ? N[w] : 0)) >>> 0;
    cowed += p.cowWrite(pte, W);
  }
  for (let w = 0; w < words; w++) {
    const f = F[w];
    const add = f & ~P[off + w];
    const cow = N ? f & P[off + w] & N[w] : 0;
    F[w] = add;
    if (add) {
      added += popcount32(add);
      P[off + w] = (P[off + w] | add) >>> 0;
    }
    if (cow) {
      fileCowed += popcount32(cow);
      N![w] = (N![w] & ~cow) >>> 0;
    }
  }
  cowed += fileCowed;
  // do_cow_fault reads the file's page in (shmem_fault adds it to the cache)
  if (obj) addToCache(obj, opage, F);
  p.count[pte] += added;
  mm.rssPages += added + fileCowed;
  // a COW of a page-cache page no longer maps it (one of the zero page was never counted)
  if (obj) addFileRss(mm, obj, -fileCowed);
  // wp_page_copy: ptep_clear_flush of each page it replaced (mm/memory.c)
  if (cowed) k.flushTlbPages(mm, base, cowed);
}

/**
 * Write faults on pages first, first+step, ... below `end` (all in one VMA). Returns false when a
 * fault returned VM_FAULT_OOM (the touch stops there).
 */
export function faultRange(
  k: Machine,
  mm: Mm,
  vma: Vma,
  first: number,
  end: number,
  step: number,
  read = false,
): boolean {
  if (vma.hugetlb !== undefined) return hugetlbFaultRange(k, mm, vma, first, end, step);
  const p = k.pool;
  const g = k.geo;
  const ts = g.tableSpan[PTE];
  const pmdLevel = pmdLevelOf(k);
  let v = first;
  // tables this touch may create: sizes the arrays once if they must grow, never past what the
  // free frames can hold (the fault that finds them gone is VM_FAULT_OOM)
  const left = step >= ts ? Math.ceil((end - v) / step) : Math.ceil((end - v) / ts);
  const upper = Math.ceil(left / g.entries[pmdLevel]) + 4;
  const free = k.frames.total - k.frames.used;
  // frames: fragments share one (s390 2 KiB halves, powerpc), an upper table may take 4 (CRST)
  k.frames.hint = Math.min(Math.ceil(left / k.tablesPerFrame) + 4 * upper, free);
  p.hint = Math.min(left + upper, free * k.tablesPerFrame + 4);
  while (v < end) {
    const slotStart = Math.floor(v / ts) * ts;
    const slotEnd = Math.min(slotStart + ts, end);
    const parent = walkAllocToPmd(k, mm, v);
    if (parent === 0) return oom(k, mm, v);
    const idx = g.index(pmdLevel, v);
    const dir = p.dir(parent);
    let pte = dir[idx];
    if (pte === HUGE && !read && !vma.shared && k.hugeFile.has(hugeKey(parent, idx))) {
      // wp_huge_pmd of a private file mapping: __split_huge_pmd unmaps the THP, then the
      // write copies its page through the PTE fault path (mm/memory.c)
      splitHugePmd(k, mm, parent, idx, slotStart);
      pte = 0;
    }
    if (pte === 0 && (read || vma.shared) && fileThpBlock(k, vma, slotStart)) {
      if (!doSetPmd(k, mm, parent, idx, slotStart)) return oom(k, mm, v);
    } else if (pte === 0 && thpSuitable(k, vma, slotStart)) {
      // do_huge_pmd_anonymous_page (mm/huge_memory.c): a THP, or on a read the huge zero page
      if (!hugeFault(k, mm, vma, parent, idx, v, read)) return oom(k, mm, v);
    } else if (pte === HUGE && !read && k.hugeZero.has(hugeKey(parent, idx))) {
      if (k.kv >= 613) {
        // do_huge_zero_wp_pmd: a THP replaces the huge zero page, the deposit stays (v6.13,
        // "mm: Allocate THP on hugezeropage wp-fault")
        k.hugeZero.delete(hugeKey(parent, idx));
        mm.rssPages += k.geo.pmdPages;
      } else {
        // do_huge_pmd_wp_page on the huge zero page: __split_huge_pmd, then the PTE fault
        splitHugePmd(k, mm, parent, idx, slotStart);
        faultTable(k, mm, vma, dir[idx], v, slotEnd, step, false);
      }
    } else if (pte !== HUGE) {
      if (pte === 0) {
        // do_anonymous_page / __do_fault: pte_alloc -> __pte_alloc (mm/memory.c)
        pte = pXdAlloc(k, mm, parent, idx, PTE, v);
        if (pte === 0) return oom(k, mm, v);
      }
      if (read || vma.obj !== 0 || vma.shared || p.nonAnon.has(pte) || p.cowIds.has(pte)) {
        faultTable(k, mm, vma, pte, v, slotEnd, step, read);
      } else {
        if (vma.anonVma === 0) vma.anonVma = k.newAnonVma(); // anon_vma_prepare
        const base = p.base[pte];
        const added = setStrided(p.bitmap, p.bits(pte), v - base, slotEnd - base, step);
        p.count[pte] += added;
        mm.rssPages += added;
      }
    }
    // next touched page at or after slotStart + ts
    const nextSlot = slotStart + ts;
    v = v + Math.max(1, Math.ceil((nextSlot - v) / step)) * step;
  }
  p.hint = k.frames.hint = 0;
  return true;
}

/** Level of the table that holds the pmd entries (PMD, or the lowest present upper level). */
export function pmdLevelOf(k: Machine): number {
  const c = k.geo.chain;
  return c[c.length - 2];
}

function oom(k: Machine, mm: Mm, vpn: number): false {
  k.pool.hint = k.frames.hint = 0;
  k.ooms++;
  k.event("VM_FAULT_OOM", `${mm.name} fault at ${hexPage(k, vpn)}`);
  return false;
}

/** Key of the list pgtable_trans_huge_deposit uses: the PMD table's ptdesc, or the mm. */
function depositKey(k: Machine, mm: Mm, pmdNode: number): number {
  // pmd_huge_pte(mm, pmd): split PMD ptlocks keep it in the PMD table's ptdesc (mm.h)
  return k.cfg.splitPmdPtlocks ? memFrame(k.pool.mem[pmdNode]) : -mm.id;
}

/** pgtable_trans_huge_deposit (mm/pgtable-generic.c). */
export function depositPgtable(k: Machine, mm: Mm, pmdNode: number, mem: Mem): void {
  const key = depositKey(k, mm, pmdNode);
  let list = k.deposits.get(key);
  if (!list) k.deposits.set(key, list = []);
  list.push(mem);
  k.pool.created++;
  if (key >= 0) k.frames.pmdHugePte[key] = list.length;
  if (k.trace) k.call("pgtable_trans_huge_deposit", `frame ${memFrame(mem)}`);
}

/** pgtable_trans_huge_withdraw (mm/pgtable-generic.c). */
export function withdrawPgtable(k: Machine, mm: Mm, pmdNode: number): Mem {
  const key = depositKey(k, mm, pmdNode);
  const list = k.deposits.get(key);
  const mem = list?.pop();
  if (mem === undefined) {
    k.violate("withdraw-empty", `pgtable_trans_huge_withdraw: nothing deposited for ${mm.name}`);
    return -1;
  }
  if (list!.length === 0) k.deposits.delete(key);
  if (key >= 0) k.frames.pmdHugePte[key] = list!.length;
  if (k.trace) k.call("pgtable_trans_huge_withdraw", `frame ${memFrame(mem)}`);
  return mem;
}

/** __do_huge_pmd_anonymous_page: deposit a PTE table, map the huge page (mm/huge_memory.c). */
function hugeFault(
  k: Machine,
  mm: Mm,
  vma: Vma,
  pmdNode: number,
  idx: number,
  vpn: number,
  read = false,
): boolean {
  if (vma.anonVma === 0) vma.anonVma = k.newAnonVma(); // anon_vma_prepare (vmf_anon_prepare)
  if (k.trace) k.call("do_huge_pmd_anonymous_page", `${mm.name} @${hexPage(k, vpn)}`);
  const pgtable = k.be.pteAllocOne(k, mm, vpn);
  if (pgtable < 0) return false; // VM_FAULT_OOM
  depositPgtable(k, mm, pmdNode, pgtable);
  // a read maps the huge zero page (set_huge_zero_folio): mm_inc_nr_ptes, no RSS
  setHugePmd(k, mm, pmdNode, idx, read);
  return true;
}

/**
 * Writes a huge pmd and counts it: mm_inc_nr_ptes for the deposit, HPAGE_PMD_NR anon pages (none
 * for the huge zero page).
 */
function setHugePmd(k: Machine, mm: Mm, pmdNode: number, idx: number, zero = false): void {
  const p = k.pool;
  p.dir(pmdNode)[idx] = HUGE;
  p.count[pmdNode]++;
  mmIncNr(k, mm, PTE, 1);
  mm.tables[PTE]++;
  if (zero) k.hugeZero.add(hugeKey(pmdNode, idx));
  else mm.rssPages += k.geo.pmdPages;
}

// ---------------------------------------------------------------------------------------------
// Zap

/** zap_details the model needs. */
export interface ZapDetails {
  /** MADV_DONTNEED asks zap_pte_range to free PTE tables it empties (PT_RECLAIM, 6.14+). */
  reclaimPt: boolean;
}

/** unmap_single_vma / unmap_page_range over [start, end) of one VMA (mm/memory.c). */
export function unmapPageRange(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  vma: Vma,
  start: number,
  end: number,
  details: ZapDetails | null,
): void {
  start = Math.max(start, vma.start);
  end = Math.min(end, vma.end);
  if (start >= end) return;
  if (vma.hugetlb !== undefined) {
    // unmap_single_vma: __unmap_hugepage_range_final for hugetlb (mm/memory.c)
    unmapHugepageRange(k, tlb, mm, vma, start, end);
    if (!tlb.fullmm && !k.cfg.gather.mergeVmas) tlbFlushMmuTlbonly(k, tlb);
    return;
  }
  if (k.trace) k.call("unmap_page_range", `${mm.name} ${hexPage(k, start)}-${hexPage(k, end)}`);
  zapLevel(k, tlb, mm, vma, mm.pgd, mm.top, start, end, details);
  // tlb_end_vma: flush at each VMA unless fullmm or MMU_GATHER_MERGE_VMAS (asm-generic/tlb.h)
  if (!tlb.fullmm && !k.cfg.gather.mergeVmas) tlbFlushMmuTlbonly(k, tlb);
}

function zapLevel(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  vma: Vma,
  node: number,
  level: number,
  start: number,
  end: number,
  details: ZapDetails | null,
): void {
  const p = k.pool;
  const g = k.geo;
  const below = g.below[level];
  const span = g.span[level];
  const base = p.base[node];
  const i0 = Math.floor((start - base) / span);
  const i1 = Math.ceil((end - base) / span);
  for (let i = i0; i < i1; i++) {
    const child = p.dir(node)[i];
    if (child === 0) continue;
    const a = Math.max(start, base + i * span);
    const b = Math.min(end, base + (i + 1) * span);
    if (child === HUGE) {
      // zap_pmd_range: a whole huge pmd is zapped, a partial one is split first
      if (a === base + i * span && b === base + (i + 1) * span) {
        zapHugePmd(k, tlb, mm, node, i, a);
        continue;
      }
      splitHugePmd(k, mm, node, i, base + i * span);
      if (p.dir(node)[i] !== 0) zapPteRange(k, tlb, mm, vma, p.dir(node)[i], a, b, details);
    } else if (below === PTE) {
      zapPteRange(k, tlb, mm, vma, child, a, b, details);
    } else {
      zapLevel(k, tlb, mm, vma, child, below, a, b, details);
    }
  }
}

/** zap_pte_range (mm/memory.c), with PT_RECLAIM's free of an emptied table (mm/pt_reclaim.c). */
function zapPteRange(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  vma: Vma,
  pte: number,
  start: number,
  end: number,
  details: ZapDetails | null,
): void {
  const p = k.pool;
  const base = p.base[pte];
  const off = p.bits(pte);
  let o0 = start - base;
  const o1 = end - base;
  let left = countRange(p.bitmap, off, o0, o1);
  if (left > 0 && k.trace) k.call("zap_pte_range", `${left} page(s) @${hexPage(k, start)}`);
  while (left > 0) {
    let take = left;
    let last = -1;
    if (!k.cfg.gather.noGather) {
      const room = batchRoom(k, tlb);
      if (room <= left) {
        take = room;
        last = nthSet(p.bitmap, off, o0, o1, room);
      }
    }
    const hi = last >= 0 ? last + 1 : o1;
    const first = firstSet(p.bitmap, off, o0, hi);
    const lastBit = last >= 0 ? last : lastSet(p.bitmap, off, o0, hi);
    // tlb_remove_tlb_entry: __tlb_adjust_range + cleared_ptes, for each pte cleared
    tlbAdjustRange(tlb, base + first, lastBit - first + 1);
    tlb.clearedPtes = true;
    clearRange(p.bitmap, off, o0, hi);
    p.cowDrop(pte, o0, hi);
    p.count[pte] -= take;
    // zap_present_ptes: the counter of each page's kind (mm_counter); the zero page has none
    const N = p.nonAnon.get(pte);
    const notAnon = N ? clearRange(N, 0, o0, hi) : 0;
    const obj = vma.obj ? k.objects.get(vma.obj) : undefined;
    if (vma.shared) addFileRss(mm, obj, -take);
    else {
      mm.rssPages -= take - notAnon;
      if (vma.obj) addFileRss(mm, obj, -notAnon);
    }
    left -= take;
    o0 = hi;
    if (!k.cfg.gather.noGather) {
      tlbGatherPages(k, tlb, take);
      if (tlbBatchFull(k, tlb)) {
        // __tlb_remove_page returned true: force_flush, then tlb_flush_mmu
        if (k.trace) k.call("force_flush", "page batch full");
        tlbFlushMmu(k, tlb);
      }
    }
  }
  // PT_RECLAIM: zap_pte_range frees the table when it zapped a whole table and left it empty
  if (
    details?.reclaimPt && start === base && end === base + k.geo.tableSpan[PTE] &&
    p.count[pte] === 0
  ) {
    if (k.trace) k.call("try_get_and_clear_pmd", `PTE table @${hexPage(k, base)}`);
    const mem = p.mem[pte];
    detachTable(k, mm, pte);
    pteFreeTlb(k, tlb, mem, base);
    mmIncNr(k, mm, PTE, -1);
  }
}

/** zap_huge_pmd (mm/huge_memory.c). */
function zapHugePmd(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  pmdNode: number,
  idx: number,
  vpn: number,
): void {
  const p = k.pool;
  if (k.trace) k.call("zap_huge_pmd", `@${hexPage(k, vpn)}`);
  p.dir(pmdNode)[idx] = 0;
  p.count[pmdNode]--;
  // tlb_remove_pmd_tlb_entry: range of HPAGE_PMD_SIZE, cleared_pmds
  tlbAdjustRange(tlb, vpn, k.geo.pmdPages);
  tlb.clearedPmds = true;
  if (k.hugeFile.delete(hugeKey(pmdNode, idx))) {
    // a page-cache THP: MM_SHMEMPAGES, and a deposit only where the arch needs one
    zapFileDeposit(k, mm, pmdNode);
    mm.rssShmem -= k.geo.pmdPages;
  } else {
    // zap_deposited_table: pte_free (direct) + mm_dec_nr_ptes
    const pgtable = withdrawPgtable(k, mm, pmdNode);
    if (pgtable >= 0) k.be.pteFree(k, mm, pgtable);
    mmIncNr(k, mm, PTE, -1);
    mm.tables[PTE]--;
    // the huge zero page is not counted (zap_huge_pmd: is_huge_zero_pmd)
    if (!k.hugeZero.delete(hugeKey(pmdNode, idx))) mm.rssPages -= k.geo.pmdPages;
  }
  // tlb_remove_page_size(tlb, page, HPAGE_PMD_SIZE): one batch entry
  if (!k.cfg.gather.noGather && tlbGatherPages(k, tlb, 1) === 1 && tlbBatchFull(k, tlb)) {
    tlbFlushMmu(k, tlb);
  }
}

/** __split_huge_pmd for an anonymous THP: the deposited table becomes the PTE table. */
export function splitHugePmd(k: Machine, mm: Mm, pmdNode: number, idx: number, vpn: number): void {
  const p = k.pool;
  if (k.trace) k.call("__split_huge_pmd", `@${hexPage(k, vpn)}`);
  // pmdp_invalidate -> flush_pmd_tlb_range (mm/pgtable-generic.c)
  if (k.be.flushPmdTlbRange) k.be.flushPmdTlbRange(k, mm, vpn);
  else {k.tlbFlushed(
      mm,
      "flush_pmd_tlb_range",
      `${hexPage(k, vpn)} +${k.geo.pmdPages} pages`,
      false,
    );}
  if (k.hugeFile.delete(hugeKey(pmdNode, idx))) {
    // __split_huge_pmd_locked of a file THP: the PMD is cleared, the pages stay in the cache
    // and fault back in by PTE (mm/huge_memory.c)
    p.dir(pmdNode)[idx] = 0;
    p.count[pmdNode]--;
    zapFileDeposit(k, mm, pmdNode);
    mm.rssShmem -= k.geo.pmdPages;
    return;
  }
  const pgtable = withdrawPgtable(k, mm, pmdNode);
  p.dir(pmdNode)[idx] = 0;
  p.count[pmdNode]--;
  mm.tables[PTE]--; // installTable counts the node again; nr_ptes was counted at deposit
  const pte = installTable(k, mm, pmdNode, idx, PTE, pgtable, false);
  p.created--; // the deposited table, counted when it was deposited
  const n = setRange(p.bitmap, p.bits(pte), 0, k.geo.pmdPages);
  p.count[pte] = n;
  // __split_huge_zero_page_pmd: every entry maps the zero page
  if (k.hugeZero.delete(hugeKey(pmdNode, idx))) setRange(p.nonAnonOf(pte), 0, 0, n);
}

// ---------------------------------------------------------------------------------------------
// free_pgtables

/** "0 means the top" for ceilings and the last page number + 1 of the address space. */
export function topPage(k: Machine): number {
  return 2 ** (k.cfg.bits - k.cfg.pageShift);
}

/**
 * free_pgtables (mm/memory.c): VMAs being removed, in order, grouped while the next starts
 * within PMD_SIZE of the previous end, each group's range freed with free_pgd_range under the
 * same floor.
 */
export function freePgtables(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  vmas: readonly Vma[],
  floor: number,
  ceiling: number,
): void {
  if (k.trace) k.call("free_pgtables", `${mm.name}`);
  const pmd = k.geo.pmdPages;
  let i = 0;
  while (i < vmas.length) {
    const addr = vmas[i].start;
    let j = i;
    // hugetlb VMAs went alone (hugetlb_free_pgd_range) and were never gathered into a group
    // until 6.17 removed hugetlb_free_pgd_range (mm/memory.c)
    const alone = (v: Vma) => v.hugetlb !== undefined && k.kv < 617;
    if (!alone(vmas[i])) {
      while (
        j + 1 < vmas.length && vmas[j + 1].start <= vmas[j].end + pmd && !alone(vmas[j + 1])
      ) j++;
    }
    const next = vmas[j + 1];
    freePgdRange(k, tlb, mm, addr, vmas[j].end, floor, next ? next.start : ceiling);
    i = j + 1;
  }
}

/**
 * free_pgd_range (mm/memory.c). `ceiling` 0 means the top of the address space; addresses are
 * pages, so "wraps to 0" is "reaches the top".
 */
export function freePgdRange(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
): void {
  const top = topPage(k);
  const pmd = k.geo.pmdPages;
  addr = Math.floor(addr / pmd) * pmd;
  if (addr < floor) {
    addr += pmd;
    if (addr >= top) return;
  }
  if (ceiling !== 0) {
    ceiling = Math.floor(ceiling / pmd) * pmd;
    if (ceiling === 0) return;
  }
  const ceil = ceiling === 0 ? top : ceiling;
  if (end > ceil) end -= pmd;
  if (addr >= end) return;
  if (k.trace) k.call("free_pgd_range", `${hexPage(k, addr)}-${hexPage(k, end)}`);
  // tlb_change_page_size(tlb, PAGE_SIZE): only MMU_GATHER_PAGE_SIZE arches track it
  freeLevel(k, tlb, mm, mm.pgd, mm.top, addr, end, floor, ceiling);
}

/** free_p4d_range / free_pud_range / free_pmd_range: the entries of `node` within [addr, end). */
function freeLevel(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  node: number,
  level: number,
  addr: number,
  end: number,
  floor: number,
  ceiling: number,
): void {
  const p = k.pool;
  const g = k.geo;
  const below = g.below[level];
  const span = g.span[level];
  const base = p.base[node];
  const i0 = Math.floor((addr - base) / span);
  const i1 = Math.ceil((end - base) / span);
  const dir = p.dir(node);
  for (let i = i0; i < i1; i++) {
    const child = dir[i];
    if (child === 0) continue;
    const a = Math.max(addr, base + i * span);
    const next = Math.min(end, base + (i + 1) * span);
    if (child === HUGE) {
      // pmd_none_or_clear_bad: a huge pmd here is "bad" (pmd_clear_bad)
      k.violate("bad-pmd", `free_pgtables met a huge pmd at ${hexPage(k, a)}`, { mm: mm.name });
      continue;
    }
    if (below === PTE) {
      // free_pte_range: pmd_clear, pte_free_tlb, mm_dec_nr_ptes
      const mem = p.mem[child];
      detachTable(k, mm, child);
      pteFreeTlb(k, tlb, mem, a);
      mmIncNr(k, mm, PTE, -1);
      continue;
    }
    freeLevel(k, tlb, mm, child, below, a, next, floor, ceiling);
    // the tail of free_pXd_range: start &= mask of the level above; floor and ceiling checks
    const ts = g.tableSpan[below];
    const start = Math.floor(a / ts) * ts;
    if (start < floor) continue;
    if (ceiling !== 0) {
      const c = Math.floor(ceiling / ts) * ts;
      if (c === 0 || next > c) continue;
    }
    const mem = p.mem[child];
    detachTable(k, mm, child);
    freeTableTlb(k, tlb, below, mem, start);
    mmIncNr(k, mm, below, -1);
    // runtime-folded levels between: their pXd_free_tlb still adjusts the range (asm-generic)
    for (let l = below - 1; l > level; l--) {
      if (k.cfg.levels[l].folded === "runtime") freeTableTlb(k, tlb, l, -1, start);
    }
  }
}

/** pmd_free_tlb / pud_free_tlb / p4d_free_tlb for a level (mem -1: folded at run time). */
function freeTableTlb(k: Machine, tlb: MmuGather, level: number, mem: Mem, vpn: number): void {
  if (level === 3) pmdFreeTlb(k, tlb, mem, vpn);
  else if (level === 2) pudFreeTlb(k, tlb, mem, vpn);
  else p4dFreeTlb(k, tlb, mem, vpn);
}

// ---------------------------------------------------------------------------------------------
// VMAs, munmap, madvise

/** VM_ACCOUNT of a VMA: as recorded, else what mmap_region gives a private writable mapping. */
function accounted(v: VmaKind): boolean {
  return v.account ?? (!v.shared && v.prot === "write" && v.hugetlb === undefined);
}

/**
 * is_mergeable_vma: the same object, sharing and flags (protection, VM_EXEC, VM_GROWSDOWN,
 * VM_ACCOUNT), and contiguous file pages; VM_SPECIAL (VM_DONTEXPAND, VM_PFNMAP) never merges.
 */
export function sameKind(a: VmaKind, b: VmaKind, aPages: number): boolean {
  // hugetlb VMAs never merge: hugetlbfs_file_mmap sets VM_DONTEXPAND, one of VM_SPECIAL (mm/vma.c)
  return a.hugetlb === undefined && b.hugetlb === undefined && a.shared === b.shared &&
    a.obj === b.obj && a.prot === b.prot && a.huge === b.huge && a.pgoff + aPages === b.pgoff &&
    !a.special && !b.special && !a.pfnmap && !b.pfnmap && !a.exec === !b.exec &&
    !a.growsDown === !b.growsDown && accounted(a) === accounted(b);
}

/**
 * vma_needs_copy (mm/memory.c, the same in 6.1 to 6.18): fork copies a VMA's page tables when it
 * is VM_PFNMAP or VM_MIXEDMAP (x86's [vvar] and [vvar_vclock], arm64's [vvar] ...) or has an
 * anon_vma; a file or shared mapping without one is left to fault in again.
 */
export function vmaNeedsCopy(v: Vma): boolean {
  return v.pfnmap === true || v.anonVma !== 0;
}

/**
 * Inserts a new VMA of `kind` (private anonymous read-write unless told), merging with compatible
 * neighbours (vma_merge_new_range, mm/vma.c).
 */
export function insertVma(mm: Mm, start: number, end: number, kind?: VmaKind): void {
  const kd = kind ?? anonKind(start);
  const i = mm.findIndex(start);
  const prev = i > 0 ? mm.vmas[i - 1] : undefined;
  const next = mm.vmas[i];
  const mergePrev = prev !== undefined && prev.end === start &&
    sameKind(prev, kd, prev.end - prev.start);
  const mergeNext = next !== undefined && next.start === end && sameKind(kd, next, end - start);
  // is_mergeable_anon_vma: a NULL anon_vma merges with anything; two different ones do not
  if (
    mergePrev && mergeNext && (prev.anonVma === 0 || next.anonVma === 0 ||
      prev.anonVma === next.anonVma)
  ) {
    prev.end = next.end;
    prev.anonVma ||= next.anonVma;
    mm.vmas.splice(i, 1);
  } else if (mergePrev) {
    prev.end = end;
  } else if (mergeNext) {
    next.start = start;
    next.pgoff = kd.pgoff;
  } else {
    mm.vmas.splice(i, 0, { start, end, anonVma: 0, ...kd });
  }
}

/** Splits VMAs at `start` and `end` and returns the index range [i, j) of those inside. */
export function splitVmas(k: Machine, mm: Mm, start: number, end: number): [number, number] {
  let i = mm.findIndex(start);
  const v = mm.vmas[i];
  if (v && v.start < start && v.end > start) {
    if (v.hugetlb !== undefined) hugetlbSplit(k, mm, v, start);
    mm.vmas.splice(i + 1, 0, vmaFrom(v, start));
    v.end = start;
    i++;
  }
  let j = i;
  while (j < mm.vmas.length && mm.vmas[j].start < end) j++;
  const w = mm.vmas[j - 1];
  if (j > i && w.end > end) {
    if (w.hugetlb !== undefined) hugetlbSplit(k, mm, w, end);
    mm.vmas.splice(j, 0, vmaFrom(w, end));
    w.end = end;
  }
  return [i, j];
}

/** munmap: do_vmi_munmap -> unmap_region (mm/mmap.c, mm/vma.c). */
export function doMunmap(k: Machine, mm: Mm, start: number, end: number): void {
  const [i, j] = splitVmas(k, mm, start, end);
  if (i === j) return; // no VMA in the range: nothing to do
  const detached = mm.vmas.splice(i, j - i);
  const prev = mm.vmas[i - 1];
  const next = mm.vmas[i];
  // unmap_region: floor = prev->vm_end or FIRST_USER_ADDRESS, ceiling = next->vm_start or
  // USER_PGTABLES_CEILING
  const page = BigInt(k.cfg.pageShift);
  const floor = prev ? prev.end : Number(k.cfg.firstUserAddress >> page);
  const ceiling = next ? next.start : Number(k.cfg.userPgtablesCeiling >> page);
  const tlb = tlbGatherMmu(k, mm, false);
  for (const v of detached) unmapPageRange(k, tlb, mm, v, start, end, null);
  freePgtables(k, tlb, mm, detached, floor, ceiling);
  tlbFinishMmu(k, tlb);
}

/** MADV_DONTNEED: madvise_dontneed_single_vma per VMA -> zap_page_range_single (mm/madvise.c). */
export function madviseDontneed(k: Machine, mm: Mm, start: number, end: number): void {
  const details: ZapDetails = { reclaimPt: k.cfg.ptReclaim };
  const batched = k.kv >= 616; // madvise batches the mmu_gather over VMAs from 6.16
  let tlb: MmuGather | null = null;
  for (let i = mm.findIndex(start); i < mm.vmas.length && mm.vmas[i].start < end; i++) {
    const v = mm.vmas[i];
    if (!tlb) tlb = tlbGatherMmu(k, mm, false);
    unmapPageRange(k, tlb, mm, v, start, end, details);
    if (!batched) {
      tlbFinishMmu(k, tlb);
      tlb = null;
    }
  }
  if (tlb) tlbFinishMmu(k, tlb);
}

// ---------------------------------------------------------------------------------------------
// fork

/** copy_page_range for one VMA: the child gets a table wherever the parent has one (mm/memory.c). */
export function copyPageRange(k: Machine, dst: Mm, src: Mm, vma: Vma): boolean {
  if (vma.hugetlb !== undefined) return copyHugetlbPageRange(k, dst, src, vma);
  if (k.trace) k.call("copy_page_range", `${src.name} -> ${dst.name} ${hexPage(k, vma.start)}`);
  return copyLevel(k, dst, src, dst.pgd, src.pgd, src.top, vma.start, vma.end, vma);
}

function copyLevel(
  k: Machine,
  dst: Mm,
  src: Mm,
  dnode: number,
  snode: number,
  level: number,
  start: number,
  end: number,
  vma: Vma,
): boolean {
  const p = k.pool;
  const g = k.geo;
  const below = g.below[level];
  const span = g.span[level];
  const base = p.base[snode];
  const i0 = Math.floor((start - base) / span);
  const i1 = Math.ceil((end - base) / span);
  for (let i = i0; i < i1; i++) {
    const s = p.dir(snode)[i];
    if (s === 0) continue;
    const a = Math.max(start, base + i * span);
    const b = Math.min(end, base + (i + 1) * span);
    if (s === HUGE) {
      // copy_huge_pmd: a PTE table for the child's deposit, mm_inc_nr_ptes, HPAGE_PMD_NR pages;
      // a page-cache THP is skipped ("can be re-filled on fault": !vma_is_anonymous)
      if (p.dir(dnode)[i] !== 0 || k.hugeFile.has(hugeKey(snode, i))) continue;
      const pgtable = k.be.pteAllocOne(k, dst, a);
      if (pgtable < 0) return false;
      depositPgtable(k, dst, dnode, pgtable);
      // the huge zero page is shared as it is (set_huge_zero_folio), no RSS
      setHugePmd(k, dst, dnode, i, k.hugeZero.has(hugeKey(snode, i)));
      continue;
    }
    let d = p.dir(dnode)[i];
    if (d === 0) {
      // pXd_alloc / pte_alloc in the child (copy_p4d_range ... copy_pte_range)
      d = pXdAlloc(k, dst, dnode, i, below, a);
      if (d === 0) return false;
    }
    if (below === PTE) {
      // copy_pte_range: every present pte in range is copied (anonymous pages, COW); an
      // entry that maps the zero page or a page-cache page stays one in the child
      const sb = p.base[s];
      const n = orRange(p.bitmap, p.bits(s), p.bits(d), a - sb, b - sb);
      p.count[d] += n;
      const N = p.nonAnon.get(s);
      const notAnon = N ? countRange(N, 0, a - sb, b - sb) : 0;
      if (N && notAnon) orBetween(N, 0, p.nonAnonOf(d), 0, a - sb, b - sb);
      // copy_present_pte: an anonymous page is now mapped by both, write-protected in both
      if (n - notAnon > 0) p.cowShare(s, d, anonBits(k, s, N), a - sb, b - sb);
      dst.rssPages += n - notAnon;
      if (vma.obj) addFileRss(dst, k.objects.get(vma.obj), notAnon);
    } else if (!copyLevel(k, dst, src, d, s, below, a, b, vma)) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// exit

/** exit_mmap (mm/mmap.c): zap everything, free_pgtables over every VMA, with a fullmm gather. */
export function exitMmap(k: Machine, mm: Mm): void {
  if (k.trace) k.call("exit_mmap", mm.name);
  k.be.archExitMmap?.(k, mm);
  const vmas = mm.vmas;
  if (vmas.length > 0) {
    const tlb = tlbGatherMmu(k, mm, true);
    for (const v of vmas) unmapPageRange(k, tlb, mm, v, v.start, v.end, null);
    const page = BigInt(k.cfg.pageShift);
    freePgtables(
      k,
      tlb,
      mm,
      vmas,
      Number(k.cfg.firstUserAddress >> page),
      Number(k.cfg.userPgtablesCeiling >> page),
    );
    tlbFinishMmu(k, tlb);
  }
  mm.vmas = [];
}

/**
 * Calls `fn` for every PMD entry that is not none in [start, end) of `mm` (the walk of
 * change_protection and madvise's walk_page_range, without allocating): the PMD node, the
 * entry's index and the first page it covers.
 */
export function walkPmds(
  k: Machine,
  mm: Mm,
  start: number,
  end: number,
  fn: (pmdNode: number, idx: number, slot: number) => void,
): void {
  const p = k.pool;
  const g = k.geo;
  const pmdLevel = pmdLevelOf(k);
  const visit = (node: number, level: number) => {
    const span = g.span[level];
    const base = p.base[node];
    const i0 = Math.max(0, Math.floor((start - base) / span));
    const i1 = Math.min(g.entries[level], Math.ceil((end - base) / span));
    for (let i = i0; i < i1; i++) {
      const c = p.dir(node)[i];
      if (c === 0) continue;
      if (level === pmdLevel) fn(node, i, base + i * span);
      else if (c !== HUGE) visit(c, g.below[level]);
    }
  };
  if (mm.pgd) visit(mm.pgd, mm.top);
}

/** Merges each VMA in [i, j] with the next one where vma_merge would (mm/vma.c). */
export function mergeVmas(mm: Mm, i: number, j: number): void {
  for (let x = Math.min(j, mm.vmas.length - 2); x >= Math.max(0, i); x--) {
    const a = mm.vmas[x], b = mm.vmas[x + 1];
    if (
      a.end === b.start && sameKind(a, b, a.end - a.start) &&
      (a.anonVma === 0 || b.anonVma === 0 || a.anonVma === b.anonVma)
    ) {
      a.end = b.end;
      a.anonVma ||= b.anonVma;
      mm.vmas.splice(x + 1, 1);
    }
  }
}

/**
 * The walk change_protection and madvise_free_pte_range share: for every PMD entry in [start,
 * end) that is not none, `onHuge(pmdNode, idx, slot)` for a THP the range covers whole, else
 * (after __split_huge_pmd of a THP covered in part) `onPtes(pte, a, b)` with the PTE node and the
 * part [a, b) of the range it maps.
 */
export function walkPteRanges(
  k: Machine,
  mm: Mm,
  start: number,
  end: number,
  onHuge: (pmdNode: number, idx: number, slot: number) => void,
  onPtes: (pte: number, a: number, b: number) => void,
): void {
  const p = k.pool;
  const span = k.geo.tableSpan[PTE];
  walkPmds(k, mm, start, end, (pmdNode, idx, slot) => {
    const a = Math.max(start, slot), b = Math.min(end, slot + span);
    if (p.dir(pmdNode)[idx] === HUGE) {
      if (a === slot && b === slot + span) return onHuge(pmdNode, idx, slot);
      splitHugePmd(k, mm, pmdNode, idx, slot);
    }
    // a file THP's split leaves no table
    if (p.dir(pmdNode)[idx] !== 0) onPtes(p.dir(pmdNode)[idx], a, b);
  });
}

/** tlb_flush_pte_range over the present entries of `pte` in [a, b) (none present: nothing). */
export function tlbFlushPresent(k: Machine, tlb: MmuGather, pte: number, a: number, b: number) {
  const p = k.pool;
  const off = p.bits(pte), base = p.base[pte];
  const f = firstSet(p.bitmap, off, a - base, b - base);
  if (f < 0) return;
  const l = lastSet(p.bitmap, off, a - base, b - base);
  tlbAdjustRange(tlb, base + f, l - f + 1);
  tlb.clearedPtes = true;
}

/** The present entries of PTE node `pte` that map anonymous pages (not in `N`), as a bitmap. */
function anonBits(k: Machine, pte: number, N: Uint32Array | undefined): Uint32Array {
  const p = k.pool;
  const off = p.bits(pte);
  const out = new Uint32Array(p.words);
  for (let w = 0; w < p.words; w++) out[w] = (p.bitmap[off + w] & ~(N ? N[w] : 0)) >>> 0;
  return out;
}

/** Present entries of `pte` in [a, b) that map the process's own anonymous pages. */
export function anonPresent(k: Machine, pte: number, a: number, b: number): number {
  const p = k.pool;
  const base = p.base[pte];
  const N = p.nonAnon.get(pte);
  return countRange(p.bitmap, p.bits(pte), a - base, b - base) -
    (N ? countRange(N, 0, a - base, b - base) : 0);
}
