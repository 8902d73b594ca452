/**
 * x86: arch/x86/mm/pgtable.c and arch/x86/include/asm/{pgalloc,tlb}.h over the asm-generic
 * defaults. Four configurations: x86_64 with 4 levels (p4d folded at run time, as on a
 * CONFIG_X86_5LEVEL kernel on a CPU without LA57) and 5 levels, i386 with 2 levels and with PAE.
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - pgd: __get_free_pages, never counted, before 6.14; __pgd_alloc + pagetable_pgd_ctor (counted)
 *   from 6.14, of order 1 only while PTI runs (pgd_allocation_order(), 6.15).
 * - p4d: get_zeroed_page before 6.14; the generic __p4d_alloc_one with pagetable_p4d_ctor after.
 * - freeing: dtor at ___pXd_free_tlb and the page batch (or the RCU table batch in a KVM guest with
 *   PV TLB flush) up to 6.13; the RCU table batch with the dtor after the grace period from 6.15.
 * - PAE: 3 preallocated PMDs (4 with PTI) up to 6.15, 4 (5 with PTI) from 6.16, and the pgd a
 *   32-byte slab object unless PTI runs; a whole page from 6.16.
 * - HIGHPTE (i386 user PTE pages from HIGHMEM) until 6.15.
 * - PT_RECLAIM (x86_64) from 6.14.
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_KERNEL_ACCOUNT,
  GFP_PGTABLE_USER,
  installPgd,
  installTable,
  levelHasCtor,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  type Mm,
  mmIncNr,
  type MmuGather,
  P4D,
  pagetableDtor,
  pagetableDtorFree,
  tlbRemovePage,
  tlbRemovePtdesc,
  tlbRemoveTable,
  tlbUnmapStride,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, OptionSpec } from "./config.ts";
import {
  __pteAllocOne,
  genericBackend,
  genericTlbRemoveTable,
  p4dAllocOne as genericP4dAllocOne,
  p4dFree as genericP4dFree,
  pagesUntil,
  pgdCache,
  pgdPages,
  pmdFree,
  releasePgd,
  tableAlloc,
} from "./generic.ts";

/** x86 geometry variants. */
type Variant = "x86_64" | "la57" | "i386" | "pae";

function variant(k: Machine): Variant {
  return k.cfg.archData.variant as Variant;
}

const pti = (k: Machine) => k.cfg.options.pti === "on";

/** SHARED_KERNEL_PMD (arch/x86/include/asm/pgtable-3level_types.h): PAE without PTI, up to 6.15. */
function sharedKernelPmd(k: Machine): boolean {
  return variant(k) === "pae" && !pti(k) && k.kv < 616;
}

/** PGD_ALLOCATION_ORDER: 1 whenever PTI is built in (up to 6.14); pgd_allocation_order() after. */
function pgdOrder(k: Machine): number {
  const v = variant(k);
  if (v === "i386") return 0; // PTI needs PAE or 64-bit
  return k.kv >= 615 ? (pti(k) ? 1 : 0) : 1;
}

/** PREALLOCATED_PMDS and PREALLOCATED_USER_PMDS (arch/x86/mm/pgtable.c). */
function preallocatedPmds(k: Machine): [number, number] {
  if (variant(k) !== "pae") return [0, 0];
  // UNSHARED_PTRS_PER_PGD: KERNEL_PGD_BOUNDARY (3 for VMSPLIT_3G) when the kernel PMD is
  // shared, else PTRS_PER_PGD; 6.16 preallocates all 4. KERNEL_PGD_PTRS user PMDs with PTI.
  const kernelSide = sharedKernelPmd(k) ? 3 : 4;
  return [kernelSide, pti(k) ? 1 : 0];
}

/** PTI user-side PMDs per mm (they live in the user half of the pgd, outside the tree). */
const userPmds = new WeakMap<Machine, Map<number, number[]>>();

