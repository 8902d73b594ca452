/**
 * SVG charts for `--format svg`: standalone SVG 1.1 documents with no external resources.
 *
 * - Several runs: a grouped bar chart of one metric, a group per snapshot (by label, in order),
 *   a bar per run (configuration and kernel), with a numbered legend. Bars carry a colour
 *   (a colour-blind-safe palette), a fill pattern and their run's number under them, so they can
 *   be told apart without colour.
 * - One run: small multiples, a panel per metric (NR_PAGETABLE, each process's VmPTE, TLB
 *   flushes and IPIs) over the snapshots, each panel with its own axis.
 *
 * Every value is in a `<title>` (a tooltip) with its exact figure. The output is a function of
 * the input only: the same runs give the same bytes.
 *
 * @module
 */

import { LEVELS, type RunResult, type Snapshot, SYSTEM_METRICS } from "../engine/types.ts";

/** Options of {@link svgReport}. */
export interface SvgOptions {
  /**
   * The metric charted (default {@link SVG_DEFAULT_METRIC}): `vmpte` (VmPTE summed over the
   * processes, bytes), `rss` (summed), a system metric (`nr_page_table_pages`, `tlb_flushes`,
   * ...) or a process's (`a.vmpte`, `a.rss`, `a.tables.pte`). With one run, a metric given
   * here is charted alone instead of the default panels.
   */
  metric?: string;
  /** The chart's title (default: one naming the metric). */
  title?: string;
}

/** The metric charted when none is given: VmPTE summed over the processes, in bytes. */
export const SVG_DEFAULT_METRIC = "vmpte";

/** Runs (bars per group) charted at most; the rest are left out, and a note says so. */
export const MAX_SERIES = 240;
/** Snapshot groups charted at most. */
export const MAX_GROUPS = 60;
/** Bars charted at most (groups are cut to fit). */
export const MAX_BARS = 4800;
/** Width of a legend block, pixels; a wider chart repeats the block. */
const LEGEND_WIDTH = 1400;
/** Space between repeated legend blocks. */
const LEGEND_GAP = 600;
/** Snapshots charted at most in the one-run chart. */
export const MAX_POINTS = 300;
/** Lines (processes) per panel of the one-run chart at most. */
export const MAX_LINES = 12;

/** How a metric's values are shown. */
type Unit = "bytes" | "pages" | "count";

interface Metric {
  /** What the axis says. */
  title: string;
  unit: Unit;
  /** The value at a snapshot; undefined when it has none (a process that does not exist). */
  get(s: Snapshot): number | undefined;
  /** How the value was made up, for the tooltip. */
  detail?(s: Snapshot): string;
}

function sumOver(field: "vmpte" | "rss"): (s: Snapshot) => number {
  return (s) => Object.values(s.mms).reduce((t, m) => t + m[field], 0);
}

function partsOf(field: "vmpte" | "rss"): (s: Snapshot) => string {
  return (s) => {
    const names = Object.keys(s.mms);
    if (names.length < 2) return "";
    return names.map((n) => `${n} ${s.mms[n][field]}`).join(" + ");
  };
}

/** The metric a name stands for; throws an Error naming the valid ones for an unknown name. */
function resolveMetric(name: string): Metric {
  if (name === "vmpte") {
    return {
      title: "VmPTE, all processes",
      unit: "bytes",
      get: sumOver("vmpte"),
      detail: partsOf("vmpte"),
    };
  }
  if (name === "rss") {
    return {
      title: "RSS, all processes",
      unit: "bytes",
      get: sumOver("rss"),
      detail: partsOf("rss"),
    };
  }
  const sys = SYSTEM_METRICS.find((m) => m === name);
  if (sys) {
    return {
      title: sys === "nr_page_table_pages" ? "NR_PAGETABLE" : sys,
      unit: sys === "nr_page_table_pages" || sys === "pagetable_frames" ? "pages" : "count",
      get: (s) => s.metrics[sys],
    };
  }
  const dot = name.indexOf(".");
  if (dot > 0) {
    const mm = name.slice(0, dot);
    const field = name.slice(dot + 1);
    if (field === "vmpte" || field === "rss") {
      return {
        title: `${mm} ${field === "vmpte" ? "VmPTE" : "RSS"}`,
        unit: "bytes",
        get: (s) => s.mms[mm]?.[field],
      };
    }
    const level = LEVELS.find((l) => field === `tables.${l}`);
    if (level) {
      return {
        title: `${mm} ${level} tables`,
        unit: "count",
        get: (s) => s.mms[mm]?.tables[level],
      };
    }
  }
  throw new Error(
    `unknown metric "${name}": use vmpte, rss, ${
      SYSTEM_METRICS.join(", ")
    }, or MM.vmpte, MM.rss, MM.tables.{${LEVELS.join(",")}}`,
  );
}

