/**
 * LoongArch: arch/loongarch/include/asm/{pgalloc,tlb,pgtable}.h, arch/loongarch/mm/pgtable.c and
 * arch/loongarch/kernel/smp.c over the asm-generic defaults. Three configurations: 16K pages with
 * 3 levels (the default) or 2, and 4K pages with 4 levels. Every table is one page of
 * PAGE_SIZE / 8 entries; the kernel half of the address space has its own page table (PGDH), so
 * the user pgd holds only user entries.
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - pgd: __get_free_page(GFP_KERNEL) in 6.1, pagetable_alloc without a ctor in 6.6-6.13,
 *   __pgd_alloc(mm, 0) with pagetable_pgd_ctor (counted) from 6.14.
 * - pud (4 levels): never counted until 6.7 added pagetable_pud_ctor to pud_alloc_one.
 * - __pte_free_tlb: dtor + tlb_remove_page(_ptdesc) up to 6.14, tlb_remove_ptdesc from 6.15 (the
 *   dtor then runs inside the !MMU_GATHER_TABLE_FREE tlb_remove_table); the page batch either way.
 * - __pmd_free_tlb / __pud_free_tlb stay pmd_free / pud_free, DIRECT frees inside free_pgtables,
 *   in every modelled version (7.0 "LoongArch: mm: enable MMU_GATHER_RCU_TABLE_FREE" changes it).
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_KERNEL_ACCOUNT,
  hexPage,
  type Machine,
  type Mm,
  type MmuGather,
  PUD,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory } from "./config.ts";
import {
  directFreeStory,
  freeTlbDirect,
  freeTlbPageBatch,
  genericBackend,
  pageBatchFreeStory,
  pagesUntil,
  pgdFromPages,
  pudFree as genericPudFree,
  tableAllocOne,
} from "./generic.ts";

/**
 * pgd_alloc / pgd_free (arch/loongarch/mm/pgtable.c, include/asm-generic/pgalloc.h):
 * __get_free_page(GFP_KERNEL) and free_page in 6.1, pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM,
 * 0) without a ctor and pagetable_free in 6.6, __pgd_alloc(mm, 0) (pagetable_pgd_ctor) and
 * __pgd_free from 6.14; then pgd_init fills every entry with the invalid next-level table and the
 * kernel entries are copied. No allocation beyond the page.
 */
const loongarchPgd = pgdFromPages({
  order: 0,
  gfp: GFP.KERNEL,
  pagetableAllocSince: 606,
  init: "pgd_init",
});

/**
 * pmd_alloc_one (arch/loongarch/include/asm/pgalloc.h): pagetable_alloc(GFP_KERNEL_ACCOUNT, 0)
 * (alloc_page in 6.1) + pagetable_pmd_ctor, freed again if the ctor fails, then pmd_init. The
 * ctor takes no ptlock: LoongArch does not select ARCH_ENABLE_SPLIT_PMD_PTLOCK.
 */
const loongarchPmdAllocOne = tableAllocOne("pmd_alloc_one", GFP_KERNEL_ACCOUNT, 0, "pmd");

/**
 * pud_alloc_one (arch/loongarch/include/asm/pgalloc.h): __get_free_page(GFP_KERNEL) in 6.1,
 * pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0) from 6.6, + pagetable_pud_ctor from 6.7
 * ("mm: add statistics for PUD level pagetable"), then pud_init. Not __GFP_ACCOUNT. pud_free:
 * free_page in 6.1, the asm-generic one (pagetable_pud_dtor from 6.7) after.
 */
const loongarchPud = pagesUntil(606, PUD, {
  gfp: GFP.KERNEL,
  then: { alloc: tableAllocOne("pud_alloc_one", GFP.KERNEL, 0, "pud"), free: genericPudFree },
});

/**
 * Threads sharing the mm: the model's CPUs running it. flush_tlb_mm/flush_tlb_range skip the IPIs
 * when mm_users == 1 and current->mm == mm (arch/loongarch/kernel/smp.c).
 */
function threads(mm: Mm): number {
  return Math.max(1, mm.cpus.length);
}

/**
 * flush_tlb_mm (mm_users != 0) and flush_tlb_range (arch/loongarch/kernel/smp.c): an mm with
 * other users gets on_each_cpu_mask(mm_cpumask) IPIs, and switch_mm_irqs_off only ever sets
 * mm_cpumask bits (lazy CPUs stay in it); a single-threaded mm just drops the other CPUs' ASIDs
 * (cpu_context = 0) and flushes locally. flush_pmd_tlb_range is flush_tlb_range
 * (include/linux/pgtable.h).
 */
