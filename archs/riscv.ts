/**
 * riscv: arch/riscv/include/asm/{pgalloc,tlb,pgtable,pgtable-64}.h and arch/riscv/mm/tlbflush.c
 * over the asm-generic defaults. Four configurations: rv64 built with CONFIG_PGTABLE_LEVELS=5
 * and running Sv39, Sv48 or Sv57 (the p4d and pud levels folded at run time through
 * pgtable_l5_enabled / pgtable_l4_enabled), and rv32 Sv32 (2 levels).
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - freeing: up to 6.7 __pte_free_tlb is dtor + tlb_remove_page (the page batch) and
 *   __pmd/__pud/__p4d_free_tlb are pmd_free/pud_free/p4d_free, DIRECT frees inside
 *   free_pgtables before any TLB flush; 6.8 ("riscv: tlb: fix __p*d_free_tlb()", 8246601a7d39,
 *   and 69be3fb111e7 "riscv: enable MMU_GATHER_RCU_TABLE_FREE for SMP && MMU") runs the dtor in
 *   __pXd_free_tlb and riscv_tlb_remove_ptdesc: the RCU table batch when remote fences go through
 *   SBI, the page batch when they are IPIs; 6.14 moves the dtor to __tlb_remove_table; 6.15
 *   ("riscv: pgtable: unconditionally use tlb_remove_ptdesc()") always uses the table batch.
 * - tlb_flush: flush_tlb_mm(tlb->mm) up to 6.6; from 6.7 (c5e9b2c2ae82, plus 97cf301fa42e
 *   "riscv: Flush the tlb when a page directory is freed" in 6.8) flush_tlb_mm only for fullmm,
 *   need_flush_all or freed_tables, flush_tlb_mm_range otherwise.
 * - pud: pagetable_pud_ctor from 6.7; p4d: get_zeroed_page until 6.13, the generic
 *   __p4d_alloc_one with pagetable_p4d_ctor from 6.14; pgd: __get_free_page(GFP_KERNEL) until
 *   6.13, __pgd_alloc(mm, 0) with pagetable_pgd_ctor from 6.14 (a9b3c355c2e6, 68c601de75d8).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  type FreeTlb,
  GFP,
  GFP_PGTABLE_USER,
  hexPage,
  levelHasCtor,
  type Machine,
  type Mem,
  memFrame,
  type Mm,
  type MmuGather,
  P4D,
  pagetableDtor,
  tlbRemovePagePtdesc,
  tlbRemovePtdesc,
  tlbUnmapStride,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, FreeVia, LevelStory, OptionSpec } from "./config.ts";
import {
  freeTlbDirect,
  genericBackend,
  genericTlbRemoveTable,
  p4dAllocOne as genericP4dAllocOne,
  p4dFree as genericP4dFree,
  pagesUntil,
  pgdFromPages,
} from "./generic.ts";

/** How remote TLB fences are sent: through the SBI firmware, or as Linux IPIs (AIA/ACLINT). */
type Rfence = "sbi" | "ipi";

function rfence(k: Machine): Rfence {
  return (k.cfg.options.rfence ?? "sbi") as Rfence;
}

/**
 * p4d_alloc_one (arch/riscv/include/asm/pgalloc.h): get_zeroed_page(GFP_PGTABLE_USER) while
 * pgtable_l5_enabled, no ctor, until 6.13; the generic __p4d_alloc_one with pagetable_p4d_ctor
 * from 6.14 (include/asm-generic/pgalloc.h). Only called when the p4d level exists (Sv57).
 * p4d_free: __p4d_free = free_page until 6.13, the generic one (with its dtor) from 6.14.
 */
const riscvP4d = pagesUntil(614, P4D, {
  gfp: GFP_PGTABLE_USER,
  then: { alloc: genericP4dAllocOne, free: genericP4dFree },
});

/**
 * __pte_free_tlb / __pmd_free_tlb / __pud_free_tlb / __p4d_free_tlb for one level
 * (arch/riscv/include/asm/pgalloc.h), per version.
 */
