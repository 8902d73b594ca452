/**
 * Aligned text tables for people: one row per snapshot of a run, with units; a comparison table
 * with one row per configuration; expectation and violation lists.
 *
 * @module
 */

import { LEVELS, type RunResult, type Snapshot } from "../engine/types.ts";

/** Formats bytes with binary units: `0 B`, `512 B`, `12 KiB`, `2 MiB`, `1.5 GiB`. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let u = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && u < units.length - 1 && Math.abs(v) % 1024 === 0) {
    v /= 1024;
    u++;
  }
  if (Math.abs(v) >= 1024 && u < units.length - 1) {
    while (Math.abs(v) >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${Number(v.toFixed(2))} ${units[u]}`;
  }
  return `${v} ${units[u]}`;
}

/** Formats a page count: `1 page`, `3 pages`. */
export function pages(n: number): string {
  return `${n} ${Math.abs(n) === 1 ? "page" : "pages"}`;
}

/** Pads cells into aligned columns; numbers-like cells right-aligned. */
export function alignTable(rows: string[][], rightAlign: (col: number) => boolean): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, c.length));
  return rows.map((r) =>
    r.map((c, i) => rightAlign(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])).join("  ")
      .trimEnd()
  ).join("\n");
}

function tablesCell(t: Record<string, number>): string {
  return LEVELS.map((l) => t[l]).join("/");
}

/** Names of the processes that appear in any snapshot of the run, in order of appearance. */
function mmNames(snaps: readonly Snapshot[]): string[] {
  const names: string[] = [];
  for (const s of snaps) for (const n of Object.keys(s.mms)) if (!names.includes(n)) names.push(n);
  return names;
}

/** One run as a table: a row per snapshot (and the final state), then expectations and violations. */
export function runTable(r: RunResult): string {
  const opts = Object.entries(r.options).filter(([k]) => k !== "kernel" && k !== "ram")
    .map(([k, v]) => `${k} ${v}`).join(" · ");
  const head = `${r.arch} · kernel ${r.kernel}${opts ? ` · ${opts}` : ""}`;
  const snaps = [...r.snapshots, r.final];
  const names = mmNames(snaps);
  // columns for injected failures and their outcome, when the run had any
  const failures = FAILURE_COLUMNS.filter(([key]) => snaps.some((s) => s.metrics[key] !== 0));
  const header = [
    "snapshot",
    "line",
    ...names.flatMap((n) => [`${n} VmPTE`, `${n} tables`, `${n} RSS`]),
    "NR_PAGETABLE",
    "pt frames",
    "ptlocks",
    "flushes",
    "IPIs",
    ...failures.map(([, title]) => title),
    "leaks",
    "violations",
  ];
  const rows = snaps.map((s) => [
    s.label,
    String(s.line),
    ...names.flatMap((n) => {
      const m = s.mms[n];
      return m ? [bytes(m.vmpte), tablesCell(m.tables), bytes(m.rss)] : ["-", "-", "-"];
    }),
    pages(s.metrics.nr_page_table_pages),
    String(s.metrics.pagetable_frames),
    String(s.metrics.ptlocks),
    String(s.metrics.tlb_flushes),
    String(s.metrics.ipis),
    ...failures.map(([key]) => String(s.metrics[key])),
    String(s.metrics.leaks),
    String(s.metrics.violations),
  ]);
  const out = [head, alignTable([header, ...rows], (i) => i > 0)];
  if (names.length) out.push(`(tables: pgd/p4d/pud/pmd/pte)`);
  out.push(expectationLines(r), violationLines(r), eventLines(r));
  return out.filter((s) => s !== "").join("\n");
}

function expectationLines(r: RunResult): string {
  if (r.expectations.length === 0) return "";
  const failed = r.expectations.filter((e) => !e.ok);
  const lines = [
    `expectations: ${r.expectations.length - failed.length} held, ${failed.length} failed`,
  ];
  for (const e of failed) {
    lines.push(
      `  FAILED line ${e.line}: expect ${e.text}  (left is ${e.actual}, right is ${e.expected})`,
    );
  }
  return lines.join("\n");
}

/** Metrics shown as columns only when a snapshot has them non-zero, with their titles. */
const FAILURE_COLUMNS: readonly (readonly ["injected" | "ooms" | "enomems", string])[] = [
  ["injected", "injected"],
  ["ooms", "OOMs"],
  ["enomems", "ENOMEM"],
];

