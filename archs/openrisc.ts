/**
 * openrisc: arch/openrisc/include/asm/{pgalloc,pgtable}.h, arch/openrisc/kernel/smp.c over the
 * asm-generic defaults: 8K pages, 2 levels. PGDIR_SHIFT = PAGE_SHIFT + (PAGE_SHIFT - 2) = 24, so
 * the pgd has 32 - 24 = 8 bits of index: 256 x 4 bytes = 1 KiB used of the 8 KiB page
 * __get_free_page returns; a PTE table is 2048 x 4 = 8 KiB.
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL), user part zeroed, kernel part copied (__pgd_alloc,
 * counted, from 6.14); __pte_free_tlb = dtor + tlb_remove_page_ptdesc (the page batch;
 * tlb_remove_ptdesc from 6.15); MMU_GATHER_NO_RANGE: tlb_flush is flush_tlb_mm, which on SMP
 * IPIs the other CPUs of mm_cpumask (lazy ones stay in it: switch_mm is not called for them).
 *
 * @module
 */

import type { ArchConfig, Backend, Machine, MmuGather } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  genericBackend,
  genericTlbFlushBy,
  pageBatchFreeStory,
  pagePgdStory,
  pteStory,
} from "./generic.ts";

/**
 * tlb_flush with MMU_GATHER_NO_RANGE: flush_tlb_mm when tlb->end (asm-generic/tlb.h);
 * smp_flush_tlb_mm: on_each_cpu_mask(mm_cpumask(mm)) when another CPU is in the mask
 * (arch/openrisc/kernel/smp.c); switch_mm clears a CPU only when it switches to another user mm
 * (arch/openrisc/mm/tlb.c), so lazy CPUs are IPIed too.
 */
const openriscTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather) => {
  k.tlbFlushed(tlb.mm, "flush_tlb_mm", "all", true);
});

/** The openrisc backend. */
export const openriscBackend: Backend = {
  ...genericBackend,
  name: "openrisc",
  tlbFlush: openriscTlbFlush,
};

/** How openrisc allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function openriscStory(cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL)",
        ": 256 x 4 bytes used of an 8 KiB page, user part zeroed, kernel part copied " +
          "(arch/openrisc/include/asm/pgalloc.h)",
      ),
      pte: pteStory(
        cfg,
        pageBatchFreeStory(kv, "arch/openrisc/include/asm/pgalloc.h"),
        "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor: one " +
          "8 KiB page of 2048 PTEs (include/asm-generic/pgalloc.h)",
      ),
    },
    notes: [
      "MMU_GATHER_NO_RANGE (implies MERGE_VMAS): one flush_tlb_mm per gather; on SMP it IPIs " +
      "the other CPUs of mm_cpumask, lazy-TLB ones included (arch/openrisc/kernel/smp.c)",
      "split PTE locks need NR_CPUS >= 4; the openrisc default NR_CPUS is 2 (arch/openrisc/Kconfig)",
    ],
  };
}

/** The openrisc configurations. */
export const openriscConfigs: ConfigSpec[] = [{
  name: "openrisc",
  family: "openrisc",
  description: "OpenRISC 1000, 8K pages: pgd 256 x 4 (PGDIR_SHIFT 24) in an 8 KiB page, PTE " +
    "tables 2048 x 4",
  bits: 32,
  pageShift: 13,
  levels: [
    { entries: 256, entryBytes: 4, tableBytes: 8192 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 2048, entryBytes: 4 },
  ],
  // TASK_SIZE 0x80000000 (arch/openrisc/include/asm/processor.h)
  taskSize: 0x8000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x3000_0000n }, // TASK_SIZE / 8 * 3, bottom-up
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: true,
    noRange: true,
    needsTableInvalidate: true,
  },
  ramBytes: 256 * 2 ** 20,
  backend: openriscBackend,
  story: openriscStory,
}];
