/**
 * hugetlb memory (mm/hugetlb.c): pages mapped by an entry of a PMD or PUD table (no PTE table
 * below them), PMD tables shared between the processes that map the same hugetlbfs file
 * (huge_pmd_share, CONFIG_ARCH_WANT_HUGE_PMD_SHARE), the zap that unshares them, fork's
 * copy_hugetlb_page_range and hugetlb_change_protection.
 *
 * A shared PMD table is one node reached from several processes' tables: each keeps its own
 * entry and counts the table in its pgtables_bytes (mm_inc_nr_pmds in huge_pmd_share), while the
 * table's frame and its NR_PAGETABLE page exist once.
 *
 * @module
 */

import {
  type MmuGather,
  tlbAdjustRange,
  tlbBatchFull,
  tlbFlushMmu,
  tlbFlushMmuTlbonly,
} from "./gather.ts";
import { tlbGatherPages } from "./gather.ts";
import type { Machine } from "./machine.ts";
import type { Mm, Vma } from "./mm.ts";
import { hexPage, mmIncNr, pXdAlloc } from "./memory.ts";
import { HUGE } from "./tables.ts";

/** The PMD level (sharing applies to PMD-size pages whose leaf table is a real PMD table). */
const PMD = 3;

/** The hstate of a hugetlb VMA: the level of its leaf entries and how many one page takes. */
function hstate(k: Machine, vma: Vma): { level: number; cont: number } {
  return k.cfg.hugetlb[vma.hugetlb!];
}

/** Base pages in one hugetlb page of `vma` (huge_page_size >> PAGE_SHIFT). */
export function hugetlbPages(k: Machine, vma: Vma): number {
  const h = hstate(k, vma);
  return k.geo.span[h.level] * h.cont;
}

/** PMD_SIZE pages (one PMD entry each), the only ones huge_pmd_share shares. */
function pmdSized(k: Machine, vma: Vma): boolean {
  const h = hstate(k, vma);
  return h.level === PMD && h.cont === 1;
}

/**
 * One attachment of a shared PMD table: the table of `mm` whose entry `idx` points at it.
 */
export interface PmdShare {
  /** The process. */
  mm: Mm;
  /** Its table holding the entry (the PUD table, or the level the PUD folds into). */
  parent: number;
  /** The entry. */
  idx: number;
}

/**
 * The node of `mm`'s table at `level` covering `vpn`, without allocating (hugetlb_walk /
 * huge_pte_offset); 0 when a table above it is missing.
 */
function walkTo(k: Machine, mm: Mm, vpn: number, level: number): number {
  const p = k.pool, g = k.geo;
  let node = mm.pgd, l = mm.top;
  while (l < level) {
    const c = p.dir(node)[g.index(l, vpn)];
    if (c <= 0) return 0;
    node = c;
    l = g.below[l];
  }
  return node;
}

/**
 * want_pmd_share -> vma_shareable (mm/hugetlb.c): a VM_MAYSHARE mapping that covers the whole
 * PUD-aligned range around `vpn`, on an arch that selects ARCH_WANT_HUGE_PMD_SHARE.
 */
function wantPmdShare(k: Machine, vma: Vma, vpn: number): boolean {
  if (!k.cfg.hugePmdShare || !vma.shared || !pmdSized(k, vma)) return false;
  const span = k.geo.tableSpan[PMD];
  const start = Math.floor(vpn / span) * span;
  return vma.start <= start && start + span <= vma.end;
}

/**
 * page_table_shareable (mm/hugetlb.c): where `svma` maps the file page `vma` maps at `vpn`, if
 * its PMD table there could serve `vma` too: the same index in the PMD table, the same flags
 * (VM_LOCKED aside), and `svma` covering that whole PUD-aligned range. -1 otherwise.
 */
function pageTableShareable(k: Machine, svma: Vma, vma: Vma, vpn: number, fpage: number): number {
  const span = k.geo.tableSpan[PMD];
  const saddr = fpage - svma.pgoff + svma.start;
  const sbase = Math.floor(saddr / span) * span;
  const pmdIndex = (v: number) => Math.floor((v % span) / k.geo.span[PMD]);
  if (pmdIndex(vpn) !== pmdIndex(saddr)) return -1;
  if (
    svma.prot !== vma.prot || svma.shared !== vma.shared || svma.huge !== vma.huge ||
    svma.hugetlb !== vma.hugetlb
  ) return -1;
  if (sbase < svma.start || sbase + span > svma.end) return -1;
  return saddr;
}

