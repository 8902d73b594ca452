/**
 * The data that crosses the engine's boundary: a resolved configuration (what `archs/` hands in),
 * the operations a scenario compiles to (what `dsl/` hands in) and the results (what `report/`
 * reads). Nothing here imports the DSL or the report.
 *
 * @module
 */

/** The five page-table levels, top first, in the kernel's names. */
export const LEVELS = ["pgd", "p4d", "pud", "pmd", "pte"] as const;
/** One of the five page-table levels. */
export type LevelName = typeof LEVELS[number];
/** Index of a level in {@link LEVELS}: 0 = pgd ... 4 = pte. */
export type Level = 0 | 1 | 2 | 3 | 4;
/** Level indices, named. */
export const PGD = 0, P4D = 1, PUD = 2, PMD = 3, PTE = 4;

/** How a level is folded: not at all, at compile time (asm-generic/pgtable-nopXd.h), or at run time. */
export type Fold = "none" | "compile" | "runtime";

/** Kernel versions ptlab models. */
export const KERNEL_VERSIONS = ["6.1", "6.6", "6.12", "6.18"] as const;
/** A kernel version ptlab models. */
export type KernelVersion = typeof KERNEL_VERSIONS[number];

/** Geometry of one level of one configuration. */
export interface LevelGeometry {
  /** Level name. */
  name: LevelName;
  /** Address shift of one entry of this level (PGDIR_SHIFT, P4D_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT). */
  shift: number;
  /** PTRS_PER_X (1 when folded). */
  entries: number;
  /** sizeof(X_t). */
  entryBytes: number;
  /** Folding. */
  folded: Fold;
  /** Bytes mm_inc_nr_Xs adds to mm->pgtables_bytes per table (0: the level has no counter). */
  pgtablesBytes: number;
  /** Bytes of memory one table of this level occupies (page, slab object or fragment). */
  tableBytes: number;
}

/** The mmu_gather configuration of an architecture (asm-generic/tlb.h Kconfig selects). */
export interface GatherConfig {
  /** MMU_GATHER_TABLE_FREE: tlb_remove_table has a table batch of its own. */
  tableFree: boolean;
  /** MMU_GATHER_RCU_TABLE_FREE: the table batch is freed after an RCU grace period. */
  rcuTableFree: boolean;
  /** MMU_GATHER_NO_GATHER: no page batch; pages are freed at once. */
  noGather: boolean;
  /** MMU_GATHER_MERGE_VMAS: no flush at each VMA boundary. */
  mergeVmas: boolean;
  /** MMU_GATHER_NO_RANGE: the flush is always the whole mm. */
  noRange: boolean;
  /** tlb_needs_table_invalidate(): flush the TLB before the table batch goes to RCU. */
  needsTableInvalidate: boolean;
  /**
   * Without a batch page, tlb_remove_table frees the one table through call_rcu (6.14+ with
   * PT_RECLAIM) instead of tlb_remove_table_sync_one's IPIs.
   */
  tableOneRcu?: boolean;
  /** MMU_GATHER_BUNDLE: entries of the on-stack local batch. */
  bundle: number;
  /** MAX_GATHER_BATCH: entries of one extra batch page. */
  maxGatherBatch: number;
  /** MAX_GATHER_BATCH_COUNT: extra batch pages at most. */
  maxGatherBatchCount: number;
  /** MAX_TABLE_BATCH: entries of the table batch page. */
  maxTableBatch: number;
}

