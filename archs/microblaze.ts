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
import { freeTlbDirect, genericBackend } from "./generic.ts";

/** The microblaze backend. */
export const microblazeBackend: Backend = {
  ...genericBackend,
  name: "microblaze",
  // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, (pte)) (asm/pgalloc.h)
  pteFreeTlb: freeTlbDirect(4),
};

/** How microblaze allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function microblazeStory(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: {
        alloc: kv >= 614
          ? "pgd_alloc(mm) = __pgd_alloc(mm, 0) (arch/microblaze/include/asm/pgalloc.h)"
          : "get_pgd: __get_free_pages(GFP_KERNEL | __GFP_ZERO, 0) " +
            "(arch/microblaze/include/asm/pgalloc.h)",
        counted: kv >= 614 ? "NR_PAGETABLE +1 (pagetable_pgd_ctor, 6.14+); never VmPTE" : "never",
        free: "pgd_free at __mmdrop (include/asm-generic/pgalloc.h)",
        via: "pgd_free",
      },
      pte: {
        alloc: "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor " +
          "(include/asm-generic/pgalloc.h)",
        counted: "VmPTE +4096 (mm_inc_nr_ptes); NR_PAGETABLE +1",
        free: "__pte_free_tlb = pte_free: the dtor and pagetable_free inside free_pgtables, " +
          "before the flush (arch/microblaze/include/asm/pgalloc.h)",
        via: "direct",
      },
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