// ---------------------------------------------------------------------------------------------
// formatting

/** Escapes text for XML content and attribute values; drops characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return s
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "\uFFFD")
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** A coordinate or length with at most two decimals, never `-0`. */
function n2(x: number): string {
  const v = Math.round(x * 100) / 100;
  return String(v === 0 ? 0 : v);
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** A byte count in the largest binary unit it reaches: `12 KiB`, `8.5 KiB`, `4 MiB`. */
function humanBytes(v: number): string {
  let u = 0;
  let x = v;
  while (Math.abs(x) >= 1024 && u < BYTE_UNITS.length - 1) {
    x /= 1024;
    u++;
  }
  return `${Number(x.toFixed(2))} ${BYTE_UNITS[u]}`;
}

/** A value for a tooltip: human and exact. */
function exact(v: number, unit: Unit): string {
  if (unit === "bytes") return v < 1024 ? `${v} bytes` : `${humanBytes(v)} (${v} bytes)`;
  if (unit === "pages") return `${v} ${Math.abs(v) === 1 ? "page" : "pages"}`;
  return String(v);
}

/** A value for a label over a bar: short. */
function short(v: number, unit: Unit): string {
  return unit === "bytes" ? humanBytes(v) : String(v);
}

/** Text truncated to `max` characters with an ellipsis. */
function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join("") + "\u2026";
}

/** Estimated width of text in the sans-serif font at `size` px. */
function textWidth(s: string, size: number): number {
  return [...s].length * size * 0.6;
}

// ---------------------------------------------------------------------------------------------
// scales

/** A value axis: ticks from 0 to `top` in `step`s. */
export interface Scale {
  /** The axis's top value (a tick), at least the largest value. */
  top: number;
  /** Distance between ticks. */
  step: number;
  /** The tick values, 0 first. */
  ticks: number[];
  /** Tick labels. */
  labels: string[];
}