function riscvFreeTlb(level: number): FreeTlb {
  const direct = freeTlbDirect(level);
  return (k: Machine, tlb: MmuGather, mem: Mem, vpn: number): void => {
    const f = memFrame(mem);
    if (k.kv < 608) {
      if (level === 4) {
        // 6.1/6.6 __pte_free_tlb: pgtable_pte_page_dtor / pagetable_pte_dtor + tlb_remove_page
        pagetableDtor(k, f, 4);
        tlbRemovePagePtdesc(k, tlb, f);
      } else {
        // #define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd) (and pud, p4d): freed
        // now, inside free_pgtables, before the TLB flush that covers it
        if (k.trace) k.call(`__${["pgd", "p4d", "pud", "pmd"][level]}_free_tlb`, "direct");
        direct(k, tlb, mem, vpn);
      }
      return;
    }
    if (k.kv >= 615) {
      // 6.15: tlb_remove_ptdesc unconditionally; pagetable_dtor_free in __tlb_remove_table
      tlbRemovePtdesc(k, tlb, mem, level);
      return;
    }
    // 6.8-6.13: the dtor here (pud from 6.7, none for the p4d), then riscv_tlb_remove_ptdesc
    if (k.kv < 614 && levelHasCtor(k.kv, level)) pagetableDtor(k, f, level);
    if (k.trace) k.call("riscv_tlb_remove_ptdesc", `${rfence(k)} rfence`);
    if (rfence(k) === "sbi") {
      // riscv_use_sbi_for_rfence(): an IRQ-disabled GUP-fast walker does not block the SBI's
      // M-mode fence, so tables go through the RCU table batch
      tlbRemovePtdesc(k, tlb, mem, level);
    } else {
      // IPI fences: the flush waits for IRQ-disabled walkers, the page batch is enough (6.14
      // moved the dtor here for this branch)
      if (k.kv >= 614 && levelHasCtor(k.kv, level)) pagetableDtor(k, f, level);
      tlbRemovePagePtdesc(k, tlb, f);
    }
  };
}

/**
 * tlb_flush (arch/riscv/include/asm/tlb.h): flush_tlb_mm(tlb->mm) up to 6.6; from 6.7
 * flush_tlb_mm for fullmm / need_flush_all / freed_tables (6.8), else flush_tlb_mm_range.
 * Both end in __flush_tlb_range (arch/riscv/mm/tlbflush.c): a local sfence.vma when no other
 * hart is in mm_cpumask, else sbi_remote_sfence_vma_asid (the SBI firmware interrupts each
 * hart) or on_each_cpu_mask (IPIs). mm_cpumask keeps every hart that ran the mm while ASIDs are
 * in use (set_mm_asid never clears it) and lazy harts always: lazy CPUs count too.
 */
function riscvTlbFlush(k: Machine, tlb: MmuGather): void {
  const all = k.kv < 607 || tlb.fullmm || tlb.needFlushAll || tlb.freedTables;
  const how = fenceHow(k);
  if (all) {
    k.tlbFlushed(tlb.mm, "flush_tlb_mm", `all, ${how}`, true);
  } else {
    const pages = tlb.end - tlb.start;
    const stride = tlbUnmapStride(k, tlb);
    k.tlbFlushed(tlb.mm, "flush_tlb_mm_range", `${pages} page(s), stride ${stride}, ${how}`, true);
  }
}

/** How __flush_tlb_range reaches the other harts (SBI only before 6.4's IPI fences). */
function fenceHow(k: Machine): string {
  return k.kv < 604 || rfence(k) === "sbi" ? "sbi_remote_sfence_vma_asid" : "on_each_cpu_mask";
}

/** flush_tlb_mm outside a gather (dup_mmap): __flush_tlb_range over mm_cpumask (tlbflush.c). */
function riscvFlushTlbMm(k: Machine, mm: Mm): void {
  k.tlbFlushed(mm, "flush_tlb_mm", `all, ${fenceHow(k)}`, true);
}

/** flush_pmd_tlb_range (THP split): __flush_tlb_range with a PMD_SIZE stride (tlbflush.c). */
function riscvFlushPmdTlbRange(k: Machine, mm: Mm, vpn: number): void {
  k.tlbFlushed(mm, "flush_pmd_tlb_range", `${hexPage(k, vpn)}, ${fenceHow(k)}`, true);
}

