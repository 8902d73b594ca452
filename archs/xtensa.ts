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
import {
  directFreeStory,
  freeTlbDirect,
  genericBackend,
  genericTlbFlushBy,
  NO_MERGE_VMAS_NOTE,
  pagePgdStory,
  pteStory,
} from "./generic.ts";

/**
 * The generic tlb_flush (asm-generic/tlb.h); flush_tlb_mm / flush_tlb_range run on_each_cpu:
 * every online CPU, whoever runs the mm (arch/xtensa/kernel/smp.c).
 */
const xtensaTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather, { fn, what }) => {
  k.tlbFlushed(tlb.mm, fn, what, false, true);
  k.ipiAllOthers(`on_each_cpu(ipi_${fn})`, tlb.mm);
});

/** The xtensa backend. */
export const xtensaBackend: Backend = {
  ...genericBackend,
  name: "xtensa",
  // #define __pte_free_tlb(tlb, pte, address) pte_free((tlb)->mm, pte) (asm/tlb.h)
  pteFreeTlb: freeTlbDirect(4),
  tlbFlush: xtensaTlbFlush,
};

/** How xtensa allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function xtensaStory(cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL | __GFP_ZERO)",
        " (arch/xtensa/include/asm/pgalloc.h)",
      ),
      pte: pteStory(
        cfg,
        directFreeStory("pte", "arch/xtensa/include/asm/tlb.h"),
        "pte_alloc_one: __pte_alloc_one(mm, GFP_PGTABLE_USER) (pagetable_alloc + " +
          "pagetable_pte_ctor) + ptes_clear (arch/xtensa/include/asm/pgalloc.h)",
      ),
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range run on_each_cpu, an IPI to every other " +
      "online CPU (arch/xtensa/kernel/smp.c)",
      NO_MERGE_VMAS_NOTE,
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
  mmap: { legacyBase: 0x2000_0000n }, // TASK_SIZE / 2, bottom-up
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