function loongarchFlush(k: Machine, mm: Mm, fn: string, what: string): void {
  if (threads(mm) > 1) {
    k.tlbFlushed(mm, fn, `${what}, on_each_cpu_mask(mm_cpumask)`, true);
  } else {
    k.tlbFlushed(mm, fn, `${what}, mm_users == 1: local, other ASIDs dropped`, false, true);
  }
}

/**
 * tlb_flush (arch/loongarch/include/asm/tlb.h): flush_tlb_mm for fullmm, flush_tlb_range over
 * tlb->start..end otherwise (need_flush_all is not looked at); flush_tlb_mm returns at once when
 * mm_users is 0, as it is in exit_mmap (arch/loongarch/kernel/smp.c).
 */
function loongarchTlbFlush(k: Machine, tlb: MmuGather): void {
  const mm = tlb.mm;
  if (tlb.fullmm) {
    k.tlbFlushed(mm, "flush_tlb_mm", "mm_users == 0 (exit_mmap): returns at once", false, true);
    return;
  }
  loongarchFlush(k, mm, "flush_tlb_range", `${tlb.end - tlb.start} page(s) from page ${tlb.start}`);
}

/** The LoongArch backend. */
export const loongarchBackend: Backend = {
  ...genericBackend,
  name: "loongarch",
  ...loongarchPgd,
  pudAllocOne: loongarchPud.alloc,
  pudFree: loongarchPud.free,
  pmdAllocOne: loongarchPmdAllocOne,
  // pte_alloc_one is the asm-generic __pte_alloc_one(mm, GFP_PGTABLE_USER) + pagetable_pte_ctor
  // __pte_free_tlb: pagetable_pte_dtor + tlb_remove_page_ptdesc (tlb_remove_ptdesc from 6.15)
  pteFreeTlb: freeTlbPageBatch(4),
  // #define __pmd_free_tlb(tlb, x, addr) pmd_free((tlb)->mm, x), and pud_free likewise
  pmdFreeTlb: freeTlbDirect(3),
  pudFreeTlb: freeTlbDirect(2),
  tlbFlush: loongarchTlbFlush,
  // dup_mmap's flush_tlb_mm(oldmm) and a THP split's flush_pmd_tlb_range
  flushTlbMm: (k: Machine, mm: Mm) => loongarchFlush(k, mm, "flush_tlb_mm", "all"),
  flushPmdTlbRange: (k: Machine, mm: Mm, vpn: number) =>
    loongarchFlush(k, mm, "flush_pmd_tlb_range", hexPage(k, vpn)),
};