/** The riscv backend. */
export const riscvBackend: Backend = {
  ...genericBackend,
  // "IPI1: Function call interrupts" (arch/riscv/kernel/smp.c IPI_CALL_FUNC)
  interrupts: { flush: ["IPI1"], call: ["IPI1"] },
  // switch_mm sets the CPU in mm_cpumask (arch/riscv/mm/context.c)
  maintainsMmCpumask: true,
  name: "riscv",
  // pgd_alloc: __get_free_page(GFP_KERNEL), user half zeroed, kernel half copied by
  // sync_kernel_mappings; never counted until __pgd_alloc(mm, 0) in 6.14
  // (arch/riscv/include/asm/pgalloc.h)
  ...pgdFromPages({ order: 0, gfp: GFP.KERNEL, pgdAllocSince: 614 }),
  p4dAllocOne: riscvP4d.alloc,
  p4dFree: riscvP4d.free,
  p4dFreeTlb: riscvFreeTlb(1),
  pudFreeTlb: riscvFreeTlb(2),
  pmdFreeTlb: riscvFreeTlb(3),
  pteFreeTlb: riscvFreeTlb(4),
  tlbFlush: riscvTlbFlush,
  flushTlbMm: riscvFlushTlbMm,
  flushPmdTlbRange: riscvFlushPmdTlbRange,
  // __tlb_remove_table: free_page_and_swap_cache (6.8-6.13, the dtor already ran), pagetable_dtor
  // + pagetable_free from 6.14 (arch/riscv/include/asm/tlb.h, then asm-generic/tlb.h)
  tlbRemoveTable: genericTlbRemoveTable,
  // ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH from 6.8 (54d7431af73e "riscv: Add support for
  // BATCHED_UNMAP_TLB_FLUSH"): arch_tlbbatch_should_defer is always true (asm/tlbflush.h)
  tlbbatchShouldDefer: (k) => k.kv >= 608,
};

const riscvOptions: OptionSpec[] = [{
  name: "rfence",
  values: ["sbi", "ipi"],
  default: "sbi",
  doc: "remote TLB fences through the SBI firmware (riscv_use_sbi_for_rfence) or as IPIs " +
    "(AIA IMSIC / ACLINT SSWI); in 6.8-6.14 IPI fences free tables through the page batch",
}];

/** Version adjustments: MMU_GATHER_RCU_TABLE_FREE if SMP && MMU from 6.8 (arch/riscv/Kconfig). */
function riscvAdjust(cfg: ArchConfig, kv: number): void {
  cfg.gather.tableFree = kv >= 608;
  cfg.gather.rcuTableFree = kv >= 608;
  // select HAVE_MOVE_PMD, select HAVE_MOVE_PUD (arch/riscv/Kconfig)
  cfg.moveTables = { pmd: true, pud: true };
}

