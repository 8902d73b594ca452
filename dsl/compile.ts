/**
 * {@link Scenario} to {@link Program} for one configuration, with the semantic checks: the
 * configuration and its options, names (processes, variables, metrics), constants where the
 * compiler needs them, page alignment, the user address space, the files and the static VMA
 * layout of each process (overlapping `map`, a mapping past the end of its file, `touch` outside
 * any mapping or against its protection, `mprotect` of a hole, `madvise populate_write` of a range
 * that is not writable, `mremap` of a range not inside one mapping, onto a mapped range or
 * growing in place into one; `mprotect` changes the protection the later checks see, `mremap`
 * the ranges). `repeat` is
 * unrolled here, and indexed names (`p[i]`) are spelt out (`p[3]`).
 *
 * @module
 */

import type { OptionProblem } from "../archs/config.ts";
import {
  ADVICE,
  AGGREGATE_METRICS,
  compareValues,
  MM_METRICS,
  SYSTEM_METRICS,
} from "../engine/types.ts";
import type {
  Advice,
  ArchConfig,
  CmpOp,
  Expr,
  ExprPos,
  Op,
  Program,
  Prot,
} from "../engine/types.ts";
import {
  type ExprNode,
  FUNCTIONS,
  type IndexedName,
  type MapClause,
  type NameRef,
  PROTS,
  type Scenario,
  type Span,
  type Statement,
  type TextPart,
} from "./ast.ts";
import {
  type Diagnostic,
  diagnosticAt,
  didYouMean,
  lineText,
  locate,
  MAX_DIAGNOSTICS,
  omittedNote,
} from "./diagnostics.ts";
import { type Area, Layout } from "./layout.ts";
import { execImage } from "../engine/exec.ts";
import { getUnmappedArea } from "../engine/mmap.ts";
import { MAX_SHIFT } from "./limits.ts";
import * as T from "./tokens.ts";

/** The configurations a scenario can be compiled for (implemented by the caller). */
export interface ConfigCatalog {
  /** Every configuration name. */
  names(): readonly string[];
  /** Problems with option names and values for a configuration (none: all fine). */
  checkOptions(name: string, options: Readonly<Record<string, string>>): OptionProblem[];
  /** The configuration resolved with (checked) options. */
  resolve(name: string, options: Readonly<Record<string, string>>): ArchConfig;
  /** Allocation sites `inject fail` may name on this configuration (kernel functions). */
  injectSites(name: string): readonly string[];
  /**
   * The arch families whose own allocators include `site` (s390 for crst_table_alloc), so a
   * scenario naming it is a misfit on the other configurations rather than misspelt.
   */
  injectSiteOwners?(site: string): readonly string[];
}

/** Options of {@link compileScenario}. */
export interface CompileOptions {
  /** Option values given outside the file (command line); they win over the file's. */
  optionOverrides?: Record<string, string>;
  /**
   * The configuration was chosen outside the file (`--arch`): what only it rejects (an address
   * or size not aligned to its page size) is reported as `fit`, like an address space too small.
   */
  foreign?: boolean;
  /**
   * Values for the scenario's `param`s (`--set NAME=VALUE`): numbers as the language writes them
   * (`4K`, `0x1000`, `-1`). A name the scenario does not declare is an error.
   */
  params?: Readonly<Record<string, string>>;
}

/** What {@link compileScenario} returns. */
export interface CompileResult {
  /** The program, when there is no diagnostic. */
  program?: Program;
  /** The resolved configuration, when the configuration and its options are valid. */
  config?: ArchConfig;
  /** Every problem found. */
  diagnostics: Diagnostic[];
  /**
   * Options of the file's `arch` statement (or overrides) that the target configuration does
   * not have and that were therefore ignored (the file named another configuration).
   */
  droppedOptions: string[];
  /** The value of every `param`, by name, as written (the override's text when overridden). */
  params: Record<string, string>;
}

/** Most iterations all `repeat`s may unroll to, in total. */
export const MAX_ITERATIONS = 1_000_000;
/**
 * Most operations a compiled program may have (500,000 operations compile, check and run in
 * about half a second on the README's 2-core machine, under 2 s when it is busy; 5,000,000 took
 * 5 s and 600 MB).
 */
export const MAX_OPS = 500_000;
/**
 * Most results a program may record: snapshots, prints and expectations, each a row of the
 * output (a million snapshots took 10 s and 1.2 GB, for a table nobody reads).
 */
export const MAX_RESULTS = 100_000;
/**
 * Most expression nodes compilation may evaluate, over every unrolled iteration (a sum of 500
 * terms in a loop of a million ran for minutes).
 */
export const MAX_EVAL_STEPS = 20_000_000;
/** Most CPUs. */
export const MAX_CPUS = 4096;

/** What `cpu[N].METRIC` can read: IPIs received, sync IPIs saved, /proc/interrupts lines. */
export const CPU_METRICS = [
  "ipis",
  "saved",
  "tlb",
  "cal",
  "ipi1",
  "ipi",
  "sync_all",
  "sync_mm_cpus",
  "sync_skip_if_flushed",
] as const;
/** CPUs when the scenario has no `cpus` statement. */
export const DEFAULT_CPUS = 1;
/** Label of diagnostics that are not in the file (command-line options). */
export const COMMAND_LINE = "command line";
/** Label of diagnostics about `param` values given outside the file (`--set`). */
export const SET_OPTION = "--set";

/**
 * Names of configuration facts an expression may use; each is a constant of the configuration
 * being compiled. `X_SHIFT` / `X_SIZE` of a folded level follow the kernel's folded definitions
 * (include/asm-generic/pgtable-nopud.h: `PUD_SHIFT` is `P4D_SHIFT`, so `PUD_SIZE` is the size
 * of the level above, `PGDIR_SIZE` when everything above is folded too) and `PTRS_PER_X` is 1;
 * `levels` counts the levels that are not folded.
 */
export const CONFIG_FACTS: readonly string[] = [
  "PAGE_SHIFT",
  "PAGE_SIZE",
  "PMD_SHIFT",
  "PMD_SIZE",
  "PUD_SHIFT",
  "PUD_SIZE",
  "P4D_SHIFT",
  "P4D_SIZE",
  "PGDIR_SHIFT",
  "PGDIR_SIZE",
  "PTRS_PER_PTE",
  "PTRS_PER_PMD",
  "PTRS_PER_PUD",
  "PTRS_PER_P4D",
  "PTRS_PER_PGD",
  "TASK_SIZE",
  "levels",
];

/** The configuration facts of a resolved configuration. */
export function configFacts(cfg: ArchConfig): Map<string, bigint> {
  const m = new Map<string, bigint>();
  const shiftNames = ["PGDIR", "P4D", "PUD", "PMD"];
  for (let i = 0; i < 4; i++) {
    const l = cfg.levels[i];
    m.set(`${shiftNames[i]}_SHIFT`, BigInt(l.shift));
    m.set(`${shiftNames[i]}_SIZE`, 1n << BigInt(l.shift));
  }
  m.set("PAGE_SHIFT", BigInt(cfg.pageShift));
  m.set("PAGE_SIZE", 1n << BigInt(cfg.pageShift));
  for (const l of cfg.levels) m.set(`PTRS_PER_${l.name.toUpperCase()}`, BigInt(l.entries));
  m.set("TASK_SIZE", cfg.taskSize);
  m.set("levels", BigInt(cfg.levels.filter((l) => l.folded === "none").length));
  return m;
}

/**
 * Other spellings of the metrics (kernel names, the comparison table's short names), for "did
 * you mean": system-wide ones, then per-process ones.
 */
export const METRIC_SPELLINGS: Readonly<Record<string, string>> = {
  "nr_pagetable": "nr_page_table_pages",
  "pagetables": "nr_page_table_pages",
  "pages": "nr_page_table_pages",
  "flushes": "tlb_flushes",
  "tlb_flush": "tlb_flushes",
  "frames": "pagetable_frames",
  "ptlock": "ptlocks",
  "ipi": "ipis",
  "leak": "leaks",
  "oom": "ooms",
  "enomem": "enomems",
  "nr_processes": "processes",
  "nr_mms": "processes",
  "vmpte_total": "total_vmpte",
  "total_pgtables_bytes": "total_vmpte",
};
/** Other spellings of the per-process metrics. */
export const MM_METRIC_SPELLINGS: Readonly<Record<string, string>> = {
  "pgtables_bytes": "vmpte",
  "nr_ptes": "tables.pte",
  "nr_pmds": "tables.pmd",
  "nr_puds": "tables.pud",
  "vmrss": "rss",
  "rssanon": "rss_anon",
  "rssfile": "rss_file",
  "rssshmem": "rss_shmem",
  "mm_anonpages": "rss_anon",
  "mm_filepages": "rss_file",
  "mm_shmempages": "rss_shmem",
  "hugetlbpages": "hugetlb",
  "hugetlb_usage": "hugetlb",
  "map_count": "vmas",
  "nr_vmas": "vmas",
  "pgd": "tables.pgd",
  "p4d": "tables.p4d",
  "pud": "tables.pud",
  "pmd": "tables.pmd",
  "pte": "tables.pte",
};

/** ` (did you mean "x"?)` by another spelling of a metric, or by edit distance. */
function metricHint(
  word: string,
  spellings: Readonly<Record<string, string>>,
  candidates: readonly string[],
): string {
  const alias = spellings[word.toLowerCase()];
  return alias !== undefined ? ` (did you mean "${alias}"?)` : didYouMean(word, candidates);
}

function isCond(e: ExprNode): boolean {
  return e.kind === "cmp" || e.kind === "logic";
}

/** The system-wide metrics: the machine's figures and the sums over processes. */
const SYSTEM_WIDE: readonly string[] = [...SYSTEM_METRICS, ...AGGREGATE_METRICS];
const systemMetrics: ReadonlySet<string> = new Set(SYSTEM_WIDE);
const mmMetrics: ReadonlySet<string> = new Set(MM_METRICS);

/** A value during compilation: a constant, or an expression the engine evaluates. */
type Val =
  | { readonly c: bigint }
  | { readonly rt: Expr; readonly dep: Dep };

/** Why a value is not a constant: the first metric (or run-time variable) it reads. */
interface Dep {
  readonly text: string;
  readonly span: Span;
  /** Line of the run-time `let` when the dependency is a variable. */
  readonly letLine?: number;
}

/** A variable: constant, set at run time (on that line), or broken (its `let` had an error). */
type Binding = { readonly c: bigint } | { readonly rtLine: number } | { readonly broken: true };

class Abort {}

function toExpr(v: Val): Expr {
  return "c" in v ? { k: "num", v: v.c } : v.rt;
}

