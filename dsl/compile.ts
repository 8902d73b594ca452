/**
 * {@link Scenario} to {@link Program} for one configuration, with the semantic checks: the
 * configuration and its options, names (processes, variables, metrics), constants where the
 * compiler needs them, page alignment, the user address space, and the static VMA layout of each
 * process (overlapping `map`, `touch` outside any mapping). `repeat` is unrolled here.
 *
 * @module
 */

import type { OptionProblem } from "../archs/config.ts";
import { MM_METRICS, SYSTEM_METRICS } from "../engine/types.ts";
import type { ArchConfig, Expr, Op, Program } from "../engine/types.ts";
import type { ExprNode, NameRef, Scenario, Span, Statement } from "./ast.ts";
import { type Diagnostic, diagnosticAt, didYouMean, locate } from "./diagnostics.ts";
import { Layout } from "./layout.ts";

/** The configurations a scenario can be compiled for (implemented by the caller). */
export interface ConfigCatalog {
  /** Every configuration name. */
  names(): readonly string[];
  /** Problems with option names and values for a configuration (none: all fine). */
  checkOptions(name: string, options: Readonly<Record<string, string>>): OptionProblem[];
  /** The configuration resolved with (checked) options. */
  resolve(name: string, options: Readonly<Record<string, string>>): ArchConfig;
  /** Allocation sites `inject fail` may name on this configuration (kernel functions). */
  injectSites(name: string): readonly string[];
  /**
   * The arch families whose own allocators include `site` (s390 for crst_table_alloc), so a
   * scenario naming it is a misfit on the other configurations rather than misspelt.
   */
  injectSiteOwners?(site: string): readonly string[];
}

/** Options of {@link compileScenario}. */
export interface CompileOptions {
  /** Option values given outside the file (command line); they win over the file's. */
  optionOverrides?: Record<string, string>;
  /**
   * The configuration was chosen outside the file (`--arch`): what only it rejects (an address
   * or size not aligned to its page size) is reported as `fit`, like an address space too small.
   */
  foreign?: boolean;
}

/** What {@link compileScenario} returns. */
export interface CompileResult {
  /** The program, when there is no diagnostic. */
  program?: Program;
  /** The resolved configuration, when the configuration and its options are valid. */
  config?: ArchConfig;
  /** Every problem found. */
  diagnostics: Diagnostic[];
  /**
   * Options of the file's `arch` statement (or overrides) that the target configuration does
   * not have and that were therefore ignored (the file named another configuration).
   */
  droppedOptions: string[];
}

/** Most iterations all `repeat`s may unroll to, in total. */
export const MAX_ITERATIONS = 1_000_000;
/** Most operations a compiled program may have. */
export const MAX_OPS = 5_000_000;
/** Most CPUs. */
export const MAX_CPUS = 4096;
/** CPUs when the scenario has no `cpus` statement. */
export const DEFAULT_CPUS = 1;
/** Compilation stops after this many diagnostics. */
const MAX_DIAGNOSTICS = 200;
/** Label of diagnostics that are not in the file (command-line options). */
export const COMMAND_LINE = "command line";

const systemMetrics: ReadonlySet<string> = new Set(SYSTEM_METRICS);
const mmMetrics: ReadonlySet<string> = new Set(MM_METRICS);

/** A value during compilation: a constant, or an expression the engine evaluates. */
type Val =
  | { readonly c: bigint }
  | { readonly rt: Expr; readonly dep: Dep };

/** Why a value is not a constant: the first metric (or run-time variable) it reads. */
interface Dep {
  readonly text: string;
  readonly span: Span;
  /** Line of the run-time `let` when the dependency is a variable. */
  readonly letLine?: number;
}

/** A variable: constant, set at run time (on that line), or broken (its `let` had an error). */
type Binding = { readonly c: bigint } | { readonly rtLine: number } | { readonly broken: true };

class Abort {}

/** Hex with a sign: `0x7f0000000000`, `-0x1000`. */
export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** A byte count with a binary unit when it is a whole number of them (`4K`, `2M`). */
export function sizeText(v: bigint): string {
  for (const [u, s] of [["T", 40n], ["G", 30n], ["M", 20n], ["K", 10n]] as const) {
    if (v !== 0n && v % (1n << s) === 0n) return `${v >> s}${u}`;
  }
  return v.toString();
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0].toLowerCase() + s.slice(1) : s;
}

