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
  compileScenario,
  type ConfigCatalog,
  type Diagnostic,
  parseScenario,
  type Scenario,
} from "./dsl/mod.ts";
import { runProgram } from "./engine/run.ts";
import { ENGINE_INJECT_SITES } from "./engine/machine.ts";
import type { RunResult } from "./engine/types.ts";
import type { ConfigDescription } from "./report/archs.ts";

export type {
  ArchConfig,
  CmpOp,
  ExpectationResult,
  Expr,
  Fold,
  GatherConfig,
  KernelVersion,
  Level,
  LevelGeometry,
  LevelName,
  MmFigures,
  Op,
  OpSource,
  Program,
  RunEvent,
  RunResult,
  Snapshot,
  SystemFigures,
  TraceEvent,
  Violation,
} from "./engine/types.ts";
export { KERNEL_VERSIONS, LEVELS } from "./engine/types.ts";
export { Run, type RunOptions, runProgram } from "./engine/run.ts";
export type {
  ArchDecl,
  ArchOption,
  BinaryOp,
  CompareOp,
  CompileOptions,
  CompileResult,
  CpuList,
  ExprNode,
  NameRef,
  Span,
  Statement,
  StatementBase,
} from "./dsl/mod.ts";
export type { AllocOne, Backend, FreeOne, FreeTlb } from "./engine/backend.ts";
export type { Geometry, InjectRule, KmemCache, Machine, MachineEvent } from "./engine/machine.ts";
export { ENGINE_INJECT_SITES } from "./engine/machine.ts";
export type { MmuGather } from "./engine/gather.ts";
export type { Mm, Vma } from "./engine/mm.ts";
export type { Frames, Use } from "./engine/frames.ts";
export type { Mem, TablePool } from "./engine/tables.ts";
export {
  compileScenario,
  type ConfigCatalog,
  type Diagnostic,
  didYouMean,
  formatDiagnostic,
  parseScenario,
  type Scenario,
} from "./dsl/mod.ts";
export type {
  ConfigSpec,
  ConfigStory,
  FreeVia,
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
}

/** What running a scenario produced. */
export interface ScenarioOutcome {
  /** 0: everything held; 1: an expectation failed or a rule was violated; 2: invalid input. */
  exitCode: 0 | 1 | 2;
  /** Diagnostics (errors when exitCode is 2). */
  diagnostics: Diagnostic[];
  /** One result per configuration run. */
  runs: RunResult[];
  /** Configurations the scenario's addresses do not fit, with the reason. */
  skipped: { arch: string; reason: string }[];
  /** Remarks, such as file options a selected configuration does not have. */
  notes: string[];
  /** The parsed scenario, when it parsed. */
  scenario?: Scenario;
}

function dedupe(ds: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.line}:${d.col}:${d.message}`;
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
  const none = { runs: [], skipped: [], notes: [] };
  const parsed = parseScenario(source, file);
  const s = parsed.scenario;
  if (!s || parsed.diagnostics.length) {
    return { exitCode: 2, diagnostics: parsed.diagnostics, ...none, scenario: s };
  }
  let names: string[];
  const multi = opts.arch !== undefined;
  if (opts.arch !== undefined) {
    const sel = selectConfigs(opts.arch);
    if (sel.unknown.length) {
      const d: Diagnostic = {
        file: "--arch",
        line: 0,
        col: 0,
        length: 0,
        kind: "semantic",
        message: `Unknown configuration ${sel.unknown.map((u) => `"${u}"`).join(", ")}`,
      };
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
  const runs: RunResult[] = [];
  const notes: string[] = [];
  const programs: { name: string; run: () => RunResult }[] = [];
  const jobs = names.flatMap((name) => kernels.map((kernel) => ({ name, kernel })));
  for (const { name, kernel } of jobs) {
    const optionOverrides: Record<string, string> = kernel === undefined ? {} : { kernel };
    const c = compileScenario(s, name, catalog, { optionOverrides, foreign: multi });
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
    programs.push({
      name,
      run: () =>
        runProgram(c.config!, findConfig(name)!.backend, c.program!, { trace: opts.trace }),
    });
  }
  if (errors.length) return { exitCode: 2, diagnostics: dedupe(errors), ...none, scenario: s };
  for (const p of programs) runs.push(p.run());
  const ok = runs.every((r) => r.violations.length === 0 && r.expectations.every((e) => e.ok));
  return { exitCode: ok ? 0 : 1, diagnostics: [], runs, skipped, notes, scenario: s };
}
