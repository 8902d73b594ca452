/**
 * `--format svg` in a real browser: headless Chromium renders the charts; the test checks the
 * screenshot (size, not blank, a bar's colour where the bar is) and, through `--dump-dom` of a
 * page embedding the SVG, the rendered boxes of the bars and that no text leaves the canvas.
 * Skipped (with the reason in the name) when no Chromium is installed. No network is used.
 *
 * @module
 */

import { assert, assertEquals } from "../testing/assert.ts";
import { runScenario } from "../mod.ts";
import type { RunResult } from "../engine/types.ts";
import { svgReport } from "./svg.ts";

const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

function findBrowser(): string | undefined {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return undefined;
  }
  for (const name of CANDIDATES) {
    for (const dir of path.split(":").filter((d) => d)) {
      try {
        const st = Deno.statSync(`${dir}/${name}`);
        if (st.isFile) return `${dir}/${name}`;
      } catch { /* not here */ }
    }
  }
  return undefined;
}

const BROWSER = findBrowser();
const SKIP = BROWSER ? "" : ` (ignored: no ${CANDIDATES.join(", ")} on PATH)`;
/** Per browser run: generous, for a busy two-core machine. */
const TIMEOUT_MS = 180_000;

/** Runs the browser once (and once more if it crashed or wrote nothing). */
async function browser(args: string[], produced: () => boolean): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < 2; attempt++) {
    const profile = await Deno.makeTempDir({ prefix: "ptlab-chromium-" });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), TIMEOUT_MS);
    try {
      const out = await new Deno.Command(BROWSER!, {
        args: [
          "--headless",
          "--disable-gpu",
          "--no-sandbox",
          "--no-first-run",
          "--no-default-browser-check",
          "--disable-extensions",
          "--disable-dev-shm-usage",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--hide-scrollbars",
          "--force-device-scale-factor=1",
          `--user-data-dir=${profile}`,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
        signal: ac.signal,
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      last = new TextDecoder().decode(out.stderr).slice(-2000);
      if (out.success && produced()) return stdout;
      if (produced() && stdout) return stdout;
    } catch (e) {
      last = String(e);
    } finally {
      clearTimeout(timer);
      await Deno.remove(profile, { recursive: true });
    }
  }
  throw new Error(`${BROWSER} failed twice: ${last}`);
}

function runs(file: string, arch?: string): RunResult[] {
  const src = Deno.readTextFileSync(new URL(`../examples/${file}`, import.meta.url));
  const out = runScenario(src, { arch, file });
  assert(out.exitCode !== 2);
  return out.runs;
}

function size(svg: string): { w: number; h: number } {
  const m = /<svg [^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg)!;
  return { w: Math.ceil(Number(m[1])), h: Math.ceil(Number(m[2])) };
}

interface BarAttrs {
  x: number;
  y: number;
  width: number;
  height: number;
  fill: string;
}

function barsOf(svg: string): BarAttrs[] {
  return [...svg.matchAll(/<rect class="bar" ([^>]*)>/g)].map((m) => {
    const a = Object.fromEntries(
      [...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]),
    );
    return {
      x: Number(a.x),
      y: Number(a.y),
      width: Number(a.width),
      height: Number(a.height),
      fill: a.fill,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// PNG decoding: IHDR, IDAT through DecompressionStream("deflate") (zlib), row filters

interface Image {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  pixel(x: number, y: number): [number, number, number, number];
}

async function decodePng(bytes: Uint8Array): Promise<Image> {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  sig.forEach((b, i) => assertEquals(bytes[i], b, "PNG signature"));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
  const idat: Uint8Array[] = [];
  while (p < bytes.length) {
    const len = dv.getUint32(p);
    const kind = new TextDecoder().decode(bytes.subarray(p + 4, p + 8));
    const data = bytes.subarray(p + 8, p + 8 + len);
    if (kind === "IHDR") {
      width = dv.getUint32(p + 8);
      height = dv.getUint32(p + 12);
      depth = data[8];
      type = data[9];
      interlace = data[12];
    } else if (kind === "IDAT") idat.push(data);
    else if (kind === "IEND") break;
    p += 12 + len;
  }
  assertEquals(depth, 8, "8-bit channels");
  assertEquals(interlace, 0, "not interlaced");
  const channels = ({ 2: 3, 6: 4, 0: 1, 4: 2 } as Record<number, number>)[type];
  assert(channels, `colour type ${type}`);
  const raw = new Uint8Array(
    await new Response(
      new Blob(idat as BlobPart[]).stream().pipeThrough(new DecompressionStream("deflate")),
    ).arrayBuffer(),
  );
  const stride = width * channels;
  assertEquals(raw.length, height * (stride + 1), "decoded size");
  const img = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = img.subarray(y * stride, (y + 1) * stride);
    const up = y ? img.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels] : 0;
      const b = up[i];
      const c = i >= channels ? up[i - channels] : 0;
      let v = src[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[i] = v & 255;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const o = y * stride + x * channels;
      if (channels === 1) return [img[o], img[o], img[o], 255];
      if (channels === 2) return [img[o], img[o], img[o], img[o + 1]];
      return [img[o], img[o + 1], img[o + 2], channels === 4 ? img[o + 3] : 255];
    },
  };
}

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// ---------------------------------------------------------------------------------------------

Deno.test({
  name:
    `svg in headless Chromium: the screenshot has the size, is not blank, bars where they are${SKIP}`,
  ignore: !BROWSER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ptlab-svg-" });
    try {
      for (
        const [name, rs] of [["two", runs("quickstart.ptlab", "x86_64-4level,arm64-4k-48")], [
          "all",
          runs("compare.ptlab", "all"),
        ], ["one", runs("fork-copies.ptlab")]] as const
      ) {
        const svg = svgReport(rs);
        const { w, h } = size(svg);
        const file = `${dir}/${name}.svg`;
        const png = `${dir}/${name}.png`;
        await Deno.writeTextFile(file, svg);
        const exists = () => {
          try {
            return Deno.statSync(png).size > 0;
          } catch {
            return false;
          }
        };
        await browser([`--screenshot=${png}`, `--window-size=${w},${h}`, `file://${file}`], exists);
        const img = await decodePng(await Deno.readFile(png));
        assertEquals([img.width, img.height], [w, h], `${name}: screenshot size`);
        // not blank: a fair share of the pixels are not white, and the corner is the background
        let ink = 0;
        for (let y = 0; y < h; y += 2) {
          for (let x = 0; x < w; x += 2) {
            const [r, g, b] = img.pixel(x, y);
            if (r < 200 || g < 200 || b < 200) ink++;
          }
        }
        const share = ink / (Math.ceil(w / 2) * Math.ceil(h / 2));
        assert(share > 0.01 && share < 0.6, `${name}: ${share} of the pixels inked`);
        assertEquals(img.pixel(w - 2, h - 2).slice(0, 3), [255, 255, 255], "white background");
        // the solid bars are painted their colour in their middle
        const solid = barsOf(svg).filter((b) => b.fill.startsWith("#") && b.height >= 6);
        assert(name === "one" || solid.length > 0, `${name}: solid bars to look at`);
        for (const b of solid) {
          const px = img.pixel(Math.round(b.x + b.width / 2), Math.round(b.y + b.height / 2));
          const want = rgb(b.fill);
          assert(
            px.slice(0, 3).every((v, i) => Math.abs(v - want[i]) <= 6),
            `${name}: bar at ${b.x},${b.y} is ${px} not ${b.fill}`,
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** A page with the SVG inline and a script writing the rendered geometry into the DOM. */
function probePage(svg: string): string {
  const inline = svg.replace(/^<\?xml[^>]*\?>\s*/, "");
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}</style></head>
<body>${inline}<pre id="out"></pre><script>
const svg = document.querySelector("svg");
const box = svg.getBoundingClientRect();
const r = (b) => ({ x: b.x, y: b.y, width: b.width, height: b.height });
const bars = [...svg.querySelectorAll("rect.bar")].map((e) => ({ bbox: r(e.getBBox()), client: r(e.getBoundingClientRect()) }));
const texts = [...svg.querySelectorAll("text")].map((e) => ({ cls: e.getAttribute("class"), rot: e.hasAttribute("transform"), text: e.textContent, client: r(e.getBoundingClientRect()) }));
const legend = [...svg.querySelectorAll(".legend .legend-entry")].map((e) => r(e.getBoundingClientRect()));
document.getElementById("out").textContent = JSON.stringify({ svg: r(box), bars, texts, legend });
</script></body></html>`;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Probe {
  svg: Box;
  bars: { bbox: Box; client: Box }[];
  texts: { cls: string | null; rot: boolean; text: string; client: Box }[];
  legend: Box[];
}

function unescapeHtml(s: string): string {
  return s.replace(
    /&(lt|gt|quot|#39|nbsp|amp);/g,
    (_, e) =>
      ({ lt: "<", gt: ">", quot: '"', "#39": "'", nbsp: "\u00a0", amp: "&" } as Record<
        string,
        string
      >)[e],
  );
}

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 &&
  b.y < a.y + a.height - 1;

Deno.test({
  name:
    `svg in headless Chromium: rendered bars match the geometry, text stays on the canvas${SKIP}`,
  ignore: !BROWSER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ptlab-svg-" });
    try {
      const nasty = structuredClone(runs("quickstart.ptlab", "x86_64-4level,arm64-4k-48"));
      nasty[0].snapshots[1].label = `<&"> a label long enough to be slanted`;
      for (
        const [name, rs] of [["nasty", nasty], ["all", runs("compare.ptlab", "all")], [
          "one",
          runs("fork-copies.ptlab"),
        ]] as const
      ) {
        const svg = svgReport(rs);
        const { w, h } = size(svg);
        const file = `${dir}/${name}.html`;
        await Deno.writeTextFile(file, probePage(svg));
        const dom = await browser([
          "--dump-dom",
          "--virtual-time-budget=10000",
          `--window-size=${w + 40},${h + 40}`,
          `file://${file}`,
        ], () => true);
        const m = /<pre id="out">([^<]*)<\/pre>/.exec(dom);
        assert(m && m[1], `${name}: the probe wrote its result (${dom.slice(0, 200)})`);
        const probe: Probe = JSON.parse(unescapeHtml(m[1]));
        assertEquals([probe.svg.width, probe.svg.height].map(Math.round), [w, h], "svg box");
        const want = barsOf(svg);
        assertEquals(probe.bars.length, want.length, `${name}: bars rendered`);
        assert(name === "one" || want.length > 0);
        probe.bars.forEach((b, i) => {
          const e = want[i];
          for (const k of ["x", "y", "width", "height"] as const) {
            assert(Math.abs(b.bbox[k] - e[k]) < 0.02, `${name}: bar ${i} bbox ${k}`);
            assert(Math.abs(b.client[k] - e[k]) < 0.6, `${name}: bar ${i} on screen ${k}`);
          }
        });
        // every text is inside the canvas, with its real font
        for (const t of probe.texts) {
          const c = t.client;
          assert(
            c.x >= -0.5 && c.y >= -0.5 && c.x + c.width <= w + 0.5 && c.y + c.height <= h + 0.5,
            `${name}: "${t.text}" (${t.cls}) at ${JSON.stringify(c)} leaves the ${w}x${h} canvas`,
          );
        }
        // legend entries do not overlap one another
        for (let i = 0; i < probe.legend.length; i++) {
          for (let j = i + 1; j < probe.legend.length; j++) {
            assert(
              !overlap(probe.legend[i], probe.legend[j]),
              `${name}: legend ${i + 1}, ${j + 1}`,
            );
          }
        }
        // level group and snapshot labels do not overlap one another (slanted ones are apart
        // by construction; their boxes would)
        const labels = probe.texts.filter((t) =>
          !t.rot && (t.cls === "group-label" || t.cls === "x-label")
        );
        for (let i = 1; i < labels.length; i++) {
          assert(
            !overlap(labels[i - 1].client, labels[i].client),
            `${name}: labels ${i - 1}, ${i}`,
          );
        }
        if (name === "nasty") {
          assert(
            probe.texts.some((t) => t.text.startsWith(`<&"> a label`)),
            "escaped label shown as written",
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
