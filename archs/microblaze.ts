/**
 * microblaze: arch/microblaze/include/asm/{pgalloc,pgtable,processor}.h over the asm-generic
 * defaults: 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT = PAGE_SHIFT + PTE_SHIFT = 22).
 *
 * pgd_alloc = get_pgd() = __get_free_pages(GFP_KERNEL | __GFP_ZERO, 0) (__pgd_alloc, counted,
 * from 6.14); the generic PTE allocator; __pte_free_tlb = pte_free: the dtor and the free happen
 * inside free_pgtables, before any TLB flush (unchanged through 6.18); MMU_GATHER_NO_RANGE.
 * No SMP (arch/microblaze/Kconfig has none): no split ptlocks, no IPIs.
 *
 * @module
 */

import type { ArchConfig, Backend } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  directFreeStory,
  freeTlbDirect,
  genericBackend,
  pagePgdStory,
  pteStory,
} from "./generic.ts";

/** The microblaze backend. */
export const microblazeBackend: Backend = {
  ...genericBackend,
  name: "microblaze",
  // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, (pte)) (asm/pgalloc.h)
  pteFreeTlb: freeTlbDirect(4),
};

/** How microblaze allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function microblazeStory(cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "get_pgd: __get_free_pages(GFP_KERNEL | __GFP_ZERO, 0)",
        " (arch/microblaze/include/asm/pgalloc.h)",
        "pgd_alloc(mm) = __pgd_alloc(mm, 0)",
      ),
      pte: pteStory(cfg, directFreeStory("pte", "arch/microblaze/include/asm/pgalloc.h")),
    },
    notes: [
      "MMU_GATHER_NO_RANGE (implies MERGE_VMAS): one flush_tlb_mm per gather (asm-generic/tlb.h)",
      "UP only: no split ptlocks, no IPIs",
    ],
  };
}

/** The microblaze configurations. */
export const microblazeConfigs: ConfigSpec[] = [{
  name: "microblaze",
  family: "microblaze",
  description: "MicroBlaze with MMU, 4K pages, 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22), UP",
  bits: 32,
  pageShift: 12,
  levels: [
    { entries: 1024, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1024, entryBytes: 4 },
  ],
  // TASK_SIZE = CONFIG_KERNEL_START, default 0xc0000000 (asm/processor.h, arch/microblaze/Kconfig)
  taskSize: 0xc000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x4800_0000n }, // TASK_SIZE / 8 * 3, bottom-up
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
  backend: microblazeBackend,
  // no CONFIG_SMP on microblaze: one CPU, whatever the scenario says
  maxCpus: 1,
  story: microblazeStory,
}];
