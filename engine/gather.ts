/**
 * struct mmu_gather (mm/mmu_gather.c, include/asm-generic/tlb.h): the page batch (local bundle
 * and extra batch pages with their limits), the table batch (MMU_GATHER_TABLE_FREE, freed through
 * RCU with MMU_GATHER_RCU_TABLE_FREE), range and cleared_* tracking, and the flush-then-free
 * order of tlb_flush_mmu.
 *
 * User data pages are counted in the batch, never materialised; page-table frames in the batch
 * are freed at the flush.
 *
 * @module
 */

import { Use } from "./frames.ts";
import type { Machine } from "./machine.ts";
import type { Mm } from "./mm.ts";
import { freeFrameChecked, pagetableDtor } from "./ptdesc.ts";
import { type Mem, memFrame } from "./tables.ts";

/** An mmu_gather in flight. Ranges are in virtual page numbers. */
export class MmuGather {
  /** tlb->mm. */
  readonly mm: Mm;
  /** tlb->fullmm (exit_mmap). */
  fullmm: boolean;
  /** tlb->need_flush_all. */
  needFlushAll = false;
  /** tlb->freed_tables. */
  freedTables = false;
  /** tlb->cleared_ptes. */
  clearedPtes = false;
  /** tlb->cleared_pmds. */
  clearedPmds = false;
  /** tlb->cleared_puds. */
  clearedPuds = false;
  /** tlb->cleared_p4ds. */
  clearedP4ds = false;
  /** tlb->start (first page). */
  start: number = Infinity;
  /** tlb->end (page after the last). */
  end = 0;
  /** Capacities of the local batch and of each extra batch page allocated. */
  readonly batchMax: number[];
  /** Frames of the extra batch pages. */
  readonly batchFrames: number[] = [];
  /** Index of tlb->active. */
  active = 0;
  /** batch->nr of the active batch. */
  activeNr = 0;
  /** Entries gathered since the last flush. */
  pageEntries = 0;
  /** Page-table frames among them (freed at the flush). */
  pageTables: number[] = [];
  /** The table batch page, or -1. */
  tableBatchFrame: number = -1;
  /** Entries of the table batch (memory * 16 + tag). */
  tableBatch: number[] = [];
  /** Scratch room for an arch (s390 flush_mm ...). */
  arch: Record<string, number> = {};

  /** A gather for `mm` (fullmm for exit_mmap) with a local batch of `bundle` entries. */
  constructor(mm: Mm, fullmm: boolean, bundle: number) {
    this.mm = mm;
    this.fullmm = fullmm;
    this.batchMax = [bundle];
  }
}

/** tlb_gather_mmu / tlb_gather_mmu_fullmm (mm/mmu_gather.c). */
export function tlbGatherMmu(k: Machine, mm: Mm, fullmm: boolean): MmuGather {
  if (k.trace) k.call(fullmm ? "tlb_gather_mmu_fullmm" : "tlb_gather_mmu", mm.name);
  return new MmuGather(mm, fullmm, k.cfg.gather.bundle);
}

/** __tlb_reset_range (asm-generic/tlb.h). */
export function tlbResetRange(tlb: MmuGather): void {
  tlb.start = Infinity;
  tlb.end = 0;
  tlb.freedTables =
    tlb.clearedPtes =
    tlb.clearedPmds =
    tlb.clearedPuds =
    tlb.clearedP4ds =
      false;
}

/** __tlb_adjust_range (asm-generic/tlb.h). */
export function tlbAdjustRange(tlb: MmuGather, vpn: number, pages: number): void {
  if (vpn < tlb.start) tlb.start = vpn;
  if (vpn + pages > tlb.end) tlb.end = vpn + pages;
}

/** tlb_flush_mmu_tlbonly: flush only if something was cleared or freed (asm-generic/tlb.h). */
export function tlbFlushMmuTlbonly(k: Machine, tlb: MmuGather): void {
  if (
    !(tlb.freedTables || tlb.clearedPtes || tlb.clearedPmds || tlb.clearedPuds ||
      tlb.clearedP4ds)
  ) return;
  k.be.tlbFlush(k, tlb);
  tlbResetRange(tlb);
}

