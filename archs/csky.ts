/**
 * csky (C-SKY): arch/csky/include/asm/{pgalloc,pgtable}.h and arch/csky/mm/tlb.c over the
 * asm-generic defaults: 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22).
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL) + pgd_init + kernel part copied (+ a dcache write-back
 * with CPU_NEED_TLBSYNC); __pgd_alloc (counted) from 6.14. The generic PTE allocator;
 * __pte_free_tlb = dtor + tlb_remove_page_ptdesc (the page batch; tlb_remove_ptdesc from 6.15).
 * SMP needs CK860, which has TLBI: flush_tlb_mm/flush_tlb_range are broadcast tlbi.asids /
 * tlbi.vas instructions, no IPIs.
 *
 * @module
 */

import type { ArchConfig, Backend } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import { broadcastTlbFlush, genericBackend } from "./generic.ts";

/**
 * The csky backend: the genericBackend with a broadcast flush (generic tlb_flush ->
 * flush_tlb_mm / flush_tlb_range with CONFIG_CPU_HAS_TLBI, arch/csky/mm/tlb.c).
 */
export const cskyBackend: Backend = {
  ...genericBackend,
  name: "csky",
  tlbFlush: broadcastTlbFlush,
};

/** How csky allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function cskyStory(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: {
        alloc: (kv >= 614 ? "__pgd_alloc(mm, 0)" : "__get_free_page(GFP_KERNEL)") +
          " + pgd_init + kernel part copied (arch/csky/include/asm/pgalloc.h)",
        counted: kv >= 614 ? "NR_PAGETABLE +1 (pagetable_pgd_ctor, 6.14+); never VmPTE" : "never",
        free: "pgd_free at __mmdrop (include/asm-generic/pgalloc.h)",
        via: "pgd_free",
      },
      pte: {
        alloc: "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor " +
          "(include/asm-generic/pgalloc.h)",
        counted: "VmPTE +4096 (mm_inc_nr_ptes); NR_PAGETABLE +1",
        free: kv >= 615
          ? "__pte_free_tlb: tlb_remove_ptdesc -> pagetable_dtor + the page batch " +
            "(arch/csky/include/asm/pgalloc.h, asm-generic/tlb.h)"
          : "__pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, the page batch " +
            "(arch/csky/include/asm/pgalloc.h)",
        via: "page-batch",
      },
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range are broadcast TLBI instructions on the " +
      "SMP-capable CK860, no IPIs (arch/csky/mm/tlb.c)",
      "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at each VMA (asm-generic/tlb.h)",
    ],
  };
}

/** The csky configurations. */
export const cskyConfigs: ConfigSpec[] = [{
  name: "csky",
  family: "csky",
  description: "C-SKY (CK860, SMP), 4K pages, 2 levels of 1024 x 4 bytes, PAGE_OFFSET 0x80000000",
  bits: 32,
  pageShift: 12,
  levels: [
    { entries: 1024, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1024, entryBytes: 4 },
  ],
  // TASK_SIZE = PAGE_OFFSET - PAGE_SIZE * 8 (arch/csky/include/asm/processor.h)
  taskSize: 0x7fff_8000n,
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
  ramBytes: 512 * 2 ** 20,
  backend: cskyBackend,
  story: cskyStory,
}];