/** preallocate_pmds: allocates every PMD even after a failure, then frees them all (pgtable.c). */
function preallocatePmds(k: Machine, mm: Mm, count: number): number[] | null {
  const pmds: number[] = [];
  let failed = false;
  for (let i = 0; i < count; i++) {
    const f = tableAlloc(k, GFP_PGTABLE_USER & ~GFP.HIGHMEM, 0, "pmd");
    if (f < 0) {
      failed = true;
      pmds.push(-1);
      continue;
    }
    mmIncNr(k, mm, 3, 1);
    pmds.push(f);
  }
  if (failed) {
    freePmds(k, mm, pmds);
    return null;
  }
  return pmds;
}

/** free_pmds (pgtable.c): dtor, free, mm_dec_nr_pmds for each PMD allocated. */
function freePmds(k: Machine, mm: Mm, pmds: number[]): void {
  for (const f of pmds) {
    if (f < 0) continue;
    pagetableDtorFree(k, f, 3);
    mmIncNr(k, mm, 3, -1);
  }
}

/**
 * _pgd_alloc / _pgd_free (arch/x86/mm/pgtable.c): __get_free_pages(GFP_PGTABLE_USER,
 * PGD_ALLOCATION_ORDER), __pgd_alloc from 6.14; PAE with a shared kernel PMD: a 32-byte object
 * of kmem_cache "pgd_cache".
 */
const pagesPgd = pgdPages({ order: pgdOrder, gfp: GFP_PGTABLE_USER });
const slabPgd = pgdCache({ cache: "pgd_cache", size: 32, gfp: GFP_PGTABLE_USER });
const x86PgdTable = (k: Machine) => sharedKernelPmd(k) ? slabPgd : pagesPgd;

/** pgd_alloc (arch/x86/mm/pgtable.c). */
function x86PgdAlloc(k: Machine, mm: Mm): boolean {
  if (k.trace) k.call("pgd_alloc", mm.name);
  const pgd = x86PgdTable(k).alloc(k, mm);
  if (pgd < 0) return false;
  const frame = memFrame(pgd);
  installPgd(k, mm, pgd);
  const [kernelSide, userSide] = preallocatedPmds(k);
  const pmds = preallocatePmds(k, mm, kernelSide);
  const upmds = pmds ? preallocatePmds(k, mm, userSide) : null;
  if (!pmds || !upmds) {
    if (pmds) freePmds(k, mm, pmds);
    freePgdMem(k, mm);
    return false;
  }
  // pgd_ctor: every pgd that does not share the kernel PMD goes on pgd_list with pt_mm set
  if (!sharedKernelPmd(k)) k.frames.ptMm[frame] = mm.id;
  // pgd_prepopulate_pmd: pud_populate each PMD into pgd entries 0..n-1 (a flush_tlb_mm each)
  pmds.forEach((f, i) => installTable(k, mm, mm.pgd, i, 3, memOf(f), false));
  if (upmds.length) {
    let m = userPmds.get(k);
    if (!m) userPmds.set(k, m = new Map());
    m.set(mm.id, upmds);
    for (let i = 0; i < upmds.length; i++) k.flushTlbMm(mm); // pud_populate (user half)
    mm.tables[3] += upmds.length;
  }
  return true;
}

/** _pgd_free: the slab object, the pages, or __pgd_free (6.14+). */
function freePgdMem(k: Machine, mm: Mm): void {
  x86PgdTable(k).free(k, mm, releasePgd(k, mm));
}

/** pgd_free: pgd_mop_up_pmds, pgd_dtor, _pgd_free (arch/x86/mm/pgtable.c). */
function x86PgdFree(k: Machine, mm: Mm): void {
  if (k.trace) k.call("pgd_free", mm.name);
  const [kernelSide] = preallocatedPmds(k);
  const p = k.pool;
  const dir = p.dir(mm.pgd);
  // mop_up_one_pmd for the PREALLOCATED_PMDS entries: pgd_clear, pmd_free, mm_dec_nr_pmds
  for (let i = 0; i < kernelSide; i++) {
    const node = dir[i];
    if (node <= 0) continue;
    const mem = p.mem[node];
    dir[i] = 0;
    p.count[mm.pgd]--;
    p.destroy(node);
    mm.tables[3]--;
    pmdFree(k, mm, mem);
    mmIncNr(k, mm, 3, -1);
  }
  const upmds = userPmds.get(k)?.get(mm.id);
  if (upmds) {
    for (const f of upmds) {
      pmdFree(k, mm, memOf(f));
      mmIncNr(k, mm, 3, -1);
      mm.tables[3]--;
    }
    userPmds.get(k)!.delete(mm.id);
  }
  // pgd_dtor: pgd_list_del
  freePgdMem(k, mm);
}