/** tlb_batch_pages_flush: free every gathered page, reset the batches (mm/mmu_gather.c). */
export function tlbBatchPagesFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.pageEntries === 0) return;
  if (k.trace) {
    k.call(
      "free_pages_and_swap_cache",
      `${tlb.pageEntries} page(s), ${tlb.pageTables.length} page-table page(s)`,
    );
  }
  for (const f of tlb.pageTables) freeFrameChecked(k, f, k.frames.order[f]);
  tlb.pageTables = [];
  tlb.pageEntries = 0;
  tlb.active = 0;
  tlb.activeNr = 0;
}

/** tlb_flush_mmu_free: the table batch first, then the page batch (mm/mmu_gather.c). */
export function tlbFlushMmuFree(k: Machine, tlb: MmuGather): void {
  tlbTableFlush(k, tlb);
  tlbBatchPagesFlush(k, tlb);
}

/** tlb_flush_mmu (mm/mmu_gather.c). */
export function tlbFlushMmu(k: Machine, tlb: MmuGather): void {
  tlbFlushMmuTlbonly(k, tlb);
  tlbFlushMmuFree(k, tlb);
}

/** tlb_finish_mmu: last flush, batch pages back to the allocator (mm/mmu_gather.c). */
export function tlbFinishMmu(k: Machine, tlb: MmuGather): void {
  if (k.trace) k.call("tlb_finish_mmu", tlb.mm.name);
  tlbFlushMmu(k, tlb);
  // tlb_batch_list_free
  for (const f of tlb.batchFrames) k.freePages(f, 0);
  tlb.batchFrames.length = 0;
}

/** tlb_next_batch: move to (or allocate) the next batch page; false = the caller must flush. */
function tlbNextBatch(k: Machine, tlb: MmuGather): boolean {
  if (tlb.active + 1 < tlb.batchMax.length) {
    tlb.active++;
    tlb.activeNr = 0;
    return true;
  }
  if (tlb.batchFrames.length === k.cfg.gather.maxGatherBatchCount) return false;
  // __get_free_page(GFP_NOWAIT | __GFP_NOWARN)
  const f = k.getFreePages(0, 0, Use.Batch, "tlb_next_batch");
  if (f < 0) return false;
  tlb.batchFrames.push(f);
  tlb.batchMax.push(k.cfg.gather.maxGatherBatch);
  tlb.active++;
  tlb.activeNr = 0;
  return true;
}

/**
 * Entries a batch takes before it counts as full: batch->max up to 6.8; from 6.9
 * __tlb_remove_folio_pages_size keeps room for a "page + nr_pages" pair, so max - 1
 * (mm/mmu_gather.c).
 */
export function batchRoom(k: Machine, tlb: MmuGather): number {
  return tlb.batchMax[tlb.active] - (k.kv >= 609 ? 1 : 0) - tlb.activeNr;
}

/**
 * __tlb_remove_page_size (__tlb_remove_folio_pages_size from 6.9) for up to `n` pages: stores
 * them and returns how many were stored before the batch became full with no next batch (the
 * caller then flushes), or `n`.
 */
export function tlbGatherPages(k: Machine, tlb: MmuGather, n: number): number {
  let done = 0;
  while (done < n) {
    const room = batchRoom(k, tlb);
    const take = Math.min(room, n - done);
    tlb.activeNr += take;
    tlb.pageEntries += take;
    done += take;
    if (batchRoom(k, tlb) === 0 && !tlbNextBatch(k, tlb)) return done;
  }
  return done;
}

/**
 * Whether the batch is full with no next batch: the state in which __tlb_remove_page_size
 * returned true.
 */
export function tlbBatchFull(k: Machine, tlb: MmuGather): boolean {
  return batchRoom(k, tlb) === 0;
}

/** tlb_remove_page for a page-table page: batch it, flush when full (asm-generic/tlb.h). */
export function tlbRemovePage(k: Machine, tlb: MmuGather, frame: number): void {
  if (k.trace) k.call("tlb_remove_page", `frame ${frame}`);
  if (k.cfg.gather.noGather) {
    // MMU_GATHER_NO_GATHER: __tlb_remove_page_size frees the page at once.
    freeFrameChecked(k, frame, k.frames.order[frame]);
    return;
  }
  k.batched.page++;
  tlb.pageTables.push(frame);
  if (tlbGatherPages(k, tlb, 1) === 1 && tlbBatchFull(k, tlb)) tlbFlushMmu(k, tlb);
}