/** How riscv allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function riscvStory(cfg: ArchConfig, kv: number): ConfigStory {
  const sbi = (cfg.options.rfence ?? "sbi") === "sbi";
  const batched = (name: string, dtorNote: string): { free: string; via: FreeVia } =>
    kv >= 615
      ? {
        free: `__${name}_free_tlb = tlb_remove_ptdesc -> the RCU table batch; ` +
          "pagetable_dtor_free after the grace period (arch/riscv/include/asm/pgalloc.h, " +
          "asm-generic/tlb.h)",
        via: "table-batch",
      }
      : sbi
      ? {
        free: `__${name}_free_tlb: ${dtorNote}riscv_tlb_remove_ptdesc: SBI fences -> ` +
          "tlb_remove_ptdesc, the RCU table batch (arch/riscv/include/asm/pgalloc.h)",
        via: "table-batch",
      }
      : {
        free: `__${name}_free_tlb: ${dtorNote}riscv_tlb_remove_ptdesc: IPI fences -> ` +
          "tlb_remove_page_ptdesc, the page batch (arch/riscv/include/asm/pgalloc.h)",
        via: "page-batch",
      };
  const level = (
    name: "p4d" | "pud" | "pmd" | "pte",
    alloc: string,
    counted: string,
  ): LevelStory => {
    const dtor = kv >= 614 || kv < 608
      ? ""
      : name === "p4d" || (name === "pud" && kv < 607)
      ? ""
      : `pagetable_${name}_dtor, then `;
    let free: string, via: FreeVia;
    if (kv < 608) {
      if (name === "pte") {
        free = "__pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc, the page batch " +
          "(arch/riscv/include/asm/pgalloc.h)";
        via = "page-batch";
      } else {
        free = `__${name}_free_tlb = ${name}_free: freed at once inside free_pgtables, before ` +
          "the TLB flush (arch/riscv/include/asm/pgalloc.h; fixed in 6.8)";
        via = "direct";
      }
    } else {
      ({ free, via } = batched(name, dtor));
    }
    return { alloc, counted, free, via };
  };
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc: kv >= 614
        ? "__pgd_alloc(mm, 0) = pagetable_alloc + pagetable_pgd_ctor, then sync_kernel_mappings " +
          "(arch/riscv/include/asm/pgalloc.h)"
        : "__get_free_page(GFP_KERNEL), user half zeroed, sync_kernel_mappings copies the " +
          "kernel half (arch/riscv/include/asm/pgalloc.h)",
      counted: kv >= 614 ? "NR_PAGETABLE +1 (6.14+); never VmPTE" : "never",
      free: "pgd_free at __mmdrop: free_page, or __pgd_free (pagetable_dtor_free) from 6.14 " +
        "(include/asm-generic/pgalloc.h)",
      via: "pgd_free",
    },
  };
  const l = cfg.levels;
  if (l[1].folded === "none") {
    levels.p4d = level(
      "p4d",
      kv >= 614
        ? "__p4d_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0) + " +
          "pagetable_p4d_ctor, while pgtable_l5_enabled (include/asm-generic/pgalloc.h)"
        : "p4d_alloc_one: get_zeroed_page(GFP_PGTABLE_USER) while pgtable_l5_enabled, no ctor " +
          "(arch/riscv/include/asm/pgalloc.h)",
      kv >= 614 ? "NR_PAGETABLE +1 (6.14+); no mm counter" : "never (no ctor, no mm counter)",
    );
  }
  if (l[2].folded === "none") {
    levels.pud = level(
      "pud",
      "pud_alloc_one -> __pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0)" +
        (kv >= 607 ? " + pagetable_pud_ctor" : "") + ", while pgtable_l4_enabled " +
        "(arch/riscv/include/asm/pgalloc.h, include/asm-generic/pgalloc.h)",
      "VmPTE +4096 (mm_inc_nr_puds)" + (kv >= 607 ? "; NR_PAGETABLE +1 (6.7+)" : ""),
    );
  }
  if (l[3].folded === "none") {
    levels.pmd = level(
      "pmd",
      "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pmd_ctor (split PMD " +
        "ptlock: ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2) " +
        "(include/asm-generic/pgalloc.h)",
      "VmPTE +4096 (mm_inc_nr_pmds); NR_PAGETABLE +1",
    );
  }
  levels.pte = level(
    "pte",
    "pte_alloc_one -> __pte_alloc_one(mm, GFP_PGTABLE_USER) + pagetable_pte_ctor " +
      "(include/asm-generic/pgalloc.h)",
    `VmPTE +${l[4].pgtablesBytes} (mm_inc_nr_ptes); NR_PAGETABLE +1`,
  );
  const notes: string[] = [];
  if (cfg.bits === 64) {
    notes.push(
      "CONFIG_PGTABLE_LEVELS=5 folded at run time: p4d_none/pud_none of a folded level read 0, so " +
        "no table is allocated there, mm_pud_folded skips mm_inc_nr_puds, but the generic " +
        "pud_free_tlb/p4d_free_tlb still widen the gather range and set freed_tables " +
        "(arch/riscv/include/asm/pgtable-64.h, include/asm-generic/tlb.h)",
    );
  }
  notes.push(
    kv < 607
      ? "tlb_flush = flush_tlb_mm(tlb->mm) for every gather (arch/riscv/include/asm/tlb.h)"
      : "tlb_flush: flush_tlb_mm for fullmm, need_flush_all or freed_tables, else " +
        "flush_tlb_mm_range (arch/riscv/include/asm/tlb.h, 6.7/6.8)",
    "__flush_tlb_range: sfence.vma locally when mm_cpumask holds no other hart, else a remote " +
      "fence to every other hart of mm_cpumask (" +
      (kv < 604 || sbi ? "sbi_remote_sfence_vma_asid: the firmware interrupts each hart" : "IPIs") +
      "); ASIDs keep every hart that ran the mm in the mask (arch/riscv/mm/tlbflush.c, context.c)",
    "no MMU_GATHER_MERGE_VMAS: tlb_end_vma flushes at every VMA (asm-generic/tlb.h)",
  );
  if (kv >= 608) {
    notes.push(
      "MMU_GATHER_RCU_TABLE_FREE if SMP && MMU (6.8): a failed table-batch allocation falls " +
        "back to tlb_remove_table_sync_one, an IPI to every other CPU (mm/mmu_gather.c)",
    );
  }
  return { levels, notes };
}

const riscvGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

/** The level specs of an rv64 kernel (PGTABLE_LEVELS=5) running with `levels` levels. */
function rv64Levels(levels: 3 | 4 | 5): ConfigSpec["levels"] {
  const table = { entries: 512, entryBytes: 8 };
  const folded = { entries: 1, entryBytes: 8, folded: "runtime" as const };
  return [
    table,
    levels === 5 ? table : folded,
    levels >= 4 ? table : folded,
    table,
    table,
  ];
}