function niceStep(x: number): number {
  const e = Math.pow(10, Math.floor(Math.log10(x)));
  const f = x / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

/**
 * A value axis for values from 0 to `max`: 1-2-5 steps, about five ticks. Byte axes step in
 * the binary unit `max` reaches (`0, 5 KiB, 10 KiB, ...`); counts step by whole numbers.
 */
export function niceScale(max: number, unit: Unit | "bytes" | "pages" | "count"): Scale {
  let scale = 1;
  let suffix = "";
  if (unit === "bytes") {
    let u = 0;
    while (max >= 1024 * scale && u < BYTE_UNITS.length - 1) {
      scale *= 1024;
      u++;
    }
    suffix = ` ${BYTE_UNITS[u]}`;
  }
  const m = max > 0 ? max / scale : 1;
  let step = niceStep(m / 5);
  if (scale === 1 && step < 1) step = 1; // whole bytes, pages and counts
  const n = Math.max(1, Math.ceil(m / step - 1e-9));
  const ticks: number[] = [];
  const labels: string[] = [];
  for (let i = 0; i <= n; i++) {
    const t = Number((i * step).toPrecision(12));
    ticks.push(t * scale);
    labels.push(t === 0 ? "0" : `${t}${suffix}`);
  }
  return { top: ticks[n], step: step * scale, ticks, labels };
}

// ---------------------------------------------------------------------------------------------
// palette and patterns

/** Paul Tol's "muted" scheme: distinct for the common forms of colour blindness. */
const PALETTE = [
  "#332288",
  "#88CCEE",
  "#CC6677",
  "#117733",
  "#DDCC77",
  "#882255",
  "#44AA99",
  "#999933",
  "#AA4499",
] as const;

/** Fill patterns cycled after the palette: none, then hatches and dots. */
const PATTERNS = ["solid", "diag", "antidiag", "horiz", "vert", "dots", "cross"] as const;

/** Line colours of the one-run panels (Tol "bright", darkest first). */
const LINE_COLOURS = ["#4477AA", "#EE6677", "#228833", "#AA3377", "#66CCEE", "#CCBB44"] as const;
/** Dash patterns cycled with the line colours. */
const DASHES = ["", "6 3", "2 2", "8 3 2 3"] as const;

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

/** The colour and pattern of series `i`. */
function seriesStyle(i: number): { colour: string; pattern: typeof PATTERNS[number] } {
  return {
    colour: PALETTE[i % PALETTE.length],
    pattern: PATTERNS[Math.floor(i / PALETTE.length) % PATTERNS.length],
  };
}

/** A `<pattern>` painting `colour` with `pattern` over it. */
function patternDef(id: string, colour: string, pattern: typeof PATTERNS[number]): string {
  const ink = luminance(colour) < 0.45 ? "#FFFFFF" : "#1A1A1A";
  const bg = `<rect width="6" height="6" fill="${colour}"/>`;
  const line = (x1: number, y1: number, x2: number, y2: number) =>
    `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${ink}" stroke-width="1.5"/>`;
  let body: string;
  let transform = "";
  switch (pattern) {
    case "diag":
      body = line(0, 0, 0, 6);
      transform = ` patternTransform="rotate(45)"`;
      break;
    case "antidiag":
      body = line(0, 0, 0, 6);
      transform = ` patternTransform="rotate(-45)"`;
      break;
    case "horiz":
      body = line(0, 3, 6, 3);
      break;
    case "vert":
      body = line(3, 0, 3, 6);
      break;
    case "dots":
      body = `<circle cx="3" cy="3" r="1.3" fill="${ink}"/>`;
      break;
    default: // cross
      body = line(0, 0, 0, 6) + line(0, 0, 6, 0);
      transform = ` patternTransform="rotate(45)"`;
  }
  return `<pattern id="${id}" patternUnits="userSpaceOnUse" width="6" height="6"${transform}>` +
    bg + body + `</pattern>`;
}

// ---------------------------------------------------------------------------------------------
// snapshots

/** A snapshot's place in a chart: its label and which occurrence of the label it is. */
interface Column {
  key: string;
  label: string;
}

/** The snapshots charted for each run: its snapshots, and the final state when it differs. */
function chartedSnapshots(runs: readonly RunResult[]): Snapshot[][] {
  const same = (r: RunResult) => {
    const last = r.snapshots[r.snapshots.length - 1];
    return last !== undefined &&
      JSON.stringify([last.metrics, last.mms]) === JSON.stringify([r.final.metrics, r.final.mms]);
  };
  const withFinal = !runs.every(same);
  return runs.map((r) => withFinal ? [...r.snapshots, r.final] : r.snapshots);
}

/** Each snapshot of a run keyed by label and occurrence (a label taken twice is two columns). */
function keyed(snaps: readonly Snapshot[]): Map<string, { label: string; snap: Snapshot }> {
  const seen = new Map<string, number>();
  const out = new Map<string, { label: string; snap: Snapshot }>();
  for (const s of snaps) {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    out.set(`${k}\u0000${s.label}`, {
      label: k === 0 ? s.label : `${s.label} (${k + 1})`,
      snap: s,
    });
  }
  return out;
}

/** A run's legend name: configuration and kernel (and options when that is not unique). */
function runNames(runs: readonly RunResult[]): string[] {
  const base = runs.map((r) => `${r.arch} \u00b7 ${r.kernel}`);
  return base.map((b, i) => {
    if (base.indexOf(b) === base.lastIndexOf(b)) return b;
    const opts = Object.entries(runs[i].options).filter(([k]) => k !== "kernel")
      .map(([k, v]) => `${k}=${v}`).join(" ");
    return opts ? `${b} \u00b7 ${opts}` : `${b} #${i + 1}`;
  });
}

function runOutcome(r: RunResult): string {
  const failed = r.expectations.filter((e) => !e.ok).length;
  return failed || r.violations.length
    ? `${failed} expectation(s) failed, ${r.violations.length} violation(s)`
    : "all expectations held";
}

// ---------------------------------------------------------------------------------------------
// document

const FONT = 12;

function svgDocument(w: number, h: number, title: string, desc: string, body: string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${n2(w)}" height="${
      n2(h)
    }" viewBox="0 0 ${n2(w)} ${
      n2(h)
    }" font-family="DejaVu Sans, Verdana, Arial, sans-serif" font-size="${FONT}">`,
    `<title>${xmlEscape(title)}</title>`,
    `<desc>${xmlEscape(desc)}</desc>`,
    `<rect class="background" x="0" y="0" width="${n2(w)}" height="${n2(h)}" fill="#FFFFFF"/>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

/** Title, subtitle and notes at the top; returns the elements and the height they take. */
function header(title: string, subtitle: string, notes: string[]): { els: string[]; h: number } {
  const els = [
    `<text class="chart-title" x="16" y="24" font-size="16" font-weight="bold">${
      xmlEscape(title)
    }</text>`,
    `<text class="subtitle" x="16" y="42" fill="#444444">${xmlEscape(subtitle)}</text>`,
  ];
  let y = 42;
  for (const n of notes) {
    y += 16;
    els.push(`<text class="note" x="16" y="${y}" fill="#A00000">${xmlEscape(n)}</text>`);
  }
  return { els, h: y + 14 };
}

/** A y axis with grid lines, from `top` (pixel) down `height` pixels. */
function yAxis(
  scale: Scale,
  left: number,
  top: number,
  width: number,
  height: number,
  title: string,
  titleX: number,
): string[] {
  const els: string[] = [`<g class="y-axis">`];
  scale.ticks.forEach((t, i) => {
    const y = top + height - t / scale.top * height;
    els.push(
      `<line class="grid" x1="${n2(left)}" y1="${n2(y)}" x2="${n2(left + width)}" y2="${
        n2(y)
      }" stroke="${t === 0 ? "#333333" : "#DDDDDD"}" stroke-width="1"/>`,
      `<text class="tick" x="${n2(left - 6)}" y="${n2(y + 4)}" text-anchor="end" font-size="11">${
        xmlEscape(scale.labels[i])
      }</text>`,
    );
    // a wide plot repeats the tick labels along its grid lines
    for (let x = left + LEGEND_WIDTH; t > 0 && x < left + width - 200; x += LEGEND_WIDTH) {
      els.push(
        `<text class="tick-copy" x="${n2(x + 3)}" y="${n2(y - 3)}" font-size="10" fill="#777777">${
          xmlEscape(scale.labels[i])
        }</text>`,
      );
    }
  });
  const cy = top + height / 2;
  els.push(
    `<line x1="${n2(left)}" y1="${n2(top)}" x2="${n2(left)}" y2="${
      n2(top + height)
    }" stroke="#333333" stroke-width="1"/>`,
    `<text class="axis-title" x="${n2(titleX)}" y="${
      n2(cy)
    }" text-anchor="middle" transform="rotate(-90 ${n2(titleX)} ${n2(cy)})">${
      xmlEscape(title)
    }</text>`,
    `</g>`,
  );
  return els;
}