/** tlb_remove_page_ptdesc (asm-generic/tlb.h). */
export function tlbRemovePagePtdesc(k: Machine, tlb: MmuGather, frame: number): void {
  if (k.trace) k.call("tlb_remove_page_ptdesc", `frame ${frame}`);
  tlbRemovePage(k, tlb, frame);
}

/**
 * tlb_remove_table (mm/mmu_gather.c); without MMU_GATHER_TABLE_FREE it is tlb_remove_page
 * (asm-generic/tlb.h).
 */
export function tlbRemoveTable(k: Machine, tlb: MmuGather, mem: Mem, tag = 0): void {
  if (k.trace) k.call("tlb_remove_table", `frame ${memFrame(mem)}${tag ? ` tag ${tag}` : ""}`);
  if (!k.cfg.gather.tableFree) {
    tlbRemovePage(k, tlb, memFrame(mem));
    return;
  }
  k.batched.table++;
  if (tlb.tableBatchFrame < 0) {
    // __get_free_page(GFP_NOWAIT | __GFP_NOWARN)
    const f = k.getFreePages(0, 0, Use.Batch, "tlb_remove_table");
    if (f < 0) {
      tlbTableInvalidate(k, tlb);
      tlbRemoveTableOne(k, tlb.mm, mem, tag);
      return;
    }
    tlb.tableBatchFrame = f;
  }
  tlb.tableBatch.push(mem * 16 + tag);
  if (tlb.tableBatch.length === k.cfg.gather.maxTableBatch) tlbTableFlush(k, tlb);
}

/**
 * tlb_remove_ptdesc (asm-generic/tlb.h): tlb_remove_table of the table's memory. From 6.14 the
 * !MMU_GATHER_TABLE_FREE tlb_remove_table runs pagetable_dtor before batching the page; with
 * MMU_GATHER_TABLE_FREE the dtor runs in __tlb_remove_table, after the flush (and RCU).
 */
export function tlbRemovePtdesc(k: Machine, tlb: MmuGather, mem: Mem, level = 4): void {
  if (k.trace) k.call("tlb_remove_ptdesc", `frame ${memFrame(mem)}`);
  if (!k.cfg.gather.tableFree && k.kv >= 614) pagetableDtor(k, memFrame(mem), level);
  tlbRemoveTable(k, tlb, mem);
}

/** tlb_table_invalidate: flush first when tlb_needs_table_invalidate() (mm/mmu_gather.c). */
function tlbTableInvalidate(k: Machine, tlb: MmuGather): void {
  if (k.cfg.gather.needsTableInvalidate) tlbFlushMmuTlbonly(k, tlb);
}

/** tlb_remove_table_one: the batch page could not be allocated (mm/mmu_gather.c). */
function tlbRemoveTableOne(k: Machine, mm: Mm, mem: Mem, tag: number): void {
  if (k.cfg.gather.tableOneRcu) {
    // 6.14+ with PT_RECLAIM: __tlb_remove_table_one -> call_rcu on the table's ptdesc
    k.callRcu([mem], () => k.be.tlbRemoveTable(k, mem, tag));
    return;
  }
  // tlb_remove_table_sync_one: smp_call_function(tlb_remove_table_smp_sync, NULL, 1)
  if (k.cfg.gather.rcuTableFree) k.tlbRemoveTableSyncOne(mm);
  k.be.tlbRemoveTable(k, mem, tag);
}

/** tlb_table_flush: invalidate, then free the batch through RCU (or at once) (mm/mmu_gather.c). */
export function tlbTableFlush(k: Machine, tlb: MmuGather): void {
  if (tlb.tableBatchFrame < 0) return;
  tlbTableInvalidate(k, tlb);
  const batch = tlb.tableBatch;
  const frame = tlb.tableBatchFrame;
  tlb.tableBatch = [];
  tlb.tableBatchFrame = -1;
  const free = () => {
    // __tlb_remove_table_free
    for (const e of batch) k.be.tlbRemoveTable(k, Math.floor(e / 16), e % 16);
    k.freePages(frame, 0);
  };
  if (k.cfg.gather.rcuTableFree) k.callRcu(batch.map((e) => Math.floor(e / 16)), free);
  else free();
}

