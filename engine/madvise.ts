/**
 * The madvise(2) advice besides MADV_DONTNEED (memory.ts madviseDontneed), as mm/madvise.c and
 * mm/khugepaged.c carry them out: MADV_FREE, MADV_HUGEPAGE / MADV_NOHUGEPAGE, MADV_POPULATE_WRITE
 * and MADV_COLLAPSE.
 *
 * @module
 */

import { tlbFinishMmu, tlbGatherMmu } from "./gather.ts";
import { collapseFileBlock } from "./khugepaged.ts";
import type { Machine } from "./machine.ts";
import type { Mm } from "./mm.ts";
import {
  anonPresent,
  depositPgtable,
  faultRange,
  hexPage,
  hugeKey,
  mergeVmas,
  splitVmas,
  tlbFlushPresent,
  walkPmds,
  walkPteRanges,
} from "./memory.ts";
import { countRange, HUGE } from "./tables.ts";
import { PTE } from "./types.ts";

/**
 * MADV_FREE: madvise_free_single_vma over anonymous private VMAs; madvise_free_pte_range marks
 * each present anonymous page clean and old (ptep_get_and_clear_full, then set again), a THP it
 * covers in part is split; the tables and RSS stay, the gather flushes what it changed.
 */
export function madviseFree(k: Machine, mm: Mm, start: number, end: number): void {
  for (let i = mm.findIndex(start); i < mm.vmas.length && mm.vmas[i].start < end; i++) {
    const v = mm.vmas[i];
    if (v.obj !== 0 || v.shared) continue; // -EINVAL: not vma_is_anonymous
    const s = Math.max(start, v.start), e = Math.min(end, v.end);
    const tlb = tlbGatherMmu(k, mm, false);
    // madvise_free_huge_pmd of a whole THP needs no flush; a part of one is split first
    walkPteRanges(k, mm, s, e, () => {}, (pte, a, b) => {
      if (anonPresent(k, pte, a, b) > 0) tlbFlushPresent(k, tlb, pte, a, b);
    });
    tlbFinishMmu(k, tlb);
  }
}

/** MADV_HUGEPAGE / MADV_NOHUGEPAGE: VM_HUGEPAGE or VM_NOHUGEPAGE on the range's VMAs. */
export function madviseHugepage(
  k: Machine,
  mm: Mm,
  start: number,
  end: number,
  huge: "huge" | "nohuge",
): void {
  if (k.trace) k.call("hugepage_madvise", `${mm.name} ${huge}`);
  const [i, j] = splitVmas(k, mm, start, end);
  for (let x = i; x < j; x++) mm.vmas[x].huge = huge;
  mergeVmas(mm, i - 1, j);
}

/** MADV_POPULATE_WRITE: faultin_page_range with FOLL_WRITE, every page of the range. */
export function madvisePopulateWrite(k: Machine, mm: Mm, start: number, end: number): void {
  for (let i = mm.findIndex(start); i < mm.vmas.length && mm.vmas[i].start < end; i++) {
    const v = mm.vmas[i];
    if (!faultRange(k, mm, v, Math.max(start, v.start), Math.min(end, v.end), 1)) return;
  }
}

/**
 * MADV_COLLAPSE (madvise_collapse, mm/khugepaged.c) over the PMD-aligned blocks the range
 * holds: for anonymous memory, collapse_huge_page of every PTE table with a writable anonymous
 * page (hpage_collapse_scan_pmd; an empty table or one of zero pages only is SCAN_PAGE_RO):
 * pmdp_collapse_flush, tlb_remove_table_sync_one, the PTE table deposited under the new huge PMD
 * (pgtable_trans_huge_deposit; nr_ptes unchanged), the whole block now one anonymous THP. A
 * VM_NOHUGEPAGE VMA is refused (-EINVAL). File and shmem blocks are collapse_file's
 * (khugepaged.ts).
 */
export function madviseCollapse(k: Machine, mm: Mm, start: number, end: number): void {
  const p = k.pool;
  const span = k.geo.tableSpan[PTE];
  for (let i = mm.findIndex(start); i < mm.vmas.length && mm.vmas[i].start < end; i++) {
    const v = mm.vmas[i];
    const hs = Math.ceil(Math.max(start, v.start) / span) * span;
    const he = Math.floor(Math.min(end, v.end) / span) * span;
    // hugetlb: -EINVAL (thp_vma_allowable_order is false for VM_HUGETLB)
    if (hs >= he || v.huge === "nohuge" || v.hugetlb !== undefined) continue;
    if (v.obj !== 0 || v.shared) {
      // hpage_collapse_scan_file for each block (khugepaged.ts); some results end the call
      for (let slot = hs; slot < he; slot += span) {
        if (!collapseFileBlock(k, mm, v, slot)) return;
      }
      continue;
    }
    walkPmds(k, mm, hs, he, (pmdNode, idx, slot) => {
      const pte = p.dir(pmdNode)[idx];
      if (pte === HUGE) return; // SCAN_PMD_MAPPED
      const off = p.bits(pte);
      const present = p.count[pte];
      const N = p.nonAnon.get(pte);
      const zero = N ? countRange(N, 0, 0, span) : 0;
      if (present - zero === 0 || v.prot !== "write") return; // SCAN_PAGE_RO
      if (k.trace) k.call("collapse_huge_page", `${mm.name} @${hexPage(k, slot)}`);
      // pmdp_collapse_flush -> flush_tlb_range of the block
      if (k.be.flushPmdTlbRange) k.be.flushPmdTlbRange(k, mm, slot);
      else k.tlbFlushed(mm, "pmdp_collapse_flush", `${hexPage(k, slot)} +${span} pages`, false);
      // tlb_remove_table_sync_one: wait for GUP-fast walkers of the old table
      if (k.cfg.gather.rcuTableFree) k.tlbRemoveTableSyncOne(mm);
      // the PTE table becomes the deposit; its entries no longer matter
      const mem = p.mem[pte];
      p.bitmap.fill(0, off, off + p.words);
      p.dir(pmdNode)[idx] = HUGE;
      p.destroy(pte);
      depositPgtable(k, mm, pmdNode, mem);
      p.created--; // the deposit is the table that was there
      // the THP replaces every page: RSS becomes the whole block's, all anonymous
      mm.rssPages += span - (present - zero);
      k.hugeZero.delete(hugeKey(pmdNode, idx));
    });
  }
}
