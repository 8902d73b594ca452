/**
 * xtensa: arch/xtensa/include/asm/{pgalloc,pgtable,tlb}.h and arch/xtensa/kernel/smp.c over the
 * asm-generic defaults: 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22), user space below
 * 0x40000000.
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL | __GFP_ZERO) (__pgd_alloc, counted, from 6.14);
 * pte_alloc_one = __pte_alloc_one(mm, GFP_PGTABLE_USER) + ptes_clear (the generic accounting);
 * __pte_free_tlb = pte_free: freed inside free_pgtables, before the flush (unchanged through
 * 6.18). On SMP flush_tlb_mm/flush_tlb_range are on_each_cpu: an IPI to every other online CPU.
 *
 * @module
 */

import type { ArchConfig, Backend, Machine, MmuGather } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import { freeTlbDirect, genericBackend } from "./generic.ts";

/**
 * The generic tlb_flush (asm-generic/tlb.h); flush_tlb_mm / flush_tlb_range run on_each_cpu:
 * every online CPU, whoever runs the mm (arch/xtensa/kernel/smp.c).
 */
function xtensaTlbFlush(k: Machine, tlb: MmuGather): void {
  const all = tlb.fullmm || tlb.needFlushAll;
  if (!all && tlb.end === 0) return;
  const fn = all ? "flush_tlb_mm" : "flush_tlb_range";
  k.tlbFlushed(tlb.mm, fn, all ? "all" : `${tlb.end - tlb.start} page(s)`, false, true);
  k.ipiAllOthers(`on_each_cpu(ipi_${fn})`);
}

/** The xtensa backend. */
export const xtensaBackend: Backend = {
  ...genericBackend,
  name: "xtensa",
  // #define __pte_free_tlb(tlb, pte, address) pte_free((tlb)->mm, pte) (asm/tlb.h)
  pteFreeTlb: freeTlbDirect(4),
  tlbFlush: xtensaTlbFlush,
};

/** How xtensa allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function xtensaStory(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: {
        alloc: kv >= 614
          ? "__pgd_alloc(mm, 0) (arch/xtensa/include/asm/pgalloc.h)"
          : "__get_free_page(GFP_KERNEL | __GFP_ZERO) (arch/xtensa/include/asm/pgalloc.h)",
        counted: kv >= 614 ? "NR_PAGETABLE +1 (pagetable_pgd_ctor, 6.14+); never VmPTE" : "never",
        free: "pgd_free at __mmdrop (include/asm-generic/pgalloc.h)",
        via: "pgd_free",
      },
      pte: {
        alloc: "pte_alloc_one: __pte_alloc_one(mm, GFP_PGTABLE_USER) (pagetable_alloc + " +
          "pagetable_pte_ctor) + ptes_clear (arch/xtensa/include/asm/pgalloc.h)",
        counted: "VmPTE +4096 (mm_inc_nr_ptes); NR_PAGETABLE +1",
        free: "__pte_free_tlb = pte_free: the dtor and pagetable_free inside free_pgtables, " +
          "before the flush (arch/xtensa/include/asm/tlb.h)",
        via: "direct",
      },
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range run on_each_cpu, an IPI to every other " +
      "online CPU (arch/xtensa/kernel/smp.c)",
      "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at each VMA (asm-generic/tlb.h)",
    ],
  };
}

/** The xtensa configurations. */
export const xtensaConfigs: ConfigSpec[] = [{
  name: "xtensa",
  family: "xtensa",
  description: "Xtensa with MMU, 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22)",
  bits: 32,
  pageShift: 12,
  levels: [
    { entries: 1024, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1024, entryBytes: 4 },
  ],
  // TASK_SIZE 0x40000000 with an MMU (arch/xtensa/include/asm/processor.h)
  taskSize: 0x4000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: false,
    noRange: false,
    needsTableInvalidate: true,
  },
  ramBytes: 256 * 2 ** 20,
  backend: xtensaBackend,
  story: xtensaStory,
}];