/** Events listed under a table; the JSON has them all. */
const TABLE_EVENTS = 20;

function eventLines(r: RunResult): string {
  const n = r.events.length + (r.eventsDropped ?? 0);
  if (n === 0) return "";
  const shown = r.events.slice(0, TABLE_EVENTS);
  return [
    `events: ${n}`,
    ...shown.map((e) => `  line ${e.line}: ${e.kind} ${e.detail}`),
    ...(n > shown.length ? [`  ... ${n - shown.length} more (see --format json)`] : []),
  ].join("\n");
}

function violationLines(r: RunResult): string {
  if (r.violations.length === 0) return "";
  return [
    `violations: ${r.violations.length}`,
    ...r.violations.map((v) => `  line ${v.line}: [${v.rule}] ${v.message}`),
  ].join("\n");
}

/**
 * Several runs side by side: a row per configuration, and for each snapshot label a VmPTE
 * column per process and an NR_PAGETABLE column.
 */
export function comparisonTable(runs: readonly RunResult[]): string {
  if (runs.length === 0) return "";
  // the final state gets a column only where it differs from the last snapshot taken
  const same = (r: RunResult) => {
    const last = r.snapshots[r.snapshots.length - 1];
    return last !== undefined &&
      JSON.stringify([last.metrics, last.mms]) === JSON.stringify([r.final.metrics, r.final.mms]);
  };
  const withFinal = !runs.every(same);
  const labels: string[] = [];
  for (const r of runs) {
    for (const s of withFinal ? [...r.snapshots, r.final] : r.snapshots) {
      if (!labels.includes(s.label)) labels.push(s.label);
    }
  }
  const names = mmNames(runs.flatMap((r) => [...r.snapshots, r.final]));
  const find = (r: RunResult, l: string) => [...r.snapshots, r.final].find((x) => x.label === l);
  // a process gets a column at a snapshot only if it exists there in some run
  const cols = labels.map((l) => ({
    l,
    mms: names.filter((n) => runs.some((r) => find(r, l)?.mms[n] !== undefined)),
  }));
  const header = ["configuration", "kernel"];
  for (const { l, mms } of cols) {
    for (const n of mms) header.push(`${l}: ${n} VmPTE`);
    header.push(`${l}: pages`);
  }
  header.push("result");
  const rows = runs.map((r) => {
    const row = [r.arch, r.kernel];
    for (const { l, mms } of cols) {
      const s = find(r, l);
      for (const n of mms) row.push(s?.mms[n] ? bytes(s.mms[n].vmpte) : "-");
      row.push(s ? String(s.metrics.nr_page_table_pages) : "-");
    }
    const failed = r.expectations.filter((e) => !e.ok).length;
    row.push(
      failed || r.violations.length ? `${failed} failed, ${r.violations.length} violations` : "ok",
    );
    return row;
  });
  return alignTable([header, ...rows], (i) => i > 1 && i < header.length - 1);
}

/**
 * The traces of several runs side by side, a column per run and a block per scenario line, so
 * that one version's calls can be read against another's (`--kernel 6.1,6.6 --trace`).
 */
export function traceSideBySide(runs: readonly RunResult[], width = 44): string {
  const byLine = runs.map((r) => {
    const m = new Map<number, string[]>();
    for (const t of r.trace ?? []) {
      let l = m.get(t.line);
      if (!l) m.set(t.line, l = []);
      l.push(t.fn);
    }
    return m;
  });
  const lines = [...new Set(byLine.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const cell = (s: string) => (s.length > width ? s.slice(0, width - 1) + "~" : s).padEnd(width);
  const out = ["line  " + runs.map((r) => cell(`${r.arch} ${r.kernel}`)).join("  ").trimEnd()];
  for (const line of lines) {
    const cols = byLine.map((m) => m.get(line) ?? []);
    const n = Math.max(...cols.map((c) => c.length));
    for (let i = 0; i < n; i++) {
      const lead = i === 0 ? String(line).padStart(4) + "  " : "      ";
      out.push(lead + cols.map((c) => cell(c[i] ?? "")).join("  ").trimEnd());
    }
  }
  return out.join("\n");
}
