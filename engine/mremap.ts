/**
 * mremap(2) as mm/mremap.c does it: a shrink in place unmaps the tail, a grow in place extends
 * the VMA; a move (MREMAP_MAYMOVE | MREMAP_FIXED) copies the VMA to the new range (copy_vma),
 * moves the page tables (move_page_tables) and unmaps the old range, whose tables then go by
 * free_pgtables' floor and ceiling rule.
 *
 * move_page_tables walks the range in extents (get_extent: up to the next PUD or PMD boundary of
 * both the old and the new address). An extent of a whole PUD moves the PUD entry where the arch
 * selects HAVE_MOVE_PUD and the new entry is none (move_normal_pud); of a whole PMD, the PMD
 * entry: a THP (move_huge_pmd, its deposit with it) or, with HAVE_MOVE_PMD, a PTE table
 * (move_normal_pmd). Otherwise a PTE table is allocated at the new address (alloc_new_pmd,
 * pte_alloc) and the entries move one by one (move_ptes), the old table left empty. Each move
 * flushes the old range (flush_tlb_range).
 *
 * @module
 */

import { tlbAdjustRange, tlbFinishMmu, tlbGatherMmu } from "./gather.ts";
import type { Machine } from "./machine.ts";
import type { Mm } from "./mm.ts";
import {
  depositPgtable,
  doMunmap,
  hexPage,
  hugeKey,
  insertVma,
  pmdLevelOf,
  pXdAlloc,
  splitHugePmd,
  walkAllocToPmd,
  withdrawPgtable,
} from "./memory.ts";
import { HUGE } from "./tables.ts";
import { PTE } from "./types.ts";

/** The node and entry index at `level` for `vpn`, walking without allocating; null if a table above is missing. */
function lookup(k: Machine, mm: Mm, vpn: number, level: number): [number, number] | null {
  const p = k.pool, g = k.geo;
  let node = mm.pgd, l = mm.top;
  while (l !== level) {
    const c = p.dir(node)[g.index(l, vpn)];
    if (c <= 0) return null;
    node = c;
    l = g.below[l];
  }
  return [node, g.index(level, vpn)];
}

/** The node at `level` covering `vpn`, allocating the tables above and at it (alloc_new_pud). */
function allocTo(k: Machine, mm: Mm, vpn: number, level: number): number {
  const p = k.pool, g = k.geo;
  let node = mm.pgd, l = mm.top;
  while (l !== level) {
    const idx = g.index(l, vpn);
    let c = p.dir(node)[idx];
    if (c === 0) {
      c = pXdAlloc(k, mm, node, idx, g.below[l], vpn);
      if (c === 0) return 0;
    }
    if (c === HUGE) return 0;
    node = c;
    l = g.below[l];
  }
  return node;
}

/** Moves the subtree under `node` by `delta` pages (its tables' first pages). */
function rebase(k: Machine, node: number, delta: number): void {
  const p = k.pool;
  p.base[node] += delta;
  if (p.dirIdx[node] < 0) return;
  for (const c of p.dir(node)) if (c > 0) rebase(k, c, delta);
}

/** Moves the entry `idx` of `from` (a table pointer) to entry `nidx` of `to` (move_pgt_entry). */
function moveEntry(k: Machine, from: number, idx: number, to: number, nidx: number, delta: number) {
  const p = k.pool;
  const c = p.dir(from)[idx];
  p.dir(from)[idx] = 0;
  p.count[from]--;
  p.dir(to)[nidx] = c;
  p.count[to]++;
  if (c > 0) {
    p.parent[c] = to;
    p.slot[c] = nidx;
    rebase(k, c, delta);
  }
}

function flushOld(k: Machine, mm: Mm, vpn: number, pages: number): void {
  // flush_tlb_range(vma, old_addr, old_addr + extent)
  const tlb = tlbGatherMmu(k, mm, false);
  tlbAdjustRange(tlb, vpn, pages);
  tlb.clearedPtes = true;
  tlbFinishMmu(k, tlb);
}