/** How LoongArch allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function loongarchStory(cfg: ArchConfig, kv: number): ConfigStory {
  const page = 2 ** cfg.pageShift;
  const l = cfg.levels;
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc:
        (kv >= 614
          ? "__pgd_alloc(mm, 0) = pagetable_alloc + pagetable_pgd_ctor"
          : kv >= 606
          ? "pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0), no ctor"
          : "__get_free_page(GFP_KERNEL)") +
        ", pgd_init (invalid next-level table in every entry) (arch/loongarch/mm/pgtable.c)",
      counted: kv >= 614 ? "NR_PAGETABLE +1 (6.14+); never VmPTE" : "never",
      free: "pgd_free at __mmdrop: free_page (6.1), pagetable_free (6.6), __pgd_free with " +
        "pagetable_dtor (6.14) (include/asm-generic/pgalloc.h)",
      via: "pgd_free",
    },
  };
  if (l[2].folded === "none") {
    levels.pud = {
      alloc: (kv >= 606
        ? "pagetable_alloc(GFP_KERNEL & ~__GFP_HIGHMEM, 0)"
        : "__get_free_page(GFP_KERNEL)") +
        (kv >= 607 ? " + pagetable_pud_ctor" : ", no ctor") +
        ", pud_init (arch/loongarch/include/asm/pgalloc.h)",
      counted: `VmPTE +${l[2].pgtablesBytes} (mm_inc_nr_puds)` +
        (kv >= 607 ? "; NR_PAGETABLE +1 (6.7+)" : "; not in NR_PAGETABLE (no ctor before 6.7)"),
      ...directFreeStory("pud", "arch/loongarch/include/asm/pgalloc.h"),
    };
  }
  if (l[3].folded === "none") {
    levels.pmd = {
      alloc: "pmd_alloc_one: pagetable_alloc(GFP_KERNEL_ACCOUNT, 0) + pagetable_pmd_ctor (no " +
        "ptlock: no ARCH_ENABLE_SPLIT_PMD_PTLOCK), pmd_init (arch/loongarch/include/asm/pgalloc.h)",
      counted: `VmPTE +${l[3].pgtablesBytes} (mm_inc_nr_pmds); NR_PAGETABLE +1`,
      ...directFreeStory("pmd", "arch/loongarch/include/asm/pgalloc.h"),
    };
  }
  levels.pte = {
    alloc: "pte_alloc_one -> __pte_alloc_one(mm, GFP_PGTABLE_USER) + pagetable_pte_ctor " +
      "(include/asm-generic/pgalloc.h)",
    counted: `VmPTE +${l[4].pgtablesBytes} (mm_inc_nr_ptes); NR_PAGETABLE +1`,
    ...pageBatchFreeStory(kv, "arch/loongarch/include/asm/pgalloc.h"),
  };
  const notes = [
    `every table is one ${page / 1024} KiB page of PAGE_SIZE / 8 entries; user space is the ` +
    "lower half of the CPU's VA range (TASK_SIZE64 = 1 << min(cpu_vabits, VA_BITS), cpu_vabits " +
    "47 on Loongson 3A5000/3A6000), the kernel half has its own table in CSR.PGDH",
    "MMU_GATHER_MERGE_VMAS: no flush at each VMA; tlb_flush is flush_tlb_mm for fullmm (a no-op " +
    "at exit_mmap: mm_users is 0) and flush_tlb_range otherwise (arch/loongarch/include/asm/tlb.h)",
    "flush IPIs: on_each_cpu_mask(mm_cpumask) when the mm has more than one user; " +
    "switch_mm_irqs_off only sets mm_cpumask bits, so lazy CPUs are IPIed too; a single-threaded " +
    "mm flushes locally (arch/loongarch/kernel/smp.c)",
    "no MMU_GATHER_RCU_TABLE_FREE before 7.0: PMD and PUD tables are freed directly, PTE tables " +
    "after the flush",
  ];
  if (l[3].folded !== "none") {
    notes.push("with 2 levels the PMD is folded into the pgd: a THP is a pgd entry's span");
  }
  return { levels, notes };
}

const loongarchGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  // select MMU_GATHER_MERGE_VMAS if MMU (arch/loongarch/Kconfig)
  mergeVmas: true,
  noRange: false,
  needsTableInvalidate: true,
};

function loongarch(
  name: string,
  pageShift: 12 | 14,
  levels: 2 | 3 | 4,
  description: string,
): ConfigSpec {
  const n = 2 ** (pageShift - 3);
  const table = { entries: n, entryBytes: 8 };
  const folded = { entries: 1, entryBytes: 8, folded: "compile" as const };
  // VA_BITS = PGDIR_SHIFT + PAGE_SHIFT - 3 (arch/loongarch/include/asm/pgtable.h)
  const vaBits = pageShift + levels * (pageShift - 3);
  return {
    name,
    family: "loongarch",
    description,
    bits: 64,
    pageShift,
    levels: [table, folded, levels >= 4 ? table : folded, levels >= 3 ? table : folded, table],
    // TASK_SIZE64 = 1 << min(cpu_vabits, VA_BITS), cpu_vabits = CPUCFG1.VALEN = 47
    // (arch/loongarch/include/asm/processor.h, kernel/cpu-probe.c)
    taskSize: 1n << BigInt(Math.min(47, vaBits)),
    // select HAVE_ARCH_TRANSPARENT_HUGEPAGE (arch/loongarch/Kconfig)
    thpAvailable: true,
    splitPmdPtlockArch: false,
    // hugetlb HPAGE_SIZE = PMD_SIZE pages (asm/page.h HPAGE_SHIFT)
    hugetlb: ["pmd"],
    gather: loongarchGather,
    ramBytes: 16 * 2 ** 30,
    archData: { levels },
    backend: loongarchBackend,
    story: loongarchStory,
  };
}

/** The LoongArch configurations. */
export const loongarchConfigs: ConfigSpec[] = [
  loongarch(
    "loongarch64-16k-3level",
    14,
    3,
    "LoongArch64, 16K pages, 3 levels (the default): 2048-entry tables, 47-bit VA, 32 MiB PMD",
  ),
  loongarch(
    "loongarch64-16k-2level",
    14,
    2,
    "LoongArch64, 16K pages, 2 levels: 2048-entry tables, 36-bit VA (64 GiB user)",
  ),
  loongarch(
    "loongarch64-4k-4level",
    12,
    4,
    "LoongArch64, 4K pages, 4 levels: 512-entry tables, 48-bit table VA, 47-bit user space",
  ),
];
