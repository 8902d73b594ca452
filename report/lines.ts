/**
 * Line formats for pipes: NDJSON (one event per line) and CSV (one row per snapshot and process).
 *
 * @module
 */

import { LEVELS, type RunResult, SYSTEM_METRICS } from "../engine/types.ts";

/**
 * NDJSON: for each run a `run` line, then its `snapshot`, `expectation`, `violation`, `event`
 * (injected failures, OOMs) and (with tracing) `call` lines, each carrying `arch` and `kernel`.
 */
export function ndjson(runs: readonly RunResult[]): string {
  const out: string[] = [];
  for (const r of runs) {
    const base = { arch: r.arch, kernel: r.kernel };
    out.push(JSON.stringify({ type: "run", ...base, options: r.options }));
    for (const t of r.trace ?? []) out.push(JSON.stringify({ type: "call", ...base, ...t }));
    for (const s of r.snapshots) out.push(JSON.stringify({ type: "snapshot", ...base, ...s }));
    for (const e of r.expectations) {
      out.push(JSON.stringify({ type: "expectation", ...base, ...e }));
    }
    for (const v of r.violations) out.push(JSON.stringify({ type: "violation", ...base, ...v }));
    for (const e of r.events) out.push(JSON.stringify({ type: "event", ...base, ...e }));
    out.push(JSON.stringify({ type: "final", ...base, ...r.final }));
  }
  return out.join("\n") + (out.length ? "\n" : "");
}

/** Quotes a CSV field when it needs it (RFC 4180). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The CSV header. */
export const CSV_HEADER: readonly string[] = [
  "arch",
  "kernel",
  "snapshot",
  "line",
  "mm",
  "vmpte",
  ...LEVELS,
  "rss",
  ...SYSTEM_METRICS,
];

/** CSV: one row per snapshot and process (a row with an empty `mm` when there is none). */
export function csv(runs: readonly RunResult[]): string {
  const rows: (string | number)[][] = [[...CSV_HEADER]];
  for (const r of runs) {
    for (const s of [...r.snapshots, r.final]) {
      const sys = SYSTEM_METRICS.map((k) => s.metrics[k]);
      const names = Object.keys(s.mms);
      if (names.length === 0) {
        rows.push([r.arch, r.kernel, s.label, s.line, "", "", "", "", "", "", "", "", ...sys]);
      }
      for (const n of names) {
        const f = s.mms[n];
        rows.push([
          r.arch,
          r.kernel,
          s.label,
          s.line,
          n,
          f.vmpte,
          ...LEVELS.map((l) => f.tables[l]),
          f.rss,
          ...sys,
        ]);
      }
    }
  }
  return rows.map((r) => r.map(csvField).join(",")).join("\n") + "\n";
}
