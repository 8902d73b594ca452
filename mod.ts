/**
 * ptlab: script and measure the Linux kernel's page-table memory lifecycle on every
 * architecture. Parse a scenario, compile it for one or more configurations, run it through the
 * per-architecture models of pgalloc.h / tlb.h / mm/mmu_gather.c, and report.
 *
 * @example Run a scenario and read a figure
 * ```ts
 * import { runScenario } from "./mod.ts";
 *
 * const out = runScenario(`
 *   mm a
 *   map a 0x7f00_0000_0000 size 2M
 *   touch a 0x7f00_0000_0000 size 2M
 *   expect a.vmpte == 12K
 * `);
 * if (out.exitCode !== 0) throw new Error("unexpected");
 * console.log(out.runs[0].final.mms.a.vmpte); // 12288
 * ```
 *
 * @module
 */

import { checkOptions, resolveConfig } from "./archs/config.ts";
import { configNames, CONFIGS, findConfig, selectConfigs } from "./archs/registry.ts";
import {
  capDiagnostics,
  compileScenario,
  type ConfigCatalog,
  type Diagnostic,
  MAX_RESULTS,
  parseScenario,
  type Scenario,
  SET_OPTION,
} from "./dsl/mod.ts";
import { runProgram } from "./engine/run.ts";
import { ENGINE_INJECT_SITES } from "./engine/machine.ts";
import type { ScenarioRun } from "./engine/types.ts";
import type { Statement } from "./dsl/mod.ts";
import type { ConfigDescription } from "./report/archs.ts";

export type {
  Advice,
  ArchConfig,
  CmpOp,
  CpuFigures,
  ExecLayout,
  ExpectationResult,
  Expr,
  ExprPos,
  Fold,
  GatherConfig,
  HugetlbSize,
  KernelVersion,
  Level,
  LevelGeometry,
  LevelName,
  MmFigures,
  Op,
  OpSource,
  PrintOutput,
  Program,
  Prot,
  RunError,
  RunEvent,
  RunExtras,
  RunResult,
  ScenarioRun,
  Snapshot,
  SpecialMapping,
  SyncIpiRule,
  SystemFigures,
  TextTemplate,
  TraceEvent,
  Violation,
} from "./engine/types.ts";
export { ADVICE, AGGREGATE_METRICS, KERNEL_VERSIONS, LEVELS, MM_METRICS } from "./engine/types.ts";
export {
  EngineError,
  ExprError,
  Run,
  type RunOptions,
  runProgram,
  withExtras,
} from "./engine/run.ts";
export type {
  ArchDecl,
  ArchOption,
  BinaryOp,
  CompareOp,
  CompileOptions,
  CompileResult,
  CpuList,
  ExprNode,
  IndexedName,
  MapClause,
  NameRef,
  ParseOptions,
  ParseResult,
  Span,
  Statement,
  StatementBase,
  TextPart,
} from "./dsl/mod.ts";
export type { AllocOne, Backend, FreeOne, FreeTlb } from "./engine/backend.ts";
export type { Geometry, InjectRule, KmemCache, Machine, MachineEvent } from "./engine/machine.ts";
export { ENGINE_INJECT_SITES, MAX_EVENTS, MAX_TRACE } from "./engine/machine.ts";
export type { MmuGather } from "./engine/gather.ts";
export type { PmdShare } from "./engine/hugetlb.ts";
export type { Mm, PageCacheObject, Vma, VmaKind } from "./engine/mm.ts";
export type { Frames, Use } from "./engine/frames.ts";
export type { Mem, TablePool } from "./engine/tables.ts";
export {
  capDiagnostics,
  compileScenario,
  CONFIG_FACTS,
  type ConfigCatalog,
  type Diagnostic,
  didYouMean,
  errorCount,
  formatDiagnostic,
  FUNCTIONS,
  MAX_BLOCK_DEPTH,
  MAX_DIAGNOSTICS,
  MAX_EVAL_STEPS,
  MAX_EXPR_DEPTH,
  MAX_EXPR_OPERATORS,
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDES,
  MAX_ITERATIONS,
  MAX_OPS,
  MAX_RESULTS,
  MAX_SHIFT,
  parseScenario,
  type Scenario,
} from "./dsl/mod.ts";
export type {
  ConfigSpec,
  ConfigStory,
  FreeVia,
  HugetlbSpec,
  LevelSpec,
  LevelStory,
  OptionProblem,
  OptionSpec,
} from "./archs/config.ts";
export { commonOptions, resolveConfig } from "./archs/config.ts";
export { configFor, configNames, CONFIGS, findConfig, selectConfigs } from "./archs/registry.ts";
export {
  parseReportDocument,
  PTLAB_VERSION,
  type ReportDocument,
  reportDocument,
  reportJsonSchema,
  SCHEMA_VERSION,
} from "./report/schema.ts";
export {
  bytes,
  COMPARISON_METRICS,
  type ComparisonMetric,
  comparisonMetric,
  comparisonTable,
  METRIC_ALIASES,
  pages,
  runTable,
  runTableLines,
  type TableStyle,
  traceSideBySide,
} from "./report/table.ts";
export { archsTable, type ConfigDescription, explainText, type LevelText } from "./report/archs.ts";
export {
  BYTES_PER_TABLE,
  checkTableLimit,
  DEFAULT_MAX_TABLES,
  estimateTables,
  type LimitGeometry,
  type TableLimitExceeded,
  tableLimitMessage,
} from "./engine/limits.ts";
import {
  checkTableLimit,
  DEFAULT_MAX_TABLES,
  estimateTables,
  tableLimitMessage,
  WORK_FACTOR,
} from "./engine/limits.ts";
export { csv, csvLines, ndjson, ndjsonLines } from "./report/lines.ts";
export { bigintAsHex, jsonChunks } from "./report/json.ts";
export { junit, type SkippedRun, tap } from "./report/ci.ts";
export { type SvgOptions, svgReport } from "./report/svg.ts";