function unitName(unit: Unit): string {
  return unit === "bytes" ? "bytes" : unit === "pages" ? "pages" : "count";
}

/**
 * An SVG chart of runs (`--format svg`): a grouped bar chart of one metric per snapshot for
 * several runs, small multiples of the main metrics over the snapshots for one. Throws an Error
 * for an unknown metric. Empty `runs` gives a document that says there is nothing to chart.
 */
export function svgReport(runs: readonly RunResult[], opts: SvgOptions = {}): string {
  if (runs.length === 0) {
    const title = opts.title ?? "ptlab";
    return svgDocument(400, 80, title, "no runs", [
      `<text class="note" x="16" y="44">${xmlEscape("no runs to chart")}</text>`,
    ]);
  }
  if (runs.length === 1) return lineChart(runs[0], opts);
  return barChart(runs, opts);
}

// ---------------------------------------------------------------------------------------------
// several runs: grouped bars

function barChart(allRuns: readonly RunResult[], opts: SvgOptions): string {
  const metricName = opts.metric ?? SVG_DEFAULT_METRIC;
  const metric = resolveMetric(metricName);
  const notes: string[] = [];
  const runs = allRuns.slice(0, MAX_SERIES);
  if (allRuns.length > runs.length) {
    notes.push(`capped: showing the first ${runs.length} of ${allRuns.length} runs`);
  }
  const names = runNames(runs);
  const perRun = chartedSnapshots(runs).map(keyed);
  const allColumns: Column[] = [];
  for (const m of perRun) {
    for (const [key, { label }] of m) {
      if (!allColumns.some((c) => c.key === key)) allColumns.push({ key, label });
    }
  }
  const maxGroups = Math.max(1, Math.min(MAX_GROUPS, Math.floor(MAX_BARS / runs.length)));
  const columns = allColumns.slice(0, maxGroups);
  if (allColumns.length > columns.length) {
    notes.push(`capped: showing the first ${columns.length} of ${allColumns.length} snapshots`);
  }
  const value = (ri: number, c: Column) => {
    const e = perRun[ri].get(c.key);
    return e ? metric.get(e.snap) : undefined;
  };
  let max = 0;
  runs.forEach((_, ri) => columns.forEach((c) => max = Math.max(max, value(ri, c) ?? 0)));
  const scale = niceScale(max, metric.unit);

  // geometry
  const n = runs.length;
  const barW = n <= 4 ? 28 : n <= 12 ? 16 : 11;
  const gap = 1;
  const groupPad = Math.max(14, barW);
  const groupW = n * (barW + gap) - gap;
  const numberFont = Math.min(10, barW - 2);
  const numberBand = n > 1 ? textWidth(String(n), numberFont) + 8 : 0;
  const labelMax = 40;
  const groupLabels = columns.map((c) => clip(c.label, labelMax));
  const labelFont = 11;
  const widest = Math.max(0, ...groupLabels.map((l) => textWidth(l, labelFont)));
  const rotate = widest > groupW + groupPad - 6;
  const labelBand = rotate ? widest * Math.sin(Math.PI / 4) + 20 : 22;
  const tickW = Math.max(...scale.labels.map((l) => textWidth(l, 11)));
  // room on the left for the axis, and for the first group's label when it slants left
  const plotLeft = Math.max(
    16 + 18 + tickW + 10,
    rotate ? widest * Math.SQRT1_2 + 8 - groupPad - groupW / 2 : 0,
  );
  const plotW = Math.max(320, columns.length * (groupW + groupPad) + groupPad);
  const legendFont = 11;
  const legendEntryW = 14 + 6 +
    Math.max(...names.map((nm, i) => textWidth(`${i + 1}. ${clip(nm, 60)}`, legendFont))) + 18;
  const titleText = opts.title ?? `ptlab: ${metric.title} per snapshot`;
  const subtitle = `${metric.title} (${
    unitName(metric.unit)
  }, metric "${metricName}") \u00b7 ${runs.length} runs \u00b7 ${columns.length} snapshots`;
  const width = Math.ceil(Math.max(
    plotLeft + plotW + 24,
    560,
    textWidth(titleText, 16) + 40,
    textWidth(subtitle, FONT) + 40,
    legendEntryW + 40,
    ...notes.map((x) => textWidth(x, FONT) + 40),
  ));
  const head = header(titleText, subtitle, notes);
  // values written over the bars when they are wide enough to carry them
  const valueLabels = barW >= 16;
  const valueFont = 10;
  let widestValue = 0;
  if (valueLabels) {
    runs.forEach((_, ri) =>
      columns.forEach((c) => {
        const v = value(ri, c);
        if (v !== undefined) {
          widestValue = Math.max(widestValue, textWidth(short(v, metric.unit), valueFont));
        }
      })
    );
  }
  const plotTop = head.h + 16 + (valueLabels ? widestValue + 6 : 0);
  const plotH = 300;
  const baseline = plotTop + plotH;
  // the legend wraps in a block at most LEGEND_WIDTH wide, repeated along a wide chart
  const legendBlockW = Math.min(width - 32, Math.max(LEGEND_WIDTH, legendEntryW));
  const legendCols = Math.max(1, Math.floor(legendBlockW / legendEntryW));
  const legendPitch = legendCols * legendEntryW + LEGEND_GAP;
  const legendCopies = Math.max(
    1,
    Math.floor((width - 32 - legendCols * legendEntryW) / legendPitch) + 1,
  );
  const legendRows = Math.ceil(n / legendCols);
  const legendTop = baseline + numberBand + labelBand + 18;
  const height = Math.ceil(legendTop + legendRows * 18 + 16);

  const els: string[] = [...head.els];
  // fills: a pattern per series that has one
  const defs: string[] = [];
  const fills = runs.map((_, i) => {
    const st = seriesStyle(i);
    if (st.pattern === "solid") return st.colour;
    const id = `fill-${i % (PALETTE.length * PATTERNS.length)}`;
    if (i < PALETTE.length * PATTERNS.length) defs.push(patternDef(id, st.colour, st.pattern));
    return `url(#${id})`;
  });
  if (defs.length) els.push(`<defs>`, ...defs, `</defs>`);
  els.push(
    `<rect class="plot-area" x="${n2(plotLeft)}" y="${n2(plotTop)}" width="${n2(plotW)}" height="${
      n2(plotH)
    }" fill="none" stroke="none"/>`,
    ...yAxis(
      scale,
      plotLeft,
      plotTop,
      plotW,
      plotH,
      `${metric.title} (${unitName(metric.unit)})`,
      24,
    ),
  );

  els.push(`<g class="bars">`);
  columns.forEach((c, gi) => {
    const gx = plotLeft + groupPad + gi * (groupW + groupPad);
    els.push(`<g class="group">`);
    if (gi % 2 === 1) {
      els.push(
        `<rect class="band" x="${n2(gx - groupPad / 2)}" y="${n2(plotTop)}" width="${
          n2(groupW + groupPad)
        }" height="${n2(plotH)}" fill="#000000" fill-opacity="0.035"/>`,
      );
    }
    runs.forEach((r, ri) => {
      const x = gx + ri * (barW + gap);
      const cx = x + barW / 2;
      const v = value(ri, c);
      const e = perRun[ri].get(c.key);
      if (v === undefined) {
        const why = e ? "not recorded (the process does not exist there)" : "no such snapshot";
        els.push(
          `<text class="missing" x="${n2(cx)}" y="${
            n2(baseline - 3)
          }" text-anchor="middle" font-size="9" fill="#888888">\u00d7<title>${
            xmlEscape(`${ri + 1}. ${names[ri]} \u00b7 ${c.label}: ${why}`)
          }</title></text>`,
        );
      } else {
        const h = Math.round(v / scale.top * plotH * 100) / 100;
        const detail = e && metric.detail ? metric.detail(e.snap) : "";
        const tip = `${ri + 1}. ${names[ri]} \u00b7 ${c.label}: ${exact(v, metric.unit)}${
          detail ? ` = ${detail}` : ""
        } \u00b7 ${runOutcome(r)}`;
        els.push(
          `<rect class="bar" x="${n2(x)}" y="${n2(baseline - h)}" width="${barW}" height="${
            n2(h)
          }" fill="${fills[ri]}" stroke="#333333" stroke-width="0.5"><title>${
            xmlEscape(tip)
          }</title></rect>`,
        );
        if (valueLabels && v !== 0) {
          const vy = baseline - h - 3;
          els.push(
            `<text class="bar-value" x="${n2(cx + valueFont * 0.35)}" y="${
              n2(vy)
            }" font-size="${valueFont}" fill="#222222" transform="rotate(-90 ${
              n2(cx + valueFont * 0.35)
            } ${n2(vy)})">${xmlEscape(short(v, metric.unit))}</text>`,
          );
        }
      }
      if (n > 1) {
        const ty = baseline + 4;
        els.push(
          `<text class="bar-number" x="${n2(cx + numberFont * 0.35)}" y="${
            n2(ty)
          }" text-anchor="end" font-size="${numberFont}" fill="#333333" transform="rotate(-90 ${
            n2(cx + numberFont * 0.35)
          } ${n2(ty)})">${ri + 1}</text>`,
        );
      }
    });
    const lx = gx + groupW / 2;
    const ly = baseline + numberBand + 14;
    const full = c.label === groupLabels[gi] ? "" : `<title>${xmlEscape(c.label)}</title>`;
    els.push(
      rotate
        ? `<text class="group-label" x="${n2(lx)}" y="${
          n2(ly)
        }" text-anchor="end" font-size="${labelFont}" transform="rotate(-45 ${n2(lx)} ${n2(ly)})">${
          xmlEscape(groupLabels[gi])
        }${full}</text>`
        : `<text class="group-label" x="${n2(lx)}" y="${
          n2(ly)
        }" text-anchor="middle" font-size="${labelFont}">${
          xmlEscape(groupLabels[gi])
        }${full}</text>`,
      `</g>`,
    );
  });
  els.push(`</g>`);

  // legend (the first block; copies further right for a wide chart)
  for (let copy = 0; copy < legendCopies; copy++) {
    const x0 = 16 + copy * legendPitch;
    els.push(copy === 0 ? `<g class="legend">` : `<g class="legend-copy">`);
    runs.forEach((r, i) => {
      const col = i % legendCols;
      const row = Math.floor(i / legendCols);
      const x = x0 + col * legendEntryW;
      const y = legendTop + row * 18;
      const text = `${i + 1}. ${clip(names[i], 60)}`;
      els.push(
        `<g class="legend-entry"><title>${
          xmlEscape(`${i + 1}. ${names[i]} \u00b7 ${runOutcome(r)}`)
        }</title><rect class="swatch" x="${n2(x)}" y="${n2(y - 11)}" width="14" height="14" fill="${
          fills[i]
        }" stroke="#333333" stroke-width="0.5"/><text x="${n2(x + 20)}" y="${
          n2(y)
        }" font-size="${legendFont}">${xmlEscape(text)}</text></g>`,
      );
    });
    els.push(`</g>`);
  }

  const desc = `Grouped bar chart of ${metric.title} (${
    unitName(metric.unit)
  }): ${columns.length} snapshot groups, ${n} runs each.${
    notes.length ? " " + notes.join("; ") : ""
  }`;
  return svgDocument(width, height, titleText, desc, els);
}