/**
 * huge_pmd_share (mm/hugetlb.c): looks through the file's mappings (i_mmap) for another VMA with
 * a PMD table for the same file pages and installs that table in `mm`'s entry `idx` of
 * `parent`: pud_populate + mm_inc_nr_pmds, and one more sharer (the table's page refcount
 * before 6.13, ptdesc->pt_share_count from 6.13, 59d9094df3d7). Returns the table, or 0 when
 * none is found (the caller then allocates one with pmd_alloc).
 */
function hugePmdShare(
  k: Machine,
  mm: Mm,
  vma: Vma,
  vpn: number,
  parent: number,
  idx: number,
): number {
  const fpage = vpn - vma.start + vma.pgoff;
  for (const other of k.mms.values()) {
    if (other.dead) continue;
    for (const svma of other.vmas) {
      if (svma === vma || svma.obj !== vma.obj || fpage < svma.pgoff) continue;
      if (fpage >= svma.pgoff + (svma.end - svma.start)) continue;
      const saddr = pageTableShareable(k, svma, vma, vpn, fpage);
      if (saddr < 0) continue;
      const spte = walkTo(k, other, saddr, PMD);
      if (spte === 0) continue;
      const p = k.pool;
      let list = k.pmdShares.get(spte);
      if (!list) {
        list = [{ mm: other, parent: p.parent[spte], idx: p.slot[spte] }];
        k.pmdShares.set(spte, list);
      }
      list.push({ mm, parent, idx });
      p.dir(parent)[idx] = spte;
      p.count[parent]++;
      mm.tables[PMD]++;
      mmIncNr(k, mm, PMD, 1);
      if (k.trace) {
        k.call(
          "huge_pmd_share",
          `${mm.name} @${hexPage(k, vpn)}: ${other.name}'s PMD table, ${list.length} sharers`,
        );
      }
      return spte;
    }
  }
  return 0;
}

/**
 * huge_pmd_unshare (mm/hugetlb.c): when the PMD table `node` that `mm` reaches through entry
 * `idx` of `parent` is shared, drops `mm`'s entry (pud_clear, one sharer less, mm_dec_nr_pmds)
 * and returns true; a table only `mm` uses stays.
 */
function hugePmdUnshare(k: Machine, mm: Mm, node: number, parent: number, idx: number): boolean {
  const list = k.pmdShares.get(node);
  if (!list) return false;
  const at = list.findIndex((s) => s.mm === mm && s.parent === parent && s.idx === idx);
  if (at < 0) return false;
  list.splice(at, 1);
  const p = k.pool;
  p.dir(parent)[idx] = 0;
  p.count[parent]--;
  // tlb_remove_table_sync_one: wait for GUP-fast walkers before the table can be reused as a
  // normal one (1013af4f585f, 6.16)
  if (k.kv >= 616 && k.cfg.gather.rcuTableFree) k.tlbRemoveTableSyncOne(mm);
  mm.tables[PMD]--;
  mmIncNr(k, mm, PMD, -1);
  // the node keeps one parent link: it moves to a remaining sharer
  if (p.parent[node] === parent && p.slot[node] === idx) {
    p.parent[node] = list[0].parent;
    p.slot[node] = list[0].idx;
  }
  if (list.length === 1) k.pmdShares.delete(node);
  if (k.trace) k.call("huge_pmd_unshare", `${mm.name}: ${list.length} sharer(s) left`);
  return true;
}

/**
 * huge_pte_alloc (mm/hugetlb.c, the generic one): every table down to the one whose entry maps
 * the page, sharing the PMD table when want_pmd_share allows. Returns that table, 0 on -ENOMEM.
 */
