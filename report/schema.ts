/**
 * The JSON output contract, as a zod schema (the single source of truth), the document builder,
 * and the schema exported as JSON Schema.
 *
 * @module
 */

import { z } from "zod";
import type { RunResult } from "../engine/types.ts";
import project from "../deno.json" with { type: "json" };

/** ptlab's version (deno.json's `version`). */
export const PTLAB_VERSION: string = project.version;

/**
 * The JSON document's schema version: it goes up when a field changes meaning or goes away (a
 * field added keeps it).
 */
export const SCHEMA_VERSION = 1;

const levelCounts = z.object({
  pgd: z.number().int(),
  p4d: z.number().int(),
  pud: z.number().int(),
  pmd: z.number().int(),
  pte: z.number().int(),
});

const mmFigures = z.object({
  vmpte: z.number().int().describe("mm->pgtables_bytes in bytes (VmPTE is this >> 10 kB)"),
  tables: levelCounts.describe("live tables per level"),
  rss: z.number().int().describe("resident memory in bytes (VmRSS)"),
  rss_anon: z.number().int().describe("MM_ANONPAGES in bytes (RssAnon)"),
  rss_file: z.number().int().describe("MM_FILEPAGES in bytes (RssFile)"),
  rss_shmem: z.number().int().describe("MM_SHMEMPAGES in bytes (RssShmem)"),
  hugetlb: z.number().int().describe("mm->hugetlb_usage in bytes (HugetlbPages)"),
  vmas: z.number().int().describe("VMAs (map_count)"),
});

const systemFigures = z.object({
  nr_page_table_pages: z.number().int().describe("NR_PAGETABLE, pages"),
  pagetable_frames: z.number().int().describe("frames holding page tables, counted or not"),
  ptlocks: z.number().int(),
  tlb_flushes: z.number().int(),
  ipis: z.number().int(),
  leaks: z.number().int(),
  violations: z.number().int(),
  rcu_pending: z.number().int(),
  ooms: z.number().int(),
  injected: z.number().int(),
  enomems: z.number().int(),
});

const perCpu = z.array(z.number().int()).describe("one figure per online CPU, CPU 0 first");

const cpuFigures = z.object({
  ipis: perCpu.describe("IPIs each CPU received"),
  saved: perCpu.describe("tlb_remove_table_sync_one IPIs the sync_ipi rule spared each CPU"),
  lines: z.record(z.string(), perCpu)
    .describe("per /proc/interrupts line of the arch (x86 TLB and CAL, arm64 IPI1 ...)"),
  sync: z.object({ all: perCpu, mm_cpus: perCpu, skip_if_flushed: perCpu })
    .describe("the tlb_remove_table_sync_one IPIs each sync_ipi rule would send each CPU"),
});

const snapshotSchema = z.object({
  label: z.string(),
  line: z.number().int(),
  metrics: systemFigures,
  mms: z.record(z.string(), mmFigures),
  cpus: cpuFigures,
}).meta({ id: "Snapshot" });

const valueSchema = z.union([z.number(), z.string()]);

const expectationSchema = z.object({
  line: z.number().int(),
  text: z.string(),
  ok: z.boolean(),
  actual: valueSchema,
  expected: valueSchema,
  op: z.enum(["==", "!=", "<", "<=", ">", ">="]),
});

const violationSchema = z.object({
  rule: z.string(),
  message: z.string(),
  line: z.number().int(),
  frame: z.number().int().optional(),
  mm: z.string().optional(),
});

const eventSchema = z.object({
  kind: z.string().describe("injected-failure, VM_FAULT_OOM, ENOMEM, skipped"),
  line: z.number().int(),
  detail: z.string(),
});

const traceSchema = z.object({
  line: z.number().int(),
  fn: z.string(),
  detail: z.string().optional(),
});

const printSchema = z.object({
  line: z.number().int(),
  file: z.string().optional().describe("the included file the print is in"),
  text: z.string(),
});

const runSchema = z.object({
  arch: z.string(),
  kernel: z.enum(["6.1", "6.6", "6.12", "6.18"]),
  options: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()).optional()
    .describe("the param values of this run of a sweep (--set NAME=A,B)"),
  snapshots: z.array(snapshotSchema),
  expectations: z.array(expectationSchema),
  violations: z.array(violationSchema),
  events: z.array(eventSchema),
  eventsDropped: z.number().int().optional(),
  final: snapshotSchema,
  trace: z.array(traceSchema).optional(),
  traceTruncated: z.boolean().optional().describe("the trace stopped at its limit"),
  prints: z.array(printSchema).optional().describe("what print statements printed"),
});

const documentSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION).describe("the version of this schema"),
  ptlab: z.string().describe("the ptlab version that wrote the document"),
  ok: z.boolean().describe("every expectation held and nothing was violated"),
  file: z.string().optional(),
  runs: z.array(runSchema),
  skipped: z.array(z.object({ arch: z.string(), reason: z.string() })).optional()
    .describe("configurations the scenario could not run on (addresses that do not fit)"),
});

/** The JSON document ptlab prints with `--format json`. */
export interface ReportDocument {
  /** {@link SCHEMA_VERSION}. */
  schemaVersion: typeof SCHEMA_VERSION;
  /** The ptlab version that wrote it. */
  ptlab: string;
  /** Every expectation held and nothing was violated, in every run. */
  ok: boolean;
  /** The scenario file. */
  file?: string;
  /** One run per configuration. */
  runs: RunResult[];
  /** Configurations the scenario could not run on, and why. */
  skipped?: { arch: string; reason: string }[];
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
// Fails to compile if the hand-written types and the schema drift apart.
const _runOk: Equal<Omit<RunResult, "kernel">, Omit<z.infer<typeof runSchema>, "kernel">> = true;
void _runOk;

/** Whether a set of runs all passed. */
export function runsOk(runs: readonly RunResult[]): boolean {
  return runs.every((r) => r.violations.length === 0 && r.expectations.every((e) => e.ok));
}

/** Builds the JSON document for a set of runs. */
export function reportDocument(
  runs: readonly RunResult[],
  extra: { file?: string; skipped?: { arch: string; reason: string }[] } = {},
): ReportDocument {
  return {
    schemaVersion: SCHEMA_VERSION,
    ptlab: PTLAB_VERSION,
    ok: runsOk(runs),
    ...(extra.file !== undefined ? { file: extra.file } : {}),
    runs: [...runs],
    ...(extra.skipped?.length ? { skipped: extra.skipped } : {}),
  };
}

/** Validates data against the JSON output schema; throws with a readable message if it fails. */
export function parseReportDocument(data: unknown): ReportDocument {
  const r = documentSchema.safeParse(data);
  if (!r.success) throw new TypeError(`Invalid ptlab report: ${z.prettifyError(r.error)}`);
  return r.data as ReportDocument;
}

/** The JSON output schema as JSON Schema (draft 2020-12). */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(documentSchema) as Record<string, unknown>;
}
