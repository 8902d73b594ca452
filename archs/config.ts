/**
 * Configurations as data: a {@link ConfigSpec} describes one kernel configuration of one
 * architecture (geometry, Kconfig selects, options); {@link resolveConfig} turns it and the
 * option values a scenario gives into the engine's {@link ArchConfig}.
 *
 * @module
 */

import type { Backend } from "../engine/backend.ts";
import { execLayout } from "./exec.ts";
import {
  type ArchConfig,
  type Fold,
  type GatherConfig,
  KERNEL_VERSIONS,
  type KernelVersion,
  type LevelGeometry,
  type LevelName,
  LEVELS,
  type SyncIpiRule,
} from "../engine/types.ts";

/** One level as a configuration describes it. */
export interface LevelSpec {
  /** PTRS_PER_X (1 for a folded level). */
  entries: number;
  /** sizeof(X_t). */
  entryBytes: number;
  /** Folding. */
  folded?: Fold;
  /** Bytes of memory one table occupies (default entries * entryBytes). */
  tableBytes?: number;
  /** Bytes mm_inc_nr_X adds (default: entries * entryBytes for pud/pmd/pte, 0 for pgd/p4d). */
  pgtablesBytes?: number;
}

/** How a level's tables are freed at munmap (arch-facts.json `freeVia`). */
export type FreeVia =
  | "page-batch"
  | "table-batch"
  | "direct"
  | "fragment"
  | "pgd_free";

/** How one level is allocated, counted and freed, in words (`ptlab explain`). */
export interface LevelStory {
  /** The allocator and its flags, naming the kernel file (`__pte_alloc_one: pagetable_alloc ...`). */
  alloc: string;
  /** What it adds to VmPTE and NR_PAGETABLE, and why. */
  counted: string;
  /** The free path at munmap/exit, naming the kernel file. */
  free: string;
  /** The free path in one word. */
  via: FreeVia;
}

/** The explanation of a configuration in one kernel version. */
export interface ConfigStory {
  /** Per present level. */
  levels: Partial<Record<LevelName, LevelStory>>;
  /** Other rules of this configuration (floor/ceiling overrides, preallocations, flush, IPIs). */
  notes: string[];
}

/** A configuration option a scenario may set in `arch NAME { KEY = VALUE }`. */
export interface OptionSpec {
  /** Option name. */
  name: string;
  /** Allowed values (a size option takes a byte count instead). */
  values?: readonly string[];
  /** `size`: a byte count such as 16G. */
  kind?: "enum" | "size";
  /** Default value. */
  default: string;
  /** One line of help. */
  doc: string;
}

/** A hugetlb page size: `cont` contiguous PMD (or PUD) entries (CONT_PMD_SIZE ...). */
export interface HugetlbSpec {
  /** The level whose entries map it. */
  at: "pmd" | "pud";
  /** Entries per page. */
  cont: number;
}