/** move_page_tables of [old, old + len) to [to, to + len) (pages). */
function movePageTables(k: Machine, mm: Mm, old: number, to: number, len: number): void {
  const p = k.pool, g = k.geo;
  const pmdLevel = pmdLevelOf(k);
  const chain = g.chain;
  const pudLevel = chain.length >= 3 ? chain[chain.length - 3] : -1;
  const pmdSpan = g.span[pmdLevel];
  const pudSpan = pudLevel >= 0 ? g.span[pudLevel] : Infinity;
  const extentOf = (size: number, a: number, b: number, end: number) =>
    Math.min((Math.floor(a / size) + 1) * size - a, end - a, (Math.floor(b / size) + 1) * size - b);
  const end = old + len;
  for (let a = old, b = to, extent = 0; a < end; a += extent, b += extent) {
    // NORMAL_PUD: a whole PUD entry, aligned on both sides
    extent = pudLevel >= 0 ? extentOf(pudSpan, a, b, end) : 0;
    if (pudLevel >= 0 && k.cfg.moveTables.pud && extent === pudSpan) {
      const src = lookup(k, mm, a, pudLevel);
      if (!src || p.dir(src[0])[src[1]] === 0) continue; // get_old_pud: nothing to move
      const dst = allocTo(k, mm, b, pudLevel);
      if (dst && p.dir(dst)[g.index(pudLevel, b)] === 0 && p.dir(src[0])[src[1]] !== HUGE) {
        if (k.trace) k.call("move_normal_pud", `${mm.name} ${a} -> ${b}`);
        moveEntry(k, src[0], src[1], dst, g.index(pudLevel, b), b - a);
        flushOld(k, mm, a, extent);
        continue;
      }
    }
    extent = extentOf(pmdSpan, a, b, end);
    const src = lookup(k, mm, a, pmdLevel);
    if (!src || p.dir(src[0])[src[1]] === 0) continue; // get_old_pmd: pmd_none
    const dst = walkAllocToPmd(k, mm, b); // alloc_new_pmd
    if (dst === 0) return;
    const [sn, si] = src;
    const di = g.index(pmdLevel, b);
    let pte = p.dir(sn)[si];
    if (pte === HUGE) {
      if (extent === pmdSpan && p.dir(dst)[di] === 0) {
        // move_huge_pmd: the entry and its deposit move
        if (k.trace) k.call("move_huge_pmd", `${mm.name}`);
        const zero = k.hugeZero.delete(hugeKey(sn, si));
        // a page-cache THP has a deposit only where the arch needs one (pmd_move_must_withdraw)
        const file = k.hugeFile.delete(hugeKey(sn, si));
        const deposit = !file || k.be.archNeedsPgtableDeposit?.(k)
          ? withdrawPgtable(k, mm, sn)
          : -1;
        p.dir(sn)[si] = 0;
        p.count[sn]--;
        p.dir(dst)[di] = HUGE;
        p.count[dst]++;
        if (deposit >= 0) {
          depositPgtable(k, mm, dst, deposit);
          p.created--;
        }
        if (zero) k.hugeZero.add(hugeKey(dst, di));
        if (file) k.hugeFile.add(hugeKey(dst, di));
        flushOld(k, mm, a, extent);
        continue;
      }
      splitHugePmd(k, mm, sn, si, Math.floor(a / pmdSpan) * pmdSpan);
      pte = p.dir(sn)[si];
      if (pte === 0) continue; // a file THP: unmapped, nothing to move
    }
    if (k.cfg.moveTables.pmd && extent === pmdSpan && p.dir(dst)[di] === 0) {
      // move_normal_pmd: the PTE table itself moves
      if (k.trace) k.call("move_normal_pmd", `${mm.name}`);
      moveEntry(k, sn, si, dst, di, b - a);
      flushOld(k, mm, a, extent);
      continue;
    }
    // pte_alloc at the new address, then move_ptes entry by entry
    let npte = p.dir(dst)[di];
    if (npte === 0) npte = pXdAlloc(k, mm, dst, di, PTE, b);
    if (npte === 0) return;
    const so = p.bits(pte), no = p.bits(npte);
    const sBase = p.base[pte], nBase = p.base[npte];
    const SN = p.nonAnon.get(pte);
    let moved = 0;
    for (let i = 0; i < extent; i++) {
      const s = a - sBase + i, d = b - nBase + i;
      const sw = so + (s >>> 5), sm = 1 << (s & 31);
      if (!(p.bitmap[sw] & sm)) continue;
      p.bitmap[sw] = (p.bitmap[sw] & ~sm) >>> 0;
      const dw = no + (d >>> 5), dm = 1 << (d & 31);
      p.bitmap[dw] = (p.bitmap[dw] | dm) >>> 0;
      p.cowMove(pte, s, npte, d);
      if (SN && SN[s >>> 5] & sm) {
        SN[s >>> 5] = (SN[s >>> 5] & ~sm) >>> 0;
        const DN = p.nonAnonOf(npte);
        DN[d >>> 5] = (DN[d >>> 5] | dm) >>> 0;
      }
      moved++;
    }
    p.count[pte] -= moved;
    p.count[npte] += moved;
    if (k.trace) k.call("move_ptes", `${mm.name} ${moved} entries`);
    if (moved) flushOld(k, mm, a, extent);
  }
}

/** mremap of [start, start + oldLen) to [to, to + newLen) (pages) in `mm`. */
export function doMremap(
  k: Machine,
  mm: Mm,
  start: number,
  oldLen: number,
  to: number,
  newLen: number,
): void {
  if (k.trace) k.call("mremap", mm.name);
  const vma = mm.findVma(start);
  if (!vma) return;
  if (to === start) {
    // in place: shrink (do_vmi_munmap of the tail) or grow (vma_expand)
    if (newLen < oldLen) doMunmap(k, mm, start + newLen, start + oldLen);
    else if (newLen > oldLen) vma.end = start + newLen;
    return;
  }
  // mremap_to -> get_unmapped_area(MAP_FIXED): the arch's check of the new range (s390 raises its
  // page-table root with crst_table_upgrade, check_asce_limit); -ENOMEM when it cannot
  if (k.be.archMmap && !k.be.archMmap(k, mm, to, to + newLen)) {
    k.enomems++;
    k.event("ENOMEM", `mremap to ${hexPage(k, to)} in ${mm.name} failed`);
    return;
  }
  // mremap_to: a shrinking move unmaps the tail first
  if (newLen < oldLen) {
    doMunmap(k, mm, start + newLen, start + oldLen);
    oldLen = newLen;
  }
  // move_vma: copy_vma at the new address (same kind, same anon_vma, its pgoff)
  insertVma(mm, to, to + newLen, {
    shared: vma.shared,
    obj: vma.obj,
    pgoff: vma.pgoff + (start - vma.start),
    prot: vma.prot,
    huge: vma.huge,
  });
  const nv = mm.findVma(to);
  if (nv && nv.anonVma === 0) nv.anonVma = vma.anonVma;
  movePageTables(k, mm, start, to, oldLen);
  doMunmap(k, mm, start, start + oldLen);
}
