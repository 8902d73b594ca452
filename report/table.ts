/**
 * Aligned text tables for people: one row per snapshot of a run, with units; a comparison table
 * with one row per configuration; expectation and violation lists.
 *
 * @module
 */

import {
  LEVELS,
  type PrintOutput,
  type RunResult,
  type Snapshot,
  SYSTEM_METRICS,
} from "../engine/types.ts";

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

/** How a table is drawn: colour, exact figures, columns, width. */
export interface TableStyle {
  /** ANSI colour for failed expectations, violations and results (a terminal without NO_COLOR). */
  color?: boolean;
  /** Byte figures as exact numbers (`12288`) instead of binary units (`12 KiB`). */
  exact?: boolean;
  /** Comparison-table metrics, by name or short alias (see {@link COMPARISON_METRICS}). */
  metrics?: readonly string[];
  /** Terminal width: a comparison table wider than this is wrapped into blocks. */
  width?: number;
  /** After each run's table, the IPIs per CPU at its end, by /proc/interrupts line (`--cpus`). */
  cpus?: boolean;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** A cell's width on a terminal (colour codes take no room). */
export function visibleLength(s: string): number {
  return s.replace(ANSI, "").length;
}

/** Wraps text in an ANSI colour when `on`. */
export function paint(text: string, color: "red" | "green" | "bold", on: boolean | undefined) {
  if (!on) return text;
  const code = { red: "31", green: "32", bold: "1" }[color];
  return `\x1b[${code}m${text}\x1b[0m`;
}

function pad(c: string, w: number, right: boolean): string {
  const n = Math.max(0, w - visibleLength(c));
  return right ? " ".repeat(n) + c : c + " ".repeat(n);
}

/** Aligned lines, one per row; numbers-like cells right-aligned. */
export function* alignedLines(
  rows: Iterable<string[]>,
  widths: readonly number[],
  rightAlign: (col: number) => boolean,
): Generator<string> {
  for (const r of rows) {
    yield r.map((c, i) => pad(c, widths[i], rightAlign(i))).join("  ").trimEnd();
  }
}

function columnWidths(rows: readonly string[][]): number[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => widths[i] = Math.max(widths[i] ?? 0, visibleLength(c)));
  return widths;
}

