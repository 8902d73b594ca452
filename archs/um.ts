/**
 * um (User-mode Linux): arch/um/kernel/mem.c, arch/um/include/asm/{pgalloc,pgtable-*level}.h over
 * the asm-generic defaults. Two configurations: an x86_64 host and an i386 host.
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - x86_64: 3 levels (pgd, pmd, pte of 512 x 8, PGDIR_SHIFT 30) up to 6.12; 4 levels (a pud,
 *   PGDIR_SHIFT 39) from 6.13 ("um: Switch to 4 level page tables on 64 bit"), with TASK_SIZE
 *   limited to what the table can address ("um: Limit TASK_SIZE to the addressable range").
 * - i386: 2 levels; the 3_LEVEL_PGTABLES mode (option `pgtable_levels`, 4-byte entries and a
 *   2048-byte PTE table) exists up to 6.12 and was removed in 6.13.
 * - pgd: __get_free_page(GFP_KERNEL), never counted, up to 6.13; __pgd_alloc (counted) from 6.14.
 * - freeing: dtor + tlb_remove_page_ptdesc (page batch) at every level; tlb_remove_ptdesc (6.15).
 * - UP only: NR_CPUS is 1 through 6.18 (SMP support was posted in October 2025, after 6.18's
 *   merge window), so no split ptlocks and no IPIs.
 *
 * @module
 */

import type { ArchConfig, Backend } from "../engine/api.ts";
import { type ConfigSpec, type ConfigStory, resolveConfig } from "./config.ts";
import { GENERIC_PMD_ALLOC, genericBackend, NO_MERGE_VMAS_NOTE, pteStory } from "./generic.ts";

/**
 * The um backend: pgd_alloc = __get_free_page(GFP_KERNEL) + copy of the kernel part
 * (arch/um/kernel/mem.c; __pgd_alloc(mm, 0) from 6.14), generic pmd/pud/pte allocators, and
 * __pte/__pmd(/__pud 6.13+)_free_tlb = dtor + tlb_remove_page_ptdesc (arch/um/include/asm/pgalloc.h):
 * all of it the genericBackend. flush_tlb_* only mark the host mappings for syncing
 * (arch/um/kernel/tlb.c): no IPIs on a UP kernel.
 */
export const umBackend: Backend = {
  ...genericBackend,
  name: "um",
};

const umGather = {
  tableFree: false,
  rcuTableFree: false,
  noGather: false,
  mergeVmas: false,
  noRange: false,
  needsTableInvalidate: true,
};

/** x86_64 host from 6.13: pgtable-4level.h (PGDIR_SHIFT 39, PUD_SHIFT 30, all 512 x 8). */
const um64FourLevel: ConfigSpec = {
  name: "um-x86_64",
  family: "um",
  description: "UML on x86_64, 4 levels (6.13+)",
  bits: 64,
  pageShift: 12,
  levels: [
    { entries: 512, entryBytes: 8 },
    { entries: 1, entryBytes: 8, folded: "compile" },
    { entries: 512, entryBytes: 8 },
    { entries: 512, entryBytes: 8 },
    { entries: 512, entryBytes: 8 },
  ],
  // task_size = min(host top - STUB_SIZE, PTRS_PER_PGD * PGDIR_SIZE) & PGDIR_MASK: a 47-bit
  // host gives 0x7f8000000000 (arch/um/kernel/um_arch.c, 6.13+)
  taskSize: 0x7f80_0000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  noSplitPtlocks: true,
  gather: umGather,
  ramBytes: 2 * 2 ** 30,
  backend: umBackend,
  // a UP kernel (NR_CPUS = 1, arch/um/Kconfig): the other CPUs never come online
  maxCpus: 1,
};

/** um-x86_64 by version: 4 levels from 6.13, TASK_SIZE as linux_main computes it. */
function um64Adjust(cfg: ArchConfig, kv: number): void {
  if (kv >= 613) {
    const four = resolveConfig(um64FourLevel, { kernel: cfg.kernel });
    cfg.levels = four.levels;
    cfg.taskSize = four.taskSize;
    cfg.description = "UML on x86_64 host, 4 levels of 512 x 8 (PGDIR_SHIFT 39; 6.13+)";
  } else if (kv < 606) {
    // 6.1: host_task_size = 0x7fc0002000 - 2 pages, & PGDIR_MASK (arch/um/kernel/um_arch.c)
    cfg.taskSize = 0x7f_c000_0000n;
  }
}

/**
 * i386 host with CONFIG_3_LEVEL_PGTABLES (up to 6.12; "um: Remove 3-level page table support on
 * i386", 6.13): every entry an unsigned long (4 bytes, asm/page.h), PTRS_PER_PTE 512 (so a PTE
 * table counts 2048 bytes in a 4 KiB page), PTRS_PER_PMD 1024, PGDIR_SHIFT 31 with a 1024-entry
 * pgd of which two entries are user space (asm/pgtable-3level.h).
 */
