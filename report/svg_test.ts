/**
 * Tests of `--format svg`: the documents are parsed with a small XML parser (well-formedness is
 * checked as they are read) and the bars, tooltips and legend are checked against the runs.
 *
 * @module
 */

import { throws } from "node:assert/strict";
import { assert, assertEquals, assertMatch } from "../testing/assert.ts";
import { runScenario } from "../mod.ts";
import type { RunResult, Snapshot } from "../engine/types.ts";
import { MAX_BARS, MAX_SERIES, niceScale, svgReport, xmlEscape } from "./svg.ts";

// ---------------------------------------------------------------------------------------------
// a minimal XML parser: elements, attributes, text, comments, the prolog; throws on anything
// that is not well-formed XML 1.0 (for the subset an SVG writer produces)

/** A parsed element. */
export interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  /** Text directly inside the element, entities decoded. */
  text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*/;

function decode(s: string, where: number): string {
  return s.replace(/&([^;]*);?/g, (m, ref: string) => {
    if (!m.endsWith(";")) throw new Error(`bare & at ${where}`);
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (ref in named) return named[ref];
    const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref);
    if (num) return String.fromCodePoint(parseInt(num[1] ?? num[2], num[1] ? 16 : 10));
    throw new Error(`unknown entity &${ref}; at ${where}`);
  });
}

