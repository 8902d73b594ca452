/**
 * hexagon: arch/hexagon/include/asm/{pgalloc,pgtable}.h and arch/hexagon/mm/vm_tlb.c over the
 * asm-generic defaults: 2 levels, PGDIR_SHIFT 22 whatever the page size, so the pgd is always
 * 1024 x 4 bytes and PTRS_PER_PTE = 4 MiB / PAGE_SIZE: 1024 (4K), 256 (16K), 64 (64K), 16 (256K).
 * A PTE table still takes a whole page (the generic allocator), but VmPTE counts PTRS_PER_PTE * 4.
 *
 * The page size is the Kconfig choice "Kernel page size" (PAGE_SIZE_4KB .. PAGE_SIZE_256KB; the
 * 1MB case in pgtable.h cannot be selected), modelled as the `page_size` option because it
 * changes every PTE-level figure.
 *
 * pgd_alloc = __get_free_page(GFP_KERNEL | __GFP_ZERO) + a copy of swapper_pg_dir (__pgd_alloc,
 * counted, from 6.14); __pte_free_tlb = dtor + tlb_remove_page_ptdesc (the page batch;
 * tlb_remove_ptdesc from 6.15); flushes go to the Hexagon VM (__vmclrmap), no IPIs.
 *
 * @module
 */

import type { ArchConfig, Backend } from "../engine/api.ts";
import { type ConfigSpec, type ConfigStory, resolveConfig } from "./config.ts";
import {
  broadcastTlbFlush,
  genericBackend,
  NO_MERGE_VMAS_NOTE,
  pageBatchFreeStory,
  pagePgdStory,
} from "./generic.ts";

/**
 * The hexagon backend: the genericBackend; tlb_flush's flush_tlb_range/flush_tlb_mm call the
 * hypervisor (__vmclrmap) for the current map only (arch/hexagon/mm/vm_tlb.c): no IPIs.
 */
export const hexagonBackend: Backend = {
  ...genericBackend,
  name: "hexagon",
  tlbFlush: broadcastTlbFlush,
};

/** PAGE_SHIFT of each CONFIG_PAGE_SIZE_* choice (arch/hexagon/Kconfig, asm/page.h). */
const PAGE_SHIFTS: Record<string, number> = { "4K": 12, "16K": 14, "64K": 16, "256K": 18 };

/** Geometry for a page size: PGDIR_SHIFT 22, PTRS_PER_PTE = 1 << (22 - PAGE_SHIFT). */
function hexagonLevels(shift: number): ConfigSpec["levels"] {
  const page = 2 ** shift;
  return [
    { entries: 1024, entryBytes: 4, tableBytes: page },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 1, entryBytes: 4, folded: "compile" },
    { entries: 2 ** (22 - shift), entryBytes: 4, tableBytes: page },
  ];
}

/** The page_size option: re-resolve the geometry and the gather sizes for that PAGE_SIZE. */
function hexagonAdjust(cfg: ArchConfig, _kv: number): void {
  const shift = PAGE_SHIFTS[cfg.options.page_size] ?? 12;
  if (shift === cfg.pageShift) return;
  const r = resolveConfig(
    { ...hexagonConfigs[0], pageShift: shift, levels: hexagonLevels(shift), adjust: undefined },
    cfg.options,
  );
  cfg.pageShift = shift;
  cfg.levels = r.levels;
  cfg.gather.maxGatherBatch = r.gather.maxGatherBatch;
  cfg.gather.maxGatherBatchCount = r.gather.maxGatherBatchCount;
  cfg.description = `Hexagon, ${cfg.options.page_size} pages (PAGE_SIZE_${
    cfg.options.page_size.replace("K", "KB")
  }): pgd 1024 x 4, PTE tables ${r.levels[4].entries} x 4`;
}

/** How hexagon allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function hexagonStory(cfg: ArchConfig, kv: number): ConfigStory {
  const pte = cfg.levels[4];
  return {
    levels: {
      pgd: pagePgdStory(
        kv,
        "__get_free_page(GFP_KERNEL | __GFP_ZERO)",
        " + copy of swapper_pg_dir; mm->context.ptbase for the VM (asm/pgalloc.h)",
      ),
      pte: {
        alloc: "__pte_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pte_ctor: a " +
          `whole ${2 ** cfg.pageShift >> 10} KiB page for ${pte.entries} PTEs ` +
          "(include/asm-generic/pgalloc.h)",
        counted: `VmPTE +${pte.pgtablesBytes} (PTRS_PER_PTE * 4, mm_inc_nr_ptes); NR_PAGETABLE +1`,
        ...pageBatchFreeStory(kv, "arch/hexagon/include/asm/pgalloc.h"),
      },
    },
    notes: [
      "generic tlb_flush; flush_tlb_range/flush_tlb_mm are __vmclrmap hypervisor calls for the " +
      "current map, no IPIs (arch/hexagon/mm/vm_tlb.c)",
      NO_MERGE_VMAS_NOTE,
    ],
  };
}

/** The hexagon configurations. */
export const hexagonConfigs: ConfigSpec[] = [{
  name: "hexagon-4k",
  family: "hexagon",
  description: "Hexagon, 4K pages (PAGE_SIZE_4KB): 2 levels of 1024 x 4 bytes (PGDIR_SHIFT 22)",
  bits: 32,
  pageShift: 12,
  levels: hexagonLevels(12),
  // TASK_SIZE = PAGE_OFFSET = 0xc0000000 (arch/hexagon/include/asm/mem-layout.h)
  taskSize: 0xc000_0000n,
  thpAvailable: false,
  splitPmdPtlockArch: false,
  mmap: { legacyBase: 0x4000_0000n }, // TASK_UNMAPPED_BASE, bottom-up
  gather: {
    tableFree: false,
    rcuTableFree: false,
    noGather: false,
    mergeVmas: false,
    noRange: false,
    needsTableInvalidate: true,
  },
  ramBytes: 256 * 2 ** 20,
  options: [{
    name: "page_size",
    values: ["4K", "16K", "64K", "256K"],
    default: "4K",
    doc: 'Kconfig "Kernel page size": PTRS_PER_PTE is 4 MiB / PAGE_SIZE (PGDIR_SHIFT stays 22)',
  }],
  backend: hexagonBackend,
  adjust: hexagonAdjust,
  story: hexagonStory,
}];