/** Hex with a sign: `0x7f0000000000`, `-0x1000`. */
export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** A byte count with a binary unit when it is a whole number of them (`4K`, `2M`). */
export function sizeText(v: bigint): string {
  for (const [u, s] of [["T", 40n], ["G", 30n], ["M", 20n], ["K", 10n]] as const) {
    if (v !== 0n && v % (1n << s) === 0n) return `${v >> s}${u}`;
  }
  return v.toString();
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0].toLowerCase() + s.slice(1) : s;
}

/**
 * ` (did you mean "x"?)` for a process or file name: for an indexed one (`p[7]`), the name with
 * the same base and the nearest index (`p[3]`), else the closest by edit distance.
 */
function nameHint(name: string, names: Iterable<string>): string {
  const m = /^(.*)\[(\d+)\]$/.exec(name);
  if (m) {
    const want = BigInt(m[2]);
    let best: string | undefined, bestD = 0n;
    for (const n of names) {
      if (!n.startsWith(m[1] + "[") || !n.endsWith("]")) continue;
      const i = n.slice(m[1].length + 1, -1);
      if (!/^\d+$/.test(i)) continue;
      const d = BigInt(i) > want ? BigInt(i) - want : want - BigInt(i);
      if (best === undefined || d < bestD) [best, bestD] = [n, d];
    }
    if (best !== undefined) return ` (did you mean "${best}"?)`;
  }
  return didYouMean(name, names);
}

/**
 * ` (did you mean "x"?)` for a word of a closed list, where the kernel's own spelling
 * (`MADV_COLLAPSE`, `PROT_READ`: `prefix` and any case) counts as the word it names, and so does
 * the start of one word only (`populate`).
 */
function wordHint(word: string, words: readonly string[], prefix: string): string {
  const bare = word.toLowerCase().replace(new RegExp(`^${prefix}`), "");
  if (bare !== word && words.includes(bare)) return ` (did you mean "${bare}"?)`;
  const hint = didYouMean(word, words);
  if (hint || bare.length < 3) return hint;
  const starts = words.filter((w) => w.startsWith(bare));
  return starts.length === 1 ? ` (did you mean "${starts[0]}"?)` : "";
}

/** `prot P` of a range, and the `mprotect` that gave it when one did. */
function protText(a: Area): string {
  return a.protLine === undefined
    ? `prot ${a.prot}`
    : `prot ${a.prot} from the mprotect on line ${a.protLine}`;
}

/** The words of `map`'s clauses that are names elsewhere (so one may be read as an address). */
const CLAUSE_WORDS: readonly string[] = ["shared", "offset", "hugetlb", "prot"];

/**
 * A range of a process's layout, as messages name it: `the mapping A..B of "p" made on line N`,
 * or for one exec made, `the stack A..B of "p" (exec on line N)`.
 */
function areaText(a: Area, mm: string): string {
  return a.exec !== undefined
    ? `the ${a.exec} ${hex(a.start)}..${hex(a.end)} of "${mm}" (exec on line ${a.line})`
    : `the mapping ${hex(a.start)}..${hex(a.end)} of "${mm}" made on line ${a.line}`;
}

