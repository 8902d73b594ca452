/**
 * arc: arch/arc/include/asm/{pgalloc,pgtable-levels,processor}.h and arch/arc/mm/tlb.c over the
 * asm-generic defaults. The default configuration: 8K pages, 2 levels, PGDIR_SHIFT 21 (the
 * 11:8:13 split, also what ARC_HUGEPAGE_2M pegs it to), so the pgd is 2048 x 4 = 8 KiB and a PTE
 * table is 256 x 4 = 1 KiB in a whole 8 KiB page: VmPTE counts 1024 per table.
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL), user part zeroed, vmalloc part copied (__pgd_alloc,
 * counted, from 6.14); __pte_free_tlb = pte_free (and __pmd/__pud_free_tlb = pmd_free/pud_free
 * for 3/4-level builds): freed inside free_pgtables, before the flush, through 6.18. On SMP the
 * flushes are on_each_cpu_mask(mm_cpumask), and ARC's mm_cpumask only ever aggregates (switch_mm
 * never clears a CPU), so every CPU that ran the mm gets the IPI.
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
} from "./generic.ts";

/**
 * The generic tlb_flush (asm-generic/tlb.h); flush_tlb_mm / flush_tlb_range:
 * on_each_cpu_mask(mm_cpumask(mm), ...) (arch/arc/mm/tlb.c), the mask aggregating every CPU the
 * mm ran on (arch/arc/include/asm/mmu_context.h switch_mm), lazy ones included.
 */
const arcTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather, { fn, what }) => {
  k.tlbFlushed(tlb.mm, fn, what, true);
});

/** The arc backend. */
export const arcBackend: Backend = {
  ...genericBackend,
  name: "arc",
  // #define __pte_free_tlb(tlb, pte, addr) pte_free((tlb)->mm, pte) (asm/pgalloc.h)
  pteFreeTlb: freeTlbDirect(4),
  // 3/4-level builds: __pmd_free_tlb = pmd_free, __pud_free_tlb = pud_free (asm/pgalloc.h)
  pmdFreeTlb: freeTlbDirect(3),
  pudFreeTlb: freeTlbDirect(2),
  tlbFlush: arcTlbFlush,
};

/** How arc allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function arcStory(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL)",
        ": 2048 x 4 = one 8 KiB page, user part zeroed, vmalloc part copied " +
          "(arch/arc/include/asm/pgalloc.h)",
      ),
      pte: {
        alloc: "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor: a " +
          "whole 8 KiB page for 256 PTEs (include/asm-generic/pgalloc.h)",
        counted: "VmPTE +1024 (PTRS_PER_PTE 256 * 4, mm_inc_nr_ptes); NR_PAGETABLE +1",
        ...directFreeStory("pte", "arch/arc/include/asm/pgalloc.h"),
      },
    },
    notes: [
      "generic tlb_flush; flush_tlb_mm/flush_tlb_range are on_each_cpu_mask(mm_cpumask), which " +
      "keeps every CPU the mm ever ran on (arch/arc/mm/tlb.c, asm/mmu_context.h)",
      NO_MERGE_VMAS_NOTE,
      "THP (HAVE_ARCH_TRANSPARENT_HUGEPAGE if ARC_MMU_V4) maps 2 MiB at the folded pmd, i.e. a " +
      "pgd entry; not modelled (the engine's THP needs a PMD level)",
    ],
  };
}

/** The arc configurations. */
export const arcConfigs: ConfigSpec[] = [{
  name: "arc-8k-2level",
  family: "arc",
  description: "ARC (HS, MMUv4), 8K pages, 2 levels: pgd 2048 x 4 (PGDIR_SHIFT 21), PTE tables " +
    "256 x 4 in an 8 KiB page",
  bits: 32,
  pageShift: 13,
  levels: [
    { entries: 2048, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 256, entryBytes: 4, tableBytes: 8192 },
  ],
  // TASK_SIZE 0x60000000 (arch/arc/include/asm/processor.h)
  taskSize: 0x6000_0000n,
  // select HAVE_ARCH_TRANSPARENT_HUGEPAGE if ARC_MMU_V4 (the default MMU of ARCv2, arch/arc/Kconfig);
  // with 2 levels a THP is a pgd entry's span, 2 MiB
  thpAvailable: true,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x2000_0000n }, // TASK_SIZE / 3, bottom-up
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: false,
    noRange: false,
    needsTableInvalidate: true,
  },
  ramBytes: 512 * 2 ** 20,
  backend: arcBackend,
  story: arcStory,
}];