/** A configuration resolved for one run: data only, produced by `archs/`. */
export interface ArchConfig {
  /** Configuration name (arch-facts.json `name`). */
  name: string;
  /** Architecture family (`x86`, `asm-generic`, ...). */
  family: string;
  /** One line describing the kernel configuration. */
  description: string;
  /** Kernel version modelled. */
  kernel: KernelVersion;
  /** BITS_PER_LONG. */
  bits: 32 | 64;
  /** PAGE_SHIFT. */
  pageShift: number;
  /** The five levels, pgd first. */
  levels: readonly LevelGeometry[];
  /** TASK_SIZE: first address above user space. */
  taskSize: bigint;
  /** FIRST_USER_ADDRESS (floor of exit_mmap's free_pgtables). */
  firstUserAddress: bigint;
  /** USER_PGTABLES_CEILING (0 = the top). */
  userPgtablesCeiling: bigint;
  /** Transparent huge pages at PMD level may be used for anonymous memory (always or madvise). */
  thp: boolean;
  /**
   * /sys/kernel/mm/transparent_hugepage/enabled: `always`, `madvise` (only VMAs with
   * MADV_HUGEPAGE) or `never`.
   */
  thpMode: "always" | "madvise" | "never";
  /** CONFIG_TRANSPARENT_HUGEPAGE: MADV_COLLAPSE can make a THP whatever `thpMode` says. */
  thpAvailable: boolean;
  /**
   * Whom tlb_remove_table_sync_one interrupts (the `sync_ipi` what-if option): `all`, every
   * other online CPU (mm/mmu_gather.c, the kernel's rule); `mm_cpus`, the CPUs in the mm's
   * mm_cpumask where the arch keeps it (the 2023 "IPI only to MM CPUs" patch); `skip_if_flushed`,
   * none when the mm's last TLB flush already interrupted every CPU that could be walking it.
   */
  syncIpi: SyncIpiRule;
  /** USE_SPLIT_PTE_PTLOCKS. */
  splitPtePtlocks: boolean;
  /** USE_SPLIT_PMD_PTLOCKS. */
  splitPmdPtlocks: boolean;
  /** ALLOC_SPLIT_PTLOCKS: the split ptlock is allocated from the "page->ptl" cache. */
  allocSplitPtlocks: boolean;
  /** MADV_DONTNEED frees PTE tables it empties (CONFIG_PT_RECLAIM, 6.14+). */
  ptReclaim: boolean;
  /**
   * HAVE_MOVE_PMD / HAVE_MOVE_PUD: mremap's move_page_tables moves a whole PTE (PMD) table by
   * its PMD (PUD) entry when the move is aligned to it, instead of PTE by PTE.
   */
  moveTables: { pmd: boolean; pud: boolean };
  /**
   * hugetlb page sizes (ARCH_SUPPORTS_HUGETLBFS, arch_hugetlb_valid_size), the default
   * (HPAGE_SIZE) first; none without hugetlb.
   */
  hugetlb: readonly HugetlbSize[];
  /** ARCH_WANT_HUGE_PMD_SHARE: shared hugetlb mappings share PMD tables (huge_pmd_share). */
  hugePmdShare: boolean;
  /** STACK_TOP of a native process with ASLR off (mmap_base lies 128 MiB below it). */
  stackTop: bigint;
  /** The legacy bottom-up mmap layout from this TASK_UNMAPPED_BASE, when the arch has no other. */
  mmapLegacyBase?: bigint;
  /** CONFIG_STACK_GROWSUP: the stack's reserve below STACK_TOP, where mmap_base starts. */
  mmapStackReserve?: bigint;
  /** TASK_UNMAPPED_BASE, where a full top-down search falls back to searching upwards. */
  taskUnmappedBase: bigint;
  /** mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR, 4096 by default). */
  mmapMinAddr: bigint;
  /** The mmu_gather. */
  gather: GatherConfig;
  /** RAM of the simulated machine, bytes. */
  ramBytes: number;
  /** Bytes of low memory (the rest is HIGHMEM; equal to ramBytes without HIGHMEM). */
  lowmemBytes: number;
  /** Bytes of ZONE_DMA at the bottom of low memory (0 without one). */
  dmaBytes: number;
  /** The option values this configuration was resolved with. */
  options: Readonly<Record<string, string>>;
  /** CPUs the kernel can bring up (1 on a uniprocessor-only arch): `cpus N` is capped to it. */
  maxCpus: number;
  /**
   * The MMU caches upper-level entries while walking (x86 paging-structure caches, arm64 walk
   * caches, RISC-V PTW, radix PWC): table memory must not be reused before the TLB flush.
   */
  walkerCaches: boolean;
  /** CONFIG_HIGHPTE: user PTE tables may come from HIGHMEM (mapped with kmap_local). */
  highpte: boolean;
  /** Arch-private facts of the configuration (variant names and the like). */
  archData: Readonly<Record<string, string | number | boolean>>;
  /** What execve of a small static binary leaves on this configuration (`mm NAME exec`). */
  exec: ExecLayout;
}

/**
 * One mapping arch_setup_additional_pages installs: the vdso's text, its data pages, arm's signal
 * return page, nios2's kuser helpers.
 */
