/**
 * alpha: arch/alpha/mm/init.c, arch/alpha/include/asm/{pgalloc,pgtable,tlb}.h and
 * arch/alpha/kernel/smp.c over the asm-generic defaults: 8K pages, 3 levels of 1024 x 8 bytes
 * (PMD_SHIFT 23, PGDIR_SHIFT 33), user space below 4 TiB.
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL | __GFP_ZERO), the kernel entry copied and the last
 * entry made the VPTB self-map: the pgd maps itself as a PTE table for the virtual page table
 * (__pgd_alloc, counted, from 6.14). The generic pmd (pmd ctor) and PTE allocators;
 * __pte_free_tlb = pte_free and __pmd_free_tlb = pmd_free: both freed inside free_pgtables,
 * before the flush, through 6.18 (the table batch came with MMU_GATHER_RCU_TABLE_FREE, posted
 * 2025-11-19). MMU_GATHER_NO_RANGE: tlb_flush is flush_tlb_mm.
 *
 * @module
 */

import type { ArchConfig, Backend, Machine, Mm, MmuGather } from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  directFreeStory,
  freeTlbDirect,
  GENERIC_PMD_ALLOC,
  GENERIC_PTE_ALLOC,
  genericBackend,
  genericTlbFlushBy,
  pagePgdStory,
} from "./generic.ts";

/**
 * pgd_alloc (arch/alpha/mm/init.c): the generic page pgd, plus the VPTB self-map written into
 * entry PTRS_PER_PGD - 1, above TASK_SIZE: no user walk ever reaches it, so the model records it
 * in mm->context only.
 */
function alphaPgdAlloc(k: Machine, mm: Mm): boolean {
  if (!genericBackend.pgdAlloc(k, mm)) return false;
  // pgd_val(ret[PTRS_PER_PGD-1]) = pte_val(mk_pte(virt_to_page(ret), PAGE_KERNEL))
  mm.context.vptbSelfMap = k.cfg.levels[0].entries - 1;
  return true;
}

/**
 * The generic NO_RANGE tlb_flush: flush_tlb_mm when tlb->end (asm-generic/tlb.h).
 * flush_tlb_mm (arch/alpha/kernel/smp.c): for the mm current runs (lazily at exit too), a local
 * flush, and with mm_users <= 1 the other CPUs' contexts are only zeroed; otherwise
 * smp_call_function to every other online CPU. (Debian's 6.12.117 carries a later variant that
 * also IPIs when another CPU still holds an ASN for the mm, mm_context_elsewhere; it is in
 * neither 6.6 nor 7.2, so the model keeps the mainline rule.)
 */
const alphaTlbFlush = genericTlbFlushBy((k: Machine, tlb: MmuGather) => {
  k.tlbFlushed(tlb.mm, "flush_tlb_mm", "all", false, true);
  // mm_users > 1: threads on other CPUs; at exit_mmap mm_users is 0
  if (!tlb.fullmm && tlb.mm.cpus.length > 1) k.ipiAllOthers("ipi_flush_tlb_mm", tlb.mm);
});

/** The alpha backend. */
export const alphaBackend: Backend = {
  ...genericBackend,
  name: "alpha",
  pgdAlloc: alphaPgdAlloc,
  // #define __pte_free_tlb(tlb, pte, address) pte_free((tlb)->mm, pte)
  // #define __pmd_free_tlb(tlb, pmd, address) pmd_free((tlb)->mm, pmd) (asm/tlb.h)
  pteFreeTlb: freeTlbDirect(4),
  pmdFreeTlb: freeTlbDirect(3),
  tlbFlush: alphaTlbFlush,
};

/** How alpha allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function alphaStory(_cfg: ArchConfig, kv: number): ConfigStory {
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL | __GFP_ZERO)",
        " + the kernel entry + the VPTB self-map in the last entry (arch/alpha/mm/init.c)",
      ),
      pmd: {
        alloc: GENERIC_PMD_ALLOC,
        counted: "VmPTE +8192 (1024 x 8, mm_inc_nr_pmds); NR_PAGETABLE +1",
        ...directFreeStory("pmd", "arch/alpha/include/asm/tlb.h"),
      },
      pte: {
        alloc: GENERIC_PTE_ALLOC,
        counted: "VmPTE +8192 (1024 x 8, mm_inc_nr_ptes); NR_PAGETABLE +1",
        ...directFreeStory("pte", "arch/alpha/include/asm/tlb.h"),
      },
    },
    notes: [
      "MMU_GATHER_NO_RANGE (implies MERGE_VMAS): one flush_tlb_mm per gather; it IPIs every " +
      "other CPU (smp_call_function) only when the mm has more than one user; at exit it only " +
      "zeroes the other CPUs' ASNs (arch/alpha/kernel/smp.c)",
      "the last pgd entry maps the pgd itself (VPTB), above TASK_SIZE (arch/alpha/mm/init.c)",
      "no ARCH_ENABLE_SPLIT_PMD_PTLOCK: only the PTE tables get split locks",
    ],
  };
}

/** The alpha configurations. */
export const alphaConfigs: ConfigSpec[] = [{
  name: "alpha",
  family: "alpha",
  description: "Alpha (generic, SMP), 8K pages, 3 levels of 1024 x 8 bytes (PGDIR_SHIFT 33)",
  bits: 64,
  pageShift: 13,
  levels: [
    { entries: 1024, entryBytes: 8 },
    { entries: 1, entryBytes: 8, folded: "compile" },
    { entries: 1, entryBytes: 8, folded: "compile" },
    { entries: 1024, entryBytes: 8 },
    { entries: 1024, entryBytes: 8 },
  ],
  // TASK_SIZE 0x40000000000 (arch/alpha/include/asm/processor.h)
  taskSize: 0x400_0000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x200_0000_0000n }, // TASK_UNMAPPED_BASE = TASK_SIZE / 2, bottom-up
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: true,
    noRange: true,
    needsTableInvalidate: true,
  },
  ramBytes: 2 * 2 ** 30,
  backend: alphaBackend,
  story: alphaStory,
}];