/** The configuration catalog the DSL checks scenarios against: every registered configuration. */
export const catalog: ConfigCatalog = {
  names: () => configNames(),
  checkOptions: (name, options) => {
    const spec = findConfig(name);
    return spec ? checkOptions(spec, options) : [];
  },
  resolve: (name, options) => resolveConfig(findConfig(name)!, options),
  injectSites: (name) => [
    ...ENGINE_INJECT_SITES,
    ...(findConfig(name)?.backend.injectSites ?? []),
  ],
  injectSiteOwners: (site) => [
    ...new Set(
      CONFIGS.filter((c) => c.backend.injectSites?.includes(site)).map((c) => c.backend.name),
    ),
  ],
};

/**
 * A configuration resolved with `options`, with the story of how it allocates, counts and frees
 * each level (for `ptlab archs` and `ptlab explain`). Undefined for an unknown name.
 */
export function describeConfig(
  name: string,
  options: Record<string, string> = {},
): ConfigDescription | undefined {
  const spec = findConfig(name);
  if (!spec) return undefined;
  const config = resolveConfig(spec, options);
  const [maj, min] = config.kernel.split(".").map(Number);
  const story = spec.story?.(config, maj * 100 + min) ?? { levels: {}, notes: [] };
  return { config, thpAvailable: spec.thpAvailable, levels: story.levels, notes: story.notes };
}

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** File name used in diagnostics. */
  file?: string;
  /** Configurations to run on (`all`, names, globs, comma lists); overrides the file's `arch`. */
  arch?: string;
  /**
   * Kernel version(s) for the runs, overriding the file's `kernel` option; a comma list runs
   * every configuration once per version (`6.1,6.6`).
   */
  kernel?: string;
  /** Record every kernel call. */
  trace?: boolean;
  /** Refuse a scenario that could make more page tables than this (engine/limits.ts). */
  maxTables?: number;
  /**
   * Reads a file named by `include` (a path joined to the including file's directory). Default:
   * `Deno.readTextFileSync`. Tests pass an in-memory map.
   */
  readFile?: (path: string) => string;
  /** Values for the scenario's `param`s, by name (numbers as the language writes them: `4K`). */
  params?: Record<string, string>;
  /**
   * `--set` arguments, `NAME=VALUE` or a sweep `NAME=V1,V2,...`: the scenario runs once per
   * combination (see {@link expandSweep}), over `params`; each run's `params` says which.
   */
  set?: readonly string[];
}

/**
 * The combinations of `--set` arguments: each `NAME=V1,V2,...` gives its values in turn, the
 * first argument varying slowest (the cartesian product, in order). `["n=1,2", "s=4K"]` gives
 * `[{n: "1", s: "4K"}, {n: "2", s: "4K"}]`; no argument gives one empty combination. Throws a
 * `SyntaxError` for an argument that is not `NAME=VALUE[,VALUE...]` or a name given twice.
 */
export function expandSweep(sets: readonly string[]): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  const seen = new Set<string>();
  for (const arg of sets) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(arg.trim());
    const values = m ? m[2].split(",").map((v) => v.trim()) : [];
    if (!m || values.some((v) => v === "")) {
      throw new SyntaxError(`--set takes NAME=VALUE or NAME=V1,V2,..., not "${arg}"`);
    }
    if (seen.has(m[1])) throw new SyntaxError(`--set ${m[1]} is given twice`);
    seen.add(m[1]);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [m[1]]: v })));
  }
  return combos;
}

