/**
 * MADV_COLLAPSE of file and shmem memory, as mm/khugepaged.c carries it out: collapse_file
 * makes one THP of a PMD-sized block of the page cache (unmapping its small pages from every
 * process, try_to_unmap), retract_page_tables takes the emptied PTE tables away from the
 * mappings that can map the block with a huge PMD, and collapse_pte_mapped_thp maps it so in
 * the calling process. (Anonymous memory is collapse_huge_page, in madvise.ts.)
 *
 * @module
 */

import type { Machine } from "./machine.ts";
import type { Mm, Vma } from "./mm.ts";
import { addToCache, cachedBits } from "./filemap.ts";
import { detachTable, doSetPmd, hexPage, mmIncNr, pmdLevelOf } from "./memory.ts";
import { clearRange, countRange, HUGE, popcount32 } from "./tables.ts";
import { PTE } from "./types.ts";

/** Where a VMA maps object page `page`: its first page and the PMD entry that holds it. */
interface BlockMapping {
  mm: Mm;
  vma: Vma;
  /** The block's first page in the VMA (may be below vma.start when the VMA is unaligned). */
  addr: number;
}

/** Every VMA of every live process that maps part of the object's block `[page, page + n)`. */
function blockMappings(k: Machine, obj: number, page: number, n: number): BlockMapping[] {
  const out: BlockMapping[] = [];
  for (const mm of k.mms.values()) {
    if (mm.dead) continue;
    for (const vma of mm.vmas) {
      if (vma.obj !== obj || vma.hugetlb !== undefined) continue;
      const addr = vma.start + (page - vma.pgoff);
      if (addr + n <= vma.start || addr >= vma.end) continue;
      out.push({ mm, vma, addr });
    }
  }
  return out;
}

/** The PMD entry holding `vpn` in `mm`: [directory node, index], or undefined where none is. */
function pmdEntry(k: Machine, mm: Mm, vpn: number): [number, number] | undefined {
  const p = k.pool, g = k.geo;
  const pmdLevel = pmdLevelOf(k);
  let node = mm.pgd;
  for (let level = mm.top; node > 0; level = g.below[level]) {
    const i = g.index(level, vpn);
    if (level === pmdLevel) return [node, i];
    node = p.dir(node)[i];
  }
  return undefined;
}

/**
 * try_to_unmap of the block's small pages in one mapping: every present entry that maps a page
 * of the cache (all of a shared mapping's, a private one's it did not copy). Returns how many.
 */
function unmapBlockPages(k: Machine, m: BlockMapping, n: number): number {
  const p = k.pool;
  const ts = k.geo.tableSpan[PTE];
  const lo = Math.max(m.addr, m.vma.start), hi = Math.min(m.addr + n, m.vma.end);
  let cleared = 0;
  for (let slot = Math.floor(lo / ts) * ts; slot < hi; slot += ts) {
    const e = pmdEntry(k, m.mm, slot);
    const pte = e ? p.dir(e[0])[e[1]] : 0;
    if (pte <= 0) continue; // none, or a huge PMD (not of this block: it is not a THP yet)
    const base = p.base[pte];
    const a = Math.max(lo, slot) - base, b = Math.min(hi, slot + ts) - base;
    let c: number;
    if (m.vma.shared) c = clearRange(p.bitmap, p.bits(pte), a, b);
    else {
      // a private mapping's page-cache entries are the nonAnon ones it read
      const N = p.nonAnon.get(pte);
      if (!N) continue;
      c = 0;
      for (let i = a; i < b; i++) {
        const w = i >>> 5, bit = 1 << (i & 31);
        if (!(N[w] & bit)) continue;
        N[w] = (N[w] & ~bit) >>> 0;
        const pw = p.bits(pte) + w;
        p.bitmap[pw] = (p.bitmap[pw] & ~bit) >>> 0;
        c++;
      }
    }
    p.count[pte] -= c;
    cleared += c;
  }
  m.mm.rssShmem -= cleared;
  return cleared;
}

/**
 * pmdp_collapse_flush (mm/pgtable-generic.c: flush_tlb_range of the PMD's range), then the PTE
 * table leaves `mm`: mm_dec_nr_ptes and, from 6.6, pte_free_defer (an RCU grace period); 6.1's
 * collapse_and_free_pmd waits for GUP-fast with tlb_remove_table_sync_one and calls pte_free.
 */
function retractTable(k: Machine, mm: Mm, pmdNode: number, idx: number, slot: number): void {
  const p = k.pool;
  const pte = p.dir(pmdNode)[idx];
  if (k.trace) k.call("pmdp_collapse_flush", `${mm.name} @${hexPage(k, slot)}`);
  if (k.be.flushPmdTlbRange) k.be.flushPmdTlbRange(k, mm, slot);
  else k.tlbFlushed(mm, "pmdp_collapse_flush", `${hexPage(k, slot)} +${k.geo.pmdPages}`, false);
  const mem = p.mem[pte];
  detachTable(k, mm, pte);
  mmIncNr(k, mm, PTE, -1);
  if (k.kv >= 606) {
    // pte_free_defer (6.6, "mm/khugepaged: retract_page_tables() without mmap or vma lock")
    if (k.be.pteFreeDefer) k.be.pteFreeDefer(k, mm, mem);
    else k.callRcu([mem], () => k.be.pteFree(k, mm, mem));
  } else {
    if (k.cfg.gather.rcuTableFree) k.tlbRemoveTableSyncOne(mm);
    k.be.pteFree(k, mm, mem);
  }
}