/** pte_free_tlb (asm-generic/tlb.h): range, cleared_pmds, freed_tables, then __pte_free_tlb. */
export function pteFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void {
  if (k.trace) k.call("pte_free_tlb", `frame ${memFrame(mem)}`);
  tlbAdjustRange(tlb, vpn, 1);
  tlb.clearedPmds = true;
  tlb.freedTables = true;
  archFreeTlb(k, 4, tlb.mm, () => k.be.pteFreeTlb(k, tlb, mem, vpn));
}

/**
 * pmd_free_tlb (asm-generic/tlb.h): range, cleared_puds, freed_tables, then __pmd_free_tlb.
 * `mem` -1 is a level folded at run time: the wrapper runs, the arch hook does nothing.
 */
export function pmdFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void {
  if (k.trace) k.call("pmd_free_tlb", mem >= 0 ? `frame ${memFrame(mem)}` : "folded");
  tlbAdjustRange(tlb, vpn, 1);
  tlb.clearedPuds = true;
  tlb.freedTables = true;
  if (mem >= 0) archFreeTlb(k, 3, tlb.mm, () => k.be.pmdFreeTlb(k, tlb, mem, vpn));
}

/** pud_free_tlb (asm-generic/tlb.h): range, cleared_p4ds, freed_tables, then __pud_free_tlb. */
export function pudFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void {
  if (k.trace) k.call("pud_free_tlb", mem >= 0 ? `frame ${memFrame(mem)}` : "folded");
  tlbAdjustRange(tlb, vpn, 1);
  tlb.clearedP4ds = true;
  tlb.freedTables = true;
  if (mem >= 0) archFreeTlb(k, 2, tlb.mm, () => k.be.pudFreeTlb(k, tlb, mem, vpn));
}

/** p4d_free_tlb (asm-generic/tlb.h): range and freed_tables only, then __p4d_free_tlb. */
export function p4dFreeTlb(k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void {
  if (k.trace) k.call("p4d_free_tlb", mem >= 0 ? `frame ${memFrame(mem)}` : "folded");
  tlbAdjustRange(tlb, vpn, 1);
  tlb.freedTables = true;
  if (mem >= 0) archFreeTlb(k, 1, tlb.mm, () => k.be.p4dFreeTlb(k, tlb, mem, vpn));
}

/** tlb_get_unmap_shift's stride in pages: the lowest level cleared (asm-generic/tlb.h). */
export function tlbUnmapStride(k: Machine, tlb: MmuGather): number {
  const g = k.geo;
  if (tlb.clearedPtes) return 1;
  if (tlb.clearedPmds) return g.span[3];
  if (tlb.clearedPuds) return g.span[2];
  if (tlb.clearedP4ds) return g.span[1];
  return 1;
}

/**
 * flush_tlb_range over the gathered range: IPIs to the other CPUs running the mm (lazy ones too
 * when tables were freed and the arch says so).
 */
export function tlbFlushRange(k: Machine, tlb: MmuGather, fn: string, lazyToo = false): void {
  const pages = tlb.end - tlb.start;
  k.tlbFlushed(tlb.mm, fn, `${pages} page(s) from page ${tlb.start}`, lazyToo);
}

/** Runs an arch __pXd_free_tlb and records how it freed the table (Machine.freeVia). */
function archFreeTlb(k: Machine, level: number, mm: Mm, hook: () => void): void {
  const { page, table } = k.batched;
  k.inFreeTlb = true;
  k.freeTlbMm = mm.id;
  k.flushesAtUnlink = k.tlbFlushes;
  try {
    hook();
  } finally {
    k.inFreeTlb = false;
  }
  k.freeVia[level].add(
    k.batched.table > table ? "table-batch" : k.batched.page > page ? "page-batch" : "direct",
  );
}