/** A configuration of an architecture, as data. */
export interface ConfigSpec {
  /** Name (arch-facts.json `name`). */
  name: string;
  /** Family (`x86`, `asm-generic` ...). */
  family: string;
  /** One line: the Kconfig choices this is. */
  description: string;
  /** BITS_PER_LONG. */
  bits: 32 | 64;
  /** PAGE_SHIFT. */
  pageShift: number;
  /** pgd, p4d, pud, pmd, pte. */
  levels: readonly [LevelSpec, LevelSpec, LevelSpec, LevelSpec, LevelSpec];
  /** TASK_SIZE. */
  taskSize: bigint;
  /** FIRST_USER_ADDRESS (default 0). */
  firstUserAddress?: bigint;
  /** USER_PGTABLES_CEILING (default 0 = top). */
  userPgtablesCeiling?: bigint;
  /** HAVE_ARCH_TRANSPARENT_HUGEPAGE (at PMD level). */
  thpAvailable: boolean;
  /** ARCH_ENABLE_SPLIT_PMD_PTLOCK. */
  splitPmdPtlockArch: boolean;
  /**
   * hugetlb page sizes (ARCH_SUPPORTS_HUGETLBFS): leaves of the PMD or the PUD entries, the
   * default (HPAGE_SHIFT) first; none when absent.
   */
  hugetlb?: readonly (HugetlbSpec | "pmd" | "pud")[];
  /** ARCH_WANT_HUGE_PMD_SHARE. */
  hugePmdShare?: boolean;
  /**
   * The mmap layout with ASLR off: STACK_TOP (default TASK_SIZE, or a function of the kernel
   * version), the legacy bottom-up base for arches without a top-down layout, and
   * TASK_UNMAPPED_BASE (default PAGE_ALIGN(TASK_SIZE / 3)).
   */
  mmap?: {
    stackTop?: bigint | ((kv: number) => bigint);
    legacyBase?: bigint;
    taskUnmappedBase?: bigint;
    /**
     * CONFIG_STACK_GROWSUP: the stack's reserve at the top of the task (mmap_upper_limit), so
     * mmap_base is STACK_TOP less it rather than the 128 MiB gap.
     */
    stackReserve?: bigint;
  };
  /** SPLIT_PTLOCK_CPUS is 999999 for this arch (no split ptlocks ever). */
  noSplitPtlocks?: boolean;
  /** Default of the split_ptlocks option ("off" where the default NR_CPUS is below 4). */
  splitPtlocksDefault?: "on" | "off";
  /** CPUs the kernel can bring up (1 for a uniprocessor-only arch). */
  maxCpus?: number;
  /** The MMU caches upper-level table entries (see ArchConfig.walkerCaches). */
  walkerCaches?: boolean;
  /** The mmu_gather Kconfig selects. */
  gather: Omit<GatherConfig, "bundle" | "maxGatherBatch" | "maxGatherBatchCount" | "maxTableBatch">;
  /** Bytes of low memory on a HIGHMEM configuration. */
  lowmemBytes?: number;
  /** Bytes of ZONE_DMA at the bottom of memory (`Infinity`: all of it, as on m68k). */
  dmaBytes?: number;
  /** Default RAM. */
  ramBytes: number;
  /** Options beyond the common ones (kernel, thp, split_ptlocks, alloc_split_ptlocks, ram). */
  options?: readonly OptionSpec[];
  /** The arch backend. */
  backend: Backend;
  /** Arch-private facts handed to the backend (ArchConfig.archData). */
  archData?: Readonly<Record<string, string | number | boolean>>;
  /** Version- and option-dependent adjustments of the resolved configuration. */
  adjust?(cfg: ArchConfig, kv: number): void;
  /** How each level is allocated, counted and freed in kernel `kv` (`ptlab explain`). */
  story?(cfg: ArchConfig, kv: number): ConfigStory;
}

/** Options every configuration has. */
export function commonOptions(spec: ConfigSpec): OptionSpec[] {
  const o: OptionSpec[] = [
    {
      name: "kernel",
      values: KERNEL_VERSIONS,
      default: "6.6",
      doc: "kernel version modelled",
    },
  ];
  if (spec.thpAvailable) {
    o.push({
      name: "thp",
      values: ["always", "madvise", "never", "on", "off"],
      default: "off",
      doc: "transparent huge pages for anonymous memory (enabled=); on is always, off is never",
    });
  }
  if (!spec.noSplitPtlocks) {
    o.push({
      name: "split_ptlocks",
      values: ["on", "off"],
      default: spec.splitPtlocksDefault ?? "on",
      doc: "USE_SPLIT_PTE_PTLOCKS: NR_CPUS >= SPLIT_PTLOCK_CPUS (4)",
    }, {
      name: "alloc_split_ptlocks",
      values: ["on", "off"],
      default: "off",
      doc: "ALLOC_SPLIT_PTLOCKS: spinlock_t larger than a long (lockdep, DEBUG_SPINLOCK, RT)",
    });
  }
  // on every configuration: whether tlb_remove_table_sync_one exists (MMU_GATHER_RCU_TABLE_FREE)
  // depends on the kernel version on some (riscv from 6.8)
  o.push({
    name: "sync_ipi",
    values: ["all", "mm_cpus", "skip_if_flushed"],
    default: "all",
    doc: "whom tlb_remove_table_sync_one interrupts (MMU_GATHER_RCU_TABLE_FREE): every other " +
      "CPU (the kernel), the mm's mm_cpumask (the 2023 patch), or none after a flush that " +
      "reached every walker (2026)",
  });
  o.push({
    name: "ram",
    kind: "size",
    default: String(spec.ramBytes),
    doc: "memory of the simulated machine",
  });
  return [...o, ...(spec.options ?? [])];
}