/** pte_alloc_one: __userpte_alloc_gfp adds __GFP_HIGHMEM with CONFIG_HIGHPTE (until 6.15). */
function x86PteAllocOne(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("pte_alloc_one");
  const high = k.cfg.options.highpte === "on" && k.kv < 615 ? GFP.HIGHMEM : 0;
  return __pteAllocOne(k, mm, GFP_PGTABLE_USER | high);
}

/**
 * p4d_alloc_one: get_zeroed_page(GFP_KERNEL_ACCOUNT) before 6.14, the generic one after; p4d_free:
 * free_page before 6.14 (only with 5 levels enabled), the generic one after (asm/pgalloc.h).
 */
const x86P4d = pagesUntil(614, P4D, {
  gfp: GFP_KERNEL_ACCOUNT | GFP.ZERO,
  then: { alloc: genericP4dAllocOne, free: genericP4dFree },
});

/**
 * paravirt_tlb_remove_table (up to 6.14): tlb_remove_page natively, tlb_remove_table (the RCU
 * table batch) in a KVM guest with PV remote TLB flush, Hyper-V or Xen PV (arch/x86/kernel/kvm.c).
 */
function paravirtTlbRemoveTable(k: Machine, tlb: MmuGather, frame: number): void {
  if (k.cfg.options.guest === "kvm") tlbRemoveTable(k, tlb, memOf(frame));
  else tlbRemovePage(k, tlb, frame);
}

/** ___pXd_free_tlb for one level (arch/x86/mm/pgtable.c). */
function x86FreeTlb(level: number) {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    const f = memFrame(mem);
    if (k.trace) k.call(`___${["pgd", "p4d", "pud", "pmd", "pte"][level]}_free_tlb`, `frame ${f}`);
    // PAE: a change of the top-level (PDPT) entries needs a full CR3 reload
    if (level === 3 && variant(k) === "pae") tlb.needFlushAll = true;
    if (k.kv >= 615) {
      // tlb_remove_ptdesc -> tlb_remove_table; pagetable_dtor_free after the grace period
      tlbRemovePtdesc(k, tlb, mem, level);
      return;
    }
    // the dtor runs now: pte and pmd always, pud from 6.7; p4d pages have none
    if (levelHasCtor(k.kv, level)) pagetableDtor(k, f, level);
    paravirtTlbRemoveTable(k, tlb, f);
  };
}

/**
 * flush_tlb_mm_range -> native_flush_tlb_multi (arch/x86/mm/tlb.c): with `freedTables` every other
 * CPU of mm_cpumask gets the IPI (on_each_cpu_mask), else only those running the mm
 * (on_each_cpu_cond_mask, should_flush_tlb: a lazy CPU is skipped, and one that has another mm
 * loaded too: should_trim_cpumask's once-a-second IPI to it (6.13, 6db2526c1d69) needs a clock
 * ptlab does not have, so it is never due). flush_tlb_func on a lazy CPU switches it to init_mm
 * (switch_mm_irqs_off(NULL, &init_mm)), which took it out of mm_cpumask until 6.14; from 6.14
 * (209954cbc7d0 "x86/mm/tlb: Update mm_cpumask lazily") it stays there, stale, and the next IPI
 * finds the mm not loaded and clears it (TLB_REMOTE_WRONG_CPU).
 */
