/**
 * `ptlab fuzz`: random valid scenarios on every chosen configuration, each run through the whole
 * pipeline (render, parse, compile, run); a violation, an expectation the engine contradicts, a
 * diagnostic on a generated scenario or a crash is a finding, shrunk to a minimal scenario and
 * printed as a `.ptlab` file. Deterministic for a seed.
 *
 * @module
 */

import { catalog, describeConfig, runScenario } from "../mod.ts";
import type { ArchConfig } from "../engine/types.ts";
import { type Action, generate, type GenScenario, render } from "./gen.ts";

/** What went wrong in one scenario. */
export interface Finding {
  /** Configuration. */
  arch: string;
  /** Seed of the scenario. */
  seed: number;
  /** `violation:RULE`, `expectation`, `diagnostic` or `crash`. */
  kind: string;
  /** The first message. */
  message: string;
  /** The shrunk scenario, as a .ptlab file. */
  scenario: string;
  /** Statements before and after shrinking. */
  size: { before: number; after: number };
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Configuration names. */
  archs: readonly string[];
  /** First seed; each scenario's seed follows from it. */
  seed: number;
  /** Scenarios per configuration (ignored when `seconds` is given). */
  runs?: number;
  /** Time budget in seconds, shared by the configurations in turn. */
  seconds?: number;
  /**
   * Kernel version, or a comma list (`--kernel all`) the scenarios take in turn (random per
   * scenario when undefined).
   */
  kernel?: string;
  /** Called after each scenario (for progress). */
  progress?: (done: number, findings: number) => void;
}

/** The outcome of a fuzz run. */
export interface FuzzReport {
  /** Scenarios run. */
  scenarios: number;
  /** Statements run. */
  statements: number;
  /** Findings, shrunk, at most one per configuration and kind. */
  findings: Finding[];
  /** Scenarios per configuration. */
  perArch: Record<string, number>;
}

/**
 * Violations that are the modelled kernel's own behaviour, not ptlab's: the fuzzer counts them
 * apart instead of reporting them (each is kept as a regression in testdata/regressions/).
 */
export const KNOWN_KERNEL_BEHAVIOUR: readonly {
  family: string;
  before: number;
  rule: string;
  why: string;
}[] = [{
  family: "riscv",
  before: 608,
  rule: "reused-before-flush",
  why: 'riscv freed PMD/PUD/P4D tables in free_pgtables before the flush until 6.8 ("riscv: ' +
    'tlb: fix __p*d_free_tlb()"); testdata/regressions/riscv-6.6-pmd-reused-before-flush.ptlab',
}];

/** Whether a violation is a known behaviour of the modelled kernel. */
function known(cfg: ArchConfig, rule: string): boolean {
  const [maj, min] = cfg.kernel.split(".").map(Number);
  return KNOWN_KERNEL_BEHAVIOUR.some((b) =>
    b.family === cfg.family && maj * 100 + min < b.before && b.rule === rule
  );
}

/** Runs one generated scenario; returns the finding's kind and message, or null. */
export function check(
  sc: GenScenario,
  resolve: Resolve,
): { kind: string; message: string } | null {
  const text = render(sc, resolve);
  let out;
  try {
    out = runScenario(text, { file: `fuzz-${sc.seed}.ptlab` });
  } catch (e) {
    return { kind: "crash", message: e instanceof Error ? e.message : String(e) };
  }
  if (out.exitCode === 2) {
    const d = out.diagnostics[0];
    return { kind: "diagnostic", message: `${d.line}:${d.col}: ${d.message}` };
  }
  const cfg = resolve(sc.options);
  for (const r of out.runs) {
    const vs = r.violations.filter((v) => !known(cfg, v.rule));
    if (vs.length) {
      const v = vs[0];
      return { kind: `violation:${v.rule}`, message: `line ${v.line}: ${v.message}` };
    }
    // "expect violations == 0" fails with a known violation too: ignore it then
    const e = r.expectations.find((x) =>
      !x.ok && !(x.text === "violations == 0" && vs.length === 0)
    );
    if (e) {
      return {
        kind: "expectation",
        message: `line ${e.line}: expect ${e.text} (left is ${e.actual}, right is ${e.expected})`,
      };
    }
  }
  return null;
}

/**
 * Removes actions [from, from + count) and what can no longer run without them: a process's
 * later actions, and those written relative to a name a removed `map ... as NAME` bound.
 */