/** `a`, `a and b`, `a, b and c`. */
function listText(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function bestCandidate(word: string, candidates: readonly string[]): string {
  return candidates.length > 0 ? didYouMean(word, candidates) : "";
}

/** One compilation (state of the walk over the unrolled program). */
class Compiler {
  readonly diags: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  #misfit = false;
  readonly ops: Op[] = [];
  readonly env = new Map<string, Binding>();
  readonly live = new Map<string, { layout: Layout; line: number }>();
  /**
   * The files (`file` statements) made so far, by name: size, line (in `file`), the index of
   * their op, and what their first map made them: a hugetlbfs file of that page size, a tmpfs
   * file (null), or not yet known (undefined), with the line of that map.
   */
  readonly files = new Map<
    string,
    {
      size: bigint;
      line: number;
      file: string;
      op?: number;
      hugetlb?: bigint | null;
      kindLine?: number;
    }
  >();
  /** Where each name `let`, `param` or `as` bound was bound (for "already bound"). */
  readonly origin = new Map<string, { kind: string; line: number; file: string; st: Statement }>();
  readonly exited = new Map<string, number>();
  readonly #pos = new Map<Statement, { line: number; col: number }>();
  readonly skip = new Set<Statement>();
  cpus = DEFAULT_CPUS;
  iterations = 0;
  /** Snapshot, print and expect operations emitted (bounded by MAX_RESULTS). */
  results = 0;
  /** Expression nodes evaluated (bounded by MAX_EVAL_STEPS). */
  steps = 0;
  readonly repeats: Statement[] = [];
  pageSize?: bigint;
  taskSize?: bigint;
  configName = "";
  /** Allocation sites of the configuration, for `inject fail`. */
  injectSites: readonly string[] = [];
  /** The arch families that own an allocation site this configuration lacks. */
  injectSiteOwners: (site: string) => readonly string[] = () => [];
  /** The configuration, once resolved (hugetlb sizes, where mmap puts a mapping, exec). */
  cfg?: ArchConfig;
  /** CONFIG_TRANSPARENT_HUGEPAGE of the configuration (what MADV_COLLAPSE needs). */
  thpAvailable = true;
  /** Kind of the page-size alignment diagnostics ("fit" for a configuration chosen outside). */
  alignKind: Diagnostic["kind"] = "semantic";

  /** Configuration facts (PAGE_SIZE ...), once the configuration is resolved. */
  facts = new Map<string, bigint>();
  /** Values of `param`s given outside the file. */
  paramOverrides: Readonly<Record<string, string>> = {};
  /** `param` values as written, by name. */
  readonly params: Record<string, string> = {};
  /** File and source of the statements being compiled (an included file's inside `include`). */
  file: string;
  source: string;

  constructor(readonly s: Scenario) {
    this.file = s.file;
    this.source = s.source;
  }

  /** Runs `f` with the statements' file being `file` (an included one). */
  inFile<R>(file: string, source: string, f: () => R): R {
    const saved = [this.file, this.source];
    this.file = file;
    this.source = source;
    try {
      return f();
    } finally {
      [this.file, this.source] = saved;
    }
  }

  /** The position of an operator in the file being compiled. */
  at(span: Span): ExprPos {
    const { line, col } = locate(this.source, span.offset);
    return this.file === this.s.file ? { line, col } : { line, col, file: this.file };
  }

  line(offset: number): number {
    return locate(this.source, offset).line;
  }

  report(span: Span, message: string, kind: Diagnostic["kind"] = "semantic"): void {
    // after a statement this configuration cannot run (a `fit` problem), what follows from it
    // (an overlap with a mapping that was never removed ...) is part of the same misfit
    if (kind === "fit") this.#misfit = true;
    else if (this.#misfit) kind = "fit";
    const key = `${this.file}:${span.offset}:${kind}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const d = diagnosticAt(this.file, this.source, span, message, kind);
    if (this.file !== this.s.file) d.lineText = lineText(this.source, d.line);
    this.diags.push(d);
    if (this.diags.length >= MAX_DIAGNOSTICS) throw new Abort();
  }

  pos(st: Statement): { line: number; col: number } {
    let p = this.#pos.get(st);
    if (!p) {
      p = locate(this.source, st.keyword.offset);
      this.#pos.set(st, p);
    }
    return p;
  }

  emit(st: Statement, op: Op): void {
    this.ops.push(this.file === this.s.file ? op : { ...op, file: this.file });
    if (this.ops.length > MAX_OPS) {
      const at = this.repeats[0] ?? st;
      this.report(at.keyword, `repeat unrolls to more than ${MAX_OPS} operations`);
      throw new Abort();
    }
    if (
      (op.op === "snapshot" || op.op === "print" || op.op === "expect") &&
      ++this.results > MAX_RESULTS
    ) {
      this.report(
        st.keyword,
        `more than ${MAX_RESULTS} snapshots, prints and expectations in total` +
          (this.repeats.length ? " (this one is repeated)" : ""),
      );
      throw new Abort();
    }
  }

  // ---- expressions ----

  ev(e: ExprNode): Val | undefined {
    if (++this.steps > MAX_EVAL_STEPS) {
      this.report(
        (this.repeats[0] as Statement | undefined)?.keyword ?? e.span,
        `unrolling evaluates more than ${MAX_EVAL_STEPS} expression terms`,
      );
      throw new Abort();
    }
    switch (e.kind) {
      case "num":
        return { c: e.value };
      case "name": {
        if (e.index) return this.indexedValue(e.name, e.span, e.index);
        const b = this.env.get(e.name);
        if (b) {
          if ("c" in b) return b;
          if ("broken" in b) return undefined; // already reported at its let
          return {
            rt: { k: "var", name: e.name },
            dep: { text: e.name, span: e.span, letLine: b.rtLine },
          };
        }
        const fact = this.facts.get(e.name);
        if (fact !== undefined) return { c: fact };
        if (CONFIG_FACTS.includes(e.name)) return undefined; // the configuration is broken
        if (systemMetrics.has(e.name)) {
          return { rt: { k: "metric", name: e.name }, dep: { text: e.name, span: e.span } };
        }
        if (this.live.has(e.name)) {
          this.report(
            e.span,
            `"${e.name}" is a process, not a value: use one of its metrics, such as ${e.name}.vmpte`,
          );
          return undefined;
        }
        if (mmMetrics.has(e.name)) {
          this.report(
            e.span,
            `"${e.name}" is a per-process metric: write PROCESS.${e.name} (such as a.${e.name})`,
          );
          return undefined;
        }
        this.report(
          e.span,
          `unknown variable or metric "${e.name}"` +
            metricHint(e.name, METRIC_SPELLINGS, [
              ...this.env.keys(),
              ...SYSTEM_WIDE,
              ...CONFIG_FACTS,
            ]),
        );
        return undefined;
      }
      case "mmMetric": {
        if (e.mm.name === "cpu" && e.mm.index && !this.live.has("cpu[0]")) {
          return this.cpuMetric(e as ExprNode & { kind: "mmMetric" });
        }
        const mm = this.resolve(e.mm);
        const mmOk = mm !== undefined && this.process(mm) !== undefined;
        if (!mmMetrics.has(e.metric)) {
          const sug = e.metric === "tables"
            ? ` (use ${MM_METRICS.filter((m) => m.startsWith("tables.")).join(", ")})`
            : systemMetrics.has(e.metric)
            ? ` ("${e.metric}" is system-wide: write ${e.metric})`
            : metricHint(e.metric, MM_METRIC_SPELLINGS, MM_METRICS);
          this.report(e.metricSpan, `unknown process metric "${e.metric}"${sug}`);
          return undefined;
        }
        if (!mmOk) return undefined;
        return {
          rt: { k: "metric", name: e.metric, mm: mm.name },
          dep: { text: `${mm.name}.${e.metric}`, span: e.span },
        };
      }
      case "neg": {
        const v = this.value(e.operand);
        if (!v) return undefined;
        return "c" in v ? { c: -v.c } : { rt: { k: "neg", e: v.rt }, dep: v.dep };
      }
      case "call": {
        const fn = e.fn.name;
        if (!(FUNCTIONS as readonly string[]).includes(fn)) {
          this.report(
            e.fn.span,
            `unknown function "${fn}"${didYouMean(fn, FUNCTIONS) || " (min and max exist)"}`,
          );
          return undefined;
        }
        if (e.args.length === 0) {
          this.report(e.span, `${fn}() needs at least one value`);
          return undefined;
        }
        const vals: Val[] = [];
        for (const a of e.args) {
          const v = this.value(a);
          if (v) vals.push(v);
        }
        if (vals.length !== e.args.length) return undefined;
        if (vals.every((v) => "c" in v)) {
          let best = (vals[0] as { c: bigint }).c;
          for (const v of vals) {
            const c = (v as { c: bigint }).c;
            if (fn === "min" ? c < best : c > best) best = c;
          }
          return { c: best };
        }
        const dep = (vals.find((v) => "rt" in v) as { dep: Dep }).dep;
        return {
          rt: { k: "call", fn: fn as "min" | "max", args: vals.map(toExpr) },
          dep,
        };
      }
      case "cmp":
      case "logic":
        return this.cond(e);
      case "bin": {
        const l = this.value(e.left);
        const r = this.value(e.right);
        if (!l || !r) return undefined;
        if ((e.op === "/" || e.op === "%") && "c" in r && r.c === 0n) {
          this.report(e.right.span, "division by zero");
          return undefined;
        }
        if ((e.op === "<<" || e.op === ">>") && "c" in r && (r.c < 0n || r.c > BigInt(MAX_SHIFT))) {
          this.report(e.right.span, `shift count ${r.c} is out of range (0..${MAX_SHIFT})`);
          return undefined;
        }
        if ("c" in l && "c" in r) {
          switch (e.op) {
            case "+":
              return { c: l.c + r.c };
            case "-":
              return { c: l.c - r.c };
            case "*":
              return { c: l.c * r.c };
            case "/":
              return { c: l.c / r.c };
            case "%":
              return { c: l.c % r.c };
            case "<<":
              return { c: l.c << r.c };
            case ">>":
              return { c: l.c >> r.c };
          }
        }
        const dep = "rt" in l ? l.dep : (r as { dep: Dep }).dep;
        const positioned = e.op === "/" || e.op === "%" || e.op === "<<" || e.op === ">>";
        return {
          rt: {
            k: "bin",
            op: e.op,
            l: toExpr(l),
            r: toExpr(r),
            ...(positioned ? { at: this.at(e.opSpan) } : {}),
          },
          dep,
        };
      }
    }
  }

  /**
   * `NAME[EXPR]` where a value is wanted: an address an indexed `as NAME[EXPR]` bound; a process
   * or file is not one (reported).
   */
  indexedValue(name: string, span: Span, index: ExprNode): Val | undefined {
    const r = this.resolve({ name, span, index });
    if (!r) return undefined;
    const b = this.env.get(r.name);
    if (b) return "c" in b ? b : undefined; // only `as` binds indexed names: constants
    const bound = [...this.env.keys()].filter((k) => k.startsWith(`${name}[`));
    if (bound.length && !this.live.has(r.name) && !this.files.has(r.name)) {
      this.report(span, `unknown name "${r.name}"` + nameHint(r.name, bound));
      return undefined;
    }
    if (this.live.has(r.name)) {
      this.report(
        span,
        `"${r.name}" is a process, not a value: use one of its metrics, such as ${r.name}.vmpte`,
      );
    } else if (this.files.has(r.name)) {
      this.report(span, `"${r.name}" is a file, not a value`);
    } else {
      this.report(
        span,
        `unknown process "${r.name}"` +
          (nameHint(r.name, this.live.keys()) || " (only process and file names take an index)"),
      );
    }
    return undefined;
  }

  /** A number: an expression that is not a condition. */
  value(e: ExprNode): Val | undefined {
    if (e.kind === "cmp" || e.kind === "logic") {
      this.report(
        e.opSpan,
        e.kind === "cmp"
          ? "a comparison is not a number (comparisons go in 'expect' and 'if')"
          : `'${e.op}' joins comparisons (in 'expect' and 'if'), not numbers`,
      );
      return undefined;
    }
    return this.ev(e);
  }

  /** A condition (1 true, 0 false): a comparison, or conditions joined by `and` / `or`. */
  cond(e: ExprNode): Val | undefined {
    if (e.kind === "cmp") {
      if (isCond(e.left)) {
        this.report(e.opSpan, "comparisons cannot be chained (join them with 'and')");
        return undefined;
      }
      const l = this.value(e.left);
      const r = this.value(e.right);
      if (!l || !r) return undefined;
      if ("c" in l && "c" in r) return { c: compareValues(l.c, e.op, r.c) ? 1n : 0n };
      return {
        rt: {
          k: "cmp",
          op: e.op,
          l: toExpr(l),
          r: toExpr(r),
          text: this.source.slice(e.span.offset, e.span.offset + e.span.length),
        },
        dep: "rt" in l ? l.dep : (r as { dep: Dep }).dep,
      };
    }
    if (e.kind === "logic") {
      const l = this.cond(e.left);
      const r = this.cond(e.right);
      if (!l || !r) return undefined;
      if ("c" in l && "c" in r) {
        const a = l.c !== 0n, b = r.c !== 0n;
        return { c: (e.op === "and" ? a && b : a || b) ? 1n : 0n };
      }
      return {
        rt: { k: "logic", op: e.op, l: toExpr(l), r: toExpr(r) },
        dep: "rt" in l ? l.dep : (r as { dep: Dep }).dep,
      };
    }
    this.report(
      e.span,
      "expected a comparison (==, !=, <, <=, >, >=) here, such as leaks == 0",
    );
    return undefined;
  }

  /** A string's pieces: constants formatted now, run-time values left to the engine. */
  template(parts: readonly TextPart[]): (string | Expr)[] | undefined {
    const out: (string | Expr)[] = [];
    let ok = true;
    for (const p of parts) {
      let piece: string | Expr;
      if ("text" in p) piece = p.text;
      else {
        const v = this.value(p.expr);
        if (!v) {
          ok = false;
          continue;
        }
        piece = "c" in v ? v.c.toString() : v.rt;
      }
      if (typeof piece === "string" && typeof out[out.length - 1] === "string") {
        out[out.length - 1] += piece;
      } else out.push(piece);
    }
    return ok ? out : undefined;
  }

  /** The constant value of an expression, or undefined (reported) if it has none. */
  constant(e: ExprNode, what: string): bigint | undefined {
    const v = this.value(e);
    if (!v) return undefined;
    if ("c" in v) return v.c;
    const d = v.dep;
    this.report(
      d.span,
      d.letLine !== undefined
        ? `${what} must be a constant, but "${d.text}" is set from a metric at run time (line ${d.letLine})`
        : `${what} must be a constant, but "${d.text}" is a metric`,
    );
    return undefined;
  }

  runtime(e: ExprNode): Expr | undefined {
    const v = this.value(e);
    if (!v) return undefined;
    return "c" in v ? { k: "num", v: v.c } : v.rt;
  }

  // ---- processes and files ----

  /**
   * The name an indexed name stands for (`p[i]` with i = 3: `p[3]`), or the name itself when it
   * has no index; undefined (reported) when the index is not a constant of 0 or more.
   */
  resolve(r: IndexedName): NameRef | undefined {
    if (!r.index) return r;
    const v = this.constant(r.index, `the index of "${r.name}"`);
    if (v === undefined) return undefined;
    if (v < 0n) {
      this.report(r.index.span, `the index of "${r.name}" must be 0 or more, not ${v}`);
      return undefined;
    }
    return { name: `${r.name}[${v}]`, span: r.span };
  }

  /** The live process named `r`, or undefined (reported). */
  process(r: NameRef): { layout: Layout; line: number } | undefined {
    const p = this.live.get(r.name);
    if (p) return p;
    const gone = this.exited.get(r.name);
    if (gone !== undefined) {
      this.report(r.span, `process "${r.name}" has exited (line ${gone})`);
    } else {
      this.report(r.span, `unknown process "${r.name}"` + nameHint(r.name, this.live.keys()));
    }
    return undefined;
  }

  newProcess(r: NameRef, layout: Layout): boolean {
    const p = this.live.get(r.name);
    if (p) {
      this.report(r.span, `duplicate process name "${r.name}" (created on line ${p.line})`);
      return false;
    }
    if (systemMetrics.has(r.name)) {
      this.report(r.span, `"${r.name}" is a metric name; choose another name for the process`);
      return false;
    }
    this.live.set(r.name, { layout, line: this.line(r.span.offset) });
    this.exited.delete(r.name);
    return true;
  }

  // ---- ranges ----

  positive(e: ExprNode, v: bigint, what: string): boolean {
    if (v > 0n) return true;
    this.report(e.span, `${what} must be positive, not ${v}`);
    return false;
  }

  /** Alignment and address-space checks of `[addr, addr + size)`; false if it does not fit. */
  range(addrE: ExprNode, addr: bigint, sizeE: ExprNode, size: bigint): boolean {
    let ok = true;
    const page = this.pageSize;
    if (page !== undefined) {
      // the message is formatted only when there is something to say
      const ps = () => `the page size of ${this.configName} (${sizeText(page)})`;
      if (addr % page !== 0n) {
        this.report(addrE.span, `address ${hex(addr)} is not aligned to ${ps()}`, this.alignKind);
        ok = false;
      }
      if (size % page !== 0n) {
        this.report(
          sizeE.span,
          `size ${sizeText(size)} is not a multiple of ${ps()}`,
          this.alignKind,
        );
        ok = false;
      }
    }
    const top = this.taskSize;
    if (top !== undefined && (addr < 0n || addr + size > top)) {
      this.report(
        addrE.span,
        `address range ${hex(addr)}..${hex(addr + size)} is outside the user address space of ` +
          `${this.configName} (0..${hex(top)})`,
        "fit",
      );
      ok = false;
    }
    return ok;
  }

  // ---- statements ----

  block(list: readonly Statement[]): void {
    for (const st of list) this.statement(st);
  }

  statement(st: Statement): void {
    if (this.skip.has(st)) return;
    const { line, col } = this.pos(st);
    switch (st.kind) {
      case "arch":
        return;
      case "cpus": {
        const n = this.constant(st.count, "the CPU count");
        if (n === undefined) return;
        if (n < 1n || n > BigInt(MAX_CPUS)) {
          this.report(st.count.span, `cpus must be between 1 and ${MAX_CPUS}, not ${n}`);
          return;
        }
        this.cpus = Number(n);
        return;
      }
      case "let": {
        const name = st.name.name;
        if (this.reserved(st.name)) return;
        // `as NAME` binds a constant for the rest of the scenario: a `let` may not change it
        const o = this.origin.get(name);
        if (o?.kind === "map" && this.env.has(name) && !this.loopVariable(name)) {
          this.report(
            st.name.span,
            `"${name}" is the address the map on ${
              this.where(o.line, o.file)
            } bound (as ${name}); choose another variable name`,
          );
          return;
        }
        const v = this.value(st.value);
        if (!v) {
          this.env.set(name, { broken: true });
          return;
        }
        if ("c" in v) {
          this.bind(name, v, st);
        } else {
          this.bind(name, { rtLine: line }, st);
          this.emit(st, { op: "let", name, expr: v.rt, line, col });
        }
        return;
      }
      case "mm": {
        const name = this.resolve(st.name);
        // `exec`: the VMAs execve of a small static binary leaves (text, data, heap, vdso, stack)
        const areas: Area[] = st.exec && this.cfg
          ? execImage(this.cfg).map((v) => ({
            start: v.start,
            end: v.end,
            line,
            prot: v.prot,
            exec: v.name,
            ...(v.growsDown ? { growsDown: true } : {}),
          })).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
          : [];
        if (name && this.newProcess(name, new Layout(areas))) {
          this.emit(st, {
            op: "mm",
            name: name.name,
            ...(st.exec ? { exec: true } : {}),
            line,
            col,
          });
        }
        return;
      }
      case "file": {
        const name = this.resolve(st.name);
        const size = this.constant(st.size, "the size");
        if (!name || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        if (!this.wholePages(st.size, size)) return;
        const prev = this.files.get(name.name);
        if (prev) {
          this.report(
            name.span,
            `duplicate file name "${name.name}" (created on line ${prev.line})`,
          );
          return;
        }
        this.files.set(name.name, { size, line, file: this.file, op: this.ops.length });
        this.emit(st, { op: "file", name: name.name, size, line, col });
        return;
      }
      case "map": {
        // `as NAME`: checked before the map, bound after it (to nothing usable when it failed)
        const as = st.clauses.find((c) => c.kind === "as");
        const target = as ? this.bindable(as.name, st) : undefined;
        const addr = this.map(st, line, col);
        if (target) this.bind(target.name, addr === undefined ? { broken: true } : { c: addr }, st);
        return;
      }
      case "touch": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const addr = this.constant(st.addr, "the address");
        const page = this.pageSize ?? 4096n;
        const size = st.size ? this.constant(st.size, "the size") : page;
        const step = st.step ? this.constant(st.step, "the step") : page;
        if (!mm || !p || addr === undefined || size === undefined || step === undefined) return;
        let ok = true;
        if (st.size && !this.positive(st.size, size, "size")) ok = false;
        if (st.step) {
          if (!this.positive(st.step, step, "step")) ok = false;
          else if (this.pageSize !== undefined && step % this.pageSize !== 0n) {
            this.report(
              st.step.span,
              `step ${sizeText(step)} is not a multiple of the page size of ${this.configName} (${
                sizeText(this.pageSize)
              })`,
              this.alignKind,
            );
            ok = false;
          }
        }
        if (!ok) return;
        if (!this.range(st.addr, addr, st.size ?? st.addr, size)) return;
        const hole = p.layout.firstUnmapped(addr, addr + size, step);
        if (hole !== undefined) {
          this.report(
            st.addr.span,
            hole === addr
              ? `touch at ${hex(hole)} is outside any mapping of "${mm.name}"`
              : `touch reaches ${hex(hole)}, which is outside any mapping of "${mm.name}"`,
          );
          return;
        }
        // a write needs PROT_WRITE, a read PROT_READ: the fault would be SIGSEGV (bad_area)
        const read = st.read !== undefined;
        const denied = p.layout.firstDenied(
          addr,
          addr + size,
          step,
          read ? (prot) => prot === "none" : (prot) => prot !== "write",
        );
        if (denied) {
          const a = denied.area;
          this.report(
            st.addr.span,
            `touch ${read ? "reads" : "writes"} ${hex(denied.addr)} in ${
              areaText(a, mm.name)
            } with ${protText(a)}: ` +
              `the ${read ? "read" : "write"} would get SIGSEGV` +
              (!read && a.prot === "read" ? " (add 'read' to the touch for read faults)" : ""),
          );
          return;
        }
        this.emit(st, {
          op: "touch",
          mm: mm.name,
          addr,
          size,
          step,
          ...(read ? { read: true } : {}),
          line,
          col,
        });
        return;
      }
      case "unmap": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        if (!mm || !p || addr === undefined || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        if (!this.range(st.addr, addr, st.size, size)) return;
        // __split_vma: hugetlb_vm_op_split refuses an address inside a huge page (-EINVAL)
        if (this.hugetlbSplit(st, "unmap", mm.name, p.layout, addr, addr + size)) return;
        p.layout.remove(addr, addr + size);
        this.emit(st, { op: "unmap", mm: mm.name, addr, size, line, col });
        return;
      }
      case "madvise": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const advice = this.advice(st.advice);
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        if (!mm || !p || addr === undefined || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        if (!this.range(st.addr, addr, st.size, size)) return;
        if (advice === undefined) return;
        const end = addr + size;
        if (advice === "collapse" && !this.thpAvailable) {
          // madvise_collapse: -EINVAL without CONFIG_TRANSPARENT_HUGEPAGE, whatever thp says (a
          // range with no whole aligned PMD block in it is fine: the kernel does nothing)
          this.report(
            st.advice.span,
            `MADV_COLLAPSE needs transparent huge pages, which ${this.configName} does not have`,
            "fit",
          );
          return;
        }
        if (advice === "populate_write") {
          // madvise_populate: faultin_page_range with FOLL_WRITE fails (-EFAULT) on a VMA
          // without VM_WRITE
          const denied = p.layout.firstDenied(
            addr,
            end,
            this.pageSize ?? 4096n,
            (prot) => prot !== "write",
          );
          if (denied) {
            const a = denied.area;
            this.report(
              st.addr.span,
              `madvise populate_write of ${hex(addr)}..${hex(end)} would fail: the range is not ` +
                `writable (${areaText(a, mm.name)} has ${protText(a)})`,
            );
            return;
          }
        }
        if (!this.hugetlbAdvice(st, advice, mm.name, p.layout, addr, end)) return;
        this.emit(st, { op: "madvise", mm: mm.name, advice, addr, size, line, col });
        return;
      }
      case "mprotect": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const prot = this.protection(st.prot);
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        if (!mm || !p || addr === undefined || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        if (!this.range(st.addr, addr, st.size, size)) return;
        const end = addr + size;
        // do_mprotect_pkey: -ENOMEM when a page of the range is in no VMA
        const hole = p.layout.firstUnmapped(addr, end, this.pageSize ?? 4096n);
        if (hole !== undefined) {
          this.report(
            st.addr.span,
            `mprotect of ${hex(addr)}..${hex(end)} would fail with ENOMEM: ${hex(hole)} is ` +
              `outside any mapping of "${mm.name}"`,
          );
          return;
        }
        if (prot === undefined) return;
        // mprotect_fixup splits only the VMAs whose flags change
        if (
          this.hugetlbSplit(st, "mprotect", mm.name, p.layout, addr, end, (a) => a.prot !== prot)
        ) return;
        p.layout.protect(addr, end, prot, line);
        this.emit(st, { op: "mprotect", mm: mm.name, addr, size, prot, line, col });
        return;
      }
      case "mremap": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        const newAddr = this.constant(st.newAddr, "the new address");
        const newSize = st.newSize ? this.constant(st.newSize, "the new size") : size;
        if (
          !mm || !p || addr === undefined || size === undefined || newAddr === undefined ||
          newSize === undefined
        ) return;
        const newSizeE = st.newSize ?? st.size;
        if (!this.positive(st.size, size, "size")) return;
        if (st.newSize && !this.positive(st.newSize, newSize, "size")) return;
        const oldFits = this.range(st.addr, addr, st.size, size);
        if (!this.range(st.newAddr, newAddr, newSizeE, newSize) || !oldFits) return;
        const end = addr + size;
        const newEnd = newAddr + newSize;
        // vma_to_resize: -EFAULT unless the old range is inside the VMA at addr
        const v = p.layout.containing(addr, end);
        if (!v) {
          this.report(
            st.addr.span,
            `mremap of ${hex(addr)}..${hex(end)} would fail with EFAULT: it is not inside one ` +
              `mapping of "${mm.name}"`,
          );
          return;
        }
        if (v.hugetlb !== undefined) {
          this.report(
            st.addr.span,
            `mremap of hugetlb memory is not modelled (${areaText(v, mm.name)} has ` +
              `${sizeText(v.hugetlb)} hugetlb pages)`,
          );
          return;
        }
        const mapping = (o: Area) => areaText(o, mm.name);
        if (newAddr !== addr) {
          // MREMAP_FIXED: the new range must not overlap the old one (-EINVAL); the simulator
          // refuses to unmap what is there, as the kernel would do silently
          if (newAddr < end && addr < newEnd) {
            this.report(
              st.newAddr.span,
              `mremap onto a mapped range: ${hex(newAddr)}..${hex(newEnd)} overlaps the range ` +
                `${hex(addr)}..${hex(end)} it moves (mremap(2) gives EINVAL)`,
            );
            return;
          }
          const o = p.layout.overlap(newAddr, newEnd);
          if (o) {
            this.report(
              st.newAddr.span,
              `mremap onto a mapped range: ${hex(newAddr)}..${hex(newEnd)} overlaps ${mapping(o)}`,
            );
            return;
          }
        } else if (newSize > size) {
          // without MREMAP_MAYMOVE a VMA grows only at its end into free space (vma_expandable)
          const o = end === v.end ? p.layout.overlap(end, newEnd) : undefined;
          if (end !== v.end || o) {
            this.report(
              newSizeE.span,
              `mremap of ${hex(addr)}..${hex(end)} would fail with ENOMEM: cannot grow in place (` +
                (o
                  ? `${hex(end)}..${hex(newEnd)} overlaps ${mapping(o)})`
                  : `${hex(end)} is not the end of ${mapping(v)})`),
            );
            return;
          }
        }
        p.layout.remap(addr, size, newAddr, newSize);
        this.emit(st, { op: "mremap", mm: mm.name, addr, size, newAddr, newSize, line, col });
        return;
      }
      case "fork": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const child = this.resolve(st.child);
        if (!mm || !p || !child) return;
        if (this.newProcess(child, p.layout.clone())) {
          this.emit(st, { op: "fork", mm: mm.name, child: child.name, line, col });
        }
        return;
      }
      case "exit": {
        const mm = this.resolve(st.mm);
        if (!mm || !this.process(mm)) return;
        this.live.delete(mm.name);
        this.exited.set(mm.name, line);
        this.emit(st, { op: "exit", mm: mm.name, line, col });
        return;
      }
      case "run": {
        const mm = this.resolve(st.mm);
        const p = mm && this.process(mm);
        const cpus = this.cpuList(st);
        if (!mm || !p || !cpus) return;
        this.emit(st, { op: "run", mm: mm.name, cpus, line, col });
        return;
      }
      case "idle": {
        const cpus = this.cpuList(st);
        if (cpus) this.emit(st, { op: "idle", cpus, line, col });
        return;
      }
      case "snapshot": {
        if (!st.parts) {
          this.emit(st, { op: "snapshot", label: st.label, line, col });
          return;
        }
        const parts = this.template(st.parts);
        if (!parts) return;
        if (parts.every((p) => typeof p === "string")) {
          this.emit(st, { op: "snapshot", label: parts.join(""), line, col });
        } else this.emit(st, { op: "snapshot", label: st.label, parts, line, col });
        return;
      }
      case "print": {
        const parts: (string | Expr)[] = [];
        let ok = true;
        for (const item of st.items) {
          if (parts.length) parts.push(" ");
          const t = this.template(item.kind === "text" ? item.parts : [{ expr: item.expr }]);
          if (!t) ok = false;
          else parts.push(...t);
        }
        if (!ok) return;
        const merged: (string | Expr)[] = [];
        for (const p of parts) {
          if (typeof p === "string" && typeof merged[merged.length - 1] === "string") {
            merged[merged.length - 1] += p;
          } else merged.push(p);
        }
        this.emit(st, { op: "print", parts: merged, line, col });
        return;
      }
      case "include":
        if (st.body && st.file !== undefined && st.source !== undefined) {
          const { file, source, body } = st;
          this.inFile(file, source, () => this.block(body));
        }
        return;
      case "param": {
        const name = st.name.name;
        if (this.reserved(st.name)) return;
        const over = this.paramOverrides[name];
        if (over !== undefined) {
          const v = paramValue(over);
          if (typeof v === "string") {
            this.diags.push({
              file: SET_OPTION,
              line: 0,
              col: 0,
              length: 1,
              message: `${name}=${over}: ${v}`,
              kind: "semantic",
            });
            this.env.set(name, { broken: true });
            return;
          }
          this.params[name] = over;
          this.bind(name, { c: v }, st);
          return;
        }
        const v = this.constant(st.value, `the value of param "${name}"`);
        if (v === undefined) {
          this.env.set(name, { broken: true });
          return;
        }
        this.params[name] = this.source.slice(
          st.value.span.offset,
          st.value.span.offset + st.value.span.length,
        );
        this.bind(name, { c: v }, st);
        return;
      }
      case "if": {
        const v = this.cond(st.cond);
        if (!v) return;
        if ("rt" in v) {
          const d = v.dep;
          this.report(
            d.span,
            `the condition of 'if' must be known when the scenario is compiled, but "${d.text}" ` +
              (d.letLine !== undefined
                ? `is set from a metric at run time (line ${d.letLine})`
                : "is a metric (use 'expect' for run-time checks)"),
          );
          return;
        }
        if (v.c !== 0n) this.block(st.then);
        else if (st.else) this.block(st.else);
        return;
      }
      case "inject": {
        if (st.verb.name !== "fail") {
          this.report(st.verb.span, `expected 'fail' after 'inject', not "${st.verb.name}"`);
          return;
        }
        const sites = this.injectSites;
        const owners = sites.includes(st.site.name) ? [] : this.injectSiteOwners(st.site.name);
        if (owners.length) {
          this.report(
            st.site.span,
            `"${st.site.name}" is an allocation site of ${
              owners.join(", ")
            }, not of ${this.configName}`,
            "fit",
          );
          return;
        }
        if (!sites.includes(st.site.name)) {
          this.report(
            st.site.span,
            `unknown allocation site "${st.site.name}" on ${this.configName}${
              didYouMean(st.site.name, sites) ||
              ` (one of ${sites.join(", ")})`
            }`,
          );
          return;
        }
        let mode: "at" | "every" | "after" = "every";
        let n = 1n;
        if (st.mode && st.count) {
          if (!["at", "every", "after"].includes(st.mode.name)) {
            const hint = didYouMean(st.mode.name, ["at", "every", "after"]);
            this.report(
              st.mode.span,
              `expected at, every or after, not "${st.mode.name}"${hint}`,
            );
            return;
          }
          mode = st.mode.name as typeof mode;
          const v = this.constant(st.count, "the call count");
          if (v === undefined) return;
          const min = st.mode.name === "after" ? 0n : 1n;
          if (v < min || v > 1_000_000_000n) {
            this.report(
              st.count.span,
              `the call count must be between ${min} and 1000000000, not ${v}`,
            );
            return;
          }
          n = v;
        }
        this.emit(st, { op: "inject", site: st.site.name, mode, n: Number(n), line, col });
        return;
      }
      case "expect": {
        if (st.cond.kind === "cmp") {
          if (isCond(st.cond.left)) {
            this.report(st.cond.opSpan, "comparisons cannot be chained (join them with 'and')");
            return;
          }
          const l = this.runtime(st.left);
          const r = this.runtime(st.right);
          if (!l || !r) return;
          this.emit(st, { op: "expect", l, cmp: st.cmp, r, text: st.text, line, col });
          return;
        }
        const v = this.cond(st.cond);
        if (!v) return;
        const first = st.cond.kind === "logic" ? this.firstCmp(v) : undefined;
        if (!first) return;
        this.emit(st, {
          op: "expect",
          l: first.l,
          cmp: first.op,
          r: first.r,
          text: st.text,
          cond: toExpr(v),
          line,
          col,
        });
        return;
      }
      case "repeat":
        this.repeat(st);
        return;
    }
  }

  /**
   * A `map`: checks it, puts it in the process's layout and emits it. Returns its address (given,
   * or chosen as get_unmapped_area would) when that is known, even if the map has other problems.
   */
  map(st: Statement & { kind: "map" }, line: number, col: number): bigint | undefined {
    const mm = this.resolve(st.mm);
    const p = mm && this.process(mm);
    const addrE = st.addr;
    if (
      addrE?.kind === "name" && !addrE.index && CLAUSE_WORDS.includes(addrE.name) &&
      !this.env.has(addrE.name)
    ) {
      // `map p hugetlb size 2M`: the clause before the size reads as the address
      this.report(
        addrE.span,
        `'${addrE.name}' comes after the size: map MM [ADDR] size SIZE ${addrE.name} ...`,
      );
      return undefined;
    }
    const given = addrE ? this.constant(addrE, "the address") : undefined;
    const size = this.constant(st.size, "the size");
    const cl = this.mapClauses(st.clauses);
    const huge = this.hugetlbSize(cl.hugetlb);
    if (!mm || !p || (addrE && given === undefined) || size === undefined) return undefined;
    if (!this.positive(st.size, size, "size")) return undefined;
    // a problem with the file or a clause leaves the mapping in the layout (what follows is
    // checked against it) but makes no operation
    let ok = cl.ok && huge.ok;
    let addr: bigint, fits: boolean;
    if (given !== undefined && addrE) {
      addr = given;
      fits = this.range(addrE, addr, st.size, size);
    } else {
      // no address: the kernel chooses one, below the ranges the process has
      const cfg = this.cfg;
      if (!cfg || this.pageSize === undefined || !huge.ok) return undefined;
      if (!this.wholePages(st.size, size)) return undefined;
      if (huge.bytes !== undefined && !this.hugetlbLength(st.size, size, huge.bytes)) {
        return undefined;
      }
      const chosen = getUnmappedArea(cfg, p.layout.areas, {
        len: size,
        ...(cl.shared ? { shared: true } : {}),
        ...(cl.file ? { file: true } : {}),
        ...(huge.bytes !== undefined ? { hugetlb: huge.bytes } : {}),
      });
      if (chosen === undefined) {
        // sparc64: a 64-bit task's mmap searches up from VA_EXCLUDE_END, above the user address
        // space ptlab models; that is no ENOMEM of the kernel's
        const above = cfg.mmapLegacyBase !== undefined && cfg.mmapLegacyBase >= cfg.taskSize;
        this.report(
          st.size.span,
          above
            ? `mmap on ${this.configName} places a mapping from ${hex(cfg.mmapLegacyBase!)} ` +
              `up, above the user address space ptlab models (0..${hex(cfg.taskSize)}): ` +
              `give the map an address`
            : `no room for ${sizeText(size)} in the address space of "${mm.name}" on ` +
              `${this.configName}: mmap would fail with ENOMEM`,
          "fit",
        );
        return undefined;
      }
      addr = chosen;
      fits = true;
    }
    const h = huge.bytes;
    if (h !== undefined && fits) {
      // hugetlb_get_unmapped_area / prepare_hugepage_range: -EINVAL for an address inside a
      // huge page; ksys_mmap_pgoff rounds the length up to whole huge pages
      if (addrE && addr % h !== 0n) {
        this.report(
          addrE.span,
          `address ${hex(addr)} is not aligned to the hugetlb page size ${sizeText(h)} ` +
            `(mmap gives EINVAL)`,
          this.alignKind,
        );
        ok = false;
      }
      if (!this.hugetlbLength(st.size, size, h)) ok = false;
    }
    if (cl.file) {
      const f = cl.file;
      const off = f.offset;
      const at = f.offsetExpr ?? st.size;
      const page = this.pageSize;
      if (off < 0n) {
        this.report(at.span, `offset must be 0 or more, not ${off}`);
        ok = false;
      } else if (page !== undefined && off % page !== 0n) {
        this.report(
          at.span,
          `offset ${hex(off)} is not aligned to the page size of ${this.configName} (${
            sizeText(page)
          })`,
          this.alignKind,
        );
        ok = false;
      } else if (h !== undefined && off % h !== 0n) {
        // hugetlbfs_file_mmap: vm_pgoff must be a whole number of huge pages
        this.report(
          at.span,
          `offset ${hex(off)} is not aligned to the hugetlb page size ${sizeText(h)} ` +
            `(mmap of a hugetlbfs file gives EINVAL)`,
          this.alignKind,
        );
        ok = false;
      } else if (fits && off + size > f.size) {
        this.report(
          at.span,
          `the mapping goes past the end of file "${f.name}": offset ${sizeText(off)} + ` +
            `size ${sizeText(size)} is ${sizeText(off + size)}, but the file is ${
              sizeText(f.size)
            }`,
        );
        ok = false;
      }
      if (huge.ok && !this.fileKind(f, cl.hugetlb, h, line)) ok = false;
    }
    const end = addr + size;
    const o = p.layout.overlap(addr, end);
    if (o) {
      this.report(
        addrE?.span ?? st.size.span,
        `mapping ${hex(addr)}..${hex(end)} overlaps ${areaText(o, mm.name)}`,
      );
      return addr;
    }
    p.layout.insert(addr, end, line, cl.prot ?? "write", h);
    if (!ok) return addr;
    this.emit(st, {
      op: "map",
      mm: mm.name,
      addr,
      size,
      ...(cl.shared ? { shared: true } : {}),
      ...(cl.file ? { backing: cl.file.name, offset: cl.file.offset } : {}),
      ...(cl.prot ? { prot: cl.prot } : {}),
      ...(h !== undefined ? { hugetlb: h } : {}),
      ...(addrE ? {} : { chosen: true }),
      line,
      col,
    });
    return addr;
  }

  /** A size of whole pages of the configuration (else reported); true when unknown yet. */
  wholePages(e: ExprNode, size: bigint): boolean {
    const page = this.pageSize;
    if (page === undefined || size % page === 0n) return true;
    this.report(
      e.span,
      `size ${sizeText(size)} is not a multiple of the page size of ${this.configName} (${
        sizeText(page)
      })`,
      this.alignKind,
    );
    return false;
  }

  /**
   * The huge page size of a `hugetlb [SIZE]` clause: the configuration's default (its first) or
   * SIZE, which it must have. `ok` is false (reported) when there is none; no clause is fine.
   */
  hugetlbSize(
    c: { keyword: Span; value?: ExprNode } | undefined,
  ): { ok: boolean; bytes?: bigint } {
    if (!c) return { ok: true };
    const v = c.value ? this.constant(c.value, "the hugetlb page size") : undefined;
    if (c.value && v === undefined) return { ok: false };
    if (c.value && v !== undefined && !this.positive(c.value, v, "the hugetlb page size")) {
      return { ok: false };
    }
    const cfg = this.cfg;
    if (!cfg) return { ok: false };
    const sizes = cfg.hugetlb.map((x) => x.bytes);
    if (sizes.length === 0) {
      this.report(c.keyword, `${cfg.name} has no hugetlb pages ptlab models`, "fit");
      return { ok: false };
    }
    if (v === undefined) return { ok: true, bytes: sizes[0] };
    if (sizes.includes(v)) return { ok: true, bytes: v };
    // the nearest size (by powers of two) is the likely one: 2G for 1G, 4M for 2M ...
    const log = (x: bigint) => x.toString(2).length;
    const near = sizes.reduce((a, b) =>
      Math.abs(log(b) - log(v)) < Math.abs(log(a) - log(v)) ? b : a
    );
    this.report(
      c.value!.span,
      `${cfg.name} has no ${sizeText(v)} hugetlb pages (did you mean ${sizeText(near)}? it has ` +
        `${listText(sizes.map(sizeText))})`,
      "fit",
    );
    return { ok: false };
  }

  /** A hugetlb mapping's length is whole huge pages (else reported: mmap would round it up). */
  hugetlbLength(e: ExprNode, size: bigint, h: bigint): boolean {
    if (size % h === 0n) return true;
    this.report(
      e.span,
      `size ${sizeText(size)} is not a multiple of the hugetlb page size ${sizeText(h)} ` +
        `(mmap would round it up to ${sizeText((size + h - 1n) / h * h)})`,
      this.alignKind,
    );
    return false;
  }

  /**
   * A file is a tmpfs or a hugetlbfs file, decided by its first map: a later map must agree
   * (`hugetlb` or not, and the same page size); the file's size is whole huge pages (ftruncate
   * of a hugetlbfs file to anything else is -EINVAL). The first hugetlb map marks the `file` op.
   */
  fileKind(
    f: { name: string; span: Span },
    clause: { keyword: Span; value?: ExprNode } | undefined,
    h: bigint | undefined,
    line: number,
  ): boolean {
    const file = this.files.get(f.name);
    if (!file) return true;
    const want = h ?? null;
    if (file.hugetlb === undefined) {
      file.hugetlb = want;
      file.kindLine = line;
      if (want !== null && file.op !== undefined) {
        this.ops[file.op] = { ...this.ops[file.op], hugetlb: want } as Op;
      }
    } else if (file.hugetlb !== want) {
      const first = this.where(file.kindLine ?? file.line, file.file);
      if (file.hugetlb === null) {
        this.report(
          clause!.keyword,
          `file "${f.name}" is a tmpfs file (mapped without hugetlb on ${first}): a file is a ` +
            `tmpfs or a hugetlbfs file, not both`,
        );
      } else if (want === null) {
        this.report(
          f.span,
          `file "${f.name}" is a hugetlbfs file (mapped with hugetlb ${
            sizeText(file.hugetlb)
          } on ${first}): map it with 'hugetlb' too`,
        );
      } else {
        this.report(
          clause!.value?.span ?? clause!.keyword,
          `file "${f.name}" is a hugetlbfs file of ${sizeText(file.hugetlb)} pages (mapped so ` +
            `on ${first}), not of ${sizeText(want)} pages`,
        );
      }
      return false;
    }
    if (want !== null && file.size % want !== 0n) {
      this.report(
        f.span,
        `file "${f.name}" is ${sizeText(file.size)}, not a multiple of the hugetlb page size ` +
          `${sizeText(want)} (ftruncate of a hugetlbfs file gives EINVAL)`,
      );
      return false;
    }
    return true;
  }

  /**
   * An unmap, mprotect or madvise of [start, end) that would split a hugetlb mapping inside a
   * huge page (hugetlb_vm_op_split: -EINVAL): reported, true. `changes` picks the mappings the
   * call modifies (mprotect leaves alone those that keep their protection).
   */
  hugetlbSplit(
    st: Statement & { addr: ExprNode; size: ExprNode },
    what: string,
    mm: string,
    layout: Layout,
    start: bigint,
    end: bigint,
    changes?: (a: Area) => boolean,
  ): boolean {
    const r = layout.hugetlbSplit(start, end, changes);
    if (!r) return false;
    this.report(
      r.at === start ? st.addr.span : st.size.span,
      `${what} of ${hex(start)}..${hex(end)} would fail with EINVAL: it splits the hugetlb ` +
        `${areaText(r.area, mm).slice(4)} at ${hex(r.at)}, inside a ` +
        `${sizeText(r.area.hugetlb!)} hugetlb page`,
    );
    return true;
  }

  /**
   * madvise of hugetlb memory (madvise_dontneed_free_valid_vma, madvise_collapse): MADV_FREE
   * and MADV_COLLAPSE fail with EINVAL, MADV_DONTNEED must start at a huge page (its end the
   * kernel rounds to one, which ptlab does not model: an error too), MADV_HUGEPAGE and
   * MADV_NOHUGEPAGE split it like mprotect. False when reported.
   */
  hugetlbAdvice(
    st: Statement & { kind: "madvise" },
    advice: Advice,
    mm: string,
    layout: Layout,
    start: bigint,
    end: bigint,
  ): boolean {
    const call = `madvise ${advice} of ${hex(start)}..${hex(end)}`;
    if (advice === "free" || advice === "collapse") {
      const a = layout.hugetlbIn(start, end);
      if (!a) return true;
      this.report(
        st.addr.span,
        `${call} would fail with EINVAL: ${areaText(a, mm)} is hugetlb memory, ` +
          (advice === "free" ? "not anonymous memory" : "which THP cannot collapse"),
      );
      return false;
    }
    if (advice === "hugepage" || advice === "nohugepage") {
      return !this.hugetlbSplit(st, `madvise ${advice}`, mm, layout, start, end);
    }
    if (advice !== "dontneed") return true;
    const inside = (x: bigint) => {
      const a = layout.at(x);
      return a && a.hugetlb !== undefined && a.start < x && x % a.hugetlb !== 0n ? a : undefined;
    };
    const a = inside(start);
    if (a) {
      this.report(
        st.addr.span,
        `${call} would fail with EINVAL: it starts at ${hex(start)}, inside a ` +
          `${sizeText(a.hugetlb!)} hugetlb page of ${areaText(a, mm)}`,
      );
      return false;
    }
    const b = inside(end);
    if (b) {
      const h = b.hugetlb!;
      this.report(
        st.size.span,
        `${call} ends at ${hex(end)}, inside a ${sizeText(h)} hugetlb page of ` +
          `${areaText(b, mm)}: the kernel rounds the end to a whole huge page, which ptlab does ` +
          `not model (end it at ${hex(end / h * h)} or ${hex((end / h + 1n) * h)})`,
      );
      return false;
    }
    return true;
  }

  /** `line N`, or `line N of FILE` when that is not the file being compiled. */
  where(line: number, file = this.file): string {
    return file === this.file ? `line ${line}` : `line ${line} of ${file}`;
  }

  /**
   * The name `as NAME` binds, or undefined (reported) when it cannot: a name `let` could not
   * bind either, one bound already, a process or a file.
   */
  bindable(n: IndexedName, st: Statement): NameRef | undefined {
    const r = this.resolve(n);
    if (!r || this.reserved(r)) return undefined;
    const name = r.name;
    const loop = this.loopVariable(name);
    if (loop) {
      this.report(
        r.span,
        `"${name}" is already bound (the variable of the repeat on ${
          this.where(this.line(loop.keyword.offset))
        })`,
      );
      return undefined;
    }
    if (this.env.has(name)) {
      const o = this.origin.get(name);
      const inner = this.repeats[this.repeats.length - 1];
      // the suggestion indexes the name as written (`a`, or `a[0]`: its base name)
      this.report(
        r.span,
        o?.st === st && inner?.kind === "repeat"
          ? `"${name}" is bound again by each iteration of the repeat: use an indexed name ` +
            `that changes with it, such as ${n.name}[${inner.variable.name}]`
          : `"${name}" is already bound` +
            (o ? ` (by the ${o.kind} on ${this.where(o.line, o.file)})` : ""),
      );
      return undefined;
    }
    if (this.live.has(name)) {
      this.report(r.span, `"${name}" is a process; choose another name for the address`);
      return undefined;
    }
    if (this.files.has(name)) {
      this.report(r.span, `"${name}" is a file; choose another name for the address`);
      return undefined;
    }
    return r;
  }

  /** The innermost `repeat` being unrolled whose variable is `name`, if one is. */
  loopVariable(name: string): Statement | undefined {
    return this.repeats.findLast((x) => x.kind === "repeat" && x.variable.name === name);
  }

  /** Binds a name (`let`, `param`, `as`) and remembers where, for "already bound". */
  bind(name: string, b: Binding, st: Statement): void {
    this.env.set(name, b);
    const kind = st.kind === "map" ? "map" : st.kind === "param" ? "param" : "let";
    this.origin.set(name, { kind, line: this.line(st.keyword.offset), file: this.file, st });
  }

  /**
   * The clauses of a `map` (`shared`, `file NAME`, `offset OFF`, `hugetlb [SIZE]`, `prot P`,
   * `as NAME`), checked: each at most once, `offset` after `file NAME`, the file made already, the
   * protection one of none, read or write (`hugetlb` and `as` are checked by the caller). `ok` is
   * false when one is wrong (reported); the others are still given.
   */
  mapClauses(clauses: readonly MapClause[]): {
    ok: boolean;
    shared: boolean;
    file?: { name: string; span: Span; size: bigint; offset: bigint; offsetExpr?: ExprNode };
    hugetlb?: { keyword: Span; value?: ExprNode };
    prot?: Prot;
  } {
    let ok = true;
    const first = new Map<string, Span>();
    let shared = false, prot: Prot | undefined;
    let file: { name: string; span: Span; size: bigint } | undefined;
    let hugetlb: { keyword: Span; value?: ExprNode } | undefined;
    let offset: bigint | undefined, offsetExpr: ExprNode | undefined;
    for (const c of clauses) {
      const prev = first.get(c.kind);
      if (prev) {
        const p = locate(this.source, prev.offset), here = this.line(c.keyword.offset);
        this.report(
          c.keyword,
          `'${c.kind}' is given twice (the first is ${
            p.line === here ? `at column ${p.col}` : `on line ${p.line}`
          })`,
        );
        ok = false;
        continue;
      }
      first.set(c.kind, c.keyword);
      switch (c.kind) {
        case "shared":
          shared = true;
          break;
        case "file": {
          const name = this.resolve(c.name);
          if (!name) {
            ok = false;
            break;
          }
          const f = this.files.get(name.name);
          if (!f) {
            this.report(
              name.span,
              `unknown file "${name.name}"` +
                (nameHint(name.name, this.files.keys()) ||
                  (this.files.size === 0 ? " (make one with 'file NAME size SIZE')" : "")),
            );
            ok = false;
            break;
          }
          file = { name: name.name, span: name.span, size: f.size };
          break;
        }
        case "hugetlb":
          hugetlb = { keyword: c.keyword, ...(c.value ? { value: c.value } : {}) };
          break;
        case "as":
          break;
        case "offset": {
          if (!first.has("file")) {
            const later = clauses.some((d) => d.kind === "file");
            this.report(
              c.keyword,
              later
                ? "'offset' must come after 'file NAME'"
                : "'offset' without 'file NAME' (an offset is a position in the file mapped)",
            );
            ok = false;
            break;
          }
          const v = this.constant(c.value, "the offset");
          if (v === undefined) ok = false;
          else [offset, offsetExpr] = [v, c.value];
          break;
        }
        case "prot": {
          const w = this.protection(c.value);
          if (w === undefined) ok = false;
          else prot = w;
          break;
        }
      }
    }
    return {
      ok,
      shared,
      ...(file ? { file: { ...file, offset: offset ?? 0n, offsetExpr } } : {}),
      ...(hugetlb ? { hugetlb } : {}),
      ...(prot ? { prot } : {}),
    };
  }

  /** A protection word (`none`, `read`, `write`), or undefined (reported). */
  protection(w: NameRef): Prot | undefined {
    if ((PROTS as readonly string[]).includes(w.name)) return w.name as Prot;
    this.report(
      w.span,
      `unknown protection "${w.name}"${
        wordHint(w.name, PROTS, "prot_") || " (none, read or write)"
      }`,
    );
    return undefined;
  }

  /** An advice word of `madvise` (one of {@link ADVICE}), or undefined (reported). */
  advice(w: NameRef): Advice | undefined {
    if ((ADVICE as readonly string[]).includes(w.name)) return w.name as Advice;
    this.report(
      w.span,
      `unknown advice "${w.name}"${
        wordHint(w.name, ADVICE, "madv_") || ` (one of ${ADVICE.join(", ")})`
      }`,
    );
    return undefined;
  }

  /** The first comparison of a compiled condition (a constant one stands as `c == 1`). */
  firstCmp(v: Val): { l: Expr; op: CmpOp; r: Expr } | undefined {
    if ("c" in v) return { l: { k: "num", v: v.c }, op: "==", r: { k: "num", v: 1n } };
    let e = v.rt;
    while (e.k === "logic") e = e.l;
    if (e.k === "cmp") return { l: e.l, op: e.op, r: e.r };
    return { l: e, op: "!=", r: { k: "num", v: 0n } };
  }

  /** A name `let`, `param` or `repeat` cannot bind (reported); false when it is free. */
  reserved(n: NameRef): boolean {
    if (systemMetrics.has(n.name)) {
      this.report(n.span, `"${n.name}" is a metric name; choose another variable name`);
      return true;
    }
    if (CONFIG_FACTS.includes(n.name)) {
      this.report(
        n.span,
        `"${n.name}" is a fact of the configuration; choose another variable name`,
      );
      return true;
    }
    if ((FUNCTIONS as readonly string[]).includes(n.name)) {
      this.report(n.span, `"${n.name}" is a function; choose another variable name`);
      return true;
    }
    return false;
  }

  /**
   * `cpu[N].METRIC`: what CPU N received so far, `ipis` in all, `saved` (the sync IPIs the
   * `sync_ipi` rule spared it) or one /proc/interrupts line (`tlb`, `cal`, `ipi1`, `ipi`; 0 on
   * an arch that has no such line).
   */
  cpuMetric(e: ExprNode & { kind: "mmMetric" }): Val | undefined {
    const v = this.constant(e.mm.index!, "the CPU");
    if (v === undefined || !this.cpuCheck(e.mm.index!, v)) return undefined;
    if (!(CPU_METRICS as readonly string[]).includes(e.metric)) {
      this.report(
        e.metricSpan,
        `unknown CPU metric "${e.metric}"${
          didYouMean(e.metric, CPU_METRICS) || ` (${CPU_METRICS.join(", ")})`
        }`,
      );
      return undefined;
    }
    return {
      rt: { k: "metric", name: e.metric, cpu: Number(v) },
      dep: { text: `cpu[${v}].${e.metric}`, span: e.span },
    };
  }

  cpuCheck(e: ExprNode, v: bigint): boolean {
    if (v >= 0n && v < BigInt(this.cpus)) return true;
    this.report(e.span, `CPU ${v} does not exist: the scenario has ${this.cpusText()}`);
    return false;
  }

  cpusText(dash = false): string {
    const n = this.cpus;
    const range = dash ? (n === 1 ? "0" : `0-${n - 1}`) : `0..${n - 1}`;
    return `${n} CPU${n === 1 ? "" : "s"} (${range}; set more with 'cpus')`;
  }

  cpuList(st: Statement & { kind: "run" | "idle" }): number[] | undefined {
    const l = st.cpus;
    if (l.kind === "range") {
      const from = this.constant(l.from, "a CPU number");
      const to = this.constant(l.to, "a CPU number");
      if (from === undefined || to === undefined) return undefined;
      if (to <= from) {
        this.report(l.from.span, `empty CPU range ${from}..${to} (the end is exclusive)`);
        return undefined;
      }
      if (!this.cpuCheck(l.from, from)) return undefined;
      if (to > BigInt(this.cpus)) {
        this.report(
          l.to.span,
          `CPU range ${from}..${to} reaches CPU ${to - 1n}, but the scenario has ` +
            `${this.cpusText()}`,
        );
        return undefined;
      }
      const out: number[] = [];
      for (let c = Number(from); c < Number(to); c++) out.push(c);
      return out;
    }
    const out: number[] = [];
    let ok = true;
    const add = (e: ExprNode, v: bigint): boolean => {
      if (out.includes(Number(v))) {
        this.report(e.span, `CPU ${v} is listed twice`);
        return false;
      }
      out.push(Number(v));
      return true;
    };
    for (const e of l.items) {
      // the kernel's cpulist form: A-B, both ends included (two number literals)
      if (e.kind === "bin" && e.op === "-" && e.left.kind === "num" && e.right.kind === "num") {
        const a = e.left.value, b = e.right.value;
        if (b < a) {
          this.report(e.span, `empty CPU range ${a}-${b} (the end is included)`);
          ok = false;
          continue;
        }
        if (!this.cpuCheck(e.left, a)) {
          ok = false;
          continue;
        }
        if (b >= BigInt(this.cpus)) {
          this.report(
            e.right.span,
            `CPU range ${a}-${b} reaches CPU ${b}, but the scenario has ${this.cpusText(true)}`,
          );
          ok = false;
          continue;
        }
        for (let v = a; v <= b; v++) if (!add(e, v)) ok = false;
        continue;
      }
      const v = this.constant(e, "a CPU number");
      if (v === undefined || !this.cpuCheck(e, v)) {
        ok = false;
        continue;
      }
      if (!add(e, v)) ok = false;
    }
    return ok ? out : undefined;
  }

  repeat(st: Statement & { kind: "repeat" }): void {
    const name = st.variable.name;
    if (this.reserved(st.variable)) return;
    const from = this.constant(st.from, "the loop start");
    const to = this.constant(st.to, "the loop end");
    if (from === undefined || to === undefined) return;
    const n = to > from ? to - from : 0n;
    if (BigInt(this.iterations) + n > BigInt(MAX_ITERATIONS)) {
      this.report(
        st.to.span,
        `repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: ${n})`,
      );
      return;
    }
    this.iterations += Number(n);
    const saved = this.env.get(name);
    this.repeats.push(st);
    const fixed = fixedSize(st.body);
    for (let i = from; i < to; i++) {
      this.env.set(name, { c: i });
      const diags = this.diags.length, ops = this.ops.length, results = this.results;
      const iterations = this.iterations;
      this.block(st.body);
      // an iteration that found problems ends the unrolling: the next ones would repeat them
      if (this.diags.length > diags) break;
      if (i !== from || !fixed) continue;
      // every iteration emits what the first did: a loop over a limit is refused now, not after
      // unrolling up to it
      const left = to - from - 1n;
      // ... and unrolls the loops inside as often (nested loops multiply: 2000 x 1000 lets took
      // 0.25 s per configuration before the limit, 14 s with --arch all)
      const inner = BigInt(this.iterations - iterations);
      if (BigInt(this.iterations) + inner * left > BigInt(MAX_ITERATIONS)) {
        this.report(
          st.to.span,
          `repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: ${n}, ` +
            `each with ${inner} iterations of the loops inside)`,
        );
        break;
      }
      if (BigInt(this.results) + BigInt(this.results - results) * left > BigInt(MAX_RESULTS)) {
        this.report(
          st.keyword,
          `repeat makes more than ${MAX_RESULTS} snapshots, prints and expectations in total`,
        );
        throw new Abort();
      }
      if (BigInt(this.ops.length) + BigInt(this.ops.length - ops) * left > BigInt(MAX_OPS)) {
        this.report(this.repeats[0].keyword, `repeat unrolls to more than ${MAX_OPS} operations`);
        throw new Abort();
      }
    }
    this.repeats.pop();
    if (saved) this.env.set(name, saved);
    else this.env.delete(name);
  }
}

/**
 * Whether every iteration of a loop over these statements emits the same number of operations:
 * no `if`, no `include`, and nested loops only with literal bounds.
 */
function fixedSize(body: readonly Statement[]): boolean {
  return body.every((st) =>
    st.kind === "if" || st.kind === "include" ? false : st.kind !== "repeat" ||
      (st.from.kind === "num" && st.to.kind === "num" && fixedSize(st.body))
  );
}

/**
 * A `param` value given outside the file: a number as the language writes it (`4K`, `0x1000`,
 * `-1`), or a message saying why it is not one.
 */
export function paramValue(text: string): bigint | string {
  const t = text.trim();
  const neg = t.startsWith("-");
  const body = neg ? t.slice(1).trim() : t;
  if (!/^[0-9][0-9A-Za-z_]*$/.test(body)) {
    return `not a number (write a number such as 4K, 0x1000 or 12)`;
  }
  const v = T.numberValue(body);
  if (typeof v === "string") return v;
  return neg ? -v : v;
}

/** Placement rules of `arch` and `cpus`; marks misplaced statements to be skipped. */
function checkPlacement(c: Compiler, statements: readonly Statement[]): void {
  let firstArch: Statement | undefined;
  let firstCpus: Statement | undefined;
  let firstOther: Statement | undefined;
  let firstParamBlocker: Statement | undefined;
  const params = new Map<string, Statement>();
  const nested = (list: readonly Statement[], where: string) => {
    for (const st of list) {
      if (st.kind === "arch" || st.kind === "cpus" || st.kind === "param") {
        c.report(st.keyword, `'${st.kind}' cannot be inside ${where}`);
        c.skip.add(st);
      } else if (st.kind === "repeat") nested(st.body, "'repeat'");
      else if (st.kind === "if") {
        nested(st.then, "'if'");
        if (st.else) nested(st.else, "'if'");
      } else if (st.kind === "include" && st.body && st.file && st.source !== undefined) {
        const body = st.body;
        c.inFile(st.file, st.source, () => nested(body, "an included file"));
      }
    }
  };
  for (const st of statements) {
    if (st.kind === "param") {
      const prev = params.get(st.name.name);
      if (prev) {
        c.report(
          st.name.span,
          `param "${st.name.name}" is declared twice (first on line ${
            c.line(prev.keyword.offset)
          })`,
        );
        c.skip.add(st);
      } else if (firstParamBlocker) {
        c.report(
          st.keyword,
          `'param' must come before other statements (only 'arch' and other 'param's may precede it)`,
        );
        c.skip.add(st);
      } else params.set(st.name.name, st);
      continue;
    }
    if (st.kind !== "arch") firstParamBlocker ??= st;
    if (st.kind === "arch") {
      if (firstArch) {
        c.report(
          st.keyword,
          `second 'arch' statement (the first is on line ${c.line(firstArch.keyword.offset)})`,
        );
      } else if (firstOther) {
        c.report(
          st.keyword,
          `'arch' must come before other statements (only 'cpus' and 'let' may precede it)`,
        );
      }
      firstArch ??= st;
    } else if (st.kind === "cpus") {
      if (firstCpus) {
        c.report(
          st.keyword,
          `second 'cpus' statement (the first is on line ${c.line(firstCpus.keyword.offset)})`,
        );
        c.skip.add(st);
      } else if (firstOther) {
        c.report(
          st.keyword,
          `'cpus' must come before other statements (only 'arch' and 'let' may precede it)`,
        );
        c.skip.add(st);
      }
      firstCpus ??= st;
    } else if (st.kind !== "let") {
      firstOther ??= st;
      nested([st], "");
    }
  }
}

/**
 * Checks the configuration and its options. Returns the options to resolve the target with (bad
 * ones left out, so that the rest of the file can still be checked) and whether all were valid;
 * undefined when the target is unknown.
 */
function checkConfig(
  c: Compiler,
  s: Scenario,
  target: string,
  catalog: ConfigCatalog,
  overrides: Readonly<Record<string, string>>,
  dropped: string[],
): { options: Record<string, string>; ok: boolean } | undefined {
  const names = catalog.names();
  const known = new Set(names);
  let ok = true;
  const cmdLine = (message: string) => {
    c.diags.push({ file: COMMAND_LINE, line: 0, col: 0, length: 1, message, kind: "semantic" });
    ok = false;
  };
  const fileArch = s.arch;
  const fileKnown = fileArch !== undefined && known.has(fileArch.name);
  if (fileArch && !fileKnown) {
    c.report(
      fileArch.nameSpan,
      `unknown arch "${fileArch.name}"` + didYouMean(fileArch.name, names),
    );
    ok = false;
  }
  const targetKnown = known.has(target);
  if (!targetKnown && !(fileArch && fileArch.name === target)) {
    cmdLine(`unknown arch "${target}"` + didYouMean(target, names));
  }
  const problemText = (p: OptionProblem, word: string) =>
    lowerFirst(p.message) + (p.candidates.length ? bestCandidate(word, p.candidates) : "");

  const effective: Record<string, string> = {};
  if (fileArch) {
    // duplicates
    const firstAt = new Map<string, Span>();
    for (const o of fileArch.optionList) {
      const prev = firstAt.get(o.key.name);
      if (prev) {
        c.report(
          o.key.span,
          `option "${o.key.name}" is given twice (first on line ${c.line(prev.offset)})`,
        );
        ok = false;
      } else firstAt.set(o.key.name, o.key.span);
    }
    const byName = new Map(fileArch.optionList.map((o) => [o.key.name, o]));
    const badInFile = new Set<string>();
    if (fileKnown) {
      for (const p of catalog.checkOptions(fileArch.name, fileArch.options)) {
        const o = byName.get(p.option);
        if (!o) continue;
        if (p.part === "name") c.report(o.key.span, problemText(p, o.key.name));
        else c.report(o.valueSpan, problemText(p, o.value));
        badInFile.add(p.option);
        ok = false;
      }
    }
    if (targetKnown) {
      for (const [k, v] of Object.entries(fileArch.options)) {
        const probs = catalog.checkOptions(target, { [k]: v });
        if (probs.length === 0) effective[k] = v;
        else if (target === fileArch.name || badInFile.has(k)) continue; // reported above
        else if (probs.some((p) => p.part === "name")) dropped.push(k);
        else {
          c.report(byName.get(k)!.valueSpan, `${problemText(probs[0], v)} (for ${target})`);
          ok = false;
        }
      }
    }
  }
  if (targetKnown) {
    for (const [k, v] of Object.entries(overrides)) {
      const probs = catalog.checkOptions(target, { [k]: v });
      if (probs.length === 0) {
        effective[k] = v;
        continue;
      }
      const p = probs[0];
      if (p.part === "name") {
        const elsewhere = names.some((n) =>
          n !== target && catalog.checkOptions(n, { [k]: v }).every((q) => q.part !== "name")
        );
        if (elsewhere) {
          if (!dropped.includes(k)) dropped.push(k);
          continue;
        }
      }
      cmdLine(`option ${k}=${v}: ${problemText(p, p.part === "name" ? k : v)}`);
    }
  }
  return targetKnown ? { options: effective, ok } : undefined;
}

/**
 * Compiles a parsed scenario for configuration `configName`. When `configName` is not the file's
 * `arch`, the file's options that configuration has are kept and the others dropped (listed in
 * `droppedOptions`); an unknown `arch` in the file is still an error.
 */
export function compileScenario(
  s: Scenario,
  configName: string,
  catalog: ConfigCatalog,
  opts: CompileOptions = {},
): CompileResult {
  const c = new Compiler(s);
  if (opts.foreign) c.alignKind = "fit";
  const dropped: string[] = [];
  let config: ArchConfig | undefined;
  c.paramOverrides = opts.params ?? {};
  const declared = s.statements.flatMap((st) => st.kind === "param" ? [st.name.name] : []);
  for (const name of Object.keys(c.paramOverrides)) {
    if (declared.includes(name)) continue;
    c.diags.push({
      file: SET_OPTION,
      line: 0,
      col: 0,
      length: 1,
      message: `the scenario has no param "${name}"` +
        (declared.length ? didYouMean(name, declared) : " (it declares none)"),
      kind: "semantic",
    });
  }
  try {
    checkPlacement(c, s.statements);
    const checked = checkConfig(c, s, configName, catalog, opts.optionOverrides ?? {}, dropped);
    if (checked) {
      try {
        const resolved = catalog.resolve(configName, checked.options);
        c.pageSize = 1n << BigInt(resolved.pageShift);
        c.facts = configFacts(resolved);
        c.taskSize = resolved.taskSize;
        c.thpAvailable = resolved.thpAvailable;
        c.cfg = resolved;
        c.configName = resolved.name;
        c.injectSites = catalog.injectSites(configName);
        if (catalog.injectSiteOwners) c.injectSiteOwners = (s) => catalog.injectSiteOwners!(s);
        if (checked.ok) config = resolved;
      } catch (e) {
        c.diags.push({
          file: COMMAND_LINE,
          line: 0,
          col: 0,
          length: 1,
          message: `cannot resolve ${configName}: ${e instanceof Error ? e.message : String(e)}`,
          kind: "semantic",
        });
      }
    }
    c.block(s.statements);
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
  }
  const diagnostics = c.diags.sort((a, b) => a.line - b.line || a.col - b.col);
  // compilation stopped at the limit: a note says so (the rest was not looked at)
  if (diagnostics.length >= MAX_DIAGNOSTICS) {
    const misfit = diagnostics.every((d) => d.kind === "fit");
    diagnostics.push(omittedNote(s.file, 0, misfit ? "fit" : "semantic"));
  }
  return {
    ...(diagnostics.length === 0 && config ? { program: { cpus: c.cpus, ops: c.ops } } : {}),
    ...(config ? { config } : {}),
    diagnostics,
    droppedOptions: dropped,
    params: c.params,
  };
}