function x86FlushTlbMmRange(
  k: Machine,
  mm: Mm,
  fn: string,
  what: string,
  freedTables: boolean,
  times = 1,
): void {
  k.tlbFlushed(mm, fn, what, freedTables, false, times);
  if (!freedTables) return;
  const self = mm.cpu;
  const left = mm.lazy.filter((c) => c !== self && c < k.ncpus);
  mm.lazy = mm.lazy.filter((c) => c === self || c >= k.ncpus);
  mm.stale = k.kv >= 614 ? left : [];
}

/**
 * tlb_flush (arch/x86/include/asm/tlb.h) -> flush_tlb_mm_range: the whole mm for fullmm or
 * need_flush_all, or when the range is more than tlb_single_page_flush_ceiling (33) strides.
 */
function x86TlbFlush(k: Machine, tlb: MmuGather): void {
  const stride = tlbUnmapStride(k, tlb);
  const full = tlb.fullmm || tlb.needFlushAll || (tlb.end - tlb.start) / stride > 33;
  const what = full ? "TLB_FLUSH_ALL" : `${(tlb.end - tlb.start) / stride} stride(s)`;
  x86FlushTlbMmRange(k, tlb.mm, "flush_tlb_mm_range", what, tlb.freedTables);
}

/**
 * flush_tlb_mm = flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, 0, true): freed_tables is true, so lazy
 * CPUs get the IPI too (arch/x86/include/asm/tlbflush.h).
 */
function x86FlushTlbMm(k: Machine, mm: Mm): void {
  x86FlushTlbMmRange(k, mm, "flush_tlb_mm", "TLB_FLUSH_ALL", true);
}

/**
 * flush_tlb_range of a PMD's range (pmdp_collapse_flush, pmdp_invalidate): freed_tables is true
 * from 6.14 (3ef938c35035 "x86/mm: Fix flush_tlb_range() when used for zapping normal PMDs",
 * CVE-2025-22045, backported to the stable series), false before (arch/x86/include/asm/tlbflush.h).
 */
function x86FlushPmdTlbRange(k: Machine, mm: Mm, vpn: number): void {
  const what = `@${vpn.toString(16)} +${k.geo.pmdPages} pages`;
  x86FlushTlbMmRange(k, mm, "flush_tlb_range", what, k.kv >= 614);
}

/** flush_tlb_page: flush_tlb_mm_range(.., PAGE_SHIFT, false), no tables freed. */
function x86FlushTlbPage(k: Machine, mm: Mm, vpn: number, times: number): void {
  x86FlushTlbMmRange(k, mm, "flush_tlb_page", `@${vpn.toString(16)}`, false, times);
}

/** PAE pud_populate: a flush_tlb_mm after writing the PDPT entry (arch/x86/mm/pgtable.c). */
function x86Populate(k: Machine, mm: Mm, level: number): void {
  if (level === 3 && variant(k) === "pae") k.flushTlbMm(mm);
}

/** The x86 backend. */
export const x86Backend: Backend = {
  ...genericBackend,
  // /proc/interrupts: a flush IPI counts in TLB (flush_tlb_func, irq_tlb_count) and in CAL (the
  // call-function vector it comes by, irq_call_count); arch/x86/kernel/irq.c arch_show_interrupts
  interrupts: { flush: ["TLB", "CAL"], call: ["CAL"] },
  // switch_mm_irqs_off sets the CPU in mm_cpumask (arch/x86/mm/tlb.c)
  maintainsMmCpumask: true,
  // switch_mm_irqs_off leaves the CPU in prev's mm_cpumask from 6.14 (209954cbc7d0)
  lazyMmCpumask: (k) => k.kv >= 614,
  name: "x86",
  pgdAlloc: x86PgdAlloc,
  pgdFree: x86PgdFree,
  pteAllocOne: x86PteAllocOne,
  p4dAllocOne: x86P4d.alloc,
  p4dFree: x86P4d.free,
  p4dFreeTlb: x86FreeTlb(1),
  pudFreeTlb: x86FreeTlb(2),
  pmdFreeTlb: x86FreeTlb(3),
  pteFreeTlb: x86FreeTlb(4),
  tlbFlush: x86TlbFlush,
  flushTlbMm: x86FlushTlbMm,
  flushPmdTlbRange: x86FlushPmdTlbRange,
  flushTlbPage: x86FlushTlbPage,
  // __tlb_remove_table: x86's free_page_and_swap_cache up to 6.13 (the dtor already ran), the
  // generic pagetable_dtor_free from 6.14
  tlbRemoveTable: genericTlbRemoveTable,
  populate: x86Populate,
  // arch_tlbbatch_should_defer (asm/tlbflush.h): defer when another CPU has the mm in its
  // mm_cpumask, so one flush_tlb_multi serves the whole batch
  tlbbatchShouldDefer: (_k, mm, cpu) => mm.cpus.some((c) => c !== cpu),
};