export interface SpecialMapping {
  /** Its name in /proc/PID/maps (`[vvar]`, `[vvar_vclock]`, `[vdso]`, `[sigpage]`, `[kuser]`). */
  name: string;
  /** Pages. */
  pages: number;
  /** `text`: kernel pages mapped read-only and executable; `data`: the vdso data pages. */
  kind: "text" | "data";
  /** VM_PFNMAP: raw pfns (vvar_fault's vmf_insert_pfn, remap_pfn_range), counted in no RSS. */
  pfnmap?: boolean;
  /** remap_pfn_range at exec: the entries (and so the tables holding them) exist at once. */
  prefault?: boolean;
  /** The binary's start-up reads its first page (glibc's setup_vdso reads the vdso's ELF header). */
  touched?: boolean;
}

/** The address space execve of a small static binary leaves, as data of the configuration. */
export interface ExecLayout {
  /** binutils' TEXT_START_ADDR for the arch's Linux target: the first PT_LOAD of an ET_EXEC. */
  linkAddress: bigint;
  /**
   * `-z separate-code`, binutils' default on x86 Linux only: headers, text and rodata are three
   * PT_LOADs (r--, r-x, r--) rather than one r-x.
   */
  separateCode: boolean;
  /** STACK_TOP_MAX: where the first stack page is made before setup_arg_pages moves it down. */
  stackTopMax: bigint;
  /** CONFIG_STACK_GROWSUP (parisc): the stack starts at `stackBase` and grows up. */
  stackGrowsUp?: { stackBase: bigint };
  /** What arch_setup_additional_pages maps, in address order (none: the arch has no vdso). */
  special: readonly SpecialMapping[];
  /**
   * Where they go: `mmap` (get_unmapped_area with no hint, or one it cannot use), `hint` (the
   * address asked for, taken when the range is free, else the search), `fixed` (installed there).
   */
  placement: { kind: "mmap" } | { kind: "hint" | "fixed"; addr: bigint };
  /** powerpc VDSO_ALIGNMENT: the length asked grows by align - PAGE_SIZE and the base is aligned up. */
  align?: bigint;
  /** mips' branch delay slot emulation page (CONFIG_MIPS_FP_SUPPORT): anonymous r-x at STACK_TOP. */
  delaySlotPage?: bigint;
}

/** Where an operator is in the scenario (for an error while evaluating it). */
export interface ExprPos {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
  /** The file, when it is not the scenario's own (an included file). */
  readonly file?: string;
}

/**
 * An expression evaluated at run time, against the machine's metrics. A comparison or `and` /
 * `or` is 1 when true and 0 when false. `/`, `%`, `<<` and `>>` carry their position: dividing by
 * zero or shifting by a count outside 0..128 stops the run with an error there.
 */
export type Expr =
  | { readonly k: "num"; readonly v: bigint }
  | { readonly k: "var"; readonly name: string }
  | {
    readonly k: "metric";
    readonly name: string;
    readonly mm?: string;
    /** A CPU's figure (`cpu[N].ipis`): the CPU. */
    readonly cpu?: number;
  }
  | { readonly k: "neg"; readonly e: Expr }
  | {
    readonly k: "bin";
    readonly op: "+" | "-" | "*" | "/" | "%" | "<<" | ">>";
    readonly l: Expr;
    readonly r: Expr;
    /** Position of the operator (`/`, `%`, `<<`, `>>`). */
    readonly at?: ExprPos;
  }
  | {
    readonly k: "cmp";
    readonly op: CmpOp;
    readonly l: Expr;
    readonly r: Expr;
    /** The comparison as written. */
    readonly text?: string;
  }
  | { readonly k: "logic"; readonly op: "and" | "or"; readonly l: Expr; readonly r: Expr }
  | { readonly k: "call"; readonly fn: "min" | "max"; readonly args: readonly Expr[] };

/** Comparison operators of `expect`. */
export type CmpOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** Applies a comparison (the compiler folds constants with it, the engine runs it). */
export function compareValues(l: bigint, op: CmpOp, r: bigint): boolean {
  switch (op) {
    case "==":
      return l === r;
    case "!=":
      return l !== r;
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case ">=":
      return l >= r;
  }
}

/** Where an operation came from. */
export interface OpSource {
  /** 1-based line in the scenario. */
  line: number;
  /** 1-based column. */
  col: number;
  /** The file, when it is not the scenario's own (a statement of an included file). */
  file?: string;
}

