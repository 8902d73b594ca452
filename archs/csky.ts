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
import {
  broadcastTlbFlush,
  genericBackend,
  NO_MERGE_VMAS_NOTE,
  pageBatchFreeStory,
  pagePgdStory,
  pteStory,
} from "./generic.ts";

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
function cskyStory(cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL)",
        " + pgd_init + kernel part copied (arch/csky/include/asm/pgalloc.h)",
      ),
      pte: pteStory(cfg, pageBatchFreeStory(kv, "arch/csky/include/asm/pgalloc.h")),
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range are broadcast TLBI instructions on the " +
      "SMP-capable CK860, no IPIs (arch/csky/mm/tlb.c)",
      NO_MERGE_VMAS_NOTE,
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
  mmap: { legacyBase: 0x2aaa_8000n }, // TASK_SIZE / 3, bottom-up
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
