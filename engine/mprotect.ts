/**
 * mprotect(2) as mm/mprotect.c does it: the range's VMAs split at its ends (split_vma), each
 * changed by change_protection with the mmu_gather do_mprotect_pkey holds (since v6.0, "mm/mprotect:
 * use mmu_gather", 4a18419f71cd), a THP the range covers only in part split first
 * (change_pmd_range -> __split_huge_pmd), then the VMAs merged again where vma_merge would.
 *
 * @module
 */

import { hugetlbUnsharePmds } from "./hugetlb.ts";
import { tlbAdjustRange, tlbFinishMmu, tlbGatherMmu } from "./gather.ts";
import type { Machine } from "./machine.ts";
import type { Mm, Vma } from "./mm.ts";
import {
  anonPresent,
  hugeKey,
  mergeVmas,
  splitVmas,
  tlbFlushPresent,
  walkPteRanges,
} from "./memory.ts";
import { countRange } from "./tables.ts";
import { type Prot, PTE } from "./types.ts";

const RANK: Readonly<Record<Prot, number>> = { none: 0, read: 1, write: 2 };

/**
 * Whether changing a present entry from `from` to `to` changes the PTE (and pte_needs_flush
 * asks for a flush): any loss of permission, PROT_NONE lifted, and a write permission that the
 * entry really gets: on a shared mapping always, on a private one only for its own anonymous
 * pages (can_change_pte_writable; the zero page and page-cache pages stay read-only for COW).
 */
function changes(vma: Vma, from: Prot, to: Prot, anonEntries: boolean): boolean {
  if (RANK[to] < RANK[from] || from === "none") return true;
  return vma.shared || anonEntries;
}

/** do_mprotect_pkey for [start, end) of `mm` (pages). */
export function doMprotect(k: Machine, mm: Mm, start: number, end: number, prot: Prot): void {
  if (k.trace) k.call("mprotect_fixup", `${mm.name} -> ${prot}`);
  const [i, j] = splitVmas(k, mm, start, end);
  const tlb = tlbGatherMmu(k, mm, false);
  const p = k.pool;
  for (let x = i; x < j; x++) {
    const v = mm.vmas[x];
    const from = v.prot;
    if (from === prot) continue;
    v.prot = prot;
    if (v.hugetlb !== undefined) {
      // hugetlb_change_protection: unshares the PMD tables in range, then flush_hugetlb_tlb_range
      // over it, widened to whole PUD ranges when one was unshared (mm/hugetlb.c)
      const span = k.geo.tableSpan[3];
      const shared = hugetlbUnsharePmds(k, mm, v.start, v.end);
      const a = shared ? Math.floor(v.start / span) * span : v.start;
      const b = shared ? Math.ceil(v.end / span) * span : v.end;
      const t = tlbGatherMmu(k, mm, false);
      tlbAdjustRange(t, a, b - a);
      t.clearedPmds = true;
      tlbFinishMmu(k, t);
      continue;
    }
    walkPteRanges(k, mm, v.start, v.end, (pmdNode, idx, slot) => {
      // change_huge_pmd: the huge entry changes in place, tlb_flush_pmd_range
      const key = hugeKey(pmdNode, idx);
      if (changes(v, from, prot, !k.hugeZero.has(key) && !k.hugeFile.has(key))) {
        tlbAdjustRange(tlb, slot, k.geo.tableSpan[PTE]);
        tlb.clearedPmds = true;
      }
    }, (pte, a, b) => {
      // change_pte_range: tlb_flush_pte_range over the present entries it changes
      const present = countRange(p.bitmap, p.bits(pte), a - p.base[pte], b - p.base[pte]);
      if (present && changes(v, from, prot, anonPresent(k, pte, a, b) > 0)) {
        tlbFlushPresent(k, tlb, pte, a, b);
      }
    });
  }
  tlbFinishMmu(k, tlb);
  mergeVmas(mm, i - 1, j);
}