/** Text with formatted values: strings as they are, expressions as decimal numbers. */
export type TextTemplate = readonly (string | Expr)[];

/** One operation of a compiled scenario. Addresses and sizes are bytes. */
export type Op =
  & OpSource
  & (
    | { readonly op: "mm"; readonly name: string; readonly exec?: boolean }
    | {
      /** A page-cache file (tmpfs/shmem): its pages exist apart from any process. */
      readonly op: "file";
      readonly name: string;
      readonly size: bigint;
      readonly hugetlb?: bigint;
    }
    | {
      readonly op: "map";
      readonly mm: string;
      readonly addr: bigint;
      readonly size: bigint;
      /** MAP_SHARED (with no file: shared anonymous memory, a shmem object of its own). */
      readonly shared?: boolean;
      /**
       * The file mapped (a `file` op named it), at byte `offset` of it (`file` itself is the
       * included file an op comes from, {@link OpSource}).
       */
      readonly backing?: string;
      readonly offset?: bigint;
      /** PROT_NONE, PROT_READ or PROT_READ|PROT_WRITE (the default). */
      readonly prot?: Prot;
      /**
       * MAP_HUGETLB (or a hugetlbfs file): the hugetlb page size in bytes, one of the
       * configuration's {@link ArchConfig.hugetlb}.
       */
      readonly hugetlb?: bigint;
      /** No address was given: `addr` is where get_unmapped_area chose to put it. */
      readonly chosen?: boolean;
    }
    | {
      readonly op: "touch";
      readonly mm: string;
      readonly addr: bigint;
      readonly size: bigint;
      readonly step: bigint;
      /** Read faults (the default is write faults). */
      readonly read?: boolean;
    }
    | { readonly op: "unmap"; readonly mm: string; readonly addr: bigint; readonly size: bigint }
    | {
      readonly op: "madvise";
      readonly mm: string;
      readonly advice: Advice;
      readonly addr: bigint;
      readonly size: bigint;
    }
    | {
      /**
       * mremap(2) of [addr, addr + size) to [newAddr, newAddr + newSize): in place when newAddr is
       * addr (shrink, or grow into free space), else MREMAP_MAYMOVE | MREMAP_FIXED.
       */
      readonly op: "mremap";
      readonly mm: string;
      readonly addr: bigint;
      readonly size: bigint;
      readonly newAddr: bigint;
      readonly newSize: bigint;
    }
    | {
      /** mprotect(2): the range's VMAs get `prot` (split and merged as vma_modify does). */
      readonly op: "mprotect";
      readonly mm: string;
      readonly addr: bigint;
      readonly size: bigint;
      readonly prot: Prot;
    }
    | { readonly op: "fork"; readonly mm: string; readonly child: string }
    | { readonly op: "exit"; readonly mm: string }
    | { readonly op: "run"; readonly mm: string; readonly cpus: readonly number[] }
    /** The CPUs switch to the idle task (context_switch to a task without an mm). */
    | { readonly op: "idle"; readonly cpus: readonly number[] }
    | {
      readonly op: "inject";
      readonly site: string;
      readonly mode: "at" | "every" | "after";
      readonly n: number;
    }
    | { readonly op: "let"; readonly name: string; readonly expr: Expr }
    | {
      readonly op: "snapshot";
      readonly label: string;
      /** The label's pieces when it interpolates run-time values (`label` is then as written). */
      readonly parts?: TextTemplate;
    }
    | {
      readonly op: "expect";
      /** The (first) comparison. */
      readonly l: Expr;
      readonly cmp: CmpOp;
      readonly r: Expr;
      readonly text: string;
      /** The whole condition, when it joins comparisons with `and` / `or`. */
      readonly cond?: Expr;
    }
    | { readonly op: "print"; readonly parts: TextTemplate }
  );

/** The `sync_ipi` what-if rules of {@link ArchConfig.syncIpi}. */
export type SyncIpiRule = "all" | "mm_cpus" | "skip_if_flushed";