function bestCandidate(word: string, candidates: readonly string[]): string {
  return candidates.length > 0 ? didYouMean(word, candidates) : "";
}

/** One compilation (state of the walk over the unrolled program). */
class Compiler {
  readonly diags: Diagnostic[] = [];
  readonly #seen = new Set<string>();
  #misfit = false;
  readonly ops: Op[] = [];
  readonly env = new Map<string, Binding>();
  readonly live = new Map<string, { layout: Layout; line: number }>();
  readonly exited = new Map<string, number>();
  readonly #pos = new Map<Statement, { line: number; col: number }>();
  readonly skip = new Set<Statement>();
  cpus = DEFAULT_CPUS;
  iterations = 0;
  readonly repeats: Statement[] = [];
  pageSize?: bigint;
  taskSize?: bigint;
  configName = "";
  /** Allocation sites of the configuration, for `inject fail`. */
  injectSites: readonly string[] = [];
  /** The arch families that own an allocation site this configuration lacks. */
  injectSiteOwners: (site: string) => readonly string[] = () => [];
  /** Kind of the page-size alignment diagnostics ("fit" for a configuration chosen outside). */
  alignKind: Diagnostic["kind"] = "semantic";

  constructor(readonly s: Scenario) {}

  line(offset: number): number {
    return locate(this.s.source, offset).line;
  }