const x86Options = (v: Variant): OptionSpec[] => [
  {
    name: "pti",
    values: ["on", "off"],
    default: "off",
    doc: "page-table isolation running (CONFIG_MITIGATION_PAGE_TABLE_ISOLATION is built in)",
  },
  {
    name: "guest",
    values: ["none", "kvm"],
    default: "none",
    doc: "a KVM guest with PV remote TLB flush frees tables through RCU before 6.15",
  },
  ...(v === "i386" || v === "pae"
    ? [{
      name: "highpte",
      values: ["on", "off"],
      default: "off",
      doc: "CONFIG_HIGHPTE: user PTE pages from HIGHMEM (until 6.15)",
    }]
    : []),
];

/** Version adjustments shared by every x86 configuration. */
function x86Adjust(cfg: ArchConfig, kv: number): void {
  // x86 selects MMU_GATHER_RCU_TABLE_FREE if PARAVIRT (on in distribution kernels), and
  // unconditionally from 6.15; PT_RECLAIM (6.14) needs it and is selected for X86_64 only.
  cfg.gather.tableFree = true;
  cfg.gather.rcuTableFree = true;
  cfg.ptReclaim = kv >= 614 && cfg.bits === 64;
  // select HAVE_MOVE_PMD, select HAVE_MOVE_PUD (arch/x86/Kconfig)
  cfg.moveTables = { pmd: true, pud: true };
  cfg.gather.tableOneRcu = cfg.ptReclaim;
  if (kv >= 615 && cfg.options.highpte === "on") cfg.options = { ...cfg.options, highpte: "off" };
}