/** A problem with the options a scenario gave. */
export interface OptionProblem {
  /** The option name concerned. */
  option: string;
  /** What is wrong. */
  message: string;
  /** `value` when the value (not the name) is wrong. */
  part: "name" | "value";
  /** Names or values that were meant, for "did you mean". */
  candidates: readonly string[];
}

/** Parses a size option value such as `16G` or `4096`; undefined if it is not one. */
export function parseSize(v: string): number | undefined {
  const m = /^(\d+)([KMGT]?)$/.exec(v.replaceAll("_", ""));
  if (!m) return undefined;
  const mult = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2]]!;
  return Number(m[1]) * mult;
}

/** Checks option names and values against a configuration; returns the problems found. */
export function checkOptions(
  spec: ConfigSpec,
  options: Readonly<Record<string, string>>,
): OptionProblem[] {
  const specs = commonOptions(spec);
  const out: OptionProblem[] = [];
  for (const [name, value] of Object.entries(options)) {
    const o = specs.find((s) => s.name === name);
    if (!o) {
      const known = [
        "kernel",
        "thp",
        "split_ptlocks",
        "alloc_split_ptlocks",
        "ram",
        "pti",
        "sync_ipi",
      ];
      out.push({
        option: name,
        part: "name",
        message: known.includes(name)
          ? `Option "${name}" does not apply to ${spec.name}`
          : `Unknown option "${name}" for ${spec.name}`,
        candidates: specs.map((s) => s.name),
      });
    } else if (o.kind === "size") {
      const n = parseSize(value);
      if (n === undefined || n < 2 ** 24) {
        out.push({
          option: name,
          part: "value",
          message: `Option "${name}" takes a size of at least 16M, not "${value}"`,
          candidates: [],
        });
      }
    } else if (o.values && !o.values.includes(value)) {
      out.push({
        option: name,
        part: "value",
        message: `Option "${name}" is one of ${o.values.join(", ")}, not "${value}"`,
        candidates: o.values,
      });
    }
  }
  return out;
}

