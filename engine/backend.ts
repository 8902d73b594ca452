/**
 * The interface an architecture implements: its pgalloc.h (pgd_alloc, *_alloc_one, *_free) and
 * tlb.h (__pXd_free_tlb, tlb_flush, __tlb_remove_table) entry points. `archs/generic.ts` holds
 * the asm-generic defaults; an arch spreads them and overrides only where it differs.
 *
 * @module
 */

import type { MmuGather } from "./gather.ts";
import type { Machine } from "./machine.ts";
import type { Mm } from "./mm.ts";
import type { Mem } from "./tables.ts";

/** pXd_alloc_one: the table's memory, or -1 when the allocation (or its ctor) failed. */
export type AllocOne = (k: Machine, mm: Mm, vpn: number) => Mem;
/** pXd_free: frees a table at once (the loser of a populate race, error paths, pgd_free). */
export type FreeOne = (k: Machine, mm: Mm, mem: Mem) => void;
/** __pXd_free_tlb: hands a table detached by free_pgtables to the mmu_gather (or frees it). */
export type FreeTlb = (k: Machine, tlb: MmuGather, mem: Mem, vpn: number) => void;

/** An architecture's page-table allocation and freeing code. */
export interface Backend {
  /** Backend name (the arch family). */
  readonly name: string;
  /**
   * Allocation sites of the arch's own allocators that `inject fail` can name (beyond the
   * engine's: ENGINE_INJECT_SITES), such as `crst_table_alloc`; each calls k.shouldFail(site).
   */
  readonly injectSites?: readonly string[];
  /**
   * Spellings of kernel functions where this arch differs from engine/spelling.ts: for a name in
   * its 6.6 spelling, [first version (601, 606 ...), spelling from then on] pairs, oldest first.
   */
  readonly spelling?: Readonly<Record<string, readonly (readonly [number, string])[]>>;
  /**
   * init_new_context: arch state of a new mm; `parent` is the mm fork copies (dup_mm starts
   * from a copy of it), null for a new process.
   */
  initNewContext?(k: Machine, mm: Mm, parent: Mm | null): void;
  /** pgd_alloc: allocates the mm's top table (installPgd) and whatever the arch preallocates. */
  pgdAlloc(k: Machine, mm: Mm): boolean;
  /**
   * Arch work when a range is mapped (s390's check_asce_limit -> crst_table_upgrade from
   * arch_get_unmapped_area); false fails the mmap with -ENOMEM. Pages are virtual page numbers.
   */
  archMmap?(k: Machine, mm: Mm, start: number, end: number): boolean;
  /** pgd_free, from __mmdrop -> mm_free_pgd. */
  pgdFree(k: Machine, mm: Mm): void;
  /** p4d_alloc_one (levels 1..4 below are indexed the same way). */
  p4dAllocOne: AllocOne;
  /** pud_alloc_one. */
  pudAllocOne: AllocOne;
  /** pmd_alloc_one. */
  pmdAllocOne: AllocOne;
  /** pte_alloc_one. */
  pteAllocOne: AllocOne;
  /** p4d_free. */
  p4dFree: FreeOne;
  /** pud_free. */
  pudFree: FreeOne;
  /** pmd_free. */
  pmdFree: FreeOne;
  /** pte_free. */
  pteFree: FreeOne;
  /** __p4d_free_tlb. */
  p4dFreeTlb: FreeTlb;
  /** __pud_free_tlb. */
  pudFreeTlb: FreeTlb;
  /** __pmd_free_tlb. */
  pmdFreeTlb: FreeTlb;
  /** __pte_free_tlb. */
  pteFreeTlb: FreeTlb;
  /**
   * arch_needs_pgtable_deposit: a huge PMD of a page-cache THP keeps a PTE table deposited too
   * (powerpc hash); absent: no (include/linux/pgtable.h).
   */
  archNeedsPgtableDeposit?(k: Machine): boolean;
  /**
   * pte_free_defer (mm/pgtable-generic.c, 6.6+): a retracted PTE table freed after an RCU
   * grace period; absent: call_rcu of pte_free. powerpc and s390 have their own.
   */
  pteFreeDefer?: FreeOne;
  /**
   * arch_tlbbatch_should_defer (ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH): try_to_unmap on CPU `cpu`
   * leaves the flush of `mm` to one try_to_unmap_flush; absent: ptep_clear_flush per page.
   */
  tlbbatchShouldDefer?(k: Machine, mm: Mm, cpu: number): boolean;
  /** pXd_populate side effects beyond writing the entry (x86 PAE pud_populate flushes). */
  populate?(k: Machine, mm: Mm, level: number): void;
  /** tlb_flush: the arch flush of the gather's range. */
  tlbFlush(k: Machine, tlb: MmuGather): void;
  /**
   * flush_tlb_mm outside a gather (dup_mmap's flush of the parent, x86 PAE's pud_populate);
   * default: the arch's tlbFlush of a gather that asks for the whole mm (need_flush_all).
   */
  flushTlbMm?(k: Machine, mm: Mm): void;
  /** flush_pmd_tlb_range (pmdp_invalidate when a huge pmd is split); default: as flushTlbMm. */
  flushPmdTlbRange?(k: Machine, mm: Mm, vpn: number): void;
  /**
   * flush_tlb_page, `times` pages of one table (ptep_clear_flush in wp_page_copy); default: the
   * arch's range flush (flushPmdTlbRange) per page, else a flush with IPIs to the mm's other CPUs.
   */
  flushTlbPage?(k: Machine, mm: Mm, vpn: number, times: number): void;
  /**
   * The /proc/interrupts lines an IPI of each kind counts in on the receiving CPU: `flush`, a
   * TLB-flush IPI (x86: TLB and CAL, flush_tlb_func's irq_tlb_count and sysvec_call_function's
   * irq_call_count); `call`, smp_call_function (x86 CAL, arm64 and riscv IPI1). Absent: "IPI".
   */
  interrupts?: { readonly flush: readonly string[]; readonly call: readonly string[] };
  /**
   * switch_mm sets this CPU in mm_cpumask(mm), so the mask says which CPUs can be walking the
   * mm (x86, arm, powerpc, riscv, s390, sparc); absent: the mask is not kept (arm64 ...), and
   * only every online CPU is known to be safe.
   */
  maintainsMmCpumask?: boolean;
  /**
   * switch_mm leaves the CPU in the previous mm's mm_cpumask (the mm goes to {@link Mm.stale}
   * until a flush IPI clears it); absent or false: the CPU leaves the mask at the switch.
   */
  lazyMmCpumask?(k: Machine): boolean;
  /** arch_exit_mmap: called at the start of exit_mmap (powerpc drops its fragment caches). */
  archExitMmap?(k: Machine, mm: Mm): void;
  /**
   * __tlb_remove_table: frees one entry of the table batch; `tag` is what the arch encoded in
   * the low bits of the table pointer (powerpc's index, s390's half).
   */
  tlbRemoveTable(k: Machine, mem: Mem, tag: number): void;
  /** Frames the arch keeps for an mm beyond its tree (fragment caches ...), for the leak check. */
  cachedFrames?(k: Machine, mm: Mm): number[];
}