/** How x86 allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function x86Story(cfg: ArchConfig, kv: number): ConfigStory {
  const v = cfg.archData.variant;
  const batch = kv >= 615
    ? "tlb_remove_ptdesc -> the RCU table batch; pagetable_dtor_free runs after the grace period " +
      "(x86 selects MMU_GATHER_RCU_TABLE_FREE unconditionally since 6.15)"
    : "paravirt_tlb_remove_table -> tlb_remove_page: the page batch, freed after the flush " +
      "(a KVM guest with PV TLB flush uses tlb_remove_table, the RCU table batch)";
  const via = kv >= 615 || cfg.options.guest === "kvm" ? "table-batch" : "page-batch";
  const levels: ConfigStory["levels"] = {
    pgd: {
      alloc: kv >= 614
        ? `__pgd_alloc(mm, pgd_allocation_order()) = pagetable_alloc + pagetable_pgd_ctor ` +
          `(arch/x86/mm/pgtable.c, include/asm-generic/pgalloc.h)`
        : v === "pae" && cfg.options.pti !== "on"
        ? `kmem_cache "pgd_cache" (32 bytes, SHARED_KERNEL_PMD) (arch/x86/mm/pgtable.c)`
        : `__get_free_pages(GFP_PGTABLE_USER, PGD_ALLOCATION_ORDER) (arch/x86/mm/pgtable.c)`,
      counted: kv >= 614 ? "NR_PAGETABLE: the pgd's pages (6.14+); never VmPTE" : "never",
      free: "pgd_free at __mmdrop (pgd_mop_up_pmds, pgd_dtor, _pgd_free)",
      via: "pgd_free",
    },
  };
  if (v === "la57") {
    levels.p4d = {
      alloc: kv >= 614
        ? "__p4d_alloc_one: pagetable_alloc + pagetable_p4d_ctor (include/asm-generic/pgalloc.h)"
        : "p4d_alloc_one: get_zeroed_page(GFP_KERNEL_ACCOUNT) (arch/x86/include/asm/pgalloc.h)",
      counted: kv >= 614 ? "NR_PAGETABLE (6.14+); no mm counter" : "never (no mm counter, no ctor)",
      free: `___p4d_free_tlb (arch/x86/mm/pgtable.c): ${batch}`,
      via,
    };
  }
  if (v === "x86_64" || v === "la57") {
    levels.pud = {
      alloc: "__pud_alloc_one: pagetable_alloc(GFP_PGTABLE_USER & ~__GFP_HIGHMEM, 0)" +
        (kv >= 607 ? " + pagetable_pud_ctor" : "") + " (include/asm-generic/pgalloc.h)",
      counted: "VmPTE +4096 (mm_inc_nr_puds)" + (kv >= 607 ? "; NR_PAGETABLE (6.7+)" : ""),
      free: `___pud_free_tlb (arch/x86/mm/pgtable.c): ${batch}`,
      via,
    };
  }
  if (v !== "i386") {
    levels.pmd = {
      alloc: v === "pae"
        ? "preallocate_pmds in pgd_alloc, later pmd_alloc_one: pagetable_alloc + pagetable_pmd_ctor"
        : "pmd_alloc_one: pagetable_alloc(GFP_PGTABLE_USER, 0) + pagetable_pmd_ctor " +
          "(include/asm-generic/pgalloc.h)",
      counted: "VmPTE +4096 (mm_inc_nr_pmds); NR_PAGETABLE +1",
      free: `___pmd_free_tlb (arch/x86/mm/pgtable.c)${
        v === "pae" ? ", need_flush_all (PDPT change)" : ""
      }: ${batch}`,
      via,
    };
  }
  levels.pte = {
    alloc: "pte_alloc_one -> __pte_alloc_one(mm, GFP_PGTABLE_USER" +
      (v === "i386" || v === "pae" ? (kv < 615 ? " | __GFP_HIGHMEM with HIGHPTE" : "") : "") +
      ") + pagetable_pte_ctor (arch/x86/mm/pgtable.c)",
    counted: `VmPTE +${cfg.levels[4].pgtablesBytes} (mm_inc_nr_ptes); NR_PAGETABLE +1`,
    free: `___pte_free_tlb (arch/x86/mm/pgtable.c): ${batch}`,
    via,
  };
  const notes = [
    "tlb_flush -> flush_tlb_mm_range: a full flush for fullmm, need_flush_all or more than 33 " +
    "strides; IPIs to the other CPUs in mm_cpumask, lazy ones too when tables were freed " +
    "(arch/x86/mm/tlb.c)",
  ];
  if (v === "pae") {
    notes.push(
      "pgd_alloc preallocates " +
        (kv >= 616
          ? "all 4 PMDs (6.16)"
          : "KERNEL_PGD_BOUNDARY (3) PMDs, 4 without a shared kernel PMD") +
        ", plus one user PMD with PTI; pud_populate flushes the TLB (arch/x86/mm/pgtable.c)",
    );
  }
  if (cfg.ptReclaim) {
    notes.push("MADV_DONTNEED frees PTE tables it empties whole (PT_RECLAIM, 6.14+)");
  }
  return { levels, notes };
}

const x86Gather = {
  tableFree: true,
  rcuTableFree: true,
  noGather: false,
  mergeVmas: true,
  noRange: false,
  needsTableInvalidate: true,
};

/** The x86 configurations. */
export const x86Configs: ConfigSpec[] = [
  {
    name: "x86_64-4level",
    family: "x86",
    description:
      "X86_64, 4-level paging: a 5-level kernel on a CPU without LA57 (p4d folded at run time)",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 512, entryBytes: 8, tableBytes: 8192 },
      { entries: 1, entryBytes: 8, folded: "runtime" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    taskSize: (1n << 47n) - 4096n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // hugetlb 2M (PMD) and, with X86_FEATURE_GBPAGES, 1G (PUD) pages; x86 selects
    // ARCH_WANT_HUGE_PMD_SHARE (arch/x86/Kconfig, arch/x86/mm/hugetlbpage.c)
    hugetlb: ["pmd", "pud"],
    hugePmdShare: true,
    // paging-structure caches: tables stay cached until the flush (arch/x86/mm/tlb.c)
    walkerCaches: true,
    gather: x86Gather,
    ramBytes: 64 * 2 ** 30,
    options: x86Options("x86_64"),
    archData: { variant: "x86_64" },
    backend: x86Backend,
    adjust: x86Adjust,
    story: x86Story,
  },
  {
    name: "x86_64-5level",
    family: "x86",
    description: "X86_64 + X86_5LEVEL on an LA57 CPU (pgtable_l5_enabled)",
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 512, entryBytes: 8, tableBytes: 8192 },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    taskSize: (1n << 56n) - 4096n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // STACK_TOP = TASK_SIZE_LOW = DEFAULT_MAP_WINDOW: a 47-bit window unless a hint asks
    // for more (arch/x86/include/asm/page_64_types.h)
    mmap: { stackTop: (1n << 47n) - 4096n },
    // hugetlb 2M (PMD) and, with X86_FEATURE_GBPAGES, 1G (PUD) pages; x86 selects
    // ARCH_WANT_HUGE_PMD_SHARE (arch/x86/Kconfig, arch/x86/mm/hugetlbpage.c)
    hugetlb: ["pmd", "pud"],
    hugePmdShare: true,
    // paging-structure caches: tables stay cached until the flush (arch/x86/mm/tlb.c)
    walkerCaches: true,
    gather: x86Gather,
    ramBytes: 64 * 2 ** 30,
    options: x86Options("la57"),
    archData: { variant: "la57" },
    backend: x86Backend,
    adjust: x86Adjust,
    story: x86Story,
  },
  {
    name: "i386-2level",
    family: "x86",
    description: "X86_32 without PAE: 2 levels of 1024 4-byte entries, VMSPLIT_3G, HIGHMEM4G",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 1024, entryBytes: 4 },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1, entryBytes: 4, folded: "compile" },
      { entries: 1024, entryBytes: 4 },
    ],
    taskSize: 0xC000_0000n,
    thpAvailable: false,
    splitPmdPtlockArch: false,
    // hugetlb 4M pages: PSE leaves of the pgd, the PMD folded into it
    hugetlb: ["pmd"],
    hugePmdShare: true,
    walkerCaches: true,
    gather: x86Gather,
    lowmemBytes: 896 * 2 ** 20,
    ramBytes: 4 * 2 ** 30,
    options: x86Options("i386"),
    archData: { variant: "i386" },
    backend: x86Backend,
    adjust: x86Adjust,
    story: x86Story,
  },
  {
    name: "i386-pae",
    family: "x86",
    description: "X86_32 + X86_PAE: 3 levels (4-entry pgd, 512 x 8-byte pmd/pte), VMSPLIT_3G",
    bits: 32,
    pageShift: 12,
    levels: [
      { entries: 4, entryBytes: 8, tableBytes: 32 },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 1, entryBytes: 8, folded: "compile" },
      { entries: 512, entryBytes: 8 },
      { entries: 512, entryBytes: 8 },
    ],
    taskSize: 0xC000_0000n,
    thpAvailable: true,
    splitPmdPtlockArch: true,
    // hugetlb 2M pages in the PMD tables pgd_alloc preallocates (so never shared:
    // huge_pmd_share needs pud_none)
    hugetlb: ["pmd"],
    hugePmdShare: true,
    // paging-structure caches: tables stay cached until the flush (arch/x86/mm/tlb.c)
    walkerCaches: true,
    gather: x86Gather,
    lowmemBytes: 896 * 2 ** 20,
    ramBytes: 4 * 2 ** 30,
    options: x86Options("pae"),
    archData: { variant: "pae" },
    backend: x86Backend,
    adjust: x86Adjust,
    story: x86Story,
  },
];