/** log2 of a power of two. */
/** The THP mode an option value names: `on` is `always`, `off` is `never` (mm/huge_memory.c). */
function thpMode(v: string | undefined): "always" | "madvise" | "never" {
  return v === "on" || v === "always" ? "always" : v === "madvise" ? "madvise" : "never";
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

/** Resolves a configuration with option values (already checked) into the engine's form. */
export function resolveConfig(
  spec: ConfigSpec,
  given: Readonly<Record<string, string>> = {},
): ArchConfig {
  const opts: Record<string, string> = {};
  for (const o of commonOptions(spec)) opts[o.name] = given[o.name] ?? o.default;
  const kernel = opts.kernel as KernelVersion;
  const [maj, min] = kernel.split(".").map(Number);
  const kv = maj * 100 + min;
  // Shifts from the bottom: an entry of level L spans a whole table of level L+1.
  const shifts = [0, 0, 0, 0, spec.pageShift];
  for (let l = 3; l >= 0; l--) shifts[l] = shifts[l + 1] + log2(spec.levels[l + 1].entries);
  const levels: LevelGeometry[] = spec.levels.map((ls, i) => {
    const folded = ls.folded ?? "none";
    const counted = i >= 2 && folded === "none";
    return {
      name: LEVELS[i],
      shift: shifts[i],
      entries: ls.entries,
      entryBytes: ls.entryBytes,
      folded,
      pgtablesBytes: ls.pgtablesBytes ?? (counted ? ls.entries * ls.entryBytes : 0),
      tableBytes: folded === "none" ? ls.tableBytes ?? ls.entries * ls.entryBytes : 0,
    };
  });
  const page = 2 ** spec.pageShift;
  const ptr = spec.bits / 8;
  const ram = parseSize(opts.ram) ?? spec.ramBytes;
  const split = !spec.noSplitPtlocks && opts.split_ptlocks === "on";
  // MAX_GATHER_BATCH (asm-generic/tlb.h): a page minus struct mmu_gather_batch {next, nr, max}
  const maxGatherBatch = (page - ptr - 8) / ptr;
  const cfg: Omit<ArchConfig, "exec"> & { exec?: ArchConfig["exec"] } = {
    name: spec.name,
    family: spec.family,
    description: spec.description,
    kernel,
    bits: spec.bits,
    pageShift: spec.pageShift,
    levels,
    taskSize: spec.taskSize,
    firstUserAddress: spec.firstUserAddress ?? 0n,
    userPgtablesCeiling: spec.userPgtablesCeiling ?? 0n,
    thp: spec.thpAvailable && thpMode(opts.thp) !== "never",
    thpMode: spec.thpAvailable ? thpMode(opts.thp) : "never",
    syncIpi: (opts.sync_ipi ?? "all") as SyncIpiRule,
    thpAvailable: spec.thpAvailable,
    splitPtePtlocks: split,
    splitPmdPtlocks: split && spec.splitPmdPtlockArch,
    allocSplitPtlocks: split && opts.alloc_split_ptlocks === "on",
    ptReclaim: false,
    moveTables: { pmd: false, pud: false },
    // a PMD (PUD) page is a leaf of the lowest present table at or above that level
    hugetlb: (spec.hugetlb ?? []).map((spec1) => {
      const h = typeof spec1 === "string" ? { at: spec1, cont: 1 } : spec1;
      const t = h.at === "pmd" ? 3 : 2;
      let level = t;
      while (
        level > 0 && spec.levels[level].folded !== undefined && spec.levels[level].folded !== "none"
      ) level--;
      return { bytes: BigInt(h.cont) << BigInt(shifts[level]), level, cont: h.cont };
    }),
    hugePmdShare: spec.hugePmdShare ?? false,
    stackTop: typeof spec.mmap?.stackTop === "function"
      ? spec.mmap.stackTop(kv)
      : spec.mmap?.stackTop ?? spec.taskSize,
    ...(spec.mmap?.legacyBase !== undefined ? { mmapLegacyBase: spec.mmap.legacyBase } : {}),
    ...(spec.mmap?.stackReserve !== undefined ? { mmapStackReserve: spec.mmap.stackReserve } : {}),
    taskUnmappedBase: spec.mmap?.taskUnmappedBase ??
      (spec.taskSize / 3n + BigInt(page) - 1n) / BigInt(page) * BigInt(page),
    mmapMinAddr: 4096n,
    gather: {
      ...spec.gather,
      bundle: 8,
      maxGatherBatch: Math.floor(maxGatherBatch),
      maxGatherBatchCount: Math.floor(10000 / Math.floor(maxGatherBatch)),
      maxTableBatch: 0,
    },
    ramBytes: ram,
    lowmemBytes: Math.min(ram, spec.lowmemBytes ?? ram),
    dmaBytes: Math.min(ram, spec.dmaBytes ?? 0),
    options: opts,
    archData: spec.archData ?? {},
    maxCpus: spec.maxCpus ?? 4096,
    walkerCaches: spec.walkerCaches ?? false,
    highpte: opts.highpte === "on",
  };
  spec.adjust?.(cfg as ArchConfig, kv);
  // what execve leaves (archs/exec.ts); s390, mips, loongarch, sparc, um and alpha have a
  // STACK_TOP of their own, which mmap_base follows
  const exec = execLayout(cfg, kv);
  cfg.exec = exec.exec;
  if (exec.stackTop !== undefined) cfg.stackTop = exec.stackTop;
  // MAX_TABLE_BATCH: a page minus struct mmu_table_batch {rcu_head (with RCU), nr + padding}
  cfg.gather.maxTableBatch = Math.floor(
    (page - (cfg.gather.rcuTableFree ? 2 * ptr : 0) - ptr) / ptr,
  );
  return cfg as ArchConfig;
}
