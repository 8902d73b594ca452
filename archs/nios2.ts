/**
 * nios2: arch/nios2/mm/pgtable.c and arch/nios2/include/asm/{pgalloc,pgtable}.h over the
 * asm-generic defaults: 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22).
 *
 * It is the asm-generic model on a 32-bit UP machine: pgd_alloc = __get_free_page(GFP_KERNEL) +
 * pgd_init (__pgd_alloc, counted, from 6.14), the generic PTE allocator, __pte_free_tlb = dtor +
 * tlb_remove_page_ptdesc (the page batch; tlb_remove_ptdesc from 6.15), MMU_GATHER_NO_RANGE.
 * No SMP (arch/nios2/Kconfig has none): no split ptlocks, no IPIs.
 *
 * @module
 */

import type { ArchConfig, Backend } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import { genericBackend, pageBatchFreeStory, pagePgdStory, pteStory } from "./generic.ts";

/**
 * The nios2 backend: the genericBackend (pgd_alloc from a page, arch/nios2/mm/pgtable.c;
 * __pte_free_tlb = pagetable_pte_dtor + tlb_remove_page_ptdesc, arch/nios2/include/asm/pgalloc.h;
 * the NO_RANGE tlb_flush = flush_tlb_mm, asm-generic/tlb.h) on one CPU.
 */
export const nios2Backend: Backend = { ...genericBackend, name: "nios2" };

/** How nios2 allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function nios2Story(cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL)",
        " + pgd_init + kernel part copied (arch/nios2/mm/pgtable.c)",
      ),
      pte: pteStory(cfg, pageBatchFreeStory(kv, "arch/nios2/include/asm/pgalloc.h")),
    },
    notes: [
      "MMU_GATHER_NO_RANGE (implies MERGE_VMAS): tlb_flush is flush_tlb_mm whenever the range " +
      "is set, once per gather (asm-generic/tlb.h)",
      "UP only: no split ptlocks, no IPIs",
    ],
  };
}

/** The nios2 configurations. */
export const nios2Configs: ConfigSpec[] = [{
  name: "nios2",
  family: "nios2",
  description: "Nios II with MMU, 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22), UP",
  bits: 32,
  pageShift: 12,
  levels: [
    { entries: 1024, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1024, entryBytes: 4 },
  ],
  // TASK_SIZE 0x7FFF0000 (arch/nios2/include/asm/processor.h)
  taskSize: 0x7fff_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x2aaa_6000n }, // PAGE_ALIGN(TASK_SIZE / 3), bottom-up
  noSplitPtlocks: true,
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: true,
    noRange: true,
    needsTableInvalidate: true,
  },
  ramBytes: 256 * 2 ** 20,
  backend: nios2Backend,
  // no CONFIG_SMP on nios2: one CPU, whatever the scenario says
  maxCpus: 1,
  story: nios2Story,
}];