/** What each CPU received, by the /proc/interrupts line it counts in. */
export interface CpuFigures {
  /** IPIs each CPU received (index: CPU). */
  ipis: number[];
  /** tlb_remove_table_sync_one IPIs each CPU did not receive under the `sync_ipi` rule. */
  saved: number[];
  /** Per /proc/interrupts line (x86 `TLB`, `CAL`; arm64 `IPI1` ...): per CPU. */
  lines: Record<string, number[]>;
  /** The tlb_remove_table_sync_one IPIs each `sync_ipi` rule would send each CPU. */
  sync: Record<SyncIpiRule, number[]>;
}

/** A compiled scenario for one configuration. */
export interface Program {
  /** Number of online CPUs. */
  cpus: number;
  /** Operations in order. */
  ops: readonly Op[];
}

/** Page-table figures of one process. */
export interface MmFigures {
  /** mm_pgtables_bytes(mm): bytes; /proc/PID/status shows it >> 10 as VmPTE. */
  vmpte: number;
  /** Live tables per level. */
  tables: Record<LevelName, number>;
  /** Resident memory, bytes: get_mm_rss() << PAGE_SHIFT (VmRSS). */
  rss: number;
  /** MM_ANONPAGES, bytes (RssAnon). */
  "rss_anon": number;
  /** MM_FILEPAGES, bytes (RssFile). */
  "rss_file": number;
  /** MM_SHMEMPAGES, bytes (RssShmem: tmpfs files and shared anonymous memory). */
  "rss_shmem": number;
  /** mm->hugetlb_usage in bytes (HugetlbPages): hugetlb pages count in no RSS counter. */
  hugetlb: number;
  /** VMAs (map_count). */
  vmas: number;
}

/** One hugetlb page size of a configuration. */
export interface HugetlbSize {
  /** Bytes. */
  bytes: bigint;
  /** Level of the table whose entries map a page of this size (PMD or PUD, or the level they fold into). */
  level: number;
  /** Entries one page takes: 1, or the contiguous run of a CONT_PMD-style size. */
  cont: number;
}

/** System-wide figures. */
export interface SystemFigures {
  /** NR_PAGETABLE: pages counted by the page-table ctors. */
  "nr_page_table_pages": number;
  /** Frames holding page tables, counted or not (slab and pool pages that hold tables included). */
  "pagetable_frames": number;
  /** Split ptlocks alive (inline or allocated). */
  ptlocks: number;
  /** Calls of the architecture's tlb_flush. */
  "tlb_flushes": number;
  /** Inter-processor interrupts sent. */
  ipis: number;
  /** Frames allocated that nothing owns any more. */
  leaks: number;
  /** Kernel-rule violations so far. */
  violations: number;
  /** Page-table frames waiting for an RCU grace period. */
  "rcu_pending": number;
  /** Faults that ended in VM_FAULT_OOM. */
  ooms: number;
  /** Allocations failed by `inject fail`. */
  injected: number;
  /** Process creations, forks and mmaps that failed with -ENOMEM. */
  enomems: number;
}

/** One snapshot of every metric. */
export interface Snapshot {
  /** Label given in the scenario (or "final"). */
  label: string;
  /** Scenario line. */
  line: number;
  /** System-wide figures. */
  metrics: SystemFigures;
  /** Per-process figures, by process name. */
  mms: Record<string, MmFigures>;
  /** Per-CPU interrupt counts. */
  cpus: CpuFigures;
}

/** The outcome of one `expect`. */
export interface ExpectationResult {
  /** Scenario line. */
  line: number;
  /** The expectation as written. */
  text: string;
  /** Whether it held. */
  ok: boolean;
  /** Value of the left side. */
  actual: number | string;
  /** Value of the right side. */
  expected: number | string;
  /**
   * Comparison. For a condition joining comparisons with `and` / `or`, `actual`, `expected` and
   * `op` are those of the comparison that decided it (the first that failed, or else the first
   * that held); `text` is still the whole condition.
   */
  op: CmpOp;
}

/** The output of one `print`. */
export interface PrintOutput {
  /** Scenario line. */
  line: number;
  /** The file, when it is not the scenario's own. */
  file?: string;
  /** The text printed. */
  text: string;
}

/** An error that stopped a run (dividing by zero at run time ...). */
export interface RunError {
  /** Scenario line (1-based). */
  line: number;
  /** Column (1-based). */
  col: number;
  /** The file, when it is not the scenario's own. */
  file?: string;
  /** What went wrong. */
  message: string;
}