const umI386ThreeLevel: ConfigSpec = {
  name: "um-i386",
  family: "um",
  description: "UML on i386 host, 3_LEVEL_PGTABLES (up to 6.12): pgd 1024 x 4 (PGDIR_SHIFT " +
    "31), pmd 1024 x 4, pte 512 x 4 in a 4 KiB page",
  bits: 32,
  pageShift: 12,
  levels: [
    { entries: 1024, entryBytes: 4 },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1024, entryBytes: 4 },
    { entries: 512, entryBytes: 4, tableBytes: 4096 },
  ],
  // task_size = host_task_size & PGDIR_MASK (2 GiB) (arch/um/kernel/um_arch.c)
  taskSize: 0x8000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  noSplitPtlocks: true,
  gather: umGather,
  ramBytes: 512 * 2 ** 20,
  backend: umBackend,
  // a UP kernel (NR_CPUS = 1, arch/um/Kconfig): the other CPUs never come online
  maxCpus: 1,
};

/** um-i386 with the `pgtable_levels` option: 3 levels only where the kernel still has them. */
function umI386Adjust(cfg: ArchConfig, kv: number): void {
  if (cfg.options.pgtable_levels !== "3") return;
  if (kv >= 613) {
    cfg.options = { ...cfg.options, pgtable_levels: "2" };
    return;
  }
  const three = resolveConfig(umI386ThreeLevel, { kernel: cfg.kernel });
  cfg.levels = three.levels;
  cfg.taskSize = three.taskSize;
  cfg.description = umI386ThreeLevel.description;
}

/** How um allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function umStory(cfg: ArchConfig, kv: number): ConfigStory {
  const batch = (lvl: string) =>
    kv >= 615
      ? `__${lvl}_free_tlb: tlb_remove_ptdesc -> tlb_remove_table: pagetable_dtor, then the page ` +
        `batch (arch/um/include/asm/pgalloc.h, asm-generic/tlb.h)`
      : `__${lvl}_free_tlb: pagetable_${lvl}_dtor + tlb_remove_page_ptdesc, the page batch ` +
        `(arch/um/include/asm/pgalloc.h)`;
  const g = cfg.levels;
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc: kv >= 614
        ? "__pgd_alloc(mm, 0): pagetable_alloc + pagetable_pgd_ctor, kernel part copied " +
          "(arch/um/kernel/mem.c, include/asm-generic/pgalloc.h)"
        : "__get_free_page(GFP_KERNEL), user part zeroed, kernel part copied (arch/um/kernel/mem.c)",
      counted: kv >= 614 ? "NR_PAGETABLE +1 (6.14+); never VmPTE" : "never",
      free: "pgd_free at __mmdrop (include/asm-generic/pgalloc.h)",
      via: "pgd_free",
    },
  };
  if (g[2].folded === "none") {
    levels.pud = {
      alloc: "__pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0) + " +
        "pagetable_pud_ctor (include/asm-generic/pgalloc.h)",
      counted: "VmPTE +4096 (mm_inc_nr_puds); NR_PAGETABLE +1",
      free: batch("pud"),
      via: "page-batch",
    };
  }
  if (g[3].folded === "none") {
    levels.pmd = {
      alloc: GENERIC_PMD_ALLOC,
      counted: `VmPTE +${g[3].pgtablesBytes} (mm_inc_nr_pmds); NR_PAGETABLE +1`,
      free: batch("pmd"),
      via: "page-batch",
    };
  }
  levels.pte = pteStory(cfg, { free: batch("pte"), via: "page-batch" });
  return {
    levels,
    notes: [
      "UP only through 6.18 (NR_CPUS 1): no split ptlocks, no IPIs; flush_tlb_* mark the host " +
      "mappings for a later sync (arch/um/kernel/tlb.c)",
      NO_MERGE_VMAS_NOTE,
    ],
  };
}

/** The um configurations. */
export const umConfigs: ConfigSpec[] = [
  {
    name: "um-x86_64",
    family: "um",
    description: "UML on x86_64 host, 3_LEVEL_PGTABLES: pgd, pmd, pte of 512 x 8 (PGDIR_SHIFT " +
      "30) up to 6.12, 4 levels from 6.13",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 512, entryBytes: 8 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    // task_size = (0x7fc0002000 - 1 & ~(STUB_DATA_PAGES * PAGE_SIZE - 1)) - PAGE_SIZE,
    // & PGDIR_MASK = 0x7f80000000 (arch/um/kernel/um_arch.c, os_get_top_address on 64-bit)
    taskSize: 0x7f_8000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    noSplitPtlocks: true,
    gather: umGather,
    ramBytes: 2 * 2 ** 30,
    backend: umBackend,
    // a UP kernel (NR_CPUS = 1, arch/um/Kconfig): the other CPUs never come online
    maxCpus: 1,
    adjust: um64Adjust,
    story: umStory,
  },
  {
    name: "um-i386",
    family: "um",
    description: "UML on i386 host (3G/1G), 2 levels of 1024 x 4 (PGDIR_SHIFT 22)",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1024, entryBytes: 4 },
    ],
    // a 0xc0000000 host top less the stub pages, & PGDIR_MASK (arch/um/kernel/um_arch.c)
    taskSize: 0xbfc0_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    noSplitPtlocks: true,
    gather: umGather,
    ramBytes: 512 * 2 ** 20,
    options: [{
      name: "pgtable_levels",
      values: ["2", "3"],
      default: "2",
      doc:
        "CONFIG_3_LEVEL_PGTABLES on an i386 host (removed in 6.13): 3 levels with 4-byte entries",
    }],
    backend: umBackend,
    // a UP kernel (NR_CPUS = 1, arch/um/Kconfig): the other CPUs never come online
    maxCpus: 1,
    adjust: umI386Adjust,
    story: umStory,
  },
];