function rv64(name: string, levels: 3 | 4 | 5, description: string): ConfigSpec {
  // TASK_SIZE_64 = PGDIR_SIZE * PTRS_PER_PGD / 2 (arch/riscv/include/asm/pgtable.h); PGDIR_SHIFT
  // 30/39/48 for Sv39/48/57 (arch/riscv/include/asm/pgtable-64.h)
  const pgdirShift = [30, 39, 48][levels - 3];
  return {
    name,
    family: "riscv",
    description,
    bits: 64,
    pageShift: 12,
    levels: rv64Levels(levels),
    taskSize: (1n << BigInt(pgdirShift)) * 512n / 2n,
    // select HAVE_ARCH_TRANSPARENT_HUGEPAGE if 64BIT && MMU (arch/riscv/Kconfig)
    thpAvailable: true,
    // select ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2 (arch/riscv/Kconfig)
    splitPmdPtlockArch: true,
    // hugetlb PMD_SIZE and PUD_SIZE pages (arch_hugetlb_valid_size; the 64K NAPOT size maps
    // PTEs and is not modelled); select ARCH_WANT_HUGE_PMD_SHARE if 64BIT (arch/riscv/Kconfig)
    hugetlb: ["pmd", "pud"],
    hugePmdShare: true,
    // STACK_TOP = DEFAULT_MAP_WINDOW, the sv48 window on sv57 from 6.6 (asm/processor.h,
    // "riscv: mm: Default to sv48 window")
    mmap: {
      stackTop: (kv) => levels === 5 && kv >= 606 ? 1n << 47n : (1n << BigInt(pgdirShift)) * 256n,
    },
    // the Privileged Spec lets a hart cache non-leaf PTEs until sfence.vma (the 6.8 fix)
    walkerCaches: true,
    gather: riscvGather,
    ramBytes: 16 * 2 ** 30,
    options: riscvOptions,
    archData: { levels },
    backend: riscvBackend,
    adjust: riscvAdjust,
    story: riscvStory,
  };
}

/** The riscv configurations. */
export const riscvConfigs: ConfigSpec[] = [
  rv64(
    "riscv64-sv39",
    3,
    "RISCV 64-bit, PGTABLE_LEVELS=5 running Sv39 (p4d and pud folded at run time), 256 GiB user",
  ),
  rv64(
    "riscv64-sv48",
    4,
    "RISCV 64-bit, PGTABLE_LEVELS=5 running Sv48 (p4d folded at run time), 128 TiB user",
  ),
  rv64("riscv64-sv57", 5, "RISCV 64-bit, PGTABLE_LEVELS=5 running Sv57, 64 PiB user"),
  {
    name: "riscv32-sv32",
    family: "riscv",
    description: "RISCV 32-bit, Sv32: 2 levels of 1024 4-byte entries, PAGE_OFFSET 0xc0000000",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1024, entryBytes: 4 },
    ],
    // TASK_SIZE = FIXADDR_START = PCI_IO_START - (PGDIR_SIZE + FIX_FDT_SIZE): VMALLOC_START
    // 0xa0000000 - VMEMMAP_SIZE 32M (STRUCT_PAGE_MAX_SHIFT 6: a 36-byte struct page with
    // CONFIG_MEMCG) - PCI_IO 16M - 8M (arch/riscv/include/asm/pgtable.h)
    taskSize: 0x9C80_0000n,
    // HAVE_ARCH_TRANSPARENT_HUGEPAGE needs 64BIT; no split PMD locks with 2 levels
    thpAvailable: false,
    splitPmdPtlockArch: false,
    // hugetlb 4M pages: leaves of the pgd (arch_hugetlb_valid_size PMD_SIZE)
    hugetlb: ["pmd"],
    // the Privileged Spec lets a hart cache non-leaf PTEs until sfence.vma (the 6.8 fix)
    walkerCaches: true,
    gather: riscvGather,
    ramBytes: 512 * 2 ** 20,
    options: riscvOptions,
    archData: { levels: 2 },
    backend: riscvBackend,
    adjust: riscvAdjust,
    story: riscvStory,
  },
];