function hugePteAlloc(k: Machine, mm: Mm, vma: Vma, vpn: number): number {
  const p = k.pool, g = k.geo;
  const level = hstate(k, vma).level;
  let node = mm.pgd, l = mm.top;
  while (l < level) {
    const below = g.below[l];
    const idx = g.index(l, vpn);
    let c = p.dir(node)[idx];
    if (c === 0 && below === PMD && level === PMD && wantPmdShare(k, vma, vpn)) {
      c = hugePmdShare(k, mm, vma, vpn, node, idx);
    }
    if (c === 0) c = pXdAlloc(k, mm, node, idx, below, vpn);
    if (c <= 0) return 0;
    node = c;
    l = below;
  }
  return node;
}

/**
 * hugetlb_fault over the hugetlb pages holding pages first, first+step, ... below `end`: tables
 * from huge_pte_alloc, then hugetlb_no_page maps a huge page (a read as well: hugetlb has no zero
 * page) and hugetlb_count_add counts it in mm->hugetlb_usage, not in any RSS counter. A page a
 * sharer of the PMD table mapped already is found present. False on VM_FAULT_OOM.
 */
export function hugetlbFaultRange(
  k: Machine,
  mm: Mm,
  vma: Vma,
  first: number,
  end: number,
  step: number,
): boolean {
  const p = k.pool, g = k.geo;
  const hp = hugetlbPages(k, vma);
  const { level, cont } = hstate(k, vma);
  const each = g.span[level];
  // hugetlb_no_page: a private mapping gets an anon_vma at its first fault (vmf_anon_prepare)
  if (!vma.shared && vma.anonVma === 0) vma.anonVma = k.newAnonVma();
  let v = first;
  while (v < end) {
    const node = hugePteAlloc(k, mm, vma, v);
    if (node === 0) {
      k.ooms++;
      k.event("VM_FAULT_OOM", `${mm.name} hugetlb fault at ${hexPage(k, v)}`);
      return false;
    }
    // every huge page of this table that the touch reaches
    const tEnd = Math.min(end, p.base[node] + g.tableSpan[level]);
    const dir = p.dir(node);
    while (v < tEnd) {
      // set_huge_pte_at: every entry of a contiguous page
      const idx = Math.floor((Math.floor(v / hp) * hp - p.base[node]) / each);
      if (dir[idx] === 0) {
        for (let c = 0; c < cont; c++) dir[idx + c] = HUGE;
        p.count[node] += cont;
        mm.hugetlbPages += hp;
      }
      const next = (Math.floor(v / hp) + 1) * hp;
      v += Math.max(1, Math.ceil((next - v) / step)) * step;
    }
  }
  return true;
}

/**
 * __unmap_hugepage_range (mm/hugetlb.c) over [start, end) of a hugetlb VMA: a shared PMD table is
 * unshared (its whole PUD range skipped, tlb_flush_pmd_range, and the TLB flushed before
 * returning: force_flush); otherwise each huge entry is cleared (tlb_remove_huge_tlb_entry) and
 * its page goes to the gather (tlb_remove_page_size). The tables stay for free_pgtables.
 */
export function unmapHugepageRange(
  k: Machine,
  tlb: MmuGather,
  mm: Mm,
  vma: Vma,
  start: number,
  end: number,
): void {
  const p = k.pool, g = k.geo;
  const { level, cont } = hstate(k, vma);
  const each = g.span[level];
  const tspan = g.tableSpan[level];
  let force = false;
  if (k.trace) {
    k.call("__unmap_hugepage_range", `${mm.name} ${hexPage(k, start)}-${hexPage(k, end)}`);
  }
  let v = start;
  while (v < end) {
    const node = walkTo(k, mm, v, level);
    const tStart = Math.floor(v / tspan) * tspan;
    const tEnd = Math.min(end, tStart + tspan);
    if (node === 0) {
      v = tEnd;
      continue;
    }
    if (pmdSized(k, vma) && unshareAt(k, mm, node, v)) {
      tlbAdjustRange(tlb, tStart, tspan);
      tlb.clearedPmds = true;
      force = true;
      v = tStart + tspan;
      continue;
    }
    const dir = p.dir(node);
    for (let i = g.index(level, v), e = i + Math.ceil((tEnd - v) / each); i < e; i++) {
      if (dir[i] !== HUGE) continue;
      dir[i] = 0;
      p.count[node]--;
      mm.hugetlbPages -= each;
      const a = tStart + i * each;
      tlbAdjustRange(tlb, a, each);
      // tlb_remove_huge_tlb_entry: cleared_pmds for a PMD-size entry, cleared_puds above
      if (each <= g.pmdPages) tlb.clearedPmds = true;
      else tlb.clearedPuds = true;
      if (i % cont !== cont - 1) continue; // a contiguous page is one folio: gathered once
      if (!k.cfg.gather.noGather && tlbGatherPages(k, tlb, 1) === 1 && tlbBatchFull(k, tlb)) {
        tlbFlushMmu(k, tlb);
      }
    }
    v = tEnd;
  }
  if (force) tlbFlushMmuTlbonly(k, tlb);
}

