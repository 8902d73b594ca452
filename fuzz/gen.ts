/**
 * Random valid scenarios: a deterministic generator (a seeded PRNG), the actions it draws
 * (maps, touches, unmaps, MADV_DONTNEED, forks, exits, CPU placement, injected failures) at the
 * edges of the address space and of table spans, and an oracle that states, independently of the
 * engine, what must hold: resident memory per process, VmPTE as the sum of the tables counted,
 * and nothing left after every process exited.
 *
 * @module
 */

import type { ArchConfig } from "../engine/types.ts";

/** A 32-bit PRNG (mulberry32): the same seed gives the same scenario. */
export class Rng {
  #s: number;
  /** @param seed any integer */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A bigint in [0, n). */
  big(n: bigint): bigint {
    if (n <= 0n) return 0n;
    const hi = BigInt(this.int(2 ** 30)) << 30n | BigInt(this.int(2 ** 30));
    return (hi * n) >> 60n;
  }
  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** One generated action (a statement, or a point where the oracle's expectations go). */
export type Action =
  | { k: "mm"; name: string }
  | { k: "map"; mm: string; addr: bigint; size: bigint; shared?: boolean }
  | { k: "touch"; mm: string; addr: bigint; size: bigint; step: bigint; read?: boolean }
  | { k: "mprotect"; mm: string; addr: bigint; size: bigint; prot: "none" | "read" | "write" }
  | { k: "advise"; mm: string; advice: string; addr: bigint; size: bigint }
  | { k: "mremap"; mm: string; addr: bigint; size: bigint; to: bigint }
  | { k: "unmap"; mm: string; addr: bigint; size: bigint }
  | { k: "dontneed"; mm: string; addr: bigint; size: bigint }
  | { k: "fork"; mm: string; child: string }
  | { k: "exit"; mm: string }
  | { k: "run"; mm: string; cpus: number[] }
  | { k: "inject"; site: string; mode: "at" | "every" | "after"; n: number }
  | { k: "check" };

/** A generated scenario: its configuration, options and actions. */
export interface GenScenario {
  /** Configuration name. */
  arch: string;
  /** Options of the `arch` statement. */
  options: Record<string, string>;
  /** Online CPUs. */
  cpus: number;
  /** The actions in order. */
  actions: Action[];
  /** The seed that made it. */
  seed: number;
}

type Range = [bigint, bigint];

/** The oracle's view of one process: its VMAs (and which one is the stack) and present pages. */
interface Proc {
  vmas: Range[];
  pages: Set<bigint>;
  stack: Range | null;
  /**
   * An mprotect or advice split its ranges (or its parent's) at some point: the generator's ranges
   * no longer say where one mapping ends, so it makes no mremap (which needs one mapping).
   */
  split?: boolean;
}

function overlaps(vmas: readonly Range[], a: bigint, b: bigint): boolean {
  return vmas.some(([s, e]) => s < b && a < e);
}

function removeRange(vmas: Range[], a: bigint, b: bigint): Range[] {
  const out: Range[] = [];
  for (const [s, e] of vmas) {
    if (e <= a || b <= s) out.push([s, e]);
    else {
      if (s < a) out.push([s, a]);
      if (b < e) out.push([b, e]);
    }
  }
  return out;
}

/** Whether every page a, a+step, ... below a+size lies inside some VMA (checked per gap). */
function touchInside(vmas: readonly Range[], a: bigint, size: bigint, step: bigint): boolean {
  const end = a + size;
  const sorted = [...vmas].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  let cur = a;
  for (const [s, e] of sorted) {
    if (e <= cur) continue;
    if (s > cur) {
      // a touched page in the gap [cur, s)?
      const k = (cur - a + step - 1n) / step;
      const first = a + k * step;
      if (first < s && first < end) return false;
    }
    cur = e > cur ? e : cur;
    if (cur >= end) return true;
  }
  const k = (cur - a + step - 1n) / step;
  return a + k * step >= end;
}

/** Sizes of the table spans of a configuration, in bytes. */
function spans(cfg: ArchConfig): { page: bigint; pte: bigint; upper: bigint; top: bigint } {
  const page = 1n << BigInt(cfg.pageShift);
  const pte = 1n << BigInt(cfg.levels[3].shift);
  const present = cfg.levels.filter((l) => l.folded === "none");
  const upperLevel = present.length > 2 ? present[present.length - 3] : present[0];
  const upper = 1n << BigInt(upperLevel.shift);
  const top = 1n << BigInt(cfg.levels[0].shift);
  return { page, pte, upper, top };
}

/** Options the fuzzer varies per scenario. */
export interface GenOptions {
  /** The kernel version to use (random when undefined). */
  kernel?: string;
  /** Allocation sites `inject fail` may name on this configuration. */
  sites: readonly string[];
  /** The configuration resolved with the options drawn (geometry and address space follow the
   * kernel version on some arches, um's 4 levels from 6.13 for one). */
  resolve(options: Record<string, string>): ArchConfig;
  /** THP exists on this configuration. */
  thpAvailable: boolean;
}

/** Generates a random valid scenario for one configuration. */
export function generate(seed: number, opts: GenOptions): GenScenario {
  const rng = new Rng(seed);
  const options: Record<string, string> = {
    kernel: opts.kernel ?? rng.pick(["6.1", "6.6", "6.12", "6.18"]),
  };
  if (opts.thpAvailable && rng.chance(0.25)) options.thp = "on";
  const cfg = opts.resolve(options);
  const { page, pte, upper, top } = spans(cfg);
  const task = cfg.taskSize;
  const align = (v: bigint, a: bigint) => v / a * a;
  const cpus = 1 + rng.int(4);
  // a window where most actions land, so that their tables share slots; its base is an edge of
  // some table span, near the bottom, the middle or the top of user space
  const windowSize = upper * 4n > task / 4n ? task / 4n : upper * 4n;
  const anchors = [
    page * 16n,
    align(task / 2n, top),
    align(task / 2n, upper),
    align(task - windowSize - page, pte),
    align(task / 3n, upper) + upper - 2n * pte,
    align(rng.big(task - windowSize), upper),
  ];
  const base = align(rng.pick(anchors), page);
  const procs = new Map<string, Proc>();
  const actions: Action[] = [];
  let names = 0;
  // an address: in the window mostly, sometimes at an edge of the address space
  const addr = (): bigint => {
    if (rng.chance(0.08)) {
      const edges = [page, task - 4n * page, align(task / 2n, top) - page].filter((e) =>
        e > 0n && e < task
      );
      return align(rng.pick(edges), page);
    }
    const unit = rng.pick([page, pte, upper]);
    const off = rng.big(windowSize / unit) * unit + (rng.chance(0.5) ? 0n : rng.big(8n) * page);
    return align(base + off, page);
  };
  const size = (): bigint =>
    rng.pick([
      page,
      page * BigInt(1 + rng.int(16)),
      pte,
      pte + page,
      pte * BigInt(1 + rng.int(4)),
      upper,
    ])
      .valueOf();
  const stackFor = (): Range | null => {
    // s390: a real process keeps its stack below 4 TiB (STACK_TOP_MAX < _REGION2_SIZE); without
    // any VMA there an upgraded mm keeps its first region-3 table at exit (a kernel behaviour)
    if (cfg.family !== "s390") return null;
    const s = (1n << 42n) - 1n * 1024n * 1024n;
    return [s, s + page];
  };
  const newMm = (name: string) => {
    actions.push({ k: "mm", name });
    const stack = stackFor();
    const p: Proc = { vmas: [], pages: new Set(), stack };
    procs.set(name, p);
    if (stack) {
      actions.push({ k: "map", mm: name, addr: stack[0], size: stack[1] - stack[0] });
      p.vmas.push(stack);
    }
  };
  newMm(`p${names++}`);
  const steps = 10 + rng.int(40);
  for (let i = 0; i < steps; i++) {
    const live = [...procs.keys()];
    if (live.length === 0) {
      newMm(`p${names++}`);
      continue;
    }
    const mm = rng.pick(live);
    const p = procs.get(mm)!;
    const r = rng.next();
    if (r < 0.22) {
      const a = addr(), s = size();
      if (a + s <= task && !overlaps(p.vmas, a, a + s)) {
        // shared anonymous memory now and then (fork does not copy its tables)
        actions.push({
          k: "map",
          mm,
          addr: a,
          size: s,
          ...(rng.chance(0.2) ? { shared: true } : {}),
        });
        p.vmas.push([a, a + s]);
      }
    } else if (r < 0.55 && p.vmas.length) {
      // a touch: a few pages, a table's worth, or one page per table over many tables
      const [s, e] = rng.pick(p.vmas);
      const a = s + rng.big((e - s) / page) * page;
      const step = page * BigInt(rng.pick([1, 1, 2, 3, 16, 512, 4096]));
      const count = BigInt(1 + rng.int(step === page ? 600 : 64));
      const len = step * count;
      const sz = a + len > e ? e - a : len;
      if (sz > 0n && touchInside(p.vmas, a, sz, step)) {
        actions.push({
          k: "touch",
          mm,
          addr: a,
          size: sz,
          step,
          ...(rng.chance(0.15) ? { read: true } : {}),
        });
      }
    } else if (r < 0.6 && p.vmas.length) {
      // within one VMA: mprotect there and back (split, merge, THP split, flushes), or advice
      const [s, e] = rng.pick(p.vmas);
      const a = s + rng.big((e - s) / page) * page;
      const len = page * BigInt(1 + rng.int(1024));
      const size = a + len > e ? e - a : len;
      const to = addr();
      if (rng.chance(0.2) && !p.split && (!p.stack || s !== p.stack[0])) {
        // move a whole mapping somewhere free (move_page_tables: aligned or not, as it falls)
        if (to + (e - s) <= task && !overlaps(p.vmas, to, to + (e - s))) {
          actions.push({ k: "mremap", mm, addr: s, size: e - s, to });
          p.vmas = [...removeRange(p.vmas, s, e), [to, to + (e - s)]];
        }
      } else if (rng.chance(0.5)) {
        p.split = true;
        const prot = rng.pick(["none", "read"] as const);
        actions.push({ k: "mprotect", mm, addr: a, size, prot });
        actions.push({ k: "mprotect", mm, addr: a, size, prot: "write" });
      } else {
        const advice = rng.pick(
          [
            "free",
            "hugepage",
            "nohugepage",
            "populate_write",
            ...(opts.thpAvailable ? ["collapse"] : []),
          ],
        );
        actions.push({ k: "advise", mm, advice, addr: a, size });
        p.split = true;
      }
    } else if (r < 0.7 && p.vmas.length) {
      const [s, e] = rng.pick(p.vmas);
      if (p.stack && s === p.stack[0]) continue;
      const a = rng.chance(0.5) ? s : s + rng.big((e - s) / page) * page;
      const len = rng.chance(0.3) ? e - a : page * BigInt(1 + rng.int(600));
      const b = a + len > task ? task : a + len;
      if (p.stack && overlaps([p.stack], a, b)) continue;
      actions.push({ k: rng.chance(0.6) ? "unmap" : "dontneed", mm, addr: a, size: b - a });
      if (actions[actions.length - 1].k === "unmap") p.vmas = removeRange(p.vmas, a, b);
    } else if (r < 0.76 && procs.size < 3) {
      const child = `p${names++}`;
      actions.push({ k: "fork", mm, child });
      procs.set(child, { vmas: [...p.vmas], pages: new Set(), stack: p.stack, split: p.split });
    } else if (r < 0.8) {
      actions.push({ k: "exit", mm });
      procs.delete(mm);
    } else if (r < 0.84 && cpus > 1) {
      const set = [...new Set([rng.int(cpus), rng.int(cpus)])];
      actions.push({ k: "run", mm, cpus: set });
    } else if (r < 0.87 && opts.sites.length) {
      const mode = rng.pick(["at", "at", "at", "every", "after"] as const);
      actions.push({ k: "inject", site: rng.pick(opts.sites), mode, n: 1 + rng.int(12) });
    } else if (r < 0.96) {
      actions.push({ k: "check" });
    } else if (procs.size < 3) {
      newMm(`p${names++}`);
    }
  }
  for (const name of procs.keys()) actions.push({ k: "exit", mm: name });
  actions.push({ k: "check" });
  return { arch: cfg.name, options, cpus, actions, seed };
}

/** The oracle's expectations at each `check`, replaying the actions on its own model. */
function oracleLines(sc: GenScenario, pageSize: bigint, cfg: ArchConfig): Map<number, string[]> {
  const procs = new Map<string, { pages: Set<bigint>; vmas: Range[] }>();
  const out = new Map<number, string[]>();
  // after an injected failure, or with THP, which pages are present is the engine's business
  let exact = sc.options.thp !== "on";
  const bytes = cfg.levels.map((l) => l.pgtablesBytes);
  sc.actions.forEach((a, i) => {
    switch (a.k) {
      case "mm":
        procs.set(a.name, { pages: new Set(), vmas: [] });
        break;
      case "map":
        procs.get(a.mm)?.vmas.push([a.addr, a.addr + a.size]);
        // shared memory is not copied at fork: which pages a child has is the engine's business
        if (a.shared) exact = false;
        break;
      case "mprotect":
        break;
      case "mremap": {
        // the pages move with the mapping
        const p = procs.get(a.mm);
        if (!p) break;
        const delta = a.to - a.addr;
        const moved = [...p.pages].filter((pg) =>
          pg * pageSize >= a.addr && pg * pageSize < a.addr + a.size
        );
        for (const pg of moved) p.pages.delete(pg);
        for (const pg of moved) p.pages.add(pg + delta / pageSize);
        p.vmas = [...removeRange(p.vmas, a.addr, a.addr + a.size), [a.to, a.to + a.size]];
        break;
      }
      case "advise":
        // populate_write, collapse and the THP advice change what is present
        if (a.advice !== "free") exact = false;
        break;
      case "touch": {
        const p = procs.get(a.mm);
        if (!p) break;
        if (a.read) exact = false; // the zero page, fault-around
        for (let x = a.addr; x < a.addr + a.size; x += a.step) p.pages.add(x / pageSize);
        break;
      }
      case "unmap":
      case "dontneed": {
        const p = procs.get(a.mm);
        if (!p) break;
        for (const pg of [...p.pages]) {
          if (pg * pageSize >= a.addr && pg * pageSize < a.addr + a.size) p.pages.delete(pg);
        }
        if (a.k === "unmap") p.vmas = removeRange(p.vmas, a.addr, a.addr + a.size);
        break;
      }
      case "fork": {
        const p = procs.get(a.mm);
        if (p) procs.set(a.child, { pages: new Set(p.pages), vmas: [...p.vmas] });
        break;
      }
      case "exit":
        procs.delete(a.mm);
        break;
      case "inject":
        exact = false;
        break;
      case "check": {
        const lines: string[] = [];
        for (const [name, p] of procs) {
          if (exact) lines.push(`expect ${name}.rss == ${BigInt(p.pages.size) * pageSize}`);
          // VmPTE is the sum of what each live table below the root adds (mm_inc_nr_*): a
          // cross-check of the per-level table counts against pgtables_bytes; s390's root
          // moves between levels, so there the root level is not known here
          if (cfg.family !== "s390") {
            const terms = [2, 3, 4].filter((l) => bytes[l] > 0)
              .map((l) => `${name}.tables.${["pgd", "p4d", "pud", "pmd", "pte"][l]} * ${bytes[l]}`);
            lines.push(`expect ${name}.vmpte == ${terms.length ? terms.join(" + ") : "0"}`);
          }
        }
        if (procs.size === 0) {
          lines.push("expect nr_page_table_pages == 0", "expect leaks == 0", "expect ptlocks == 0");
        }
        lines.push("expect violations == 0");
        out.set(i, lines);
        break;
      }
    }
  });
  return out;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** Renders a scenario as a .ptlab file (with the oracle's expectations at each check). */
export function render(
  sc: GenScenario,
  resolve: (options: Record<string, string>) => ArchConfig,
  header: string[] = [],
): string {
  const cfg = resolve(sc.options);
  const page = 1n << BigInt(cfg.pageShift);
  const oracle = oracleLines(sc, page, cfg);
  const opts = Object.entries(sc.options).map(([k, v]) => `  ${k} = ${v}`).join("\n");
  const out = [...header.map((h) => `# ${h}`), `arch ${sc.arch} {`, opts, "}", `cpus ${sc.cpus}`];
  sc.actions.forEach((a, i) => {
    switch (a.k) {
      case "mm":
        out.push(`mm ${a.name}`);
        break;
      case "map":
        out.push(`map ${a.mm} ${hex(a.addr)} size ${hex(a.size)}${a.shared ? " shared" : ""}`);
        break;
      case "touch":
        out.push(
          `touch ${a.mm} ${hex(a.addr)} size ${hex(a.size)} every ${hex(a.step)}${
            a.read ? " read" : ""
          }`,
        );
        break;
      case "mprotect":
        out.push(`mprotect ${a.mm} ${hex(a.addr)} size ${hex(a.size)} ${a.prot}`);
        break;
      case "mremap":
        out.push(`mremap ${a.mm} ${hex(a.addr)} size ${hex(a.size)} to ${hex(a.to)}`);
        break;
      case "advise":
        out.push(`madvise ${a.mm} ${a.advice} ${hex(a.addr)} size ${hex(a.size)}`);
        break;
      case "unmap":
        out.push(`unmap ${a.mm} ${hex(a.addr)} size ${hex(a.size)}`);
        break;
      case "dontneed":
        out.push(`madvise ${a.mm} dontneed ${hex(a.addr)} size ${hex(a.size)}`);
        break;
      case "fork":
        out.push(`fork ${a.mm} as ${a.child}`);
        break;
      case "exit":
        out.push(`exit ${a.mm}`);
        break;
      case "run":
        out.push(`run ${a.mm} on ${a.cpus.join(",")}`);
        break;
      case "inject":
        out.push(`inject fail ${a.site} ${a.mode} ${a.n}`);
        break;
      case "check":
        out.push(...oracle.get(i)!);
        break;
    }
  });
  return out.join("\n") + "\n";
}