  report(span: Span, message: string, kind: Diagnostic["kind"] = "semantic"): void {
    // after a statement this configuration cannot run (a `fit` problem), what follows from it
    // (an overlap with a mapping that was never removed ...) is part of the same misfit
    if (kind === "fit") this.#misfit = true;
    else if (this.#misfit) kind = "fit";
    const key = `${span.offset}:${kind}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.diags.push(diagnosticAt(this.s.file, this.s.source, span, message, kind));
    if (this.diags.length >= MAX_DIAGNOSTICS) throw new Abort();
  }

  pos(st: Statement): { line: number; col: number } {
    let p = this.#pos.get(st);
    if (!p) {
      p = locate(this.s.source, st.keyword.offset);
      this.#pos.set(st, p);
    }
    return p;
  }

  emit(st: Statement, op: Op): void {
    this.ops.push(op);
    if (this.ops.length > MAX_OPS) {
      const at = this.repeats[0] ?? st;
      this.report(at.keyword, `repeat unrolls to more than ${MAX_OPS} operations`);
      throw new Abort();
    }
  }

  // ---- expressions ----

  ev(e: ExprNode): Val | undefined {
    switch (e.kind) {
      case "num":
        return { c: e.value };
      case "name": {
        const b = this.env.get(e.name);
        if (b) {
          if ("c" in b) return b;
          if ("broken" in b) return undefined; // already reported at its let
          return {
            rt: { k: "var", name: e.name },
            dep: { text: e.name, span: e.span, letLine: b.rtLine },
          };
        }
        if (systemMetrics.has(e.name)) {
          return { rt: { k: "metric", name: e.name }, dep: { text: e.name, span: e.span } };
        }
        if (this.live.has(e.name)) {
          this.report(
            e.span,
            `"${e.name}" is a process, not a value: use one of its metrics, such as ${e.name}.vmpte`,
          );
          return undefined;
        }
        this.report(
          e.span,
          `unknown variable or metric "${e.name}"` +
            didYouMean(e.name, [...this.env.keys(), ...SYSTEM_METRICS]),
        );
        return undefined;
      }
      case "mmMetric": {
        const mmOk = this.process(e.mm);
        if (!mmMetrics.has(e.metric)) {
          const sug = e.metric === "tables"
            ? ` (use ${MM_METRICS.filter((m) => m.startsWith("tables.")).join(", ")})`
            : didYouMean(e.metric, MM_METRICS);
          this.report(e.metricSpan, `unknown process metric "${e.metric}"${sug}`);
          return undefined;
        }
        if (!mmOk) return undefined;
        return {
          rt: { k: "metric", name: e.metric, mm: e.mm.name },
          dep: { text: `${e.mm.name}.${e.metric}`, span: e.span },
        };
      }
      case "neg": {
        const v = this.ev(e.operand);
        if (!v) return undefined;
        return "c" in v ? { c: -v.c } : { rt: { k: "neg", e: v.rt }, dep: v.dep };
      }
      case "bin": {
        const l = this.ev(e.left);
        const r = this.ev(e.right);
        if (!l || !r) return undefined;
        if ((e.op === "/" || e.op === "%") && "c" in r && r.c === 0n) {
          this.report(e.right.span, "division by zero");
          return undefined;
        }
        if ("c" in l && "c" in r) {
          switch (e.op) {
            case "+":
              return { c: l.c + r.c };
            case "-":
              return { c: l.c - r.c };
            case "*":
              return { c: l.c * r.c };
            case "/":
              return { c: l.c / r.c };
            case "%":
              return { c: l.c % r.c };
          }
        }
        const le: Expr = "c" in l ? { k: "num", v: l.c } : l.rt;
        const re: Expr = "c" in r ? { k: "num", v: r.c } : r.rt;
        const dep = "rt" in l ? l.dep : (r as { dep: Dep }).dep;
        return { rt: { k: "bin", op: e.op, l: le, r: re }, dep };
      }
    }
  }

  /** The constant value of an expression, or undefined (reported) if it has none. */
  constant(e: ExprNode, what: string): bigint | undefined {
    const v = this.ev(e);
    if (!v) return undefined;
    if ("c" in v) return v.c;
    const d = v.dep;
    this.report(
      d.span,
      d.letLine !== undefined
        ? `${what} must be a constant, but "${d.text}" is set from a metric at run time (line ${d.letLine})`
        : `${what} must be a constant, but "${d.text}" is a metric`,
    );
    return undefined;
  }

  runtime(e: ExprNode): Expr | undefined {
    const v = this.ev(e);
    if (!v) return undefined;
    return "c" in v ? { k: "num", v: v.c } : v.rt;
  }

  // ---- processes ----

  /** The live process named `r`, or undefined (reported). */
  process(r: NameRef): { layout: Layout; line: number } | undefined {
    const p = this.live.get(r.name);
    if (p) return p;
    const gone = this.exited.get(r.name);
    if (gone !== undefined) {
      this.report(r.span, `process "${r.name}" has exited (line ${gone})`);
    } else {
      this.report(r.span, `unknown process "${r.name}"` + didYouMean(r.name, this.live.keys()));
    }
    return undefined;
  }

  newProcess(r: NameRef, layout: Layout): boolean {
    const p = this.live.get(r.name);
    if (p) {
      this.report(r.span, `duplicate process name "${r.name}" (created on line ${p.line})`);
      return false;
    }
    if (systemMetrics.has(r.name)) {
      this.report(r.span, `"${r.name}" is a metric name; choose another name for the process`);
      return false;
    }
    this.live.set(r.name, { layout, line: this.line(r.span.offset) });
    this.exited.delete(r.name);
    return true;
  }

  // ---- ranges ----

  positive(e: ExprNode, v: bigint, what: string): boolean {
    if (v > 0n) return true;
    this.report(e.span, `${what} must be positive, not ${v}`);
    return false;
  }

  /** Alignment and address-space checks of `[addr, addr + size)`; false if it does not fit. */
  range(addrE: ExprNode, addr: bigint, sizeE: ExprNode, size: bigint): boolean {
    let ok = true;
    const page = this.pageSize;
    if (page !== undefined) {
      const ps = `the page size of ${this.configName} (${sizeText(page)})`;
      if (addr % page !== 0n) {
        this.report(addrE.span, `address ${hex(addr)} is not aligned to ${ps}`, this.alignKind);
        ok = false;
      }
      if (size % page !== 0n) {
        this.report(
          sizeE.span,
          `size ${sizeText(size)} is not a multiple of ${ps}`,
          this.alignKind,
        );
        ok = false;
      }
    }
    const top = this.taskSize;
    if (top !== undefined && (addr < 0n || addr + size > top)) {
      this.report(
        addrE.span,
        `address range ${hex(addr)}..${hex(addr + size)} is outside the user address space of ` +
          `${this.configName} (0..${hex(top)})`,
        "fit",
      );
      ok = false;
    }
    return ok;
  }

  // ---- statements ----

  block(list: readonly Statement[]): void {
    for (const st of list) this.statement(st);
  }

  statement(st: Statement): void {
    if (this.skip.has(st)) return;
    const { line, col } = this.pos(st);
    switch (st.kind) {
      case "arch":
        return;
      case "cpus": {
        const n = this.constant(st.count, "the CPU count");
        if (n === undefined) return;
        if (n < 1n || n > BigInt(MAX_CPUS)) {
          this.report(st.count.span, `cpus must be between 1 and ${MAX_CPUS}, not ${n}`);
          return;
        }
        this.cpus = Number(n);
        return;
      }
      case "let": {
        const name = st.name.name;
        if (systemMetrics.has(name)) {
          this.report(st.name.span, `"${name}" is a metric name; choose another variable name`);
          return;
        }
        const v = this.ev(st.value);
        if (!v) {
          this.env.set(name, { broken: true });
          return;
        }
        if ("c" in v) {
          this.env.set(name, v);
        } else {
          this.env.set(name, { rtLine: line });
          this.emit(st, { op: "let", name, expr: v.rt, line, col });
        }
        return;
      }
      case "mm":
        if (this.newProcess(st.name, new Layout())) {
          this.emit(st, { op: "mm", name: st.name.name, line, col });
        }
        return;
      case "map": {
        const p = this.process(st.mm);
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        if (!p || addr === undefined || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        this.range(st.addr, addr, st.size, size);
        const end = addr + size;
        const o = p.layout.overlap(addr, end);
        if (o) {
          this.report(
            st.addr.span,
            `mapping ${hex(addr)}..${hex(end)} overlaps the mapping ${hex(o.start)}..${
              hex(o.end)
            } of "${st.mm.name}" made on line ${o.line}`,
          );
          return;
        }
        p.layout.insert(addr, end, line);
        this.emit(st, { op: "map", mm: st.mm.name, addr, size, line, col });
        return;
      }
      case "touch": {
        const p = this.process(st.mm);
        const addr = this.constant(st.addr, "the address");
        const page = this.pageSize ?? 4096n;
        const size = st.size ? this.constant(st.size, "the size") : page;
        const step = st.step ? this.constant(st.step, "the step") : page;
        if (!p || addr === undefined || size === undefined || step === undefined) return;
        let ok = true;
        if (st.size && !this.positive(st.size, size, "size")) ok = false;
        if (st.step) {
          if (!this.positive(st.step, step, "step")) ok = false;
          else if (this.pageSize !== undefined && step % this.pageSize !== 0n) {
            this.report(
              st.step.span,
              `step ${sizeText(step)} is not a multiple of the page size of ${this.configName} (${
                sizeText(this.pageSize)
              })`,
              this.alignKind,
            );
            ok = false;
          }
        }
        if (!ok) return;
        if (!this.range(st.addr, addr, st.size ?? st.addr, size)) return;
        const hole = p.layout.firstUnmapped(addr, addr + size, step);
        if (hole !== undefined) {
          this.report(
            st.addr.span,
            hole === addr
              ? `touch at ${hex(hole)} is outside any mapping of "${st.mm.name}"`
              : `touch reaches ${hex(hole)}, which is outside any mapping of "${st.mm.name}"`,
          );
          return;
        }
        this.emit(st, { op: "touch", mm: st.mm.name, addr, size, step, line, col });
        return;
      }
      case "unmap":
      case "madvise": {
        const p = this.process(st.mm);
        if (st.kind === "madvise" && st.advice.name !== "dontneed") {
          const hint = didYouMean(st.advice.name, ["dontneed"]);
          this.report(
            st.advice.span,
            `unknown advice "${st.advice.name}"${hint || " (only dontneed is modelled)"}`,
          );
        }
        const addr = this.constant(st.addr, "the address");
        const size = this.constant(st.size, "the size");
        if (!p || addr === undefined || size === undefined) return;
        if (!this.positive(st.size, size, "size")) return;
        if (!this.range(st.addr, addr, st.size, size)) return;
        if (st.kind === "unmap") {
          p.layout.remove(addr, addr + size);
          this.emit(st, { op: "unmap", mm: st.mm.name, addr, size, line, col });
        } else if (st.advice.name === "dontneed") {
          this.emit(st, {
            op: "madvise",
            mm: st.mm.name,
            advice: "dontneed",
            addr,
            size,
            line,
            col,
          });
        }
        return;
      }
      case "fork": {
        const p = this.process(st.mm);
        if (!p) return;
        if (this.newProcess(st.child, p.layout.clone())) {
          this.emit(st, { op: "fork", mm: st.mm.name, child: st.child.name, line, col });
        }
        return;
      }
      case "exit": {
        if (!this.process(st.mm)) return;
        this.live.delete(st.mm.name);
        this.exited.set(st.mm.name, line);
        this.emit(st, { op: "exit", mm: st.mm.name, line, col });
        return;
      }
      case "run": {
        const p = this.process(st.mm);
        const cpus = this.cpuList(st);
        if (!p || !cpus) return;
        this.emit(st, { op: "run", mm: st.mm.name, cpus, line, col });
        return;
      }
      case "snapshot":
        this.emit(st, { op: "snapshot", label: st.label, line, col });
        return;
      case "inject": {
        if (st.verb.name !== "fail") {
          this.report(st.verb.span, `expected 'fail' after 'inject', not "${st.verb.name}"`);
          return;
        }
        const sites = this.injectSites;
        const owners = sites.includes(st.site.name) ? [] : this.injectSiteOwners(st.site.name);
        if (owners.length) {
          this.report(
            st.site.span,
            `"${st.site.name}" is an allocation site of ${
              owners.join(", ")
            }, not of ${this.configName}`,
            "fit",
          );
          return;
        }
        if (!sites.includes(st.site.name)) {
          this.report(
            st.site.span,
            `unknown allocation site "${st.site.name}" on ${this.configName}${
              didYouMean(st.site.name, sites) ||
              ` (one of ${sites.join(", ")})`
            }`,
          );
          return;
        }
        let mode: "at" | "every" | "after" = "every";
        let n = 1n;
        if (st.mode && st.count) {
          if (!["at", "every", "after"].includes(st.mode.name)) {
            const hint = didYouMean(st.mode.name, ["at", "every", "after"]);
            this.report(
              st.mode.span,
              `expected at, every or after, not "${st.mode.name}"${hint}`,
            );
            return;
          }
          mode = st.mode.name as typeof mode;
          const v = this.constant(st.count, "the call count");
          if (v === undefined) return;
          const min = st.mode.name === "after" ? 0n : 1n;
          if (v < min || v > 1_000_000_000n) {
            this.report(
              st.count.span,
              `the call count must be between ${min} and 1000000000, not ${v}`,
            );
            return;
          }
          n = v;
        }
        this.emit(st, { op: "inject", site: st.site.name, mode, n: Number(n), line, col });
        return;
      }
      case "expect": {
        const l = this.runtime(st.left);
        const r = this.runtime(st.right);
        if (!l || !r) return;
        this.emit(st, { op: "expect", l, cmp: st.cmp, r, text: st.text, line, col });
        return;
      }
      case "repeat":
        this.repeat(st);
        return;
    }
  }

  cpuCheck(e: ExprNode, v: bigint): boolean {
    if (v >= 0n && v < BigInt(this.cpus)) return true;
    this.report(e.span, `CPU ${v} does not exist: the scenario has ${this.cpusText()}`);
    return false;
  }

  cpusText(): string {
    const n = this.cpus;
    return `${n} CPU${n === 1 ? "" : "s"} (0..${n - 1}; set more with 'cpus')`;
  }

  cpuList(st: Statement & { kind: "run" }): number[] | undefined {
    const l = st.cpus;
    if (l.kind === "range") {
      const from = this.constant(l.from, "a CPU number");
      const to = this.constant(l.to, "a CPU number");
      if (from === undefined || to === undefined) return undefined;
      if (to <= from) {
        this.report(l.from.span, `empty CPU range ${from}..${to} (the end is exclusive)`);
        return undefined;
      }
      if (!this.cpuCheck(l.from, from)) return undefined;
      if (to > BigInt(this.cpus)) {
        this.report(
          l.to.span,
          `CPU range ${from}..${to} reaches CPU ${to - 1n}, but the scenario has ` +
            `${this.cpusText()}`,
        );
        return undefined;
      }
      const out: number[] = [];
      for (let c = Number(from); c < Number(to); c++) out.push(c);
      return out;
    }
    const out: number[] = [];
    let ok = true;
    for (const e of l.items) {
      const v = this.constant(e, "a CPU number");
      if (v === undefined || !this.cpuCheck(e, v)) {
        ok = false;
        continue;
      }
      if (out.includes(Number(v))) {
        this.report(e.span, `CPU ${v} is listed twice`);
        ok = false;
        continue;
      }
      out.push(Number(v));
    }
    return ok ? out : undefined;
  }

  repeat(st: Statement & { kind: "repeat" }): void {
    const name = st.variable.name;
    if (systemMetrics.has(name)) {
      this.report(st.variable.span, `"${name}" is a metric name; choose another variable name`);
      return;
    }
    const from = this.constant(st.from, "the loop start");
    const to = this.constant(st.to, "the loop end");
    if (from === undefined || to === undefined) return;
    const n = to > from ? to - from : 0n;
    if (BigInt(this.iterations) + n > BigInt(MAX_ITERATIONS)) {
      this.report(
        st.to.span,
        `repeat unrolls to more than ${MAX_ITERATIONS} iterations in total (this loop: ${n})`,
      );
      return;
    }
    this.iterations += Number(n);
    const saved = this.env.get(name);
    this.repeats.push(st);
    for (let i = from; i < to; i++) {
      this.env.set(name, { c: i });
      this.block(st.body);
    }
    this.repeats.pop();
    if (saved) this.env.set(name, saved);
    else this.env.delete(name);
  }
}

/** Placement rules of `arch` and `cpus`; marks misplaced statements to be skipped. */
function checkPlacement(c: Compiler, statements: readonly Statement[]): void {
  let firstArch: Statement | undefined;
  let firstCpus: Statement | undefined;
  let firstOther: Statement | undefined;
  const nested = (list: readonly Statement[]) => {
    for (const st of list) {
      if (st.kind === "arch" || st.kind === "cpus") {
        c.report(st.keyword, `'${st.kind}' cannot be inside 'repeat'`);
        c.skip.add(st);
      } else if (st.kind === "repeat") nested(st.body);
    }
  };
  for (const st of statements) {
    if (st.kind === "arch") {
      if (firstArch) {
        c.report(
          st.keyword,
          `second 'arch' statement (the first is on line ${c.line(firstArch.keyword.offset)})`,
        );
      } else if (firstOther) {
        c.report(
          st.keyword,
          `'arch' must come before other statements (only 'cpus' and 'let' may precede it)`,
        );
      }
      firstArch ??= st;
    } else if (st.kind === "cpus") {
      if (firstCpus) {
        c.report(
          st.keyword,
          `second 'cpus' statement (the first is on line ${c.line(firstCpus.keyword.offset)})`,
        );
        c.skip.add(st);
      } else if (firstOther) {
        c.report(
          st.keyword,
          `'cpus' must come before other statements (only 'arch' and 'let' may precede it)`,
        );
        c.skip.add(st);
      }
      firstCpus ??= st;
    } else if (st.kind !== "let") {
      firstOther ??= st;
      if (st.kind === "repeat") nested(st.body);
    }
  }
}

/**
 * Checks the configuration and its options. Returns the options to resolve the target with (bad
 * ones left out, so that the rest of the file can still be checked) and whether all were valid;
 * undefined when the target is unknown.
 */
function checkConfig(
  c: Compiler,
  s: Scenario,
  target: string,
  catalog: ConfigCatalog,
  overrides: Readonly<Record<string, string>>,
  dropped: string[],
): { options: Record<string, string>; ok: boolean } | undefined {
  const names = catalog.names();
  const known = new Set(names);
  let ok = true;
  const cmdLine = (message: string) => {
    c.diags.push({ file: COMMAND_LINE, line: 0, col: 0, length: 1, message, kind: "semantic" });
    ok = false;
  };
  const fileArch = s.arch;
  const fileKnown = fileArch !== undefined && known.has(fileArch.name);
  if (fileArch && !fileKnown) {
    c.report(
      fileArch.nameSpan,
      `unknown arch "${fileArch.name}"` + didYouMean(fileArch.name, names),
    );
    ok = false;
  }
  const targetKnown = known.has(target);
  if (!targetKnown && !(fileArch && fileArch.name === target)) {
    cmdLine(`unknown arch "${target}"` + didYouMean(target, names));
  }
  const problemText = (p: OptionProblem, word: string) =>
    lowerFirst(p.message) + (p.candidates.length ? bestCandidate(word, p.candidates) : "");

  const effective: Record<string, string> = {};
  if (fileArch) {
    // duplicates
    const firstAt = new Map<string, Span>();
    for (const o of fileArch.optionList) {
      const prev = firstAt.get(o.key.name);
      if (prev) {
        c.report(
          o.key.span,
          `option "${o.key.name}" is given twice (first on line ${c.line(prev.offset)})`,
        );
        ok = false;
      } else firstAt.set(o.key.name, o.key.span);
    }
    const byName = new Map(fileArch.optionList.map((o) => [o.key.name, o]));
    const badInFile = new Set<string>();
    if (fileKnown) {
      for (const p of catalog.checkOptions(fileArch.name, fileArch.options)) {
        const o = byName.get(p.option);
        if (!o) continue;
        if (p.part === "name") c.report(o.key.span, problemText(p, o.key.name));
        else c.report(o.valueSpan, problemText(p, o.value));
        badInFile.add(p.option);
        ok = false;
      }
    }
    if (targetKnown) {
      for (const [k, v] of Object.entries(fileArch.options)) {
        const probs = catalog.checkOptions(target, { [k]: v });
        if (probs.length === 0) effective[k] = v;
        else if (target === fileArch.name || badInFile.has(k)) continue; // reported above
        else if (probs.some((p) => p.part === "name")) dropped.push(k);
        else {
          c.report(byName.get(k)!.valueSpan, `${problemText(probs[0], v)} (for ${target})`);
          ok = false;
        }
      }
    }
  }
  if (targetKnown) {
    for (const [k, v] of Object.entries(overrides)) {
      const probs = catalog.checkOptions(target, { [k]: v });
      if (probs.length === 0) {
        effective[k] = v;
        continue;
      }
      const p = probs[0];
      if (p.part === "name") {
        const elsewhere = names.some((n) =>
          n !== target && catalog.checkOptions(n, { [k]: v }).every((q) => q.part !== "name")
        );
        if (elsewhere) {
          if (!dropped.includes(k)) dropped.push(k);
          continue;
        }
      }
      cmdLine(`option ${k}=${v}: ${problemText(p, p.part === "name" ? k : v)}`);
    }
  }
  return targetKnown ? { options: effective, ok } : undefined;
}

/**
 * Compiles a parsed scenario for configuration `configName`. When `configName` is not the file's
 * `arch`, the file's options that configuration has are kept and the others dropped (listed in
 * `droppedOptions`); an unknown `arch` in the file is still an error.
 */
export function compileScenario(
  s: Scenario,
  configName: string,
  catalog: ConfigCatalog,
  opts: CompileOptions = {},
): CompileResult {
  const c = new Compiler(s);
  if (opts.foreign) c.alignKind = "fit";
  const dropped: string[] = [];
  let config: ArchConfig | undefined;
  try {
    checkPlacement(c, s.statements);
    const checked = checkConfig(c, s, configName, catalog, opts.optionOverrides ?? {}, dropped);
    if (checked) {
      try {
        const resolved = catalog.resolve(configName, checked.options);
        c.pageSize = 1n << BigInt(resolved.pageShift);
        c.taskSize = resolved.taskSize;
        c.configName = resolved.name;
        c.injectSites = catalog.injectSites(configName);
        if (catalog.injectSiteOwners) c.injectSiteOwners = (s) => catalog.injectSiteOwners!(s);
        if (checked.ok) config = resolved;
      } catch (e) {
        c.diags.push({
          file: COMMAND_LINE,
          line: 0,
          col: 0,
          length: 1,
          message: `cannot resolve ${configName}: ${e instanceof Error ? e.message : String(e)}`,
          kind: "semantic",
        });
      }
    }
    c.block(s.statements);
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
  }
  const diagnostics = c.diags.sort((a, b) => a.line - b.line || a.col - b.col);
  return {
    ...(diagnostics.length === 0 && config ? { program: { cpus: c.cpus, ops: c.ops } } : {}),
    ...(config ? { config } : {}),
    diagnostics,
    droppedOptions: dropped,
  };
}