/** Parses an XML document; throws on a well-formedness error. Returns the root element. */
export function parseXml(src: string): El {
  let i = 0;
  const stack: El[] = [];
  let root: El | undefined;
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(src)) throw new Error("control character");
  if (src.startsWith("<?xml")) {
    const end = src.indexOf("?>");
    if (end < 0) throw new Error("unterminated XML declaration");
    assertMatch(src.slice(0, end), /^<\?xml version="1\.0"/);
    i = end + 2;
  }
  while (i < src.length) {
    if (src.startsWith("<!--", i)) {
      const end = src.indexOf("-->", i);
      if (end < 0) throw new Error("unterminated comment");
      i = end + 3;
    } else if (src.startsWith("</", i)) {
      const m = NAME.exec(src.slice(i + 2));
      if (!m) throw new Error(`bad end tag at ${i}`);
      const top = stack.pop();
      if (!top || top.name !== m[0]) {
        throw new Error(`</${m[0]}> closes <${top?.name}> at ${i}`);
      }
      i += 2 + m[0].length;
      while (/\s/.test(src[i])) i++;
      if (src[i] !== ">") throw new Error(`bad end tag at ${i}`);
      i++;
    } else if (src[i] === "<") {
      const m = NAME.exec(src.slice(i + 1));
      if (!m) throw new Error(`bad start tag at ${i}`);
      const el: El = { name: m[0], attrs: {}, children: [], text: "" };
      i += 1 + m[0].length;
      for (;;) {
        const ws = /^\s*/.exec(src.slice(i))![0].length;
        i += ws;
        if (src.startsWith("/>", i) || src[i] === ">") break;
        if (ws === 0) throw new Error(`no space before attribute at ${i}`);
        const a = /^([A-Za-z_:][-A-Za-z0-9_.:]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(src.slice(i));
        if (!a) throw new Error(`bad attribute at ${i}: ${src.slice(i, i + 40)}`);
        if (a[1] in el.attrs) throw new Error(`duplicate attribute ${a[1]} at ${i}`);
        el.attrs[a[1]] = decode(a[3] ?? a[4], i);
        i += a[0].length;
      }
      if (stack.length) stack[stack.length - 1].children.push(el);
      else if (root) throw new Error("two root elements");
      else root = el;
      if (src.startsWith("/>", i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
    } else {
      const end = src.indexOf("<", i);
      const text = src.slice(i, end < 0 ? src.length : end);
      if (text.includes(">") && text.includes("]]>")) throw new Error("]]> in text");
      if (stack.length) stack[stack.length - 1].text += decode(text, i);
      else if (text.trim()) throw new Error(`text outside the root at ${i}`);
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length) throw new Error(`<${stack[stack.length - 1].name}> not closed`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element under `el` (itself included), in document order. */
function all(el: El): El[] {
  return [el, ...el.children.flatMap(all)];
}

/** Elements with a class. */
function byClass(root: El, cls: string): El[] {
  return all(root).filter((e) => (e.attrs.class ?? "").split(" ").includes(cls));
}

/** Text of an element and its descendants, `<title>` left out. */
function textOf(el: El): string {
  return el.text + el.children.filter((c) => c.name !== "title").map(textOf).join("");
}

function titleOf(el: El): string {
  return el.children.find((c) => c.name === "title")?.text ?? "";
}

// ---------------------------------------------------------------------------------------------
// the data

const read = (f: string) => Deno.readTextFileSync(new URL(`../examples/${f}`, import.meta.url));

function runsOf(file: string, arch?: string, kernel?: string): RunResult[] {
  const out = runScenario(read(file), { arch, kernel, file });
  assert(out.exitCode !== 2, JSON.stringify(out.diagnostics));
  return out.runs;
}

/** The snapshots a chart shows per run: the snapshots, and the final state when it differs. */
function charted(runs: readonly RunResult[]): Snapshot[][] {
  const same = (r: RunResult) => {
    const last = r.snapshots.at(-1);
    return last !== undefined &&
      JSON.stringify([last.metrics, last.mms]) === JSON.stringify([r.final.metrics, r.final.mms]);
  };
  const withFinal = !runs.every(same);
  return runs.map((r) => withFinal ? [...r.snapshots, r.final] : r.snapshots);
}

const sumVmpte = (s: Snapshot) => Object.values(s.mms).reduce((t, m) => t + m.vmpte, 0);
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Checks the bar chart of `runs` for `value` against the data; returns the parsed root. */
function checkBars(
  runs: RunResult[],
  svg: string,
  value: (s: Snapshot) => number,
  unit: "bytes" | "pages" | "count",
): El {
  const root = parseXml(svg);
  assertEquals(root.name, "svg");
  assertEquals(root.attrs.xmlns, "http://www.w3.org/2000/svg");
  assertEquals(root.attrs.version, "1.1");
  assertEquals(root.attrs.viewBox, `0 0 ${root.attrs.width} ${root.attrs.height}`);
  assert(Number(root.attrs.width) > 0 && Number(root.attrs.height) > 0);
  assertEquals(root.children[0].name, "title");

  const snaps = charted(runs);
  const groups = snaps[0].length;
  // every run has the same snapshots here
  for (const s of snaps) assertEquals(s.map((x) => x.label), snaps[0].map((x) => x.label));
  const bars = byClass(root, "bar");
  assertEquals(bars.length, runs.length * groups, "a bar per run and snapshot");

  const max = Math.max(...snaps.flat().map(value));
  const scale = niceScale(max, unit);
  assert(scale.top >= max);
  const area = byClass(root, "plot-area")[0];
  const plotH = Number(area.attrs.height);
  const baseline = Number(area.attrs.y) + plotH;
  let k = 0;
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < runs.length; r++, k++) {
      const bar = bars[k];
      const v = value(snaps[r][g]);
      const h = Number(bar.attrs.height);
      assertEquals(h, round2(v / scale.top * plotH), `bar ${k} height`);
      assert(Math.abs(Number(bar.attrs.y) + h - baseline) < 0.011, `bar ${k} stands on the axis`);
      const tip = titleOf(bar);
      assert(tip.includes(`${r + 1}. ${runs[r].arch} \u00b7 ${runs[r].kernel}`), tip);
      assert(tip.includes(snaps[r][g].label), tip);
      const exact = unit === "bytes" ? `${v} bytes` : unit === "pages" ? `${v} page` : `: ${v}`;
      assert(tip.includes(exact), `${tip} has ${exact}`);
    }
  }
  // bars of a group are side by side, groups left to right
  for (let i = 1; i < bars.length; i++) {
    assert(Number(bars[i].attrs.x) > Number(bars[i - 1].attrs.x));
  }
  // the legend names every run, in order
  const legend = byClass(byClass(root, "legend")[0], "legend-entry").map(textOf);
  assertEquals(legend.length, runs.length);
  runs.forEach((r, i) => assertEquals(legend[i], `${i + 1}. ${r.arch} \u00b7 ${r.kernel}`));
  // group labels are the snapshot labels
  assertEquals(byClass(root, "group-label").map(textOf), snaps[0].map((s) => s.label));
  // no external resources: the only references are to the document's own patterns
  for (const e of all(root)) {
    for (const [a, v] of Object.entries(e.attrs)) {
      if (a === "xmlns") continue;
      assert(!/href/i.test(a), `${e.name} ${a}`);
      if (/url\(/.test(v)) assertMatch(v, /^url\(#fill-\d+\)$/);
    }
  }
  const ids = new Set(all(root).map((e) => e.attrs.id).filter((x) => x));
  for (const b of bars) {
    const m = /^url\(#(.*)\)$/.exec(b.attrs.fill);
    if (m) assert(ids.has(m[1]), `pattern ${m[1]} defined`);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// tests

Deno.test("svg: two configurations of the quickstart as grouped bars of VmPTE", () => {
  const runs = runsOf("quickstart.ptlab", "x86_64-4level,arm64-4k-48");
  assertEquals(runs.length, 2);
  const svg = svgReport(runs);
  const root = checkBars(runs, svg, sumVmpte, "bytes");
  // fresh, touched, unmapped and the final state after exit
  assertEquals(byClass(root, "group-label").length, 4);
  const touched = byClass(root, "bar").filter((b) => titleOf(b).includes("touched"));
  assertEquals(touched.length, 2);
  for (const b of touched) assert(titleOf(b).includes("12 KiB (12288 bytes)"), titleOf(b));
  // the axis: 1-2-5 steps in KiB
  assertEquals(byClass(root, "tick").map(textOf), ["0", "5 KiB", "10 KiB", "15 KiB"]);
  assert(svg.startsWith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<svg '));
});

Deno.test("svg: compare.ptlab on all 57 configurations, VmPTE and nr_page_table_pages", () => {
  const runs = runsOf("compare.ptlab", "all");
  assertEquals(runs.length, 57);
  const root = checkBars(runs, svgReport(runs), sumVmpte, "bytes");
  assertEquals(byClass(root, "note").length, 0, "nothing capped");
  // a number under every bar names its run without colour
  assertEquals(byClass(root, "bar-number").length, 57 * 3);
  // no two of the 57 runs look alike: colour and pattern combinations differ
  const fills = byClass(byClass(root, "legend")[0], "swatch").map((s) => s.attrs.fill);
  assertEquals(new Set(fills).size, 57);
  checkBars(
    runs,
    svgReport(runs, { metric: "nr_page_table_pages" }),
    (s) => s.metrics.nr_page_table_pages,
    "pages",
  );
  checkBars(runs, svgReport(runs, { metric: "a.vmpte" }), (s) => s.mms.a.vmpte, "bytes");
  checkBars(
    runs,
    svgReport(runs, { metric: "tlb_flushes" }),
    (s) => s.metrics.tlb_flushes,
    "count",
  );
});

Deno.test("svg: kernel versions side by side", () => {
  const runs = runsOf("compare.ptlab", "x86_64-4level,s390-3level", "6.1,6.6,6.12,6.18");
  assertEquals(runs.length, 8);
  const root = checkBars(
    runs,
    svgReport(runs, { metric: "nr_page_table_pages", title: "NR_PAGETABLE by kernel" }),
    (s) => s.metrics.nr_page_table_pages,
    "pages",
  );
  assertEquals(textOf(byClass(root, "chart-title")[0]), "NR_PAGETABLE by kernel");
  assertEquals(root.children[0].text, "NR_PAGETABLE by kernel");
});

Deno.test("svg: labels, titles and names are XML-escaped", () => {
  const nasty = `<&"> 'q' ]]> \u0001`;
  const runs = structuredClone(runsOf("quickstart.ptlab", "x86_64-4level,arm64-4k-48"));
  for (const r of runs) r.snapshots[1].label = nasty;
  runs[1].arch = `arm<&">`;
  const svg = svgReport(runs, { title: `t <&"> t` });
  assert(!svg.includes(`<&"`), "no raw markup characters");
  assert(!svg.includes("\u0001"));
  const root = parseXml(svg);
  const clean = nasty.replace("\u0001", "\uFFFD");
  assertEquals(byClass(root, "group-label").map(textOf)[1], clean);
  assert(byClass(root, "legend-entry").map(textOf).includes(`2. arm<&"> \u00b7 6.6`));
  assertEquals(root.children[0].text, `t <&"> t`);
  assert(byClass(root, "bar").some((b) => titleOf(b).includes(clean)));
  assertEquals(xmlEscape(`a<b>&"c'`), "a&lt;b&gt;&amp;&quot;c&apos;");
  // one run: the labels are on the x axis
  const one = parseXml(svgReport([runs[0]]));
  assert(byClass(one, "x-label").map(textOf).includes(`1: ${clean}`));
});

Deno.test("svg: the same runs give the same bytes", () => {
  const a = svgReport(runsOf("compare.ptlab", "all"));
  const b = svgReport(runsOf("compare.ptlab", "all"));
  assertEquals(a, b);
  const q = runsOf("quickstart.ptlab");
  assertEquals(svgReport(q), svgReport(runsOf("quickstart.ptlab")));
  assert(!/NaN|Infinity|undefined|-0[ "]/.test(a + svgReport(q)));
});

Deno.test("svg: one run as small multiples with a point per snapshot", () => {
  const runs = runsOf("fork-copies.ptlab");
  assertEquals(runs.length, 1);
  const r = runs[0];
  const root = parseXml(svgReport(runs));
  assertEquals(root.attrs.viewBox, `0 0 ${root.attrs.width} ${root.attrs.height}`);
  const snaps = charted(runs)[0];
  const panels = byClass(root, "panel");
  assertEquals(panels.length, 3);
  assertEquals(
    panels.map((p) => textOf(byClass(p, "panel-title")[0])),
    [
      "NR_PAGETABLE (nr_page_table_pages)",
      "VmPTE per process",
      "TLB flushes and IPIs (cumulative)",
    ],
  );
  // NR_PAGETABLE: a point per snapshot with the exact value
  const pts = byClass(panels[0], "point");
  assertEquals(pts.length, snaps.length);
  snaps.forEach((s, i) =>
    assert(titleOf(pts[i]).endsWith(`: ${pages(s.metrics.nr_page_table_pages)}`))
  );
  // VmPTE: a point per process and snapshot where the process exists
  const mmPoints = snaps.reduce((t, s) => t + Object.keys(s.mms).length, 0);
  const vm = byClass(panels[1], "point");
  assertEquals(vm.length, mmPoints);
  for (const s of snaps) {
    for (const [n, m] of Object.entries(s.mms)) {
      assert(
        vm.some((p) =>
          titleOf(p).startsWith(`${n} at `) && titleOf(p).includes(`${m.vmpte} bytes`)
        ),
      );
    }
  }
  // each panel has its own axis, and points sit on it
  for (const p of panels) {
    assert(byClass(p, "tick").length >= 2);
    const area = byClass(p, "plot-area")[0];
    const top = Number(area.attrs.y), bottom = top + Number(area.attrs.height);
    for (const pt of byClass(p, "point")) {
      const cy = Number(pt.attrs.cy ?? Number(pt.attrs.y) + 3.5);
      if (pt.name !== "path") assert(cy >= top - 0.01 && cy <= bottom + 0.01);
    }
  }
  assertEquals(byClass(root, "x-label").length, snaps.length);
  assert(textOf(byClass(root, "subtitle")[0]).includes(`${r.arch} \u00b7 kernel ${r.kernel}`));
  // one metric alone
  const alone = parseXml(svgReport(runs, { metric: "tlb_flushes" }));
  assertEquals(byClass(alone, "panel").length, 1);
  assertEquals(byClass(alone, "point").length, snaps.length);
});

function pages(n: number): string {
  return `${n} ${n === 1 ? "page" : "pages"}`;
}

Deno.test("svg: caps on runs and snapshots are noted", () => {
  const base = runsOf("compare.ptlab", "x86_64-4level")[0];
  const many: RunResult[] = [];
  for (let i = 0; i < MAX_SERIES + 10; i++) many.push({ ...structuredClone(base), arch: `c${i}` });
  const svg = svgReport(many);
  const root = parseXml(svg);
  const notes = byClass(root, "note").map(textOf);
  assert(notes.some((n) => n.includes(`first ${MAX_SERIES} of ${MAX_SERIES + 10} runs`)), notes[0]);
  assertEquals(byClass(root, "bar").length, MAX_SERIES * charted([base])[0].length);
  // snapshots past the bar budget
  const long = structuredClone(base);
  long.snapshots = Array.from(
    { length: 100 },
    (_, i) => ({ ...base.snapshots[0], label: `s${i}` }),
  );
  long.final = long.snapshots[99];
  const wide = Array.from({ length: 100 }, (_, i) => ({ ...long, arch: `c${i}` }));
  const w = parseXml(svgReport(wide));
  const groups = Math.floor(MAX_BARS / 100);
  assertEquals(byClass(w, "bar").length, 100 * groups);
  assert(
    byClass(w, "note").map(textOf).some((n) => n.includes(`first ${groups} of 100 snapshots`)),
  );
  // one run with many snapshots
  const one = parseXml(
    svgReport([{
      ...structuredClone(long),
      snapshots: [...long.snapshots, ...long.snapshots, ...long.snapshots, ...long.snapshots],
    }]),
  );
  assert(byClass(one, "note").map(textOf).some((n) => n.includes("first 300 of 400 snapshots")));
  assert(svg.length < 3_000_000);
});

Deno.test("svg: empty input and unknown metrics", () => {
  const root = parseXml(svgReport([]));
  assertEquals(root.name, "svg");
  throws(
    () => svgReport(runsOf("quickstart.ptlab", "x86_64-4level,arm64-4k-48"), { metric: "nope" }),
    Error,
    "unknown metric",
  );
});

Deno.test("svg: nice scales step by 1, 2 or 5 in the unit the values reach", () => {
  assertEquals(niceScale(12288, "bytes").labels, ["0", "5 KiB", "10 KiB", "15 KiB"]);
  assertEquals(niceScale(4 * 1024 * 1024, "bytes").labels, [
    "0",
    "1 MiB",
    "2 MiB",
    "3 MiB",
    "4 MiB",
  ]);
  assertEquals(niceScale(6, "pages").ticks, [0, 2, 4, 6]);
  assertEquals(niceScale(0, "count").ticks, [0, 1]);
  assertEquals(niceScale(3, "count").ticks, [0, 1, 2, 3]);
  assertEquals(niceScale(700, "bytes").labels, ["0", "200 B", "400 B", "600 B", "800 B"]);
  for (const max of [1, 7, 13, 99, 1000, 8448, 131072, 3e9]) {
    for (const unit of ["bytes", "count"] as const) {
      const s = niceScale(max, unit);
      assert(s.top >= max && s.ticks.length >= 2 && s.ticks.length <= 11, `${max}: ${s.ticks}`);
      // the step, in the labels' unit, is 1, 2 or 5 times a power of ten
      const t = Number(s.labels[1].split(" ")[0]);
      const mant = t / Math.pow(10, Math.floor(Math.log10(t)));
      assert([1, 2, 5].some((f) => Math.abs(mant - f) < 1e-9), `${max} ${unit}: step ${t}`);
    }
  }
});

Deno.test("svg: the test's XML parser rejects what is not well-formed", () => {
  for (
    const bad of [
      "<a><b></a></b>",
      "<a x='1' x='2'/>",
      "<a>&</a>",
      "<a>&nbsp;</a>",
      '<a x="<"/>',
      "<a>",
      "<a/><b/>",
      "<a\u0001/>",
    ]
  ) {
    throws(() => parseXml(bad), Error, bad);
  }
  assertEquals(parseXml(`<a x="&lt;&amp;&quot;">&#x3C;&gt;</a>`).text, "<>");
});