/**
 * collapse_pte_mapped_thp(mm, addr, install_pmd = true) for the block at `slot` of `vma`,
 * whose cache block is one THP: a huge PMD already there is kept (SCAN_PMD_MAPPED); a PTE table
 * whose present entries all map the THP's pages is emptied and retracted; then the THP is
 * mapped by one huge PMD (set_huge_pmd). A private mapping's copied page aborts it.
 */
function collapsePteMappedThp(k: Machine, mm: Mm, vma: Vma, slot: number): void {
  const p = k.pool;
  const e = pmdEntry(k, mm, slot);
  if (!e) {
    // pmd_alloc is not called: no PMD table, nothing to install into (SCAN_PMD_NULL)
    return;
  }
  const [pmdNode, idx] = e;
  const pte = p.dir(pmdNode)[idx];
  if (pte === HUGE) return;
  if (pte > 0) {
    const off = p.bits(pte);
    const present = p.count[pte];
    if (!vma.shared) {
      const N = p.nonAnon.get(pte);
      const cache = N ? countRange(N, 0, 0, k.geo.tableSpan[PTE]) : 0;
      if (cache !== present) return; // an entry maps another page: abort (SCAN_FAIL)
      if (N) N.fill(0);
    }
    // step 2: the entries cleared, their rmap and MM_SHMEMPAGES dropped
    clearRange(p.bitmap, off, 0, k.geo.tableSpan[PTE]);
    p.count[pte] = 0;
    mm.rssShmem -= present;
    retractTable(k, mm, pmdNode, idx, slot);
  }
  // step 5, maybe_install_pmd: set_huge_pmd
  doSetPmd(k, mm, pmdNode, idx, slot);
}

/**
 * MADV_COLLAPSE of the PMD block at `slot` (PMD-aligned, inside `vma`) of a file or shmem VMA
 * of `mm`: hpage_collapse_scan_file, collapse_file, retract_page_tables and
 * collapse_pte_mapped_thp by version. Returns false where madvise_collapse stops (a result
 * that is not in its list of those it continues after).
 */
export function collapseFileBlock(k: Machine, mm: Mm, vma: Vma, slot: number): boolean {
  const obj = k.objects.get(vma.obj);
  const n = k.geo.pmdPages;
  if (!obj) return true;
  // thp_vma_suitable_order: the file must be aligned as the address is, else -EINVAL
  if ((vma.start - vma.pgoff) % n !== 0) return false;
  const page = vma.pgoff + (slot - vma.start);
  const block = page / n;
  if (!obj.thp?.has(block)) {
    // hpage_collapse_scan_file / collapse_file: nothing cached in the block is SCAN_TRUNCATED
    if (!obj.full && cachedBits(obj, page, Math.ceil(n / 32)).every((w) => popcount32(w) === 0)) {
      return false;
    }
    if (k.trace) k.call("collapse_file", `${obj.name} block ${block}`);
    const maps = blockMappings(k, vma.obj, page, n);
    // try_to_unmap(TTU_BATCH_FLUSH) of every small page: ptep_clear_flush per page, or where
    // the arch batches (ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH) one flush at try_to_unmap_flush
    const self = mm.cpu;
    const deferred = new Set<number>();
    let batch = false;
    for (const m of maps) {
      const c = unmapBlockPages(k, m, n);
      if (c === 0) continue;
      if (k.be.tlbbatchShouldDefer?.(k, m.mm, self)) {
        batch = true;
        for (const cpu of m.mm.cpus) deferred.add(cpu);
      } else k.flushTlbPages(m.mm, Math.max(m.addr, m.vma.start), c);
    }
    if (batch) {
      // arch_tlbbatch_flush: one flush of every CPU the batched mms ran on
      deferred.delete(self);
      k.tlbFlushes++;
      k.deliverIpis([...deferred].filter((c) => c < k.ncpus), "flush", 1);
      if (k.trace) k.call("try_to_unmap_flush", `${deferred.size} CPU(s)`);
    }
    // the new THP takes the block's place in the cache; shmem fills its holes
    if (!obj.thp) obj.thp = new Set();
    obj.thp.add(block);
    const all = new Uint32Array(Math.ceil(n / 32)).fill(0xffffffff);
    addToCache(obj, page, all);
    if (k.kv >= 606) {
      // retract_page_tables(mapping, start): every mapping without an anon_vma that covers
      // the block at a PMD-aligned address loses its (now empty) PTE table
      for (const m of maps) {
        if (m.vma.anonVma !== 0 || m.addr % n !== 0) continue;
        if (m.addr < m.vma.start || m.addr + n > m.vma.end) continue;
        const e = pmdEntry(k, m.mm, m.addr);
        if (!e || entryAt(k, e) <= 0) continue; // find_pmd_or_thp_or_none != SCAN_SUCCEED
        retractTable(k, m.mm, e[0], e[1], m.addr);
      }
      // cc->is_khugepaged is false: SCAN_PTE_MAPPED_HUGEPAGE
    } else {
      // 6.1 retract_page_tables: only the target (mmap_write_trylock; the others are left
      // to khugepaged), collapse_and_free_pmd and set_huge_pmd
      if (vma.anonVma !== 0) return false; // SCAN_PAGE_ANON
      const e = pmdEntry(k, mm, slot);
      if (!e || entryAt(k, e) === 0) return false; // SCAN_PMD_NONE: madvise_collapse stops
      if (entryAt(k, e) === HUGE) return true;
      retractTable(k, mm, e[0], e[1], slot);
      doSetPmd(k, mm, e[0], e[1], slot);
      return true;
    }
  }
  collapsePteMappedThp(k, mm, vma, slot);
  return true;
}

/** The PMD entry `e` holds: 0, {@link HUGE} or a PTE node. */
function entryAt(k: Machine, e: [number, number]): number {
  return k.pool.dir(e[0])[e[1]];
}