export function without(actions: readonly Action[], from: number, count: number): Action[] {
  const gone = new Set<string>(), unbound = new Set<string>();
  const drop = (a: Action) => {
    if (a.k === "mm") gone.add(a.name);
    else if (a.k === "fork") gone.add(a.child);
    else if (a.k === "map" && a.as) unbound.add(a.as);
  };
  const out: Action[] = [];
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    if (
      (i >= from && i < from + count) || ("mm" in a && gone.has(a.mm)) ||
      ("ref" in a && a.ref && unbound.has(a.ref.name))
    ) {
      drop(a);
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Shrinks a failing scenario: drops chunks of actions (halves, then smaller) while the finding
 * keeps its {@link signature}; the oracle's expectations are recomputed for every candidate.
 */
export function shrink(sc: GenScenario, cfg: Resolve, kind: string): GenScenario {
  let cur = sc;
  let chunk = Math.max(1, Math.floor(cur.actions.length / 2));
  while (chunk >= 1) {
    let changed = false;
    for (let i = 0; i < cur.actions.length;) {
      const cand = { ...cur, actions: without(cur.actions, i, chunk) };
      const f = cand.actions.length < cur.actions.length ? check(cand, cfg) : null;
      if (f && signature(f) === kind) {
        cur = cand;
        changed = true;
      } else i += chunk;
    }
    if (!changed) chunk = Math.floor(chunk / 2);
  }
  return cur;
}

/** Runs the fuzzer. */
export function fuzz(opts: FuzzOptions): FuzzReport {
  const report: FuzzReport = { scenarios: 0, statements: 0, findings: [], perArch: {} };
  const ctx = opts.archs.map((name) => {
    const resolve = resolver(name);
    const d = describeConfig(name)!;
    return {
      name,
      cfg: resolve,
      gen: { resolve, thpAvailable: d.thpAvailable, sites: catalog.injectSites(name) },
    };
  });
  const seen = new Set<string>();
  const deadline = opts.seconds !== undefined ? performance.now() + opts.seconds * 1000 : Infinity;
  const runs = opts.seconds !== undefined ? Infinity : opts.runs ?? 100;
  for (let round = 0; round < runs && performance.now() < deadline; round++) {
    for (const c of ctx) {
      if (performance.now() >= deadline) break;
      const seed = ((opts.seed + round * 7919) ^ hash(c.name)) >>> 0;
      const kernels = opts.kernel?.split(",").map((v) => v.trim());
      const kernel = kernels?.[round % kernels.length];
      const sc = generate(seed, { ...c.gen, kernel });
      report.scenarios++;
      report.statements += sc.actions.length;
      report.perArch[c.name] = (report.perArch[c.name] ?? 0) + 1;
      const f = check(sc, c.cfg);
      if (f && !seen.has(`${c.name} ${f.kind}`)) {
        seen.add(`${c.name} ${f.kind}`);
        const small = shrink(sc, c.cfg, signature(f));
        const again = check(small, c.cfg) ?? f;
        report.findings.push({
          arch: c.name,
          seed,
          kind: f.kind,
          message: again.message,
          scenario: render(small, c.cfg, [
            `ptlab fuzz finding on ${c.name}, seed ${seed}: ${f.kind}`,
            again.message,
            `shrunk from ${sc.actions.length} to ${small.actions.length} statements`,
          ]),
          size: { before: sc.actions.length, after: small.actions.length },
        });
      }
      opts.progress?.(report.scenarios, report.findings.length);
    }
  }
  return report;
}

/**
 * What must stay the same while a scenario shrinks: the kind of finding and its message with
 * numbers and process names left out (so a shrink cannot wander off to another problem).
 */
export function signature(f: { kind: string; message: string }): string {
  const msg = f.message.replace(/^line \d+: /, "").replace(/\bp\d+\b/g, "P")
    .replace(/0x[0-9a-f]+|\d+/g, "N");
  return `${f.kind} ${msg}`;
}

/** Resolves a configuration's options into its geometry and address space. */
export type Resolve = (options: Record<string, string>) => ArchConfig;

/** The resolver of one configuration. */
export function resolver(name: string): Resolve {
  return (options) => describeConfig(name, options)!.config;
}

/** A 32-bit hash of a string (FNV-1a). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
