/**
 * Line formats for pipes: NDJSON (one event per line) and CSV (one row per snapshot and process).
 *
 * @module
 */

import { LEVELS, type RunResult, SYSTEM_METRICS } from "../engine/types.ts";

/**
 * NDJSON: for each run a `run` line, then its `snapshot`, `expectation`, `violation`, `event`
 * (injected failures, OOMs), `print` and (with tracing) `call` lines, each carrying `arch` and `kernel`.
 */
export function ndjson(runs: readonly RunResult[]): string {
  const out = [...ndjsonLines(runs)];
  return out.join("\n") + (out.length ? "\n" : "");
}

/** {@link ndjson} a line at a time (no newlines), for writing a large run as it goes. */
export function* ndjsonLines(runs: readonly RunResult[]): Generator<string> {
  for (const r of runs) {
    const base = { arch: r.arch, kernel: r.kernel };
    const params = r.params;
    yield JSON.stringify({
      type: "run",
      ...base,
      options: r.options,
      ...(params ? { params } : {}),
    });
    for (const t of r.trace ?? []) yield JSON.stringify({ type: "call", ...base, ...t });
    for (const s of r.snapshots) yield JSON.stringify({ type: "snapshot", ...base, ...s });
    for (const e of r.expectations) yield JSON.stringify({ type: "expectation", ...base, ...e });
    for (const v of r.violations) yield JSON.stringify({ type: "violation", ...base, ...v });
    for (const e of r.events) yield JSON.stringify({ type: "event", ...base, ...e });
    for (const p of r.prints ?? []) yield JSON.stringify({ type: "print", ...base, ...p });
    yield JSON.stringify({ type: "final", ...base, ...r.final });
  }
}

/**
 * Quotes a CSV field when it needs it (RFC 4180). A text cell that a spreadsheet would take for
 * a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`
 * (OWASP's CSV-injection rule); numbers stay numbers.
 */
export function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
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
  return [...csvLines(runs)].join("\n") + "\n";
}

/**
 * {@link csv} a line at a time. Runs made with swept parameters (`--set`) get a column per
 * parameter after `kernel`.
 */
export function* csvLines(runs: readonly RunResult[]): Generator<string> {
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params ?? {})))];
  const line = (cells: (string | number)[]) => cells.map(csvField).join(",");
  yield line([...CSV_HEADER.slice(0, 2), ...params, ...CSV_HEADER.slice(2)]);
  for (const r of runs) {
    const key = [r.arch, r.kernel, ...params.map((p) => r.params?.[p] ?? "")];
    for (const s of [...r.snapshots, r.final]) {
      const sys = SYSTEM_METRICS.map((k) => s.metrics[k]);
      const names = Object.keys(s.mms);
      if (names.length === 0) {
        yield line([...key, s.label, s.line, "", "", "", "", "", "", "", "", ...sys]);
      }
      for (const n of names) {
        const f = s.mms[n];
        yield line([
          ...key,
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
}