/** What running a scenario produced. */
export interface ScenarioOutcome {
  /** 0: everything held; 1: an expectation failed or a rule was violated; 2: invalid input. */
  exitCode: 0 | 1 | 2;
  /** Diagnostics (errors when exitCode is 2). */
  diagnostics: Diagnostic[];
  /** One result per configuration run (per `--set` combination, configuration and kernel). */
  runs: ScenarioRun[];
  /** Configurations the scenario's addresses do not fit, with the reason. */
  skipped: { arch: string; reason: string }[];
  /** Remarks, such as file options a selected configuration does not have. */
  notes: string[];
  /** The parsed scenario, when it parsed. */
  scenario?: Scenario;
  /**
   * Warnings (severity "warning", such as an empty scenario): they do not change the exit code.
   * The CLI prints each as `FILE:LINE:COL: warning: MESSAGE`.
   */
  warnings: Diagnostic[];
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses, checks, compiles and runs a scenario on every configuration it selects. Never
 * throws for bad input: problems come back as diagnostics with exit code 2.
 */
export function runScenario(source: string, opts: RunScenarioOptions = {}): ScenarioOutcome {
  const file = opts.file ?? "<scenario>";
  const parsed = parseScenario(source, file, opts.readFile ? { readFile: opts.readFile } : {});
  const warnings = parsed.warnings;
  const none = { runs: [], skipped: [], notes: [], warnings };
  const s = parsed.scenario;
  if (!s || parsed.diagnostics.length) {
    const diagnostics = capDiagnostics(parsed.diagnostics, file);
    return { exitCode: 2, diagnostics, ...none, scenario: s };
  }
  const cmdLine = (where: string, message: string): Diagnostic => ({
    file: where,
    line: 0,
    col: 0,
    length: 0,
    kind: "semantic",
    message,
  });
  let combos: Record<string, string>[];
  try {
    combos = expandSweep(opts.set ?? []).map((c) => ({ ...opts.params, ...c }));
  } catch (e) {
    const d = cmdLine(SET_OPTION, e instanceof Error ? e.message : String(e));
    return { exitCode: 2, diagnostics: [d], ...none, scenario: s };
  }
  let names: string[];
  const multi = opts.arch !== undefined;
  if (opts.arch !== undefined) {
    const sel = selectConfigs(opts.arch);
    if (sel.unknown.length) {
      const d = cmdLine(
        "--arch",
        `Unknown configuration ${sel.unknown.map((u) => `"${u}"`).join(", ")}`,
      );
      return { exitCode: 2, diagnostics: [d], ...none, scenario: s };
    }
    names = sel.specs.map((c) => c.name);
  } else {
    names = [s.arch?.name ?? "x86_64-4level"];
  }
  const kernels: (string | undefined)[] = opts.kernel?.split(",").map((k) => k.trim()) ??
    [undefined];
  const errors: Diagnostic[] = [];
  const skipped: { arch: string; reason: string }[] = [];
  const runs: ScenarioRun[] = [];
  const notes: string[] = [];
  const programs: { name: string; run: () => ScenarioRun }[] = [];
  const tagged = combos.length > 1 || Object.keys(combos[0]).length > 0 ||
    s.statements.some((st) => st.kind === "param");
  const jobs = combos.flatMap((params) =>
    names.flatMap((name) => kernels.map((kernel) => ({ name, kernel, params })))
  );
  let totalResults = 0, resultsReported = false, totalVisits = 0, workReported = false;
  for (const { name, kernel, params } of jobs) {
    const optionOverrides: Record<string, string> = kernel === undefined ? {} : { kernel };
    const c = compileScenario(s, name, catalog, { optionOverrides, foreign: multi, params });
    const hard = c.diagnostics.filter((d) => d.kind !== "fit");
    const fit = c.diagnostics.filter((d) => d.kind === "fit");
    if (hard.length) {
      errors.push(...hard);
      continue;
    }
    if (fit.length) {
      if (multi && jobs.length > 1) {
        if (!skipped.some((x) => x.arch === name)) {
          skipped.push({ arch: name, reason: `line ${fit[0].line}: ${fit[0].message}` });
        }
        continue;
      }
      errors.push(...fit);
      continue;
    }
    if (c.droppedOptions.length) {
      const note = `${name}: option(s) ${c.droppedOptions.join(", ")} of the file do not apply`;
      if (!notes.includes(note)) notes.push(note);
    }
    // refused before it runs: more tables than --max-tables could make (engine/limits.ts)
    const maxTables = opts.maxTables ?? DEFAULT_MAX_TABLES;
    const over = checkTableLimit(c.program!.ops, c.config!, maxTables);
    if (over) {
      errors.push({
        file: over.file ?? file,
        line: over.line,
        col: over.col,
        length: over.op.length,
        kind: "semantic",
        message: tableLimitMessage(over),
      });
      continue;
    }
    // the walks of every run together are bounded like one run's (WORK_FACTOR x --max-tables)
    totalVisits += estimateTables(c.program!.ops, c.config!);
    if (totalVisits > WORK_FACTOR * maxTables && !workReported) {
      workReported = true;
      const n = (v: number) => v.toLocaleString("en-US");
      errors.push({
        file,
        line: 0,
        col: 0,
        length: 0,
        kind: "semantic",
        message: `the ${jobs.length} runs walk about ${n(totalVisits)} page tables or more ` +
          `together, more than ${WORK_FACTOR} x --max-tables ${n(maxTables)}: choose fewer ` +
          `configurations or kernels, or raise --max-tables`,
      });
    }
    if (workReported) continue;
    // the output of every run together is bounded like one run's (MAX_RESULTS)
    let results = 0;
    for (const op of c.program!.ops) {
      if (op.op === "snapshot" || op.op === "print" || op.op === "expect") results++;
    }
    totalResults += results;
    if (totalResults > MAX_RESULTS && !resultsReported) {
      resultsReported = true;
      errors.push({
        file,
        line: 0,
        col: 0,
        length: 0,
        kind: "semantic",
        message: `the ${jobs.length} runs would record more than ${MAX_RESULTS} snapshots, ` +
          `prints and expectations in total (${results} in each): choose fewer configurations ` +
          `or kernels, or record less`,
      });
    }
    if (resultsReported) continue;
    programs.push({
      name,
      run: () => {
        return runProgram(c.config!, findConfig(name)!.backend, c.program!, {
          trace: opts.trace,
          ...(tagged ? { params: c.params } : {}),
        });
      },
    });
  }
  if (errors.length) {
    return { exitCode: 2, diagnostics: capDiagnostics(dedupe(errors), file), ...none, scenario: s };
  }
  for (const p of programs) runs.push(p.run());
  // an expression that could not be evaluated (division by zero at run time) stopped a run
  const runtime: Diagnostic[] = [];
  for (const r of runs) {
    if (!r.error) continue;
    const f = r.error.file ?? file;
    let text: string | undefined;
    if (r.error.file !== undefined) {
      text = readIncluded(s.statements, r.error.file)?.split("\n")[r.error.line - 1]
        ?.replace(/\r$/, "");
    }
    runtime.push({
      file: f,
      line: r.error.line,
      col: r.error.col,
      length: 1,
      kind: "semantic",
      message: `${r.error.message} (at run time on ${r.arch} ${r.kernel})`,
      ...(text !== undefined ? { lineText: text } : {}),
    });
  }
  if (runtime.length) {
    return {
      exitCode: 2,
      diagnostics: dedupeRuntime(runtime),
      runs,
      skipped,
      notes,
      warnings,
      scenario: s,
    };
  }
  const ok = runs.every((r) => r.violations.length === 0 && r.expectations.every((e) => e.ok));
  return { exitCode: ok ? 0 : 1, diagnostics: [], runs, skipped, notes, warnings, scenario: s };
}

/** The source of an included file, found in the `include` statements of a scenario. */
function readIncluded(sts: readonly Statement[], file: string): string | undefined {
  for (const st of sts) {
    let found: string | undefined;
    if (st.kind === "include" && st.body) {
      found = st.file === file ? st.source : readIncluded(st.body, file);
    } else if (st.kind === "repeat") found = readIncluded(st.body, file);
    else if (st.kind === "if") {
      found = readIncluded(st.then, file) ?? (st.else ? readIncluded(st.else, file) : undefined);
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One diagnostic per position: the same run-time error on many configurations is one. */
function dedupeRuntime(ds: Diagnostic[]): Diagnostic[] {
  const by = new Map<string, Diagnostic[]>();
  for (const d of ds) {
    const key = `${d.file}:${d.line}:${d.col}`;
    by.set(key, [...(by.get(key) ?? []), d]);
  }
  return [...by.values()].map((list) =>
    list.length === 1 ? list[0] : {
      ...list[0],
      message: list[0].message.replace(/ \(at run time on .*\)$/, "") +
        ` (at run time, on ${list.length} runs)`,
    }
  );
}