// ---------------------------------------------------------------------------------------------
// one run: small multiples

interface Panel {
  title: string;
  unit: Unit;
  series: { name: string; values: (number | undefined)[] }[];
}

function lineChart(r: RunResult, opts: SvgOptions): string {
  const notes: string[] = [];
  const allSnaps = chartedSnapshots([r])[0];
  const snaps = allSnaps.slice(0, MAX_POINTS);
  if (allSnaps.length > snaps.length) {
    notes.push(`capped: showing the first ${snaps.length} of ${allSnaps.length} snapshots`);
  }
  const labels = [...keyed(snaps).values()].map((e) => e.label);
  const panels: Panel[] = [];
  if (opts.metric !== undefined) {
    const m = resolveMetric(opts.metric);
    panels.push({
      title: m.title,
      unit: m.unit,
      series: [{ name: opts.metric, values: snaps.map((s) => m.get(s)) }],
    });
  } else {
    const mms: string[] = [];
    for (const s of snaps) for (const k of Object.keys(s.mms)) if (!mms.includes(k)) mms.push(k);
    const shown = mms.slice(0, MAX_LINES);
    if (mms.length > shown.length) {
      notes.push(`capped: VmPTE of the first ${shown.length} of ${mms.length} processes`);
    }
    panels.push(
      {
        title: "NR_PAGETABLE (nr_page_table_pages)",
        unit: "pages",
        series: [{
          name: "nr_page_table_pages",
          values: snaps.map((s) => s.metrics.nr_page_table_pages),
        }],
      },
      {
        title: "VmPTE per process",
        unit: "bytes",
        series: shown.map((mm) => ({ name: mm, values: snaps.map((s) => s.mms[mm]?.vmpte) })),
      },
      {
        title: "TLB flushes and IPIs (cumulative)",
        unit: "count",
        series: [
          { name: "tlb_flushes", values: snaps.map((s) => s.metrics.tlb_flushes) },
          { name: "ipis", values: snaps.map((s) => s.metrics.ipis) },
        ],
      },
    );
  }

  const opt = Object.entries(r.options).filter(([k]) => k !== "kernel" && k !== "ram")
    .map(([k, v]) => `${k} ${v}`).join(" \u00b7 ");
  const titleText = opts.title ?? `ptlab: ${r.arch} \u00b7 kernel ${r.kernel}`;
  const subtitle = `${r.arch} \u00b7 kernel ${r.kernel}${
    opt ? ` \u00b7 ${opt}` : ""
  } \u00b7 ${snaps.length} snapshots \u00b7 ${runOutcome(r)}`;
  const head = header(titleText, subtitle, notes);

  const np = snaps.length;
  const xLabels = labels.map((l, i) => clip(`${i}: ${l}`, 36));
  const labelFont = 11;
  const dx = np <= 1 ? 0 : Math.max(16, Math.min(90, 720 / (np - 1)));
  const widest = Math.max(0, ...xLabels.map((l) => textWidth(l, labelFont)));
  const rotate = np > 1 && widest > dx - 6;
  const scales = panels.map((p) => {
    let max = 0;
    for (const s of p.series) for (const v of s.values) max = Math.max(max, v ?? 0);
    return niceScale(max, p.unit);
  });
  const tickW = Math.max(...scales.flatMap((s) => s.labels.map((l) => textWidth(l, 11))));
  const pad = 24;
  const plotLeft = Math.max(16 + 18 + tickW + 10, rotate ? widest * Math.SQRT1_2 + 8 - pad : 0);
  const width = Math.ceil(Math.max(
    plotLeft + Math.max(360, dx * Math.max(0, np - 1) + 2 * pad) + 24 + (rotate ? 0 : widest / 2),
    560,
    textWidth(titleText, 16) + 40,
    textWidth(subtitle, FONT) + 40,
    ...notes.map((x) => textWidth(x, FONT) + 40),
  ));
  // the plot takes the width the title left; points spread over it
  const plotW = width - plotLeft - 24 - (rotate ? 0 : widest / 2);
  const step = np <= 1 ? 0 : (plotW - 2 * pad) / (np - 1);
  const panelH = 150;
  const panelGap = 56;
  const xOf = (i: number) => np <= 1 ? plotLeft + plotW / 2 : plotLeft + pad + i * step;
  const slant = np > 1 && widest > step - 6;
  const labelBand = slant ? widest * Math.SQRT1_2 + 20 : 24;

  const els: string[] = [...head.els];
  let top = head.h + 40;
  panels.forEach((p, pi) => {
    const scale = scales[pi];
    const yOf = (v: number) => top + panelH - v / scale.top * panelH;
    els.push(
      `<g class="panel">`,
      `<text class="panel-title" x="${n2(plotLeft)}" y="${n2(top - 22)}" font-weight="bold">${
        xmlEscape(p.title)
      }</text>`,
      `<rect class="plot-area" x="${n2(plotLeft)}" y="${n2(top)}" width="${n2(plotW)}" height="${
        n2(panelH)
      }" fill="none" stroke="none"/>`,
    );
    // vertical grid at each snapshot
    for (let i = 0; i < np; i++) {
      els.push(
        `<line class="x-grid" x1="${n2(xOf(i))}" y1="${n2(top)}" x2="${n2(xOf(i))}" y2="${
          n2(top + panelH)
        }" stroke="#EEEEEE" stroke-width="1"/>`,
      );
    }
    els.push(...yAxis(scale, plotLeft, top, plotW, panelH, unitName(p.unit), 24));
    // in-panel legend
    let lx = plotLeft;
    p.series.forEach((s, si) => {
      const colour = LINE_COLOURS[si % LINE_COLOURS.length];
      const dash = DASHES[si % DASHES.length];
      const ly = top - 8;
      els.push(
        `<g class="legend-entry"><line x1="${n2(lx)}" y1="${n2(ly - 4)}" x2="${n2(lx + 22)}" y2="${
          n2(ly - 4)
        }" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>${
          marker(si, lx + 11, ly - 4, colour, "")
        }<text x="${n2(lx + 28)}" y="${n2(ly)}" font-size="11">${xmlEscape(s.name)}</text></g>`,
      );
      lx += 28 + textWidth(s.name, 11) + 18;
    });
    // step lines: a state holds from one snapshot to the next
    p.series.forEach((s, si) => {
      const colour = LINE_COLOURS[si % LINE_COLOURS.length];
      const dash = DASHES[si % DASHES.length];
      let d = "";
      let prev: number | undefined;
      s.values.forEach((v, i) => {
        if (v === undefined) {
          prev = undefined;
          return;
        }
        d += prev === undefined ? `M${n2(xOf(i))} ${n2(yOf(v))}` : `H${n2(xOf(i))}V${n2(yOf(v))}`;
        prev = v;
      });
      if (d) {
        els.push(
          `<path class="series" d="${d}" fill="none" stroke="${colour}" stroke-width="2"${
            dash ? ` stroke-dasharray="${dash}"` : ""
          }><title>${xmlEscape(s.name)}</title></path>`,
        );
      }
      s.values.forEach((v, i) => {
        if (v === undefined) return;
        const tip = `${s.name} at ${i}: ${labels[i]}: ${exact(v, p.unit)}`;
        els.push(marker(si, xOf(i), yOf(v), colour, tip));
      });
    });
    els.push(`</g>`);
    top += panelH + panelGap;
  });
  // snapshot labels under the last panel
  const base = top - panelGap;
  els.push(`<g class="x-labels">`);
  xLabels.forEach((l, i) => {
    const x = xOf(i);
    const y = base + 16;
    const full = l === `${i}: ${labels[i]}` ? "" : `<title>${xmlEscape(labels[i])}</title>`;
    els.push(
      slant
        ? `<text class="x-label" x="${n2(x)}" y="${
          n2(y)
        }" text-anchor="end" font-size="${labelFont}" transform="rotate(-45 ${n2(x)} ${n2(y)})">${
          xmlEscape(l)
        }${full}</text>`
        : `<text class="x-label" x="${n2(x)}" y="${
          n2(y)
        }" text-anchor="middle" font-size="${labelFont}">${xmlEscape(l)}${full}</text>`,
    );
  });
  els.push(`</g>`);
  const height = Math.ceil(base + labelBand + 16);
  const desc = `Small multiples over ${np} snapshots of ${r.arch} kernel ${r.kernel}: ${
    panels.map((p) => p.title).join("; ")
  }.${notes.length ? " " + notes.join("; ") : ""}`;
  return svgDocument(width, height, titleText, desc, els);
}

/** A point marker: circle, square, triangle or diamond by series, with a tooltip. */
function marker(si: number, x: number, y: number, colour: string, tip: string): string {
  const t = tip ? `<title>${xmlEscape(tip)}</title>` : "";
  const a = ` class="${
    tip ? "point" : "legend-marker"
  }" fill="${colour}" stroke="#FFFFFF" stroke-width="1"`;
  switch (si % 4) {
    case 0:
      return `<circle${a} cx="${n2(x)}" cy="${n2(y)}" r="4">${t}</circle>`;
    case 1:
      return `<rect${a} x="${n2(x - 3.5)}" y="${n2(y - 3.5)}" width="7" height="7">${t}</rect>`;
    case 2:
      return `<path${a} d="M${n2(x)} ${n2(y - 4.5)}L${n2(x + 4.5)} ${n2(y + 3.5)}L${n2(x - 4.5)} ${
        n2(y + 3.5)
      }Z">${t}</path>`;
    default:
      return `<path${a} d="M${n2(x)} ${n2(y - 5)}L${n2(x + 5)} ${n2(y)}L${n2(x)} ${n2(y + 5)}L${
        n2(x - 5)
      } ${n2(y)}Z">${t}</path>`;
  }
}