/** huge_pmd_unshare of the PMD table `node` that `mm` reaches at `vpn`. */
function unshareAt(k: Machine, mm: Mm, node: number, vpn: number): boolean {
  if (!k.pmdShares.has(node)) return false;
  const c = k.geo.chain;
  const up = c[c.indexOf(PMD) - 1];
  return hugePmdUnshare(k, mm, node, walkTo(k, mm, vpn, up), k.geo.index(up, vpn));
}

/**
 * copy_hugetlb_page_range (mm/hugetlb.c) for a private hugetlb VMA fork copies (it has an
 * anon_vma): the child gets its own tables (huge_pte_alloc; a private mapping never shares) and
 * an entry for each page the parent maps, counted in its hugetlb_usage. False on -ENOMEM.
 */
export function copyHugetlbPageRange(k: Machine, dst: Mm, src: Mm, vma: Vma): boolean {
  const p = k.pool, g = k.geo;
  const { level, cont } = hstate(k, vma);
  const hp = hugetlbPages(k, vma);
  const tspan = g.tableSpan[level];
  if (k.trace) {
    k.call("copy_hugetlb_page_range", `${src.name} -> ${dst.name} ${hexPage(k, vma.start)}`);
  }
  for (let v = vma.start; v < vma.end;) {
    const tEnd = Math.min(vma.end, (Math.floor(v / tspan) + 1) * tspan);
    const s = walkTo(k, src, v, level);
    if (s !== 0 && p.count[s] > 0) {
      const sdir = p.dir(s);
      for (let a = v; a < tEnd; a += hp) {
        const i = g.index(level, a);
        if (sdir[i] !== HUGE) continue;
        const d = hugePteAlloc(k, dst, vma, a);
        if (d === 0) return false;
        if (p.dir(d)[i] === 0) {
          for (let c = 0; c < cont; c++) p.dir(d)[i + c] = HUGE;
          p.count[d] += cont;
          dst.hugetlbPages += hp;
        }
      }
    }
    v = tEnd;
  }
  return true;
}

/**
 * The PMD tables hugetlb_change_protection unshares in [start, end) of a hugetlb VMA
 * (huge_pmd_unshare at each PUD range it walks; adjust_range_if_pmd_sharing_possible widens the
 * flush to whole PUD ranges). Returns whether any was unshared.
 */
export function hugetlbUnsharePmds(k: Machine, mm: Mm, start: number, end: number): boolean {
  const span = k.geo.tableSpan[PMD];
  let any = false;
  for (let v = Math.floor(start / span) * span; v < end; v += span) {
    const node = walkTo(k, mm, v, PMD);
    if (node !== 0 && unshareAt(k, mm, node, v)) any = true;
  }
  return any;
}

/**
 * hugetlb_split (mm/hugetlb.c, the vm_ops->may_split of a hugetlb VMA): a split at `at` inside a
 * PUD range unshares the PMD table of that range (hugetlb_unshare_pmds), since the two halves
 * could no longer share it.
 */
export function hugetlbSplit(k: Machine, mm: Mm, vma: Vma, at: number): void {
  if (!pmdSized(k, vma)) return;
  const span = k.geo.tableSpan[PMD];
  const floor = Math.floor(at / span) * span;
  if (floor === at || floor < vma.start || floor + span > vma.end) return;
  hugetlbUnsharePmds(k, mm, floor, floor + span);
}