/** Pads cells into aligned columns; numbers-like cells right-aligned. */
export function alignTable(rows: string[][], rightAlign: (col: number) => boolean): string {
  return [...alignedLines(rows, columnWidths(rows), rightAlign)].join("\n");
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
export function runTable(r: RunResult, style: TableStyle = {}): string {
  return [...runTableLines(r, style)].join("\n");
}

/**
 * {@link runTable} line by line, so that a run of a million snapshots is written without one
 * giant string. Column titles are the metric names a scenario's `expect` uses.
 */
export function* runTableLines(r: RunResult, style: TableStyle = {}): Generator<string> {
  const opts = Object.entries(r.options).filter(([k]) => k !== "kernel" && k !== "ram")
    .map(([k, v]) => `${k} ${v}`).join(" · ");
  const params = r.params ? Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ") : "";
  yield paint(
    `${r.arch} · kernel ${r.kernel}${opts ? ` · ${opts}` : ""}${params ? ` · ${params}` : ""}`,
    "bold",
    style.color,
  );
  const snaps = [...r.snapshots, r.final];
  const names = mmNames(snaps);
  const size = style.exact ? String : bytes;
  // columns for injected failures and their outcome, when the run had any
  const failures = FAILURE_COLUMNS.filter((key) => snaps.some((s) => s.metrics[key] !== 0));
  const header = [
    "snapshot",
    "line",
    ...names.flatMap((n) => [`${n}.vmpte`, `${n}.tables`, `${n}.rss`]),
    "nr_page_table_pages",
    "pagetable_frames",
    "ptlocks",
    "tlb_flushes",
    "ipis",
    ...failures,
    "leaks",
    "violations",
  ];
  const row = (s: Snapshot) => [
    s.label,
    String(s.line),
    ...names.flatMap((n) => {
      const m = s.mms[n];
      return m ? [size(m.vmpte), tablesCell(m.tables), size(m.rss)] : ["-", "-", "-"];
    }),
    style.exact ? String(s.metrics.nr_page_table_pages) : pages(s.metrics.nr_page_table_pages),
    String(s.metrics.pagetable_frames),
    String(s.metrics.ptlocks),
    String(s.metrics.tlb_flushes),
    String(s.metrics.ipis),
    ...failures.map((key) => String(s.metrics[key])),
    String(s.metrics.leaks),
    s.metrics.violations ? paint(String(s.metrics.violations), "red", style.color) : "0",
  ];
  // two passes over the snapshots (widths, then lines), never all rows at once
  const widths = header.map((h) => h.length);
  for (const s of snaps) {
    row(s).forEach((c, i) => widths[i] = Math.max(widths[i], visibleLength(c)));
  }
  const right = (i: number) => i > 0;
  yield* alignedLines([header], widths, right);
  for (const s of snaps) yield* alignedLines([row(s)], widths, right);
  if (names.length) yield `(tables: pgd/p4d/pud/pmd/pte)`;
  if (style.cpus) yield* cpuLines(r.final);
  for (const p of r.prints ?? []) yield printText(p);
  for (const part of [expectationLines(r, style), violationLines(r, style), eventLines(r)]) {
    if (part !== "") yield part;
  }
}

/**
 * The IPIs each CPU received by the end, per /proc/interrupts line, with what each `sync_ipi`
 * rule would send it through tlb_remove_table_sync_one; CPUs with nothing are summed up.
 */
export function* cpuLines(s: Snapshot): Generator<string> {
  const c = s.cpus;
  const lines = Object.keys(c.lines);
  const header = ["cpu", ...lines, "ipis", "sync all", "sync mm_cpus", "sync skip_if_flushed"];
  const rows: string[][] = [];
  let quiet = 0;
  for (let i = 0; i < c.ipis.length; i++) {
    const any = c.ipis[i] || c.sync.all[i] || c.sync.mm_cpus[i] || c.sync.skip_if_flushed[i];
    if (!any) {
      quiet++;
      continue;
    }
    rows.push([
      String(i),
      ...lines.map((l) => String(c.lines[l][i])),
      String(c.ipis[i]),
      String(c.sync.all[i]),
      String(c.sync.mm_cpus[i]),
      String(c.sync.skip_if_flushed[i]),
    ]);
  }
  yield `IPIs per CPU at the end (${s.label}):`;
  yield alignTable([header, ...rows], (i) => i > 0);
  if (quiet) yield `(${quiet} CPU(s) received none)`;
}

function expectationLines(r: RunResult, style: TableStyle): string {
  if (r.expectations.length === 0) return "";
  const failed = r.expectations.filter((e) => !e.ok);
  const lines = [
    paint(
      `expectations: ${r.expectations.length - failed.length} held, ${failed.length} failed`,
      failed.length ? "red" : "green",
      style.color,
    ),
  ];
  for (const e of failed) {
    lines.push(paint(
      `  FAILED line ${e.line}: expect ${e.text}  (left is ${e.actual}, right is ${e.expected})`,
      "red",
      style.color,
    ));
  }
  return lines.join("\n");
}

/** A print statement's output, with where it is. */
function printText(p: PrintOutput): string {
  return `print line ${p.line}${p.file ? ` of ${p.file}` : ""}: ${p.text}`;
}

/** Metrics shown as columns only when a snapshot has them non-zero. */
const FAILURE_COLUMNS: readonly ("injected" | "ooms" | "enomems")[] = [
  "injected",
  "ooms",
  "enomems",
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

function violationLines(r: RunResult, style: TableStyle): string {
  if (r.violations.length === 0) return "";
  return paint(
    [
      `violations: ${r.violations.length}`,
      ...r.violations.map((v) => `  line ${v.line}: [${v.rule}] ${v.message}`),
    ].join("\n"),
    "red",
    style.color,
  );
}

/** One column kind of the comparison table. */
export interface ComparisonMetric {
  /** Per process (a column per process at each snapshot) or system-wide. */
  perMm: boolean;
  /** The cell. */
  cell(s: Snapshot, mm: string | undefined, style: TableStyle): string;
}

const bytesCell = (n: number, style: TableStyle) => style.exact ? String(n) : bytes(n);
const systemMetric = (key: keyof Snapshot["metrics"]): ComparisonMetric => ({
  perMm: false,
  cell: (s) => String(s.metrics[key]),
});

/**
 * The metrics a comparison table can show (`--metrics`), by the name a scenario's `expect` uses;
 * per-process ones head their columns `MM.name`.
 */
export const COMPARISON_METRICS: Readonly<Record<string, ComparisonMetric>> = {
  vmpte: { perMm: true, cell: (s, mm, st) => bytesCell(s.mms[mm!].vmpte, st) },
  rss: { perMm: true, cell: (s, mm, st) => bytesCell(s.mms[mm!].rss, st) },
  tables: { perMm: true, cell: (s, mm) => tablesCell(s.mms[mm!].tables) },
  ...Object.fromEntries(LEVELS.map((l) => [
    `tables.${l}`,
    { perMm: true, cell: (s: Snapshot, mm?: string) => String(s.mms[mm!].tables[l]) },
  ])),
  ...Object.fromEntries(SYSTEM_METRICS.map((k) => [k, systemMetric(k)])),
};

/** Short names `--metrics` also accepts, and the metric each stands for. */
export const METRIC_ALIASES: Readonly<Record<string, string>> = {
  pages: "nr_page_table_pages",
  flushes: "tlb_flushes",
  frames: "pagetable_frames",
  ...Object.fromEntries(LEVELS.map((l) => [l, `tables.${l}`])),
};

/** The metrics a comparison table shows unless told. */
export const DEFAULT_COMPARISON_METRICS: readonly string[] = ["vmpte", "nr_page_table_pages"];

/** The metric a `--metrics` name stands for, or undefined. */
export function comparisonMetric(name: string): string | undefined {
  const m = METRIC_ALIASES[name] ?? name;
  return m in COMPARISON_METRICS ? m : undefined;
}

/**
 * Several runs side by side: a row per configuration (and kernel, and swept parameters), and for
 * each snapshot label a column per chosen metric (`style.metrics`; per process for VmPTE, RSS
 * and tables). Wider than `style.width`, it wraps into blocks that repeat the row keys.
 */
export function comparisonTable(runs: readonly RunResult[], style: TableStyle = {}): string {
  if (runs.length === 0) return "";
  // IPIs join the default columns when any run sent one
  const ipis = runs.some((r) => r.final.metrics.ipis > 0) ? ["ipis"] : [];
  const metrics = (style.metrics ?? [...DEFAULT_COMPARISON_METRICS, ...ipis]).map((m) => {
    const k = comparisonMetric(m);
    if (!k) throw new RangeError(`unknown metric "${m}"`);
    return k;
  });
  // the final state gets a column only where it differs from the last snapshot taken
  const same = (r: RunResult) => {
    const last = r.snapshots[r.snapshots.length - 1];
    return last !== undefined &&
      JSON.stringify([last.metrics, last.mms]) === JSON.stringify([r.final.metrics, r.final.mms]);
  };
  const withFinal = !runs.every(same);
  const labels: string[] = [];
  const seen = new Set<string>();
  for (const r of runs) {
    for (const s of withFinal ? [...r.snapshots, r.final] : r.snapshots) {
      if (!seen.has(s.label)) labels.push(s.label), seen.add(s.label);
    }
  }
  const names = mmNames(runs.flatMap((r) => [...r.snapshots, r.final]));
  const index = runs.map((r) => {
    const m = new Map<string, Snapshot>();
    for (const s of [...r.snapshots, r.final]) if (!m.has(s.label)) m.set(s.label, s);
    return m;
  });
  const paramNames = [...new Set(runs.flatMap((r) => Object.keys(r.params ?? {})))];
  const keys = ["configuration", "kernel", ...paramNames];
  const columns: { title: string; cell: (i: number) => string }[] = [];
  for (const l of labels) {
    for (const k of metrics) {
      const m = COMPARISON_METRICS[k];
      // a process gets a column at a snapshot only if it exists there in some run
      const mms = m.perMm
        ? names.filter((n) => index.some((x) => x.get(l)?.mms[n] !== undefined))
        : [undefined];
      for (const mm of mms) {
        columns.push({
          title: `${l}: ${mm === undefined ? k : `${mm}.${k}`}`,
          cell: (i) => {
            const s = index[i].get(l);
            return s && (mm === undefined || s.mms[mm]) ? m.cell(s, mm, style) : "-";
          },
        });
      }
    }
  }
  const rowKeys = runs.map((
    r,
  ) => [r.arch, r.kernel, ...paramNames.map((p) => r.params?.[p] ?? "-")]);
  const results = runs.map((r) => {
    const failed = r.expectations.filter((e) => !e.ok).length;
    return failed || r.violations.length
      ? paint(`${failed} failed, ${r.violations.length} violations`, "red", style.color)
      : paint("ok", "green", style.color);
  });
  const cells = columns.map((c) => [c.title, ...runs.map((_, i) => c.cell(i))]);
  const keyRows = [keys, ...rowKeys];
  const keyWidths = columnWidths(keyRows);
  const colWidths = cells.map((c) => Math.max(...c.map(visibleLength)));
  const resultWidth = Math.max(6, ...results.map(visibleLength));
  const keyWidth = keyWidths.reduce((a, b) => a + b + 2, 0);
  // blocks of columns that fit the width (at least one column each); the result closes the last
  const blocks: number[][] = [];
  let cur: number[] = [];
  let w = keyWidth;
  for (let c = 0; c < columns.length; c++) {
    const extra = colWidths[c] + 2 + (c === columns.length - 1 ? resultWidth + 2 : 0);
    if (style.width && cur.length && w + extra > style.width) {
      blocks.push(cur);
      cur = [];
      w = keyWidth;
    }
    cur.push(c);
    w += colWidths[c] + 2;
  }
  blocks.push(cur);
  const out: string[] = [];
  blocks.forEach((b, bi) => {
    const last = bi === blocks.length - 1;
    const rows = keyRows.map((k, i) => [
      ...k,
      ...b.map((c) => cells[c][i]),
      ...(last ? [i === 0 ? "result" : results[i - 1]] : []),
    ]);
    const widths = [...keyWidths, ...b.map((c) => colWidths[c]), ...(last ? [resultWidth] : [])];
    const nk = keys.length;
    if (bi > 0) out.push("");
    out.push(...alignedLines(rows, widths, (i) => i >= nk && i < nk + b.length));
  });
  // what print statements printed, per run (the JSON has them all)
  runs.forEach((r) => {
    const prints = r.prints ?? [];
    const key = [r.arch, r.kernel, ...Object.entries(r.params ?? {}).map(([k, v]) => `${k}=${v}`)]
      .join(" ");
    for (const p of prints.slice(0, TABLE_EVENTS)) out.push(`${key}: ${printText(p)}`);
    if (prints.length > TABLE_EVENTS) {
      out.push(`${key}: ... ${prints.length - TABLE_EVENTS} more prints`);
    }
  });
  return out.join("\n");
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