/** A kernel rule the run broke. */
export interface Violation {
  /** Rule id, such as `bad-page-state`. */
  rule: string;
  /** What the kernel would print or check, in its own words where it has them. */
  message: string;
  /** Scenario line of the operation during which it happened (0 = teardown). */
  line: number;
  /** Frame concerned, if any. */
  frame?: number;
  /** Process concerned, if any. */
  mm?: string;
}

/**
 * Something the scenario can see happen: an injected failure (`injected-failure`), a fault that
 * returned VM_FAULT_OOM (`VM_FAULT_OOM`), a process, fork or mmap that failed with -ENOMEM
 * (`ENOMEM`), an operation on a process whose creation failed (`skipped`).
 */
export interface RunEvent {
  /** Event kind. */
  kind: string;
  /** Scenario line of the operation. */
  line: number;
  /** What happened, and to what. */
  detail: string;
}

/** One traced kernel call or event. */
export interface TraceEvent {
  /** Scenario line of the operation. */
  line: number;
  /** Kernel function (in the modelled version's spelling) or event name. */
  fn: string;
  /** Free-form detail (level, address, frame, cpu ...). */
  detail?: string;
}

/** Everything one run produced. */
export interface RunResult {
  /** Configuration name. */
  arch: string;
  /** Kernel version. */
  kernel: KernelVersion;
  /** Option values the configuration ran with. */
  options: Record<string, string>;
  /** The scenario's `param` values this run used, by name, as written (only with a sweep). */
  params?: Record<string, string>;
  /** Snapshots in scenario order. */
  snapshots: Snapshot[];
  /** Expectations in scenario order. */
  expectations: ExpectationResult[];
  /** Kernel-rule violations. */
  violations: Violation[];
  /** Injected failures and what they caused, in order (at most MAX_EVENTS, then a count). */
  events: RunEvent[];
  /** Events past MAX_EVENTS, counted but not listed. */
  eventsDropped?: number;
  /** Figures after the last operation. */
  final: Snapshot;
  /** Kernel calls, when tracing was asked for. */
  trace?: TraceEvent[];
  /** The trace stopped at its limit (`MAX_TRACE` calls); later calls are not in it. */
  traceTruncated?: boolean;
  /** What `print` statements printed, in order (absent when none ran). */
  prints?: PrintOutput[];
}

/**
 * What a run produces besides the {@link RunResult} fields the published JSON schema
 * (`report/schema.ts`) describes.
 */
export interface RunExtras {
  /**
   * The error that stopped the run early (absent when it ran to the end); the figures are those
   * at the failing operation. `runScenario` turns it into a diagnostic (exit code 2).
   */
  error?: RunError;
}

/** One run's result with its {@link RunExtras}. */
export type ScenarioRun = RunResult & RunExtras;

/** Names of the system-wide metrics, as scenarios spell them. */
export const SYSTEM_METRICS: readonly (keyof SystemFigures)[] = [
  "nr_page_table_pages",
  "pagetable_frames",
  "ptlocks",
  "tlb_flushes",
  "ipis",
  "leaks",
  "violations",
  "rcu_pending",
  "ooms",
  "injected",
  "enomems",
];

/** Names of the per-process metrics, as scenarios spell them after `MM.`. */
export const MM_METRICS: readonly string[] = [
  "vmpte",
  "rss",
  "rss_anon",
  "rss_file",
  "rss_shmem",
  "hugetlb",
  "vmas",
  ...LEVELS.map((l) => `tables.${l}`),
];

/** System-wide metrics a scenario can read besides {@link SYSTEM_METRICS}. */
export const AGGREGATE_METRICS: readonly string[] = [
  "total_vmpte",
  "processes",
  // what each `sync_ipi` rule sends through tlb_remove_table_sync_one, whichever one runs
  "sync_ipis_all",
  "sync_ipis_mm_cpus",
  "sync_ipis_skip_if_flushed",
];

/** Protection of a mapping: PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE. */
export type Prot = "none" | "read" | "write";

/**
 * The madvise(2) advice modelled: MADV_DONTNEED, MADV_FREE, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
 * MADV_COLLAPSE, MADV_POPULATE_WRITE.
 */
export const ADVICE = [
  "dontneed",
  "free",
  "hugepage",
  "nohugepage",
  "collapse",
  "populate_write",
] as const;
/** One of {@link ADVICE}. */
export type Advice = typeof ADVICE[number];
