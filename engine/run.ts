/**
 * Runs a compiled program on a machine: each operation is a system call or an event of the
 * scenario; between operations an RCU grace period elapses. Collects snapshots, expectations and
 * violations into a {@link RunResult}.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { Use } from "./frames.ts";
import { madviseCollapse, madviseFree, madviseHugepage, madvisePopulateWrite } from "./madvise.ts";
import { loadElfBinary } from "./exec.ts";
import { doMprotect } from "./mprotect.ts";
import { doMremap } from "./mremap.ts";
import { Machine, MAX_TRACE } from "./machine.ts";
import {
  copyPageRange,
  doMunmap,
  exitMmap,
  faultRange,
  hexPage,
  insertVma,
  madviseDontneed,
  vmaNeedsCopy,
} from "./memory.ts";
import type { Mm } from "./mm.ts";
import { memFrame } from "./tables.ts";
export { MM_METRICS, SYSTEM_METRICS } from "./types.ts";
import {
  type ArchConfig,
  type CmpOp,
  compareValues,
  type CpuFigures,
  type ExpectationResult,
  type Expr,
  type ExprPos,
  LEVELS,
  type MmFigures,
  type Op,
  type PrintOutput,
  type Program,
  type RunError,
  type RunExtras,
  type RunResult,
  type ScenarioRun,
  type Snapshot,
  type SystemFigures,
  type TextTemplate,
} from "./types.ts";

/** Thrown for an operation the engine cannot carry out (the DSL's checks prevent these). */
export class EngineError extends Error {
  /** Scenario line. */
  readonly line: number;
  /**
   * An error during an operation.
   *
   * @param message what went wrong
   * @param line scenario line
   */
  constructor(message: string, line: number) {
    super(message);
    this.name = "EngineError";
    this.line = line;
  }
}

/**
 * An error evaluating an expression (dividing by zero, a shift count out of range): it stops the
 * run, which returns it as {@link RunResult.error}.
 */
export class ExprError extends EngineError {
  /** Column (1-based). */
  readonly col: number;
  /** The file, when it is not the scenario's own. */
  readonly file?: string;
  /**
   * An error at an operator.
   *
   * @param message what went wrong
   * @param at the operator's position (when the compiler recorded it)
   * @param line the scenario line of the operation
   */
  constructor(message: string, at: ExprPos | undefined, line: number) {
    super(message, at?.line ?? line);
    this.name = "ExprError";
    this.col = at?.col ?? 1;
    if (at?.file !== undefined) this.file = at.file;
  }
}

/** Largest shift count of `<<` and `>>`. */
const MAX_SHIFT = 128n;

/** Options of a run. */
export interface RunOptions {
  /** Record every kernel call. */
  trace?: boolean;
  /** The `param` values the program was compiled with, reported with the result (a sweep). */
  params?: Record<string, string>;
}

/**
 * mm_alloc / dup_mm + mm_init: init_new_context, then pgd_alloc (kernel/fork.c). `parent` is
 * the mm a fork copies. Returns null when pgd_alloc failed.
 */
export function mmAlloc(k: Machine, name: string, parent: Mm | null = null): Mm | null {
  const mm = k.newMm(name);
  if (k.trace) k.call(parent ? "dup_mm" : "mm_alloc", name);
  k.be.initNewContext?.(k, mm, parent);
  if (!k.be.pgdAlloc(k, mm)) {
    k.enomems++;
    k.event("ENOMEM", `pgd_alloc for ${name} failed`);
    k.dropMm(mm);
    return null;
  }
  return mm;
}

/** mmput -> exit_mmap, then __mmdrop -> mm_free_pgd (pgd_free) and check_mm (kernel/fork.c). */
export function mmput(k: Machine, mm: Mm): void {
  exitMmap(k, mm);
  if (k.trace) k.call("__mmdrop", mm.name);
  k.be.pgdFree(k, mm);
  checkMm(k, mm);
  k.dropMm(mm);
}

/** check_mm (kernel/fork.c): what must be zero when an mm is freed. */
function checkMm(k: Machine, mm: Mm): void {
  if (mm.pgtablesBytes !== 0) {
    k.violate(
      "pgtables-bytes-nonzero",
      `BUG: non-zero pgtables_bytes on freeing mm: ${mm.pgtablesBytes}`,
      { mm: mm.name },
    );
  }
  const counters = [["MM_ANONPAGES", mm.rssPages], ["MM_FILEPAGES", mm.rssFile], [
    "MM_SHMEMPAGES",
    mm.rssShmem,
  ]] as const;
  for (const [type, val] of counters) {
    if (val === 0) continue;
    k.violate(
      "bad-rss-counter",
      `BUG: Bad rss-counter state mm:${mm.name} type:${type} val:${val}`,
      { mm: mm.name },
    );
  }
  for (let l = 0; l < 5; l++) {
    if (mm.tables[l] !== 0) {
      k.violate("table-leak", `${mm.tables[l]} ${LEVELS[l]} table(s) left at teardown`, {
        mm: mm.name,
      });
    }
  }
}

/** dup_mmap (kernel/fork.c, mm/mmap.c): VMAs copied, page tables where vma_needs_copy. */
export function dupMmap(k: Machine, parent: Mm, name: string): Mm | null {
  const child = mmAlloc(k, name, parent);
  if (!child) return null;
  if (k.trace) k.call("dup_mmap", `${parent.name} -> ${name}`);
  child.cpus = [...parent.cpus.slice(0, 1)];
  let failed = false;
  for (const v of parent.vmas) {
    // anon_vma_fork: the child's VMA gets an anon_vma of its own when the parent has one
    child.vmas.push({ ...v, anonVma: v.anonVma ? k.newAnonVma() : 0 });
    // vma_needs_copy: VM_PFNMAP, or an anon_vma (mm/memory.c)
    if (vmaNeedsCopy(v) && !copyPageRange(k, child, parent, v)) {
      failed = true;
      break;
    }
  }
  // dup_mmap ends with flush_tlb_mm(oldmm): the parent's PTEs were write-protected for COW
  k.flushTlbMm(parent);
  if (failed) {
    // dup_mm: the failed child is torn down (mmput -> exit_mmap over what was copied) and fork
    // returns -ENOMEM (kernel/fork.c)
    k.enomems++;
    k.event("ENOMEM", `fork of ${parent.name}: copy_page_range failed`);
    mmput(k, child);
    return null;
  }
  return child;
}

/** Per frame table: the last countLeaks pass that reached each frame (no clearing between). */
const leakMarks = new WeakMap<object, { stamp: Uint32Array; pass: number }>();

/**
 * Frames holding page tables that nothing owns (the `leaks` metric): the frames that hold tables
 * (`Frames.tableFrames`) less those a live owner reaches. The cost follows the tables reached,
 * not the size of the frame table (a snapshot of one table on a HIGHMEM machine scanned 196,608
 * frames).
 */
export function countLeaks(k: Machine): number {
  // the last count holds while nothing ran that could change it (Run.step counts the operations
  // that may; the figures below catch what other callers of the engine change)
  const key = `${k.mutations}:${k.pool.live}:${k.pool.created}:${k.frames.tableFrames}:` +
    `${k.rcuFrames}:${k.mms.size}:${k.deposits.size}`;
  const cached = leakCache.get(k);
  if (cached?.key === key) return cached.leaks;
  const leaks = walkLeaks(k);
  leakCache.set(k, { key, leaks });
  return leaks;
}

const leakCache = new WeakMap<Machine, { key: string; leaks: number }>();

function walkLeaks(k: Machine): number {
  const f = k.frames;
  let m = leakMarks.get(f);
  if (!m || m.stamp.length < f.capacity) {
    m = { stamp: new Uint32Array(f.capacity), pass: 0 };
    leakMarks.set(f, m);
  }
  const marks = m;
  const pass = ++marks.pass;
  const p = k.pool;
  let owned = 0;
  const markMem = (mem: number) => {
    const fr = memFrame(mem);
    if (marks.stamp[fr] === pass) return;
    marks.stamp[fr] = pass;
    const u = f.use[fr];
    if (u === Use.Table || u === Use.Slab || u === Use.Pool) owned += 1 << f.order[fr];
  };
  // walk every live process's tree: a table only a dead mm could reach is leaked
  const stack: number[] = [];
  for (const mm of k.mms.values()) if (mm.pgd) stack.push(mm.pgd);
  while (stack.length) {
    const id = stack.pop()!;
    markMem(p.mem[id]);
    if (p.dirIdx[id] < 0) continue;
    for (const c of p.dir(id)) if (c > 0) stack.push(c);
  }
  for (const list of k.deposits.values()) for (const m of list) markMem(m);
  for (const cb of k.rcuQueue) for (const m of cb.mems) markMem(m);
  for (const mm of k.mms.values()) {
    for (const fr of k.be.cachedFrames?.(k, mm) ?? []) markMem(fr * 256);
  }
  return f.tableFrames - owned;
}

/** Per-process figures. */
export function mmFigures(k: Machine, mm: Mm): MmFigures {
  const t = mm.tables;
  return {
    vmpte: mm.pgtablesBytes,
    tables: { pgd: t[0], p4d: t[1], pud: t[2], pmd: t[3], pte: t[4] },
    rss: (mm.rssPages + mm.rssFile + mm.rssShmem) * 2 ** k.cfg.pageShift,
    rss_anon: mm.rssPages * 2 ** k.cfg.pageShift,
    rss_file: mm.rssFile * 2 ** k.cfg.pageShift,
    rss_shmem: mm.rssShmem * 2 ** k.cfg.pageShift,
    hugetlb: mm.hugetlbPages * 2 ** k.cfg.pageShift,
    vmas: mm.vmas.length,
  };
}

/** System-wide figures. */
export function systemFigures(k: Machine): SystemFigures {
  return {
    nr_page_table_pages: k.nrPagetable,
    pagetable_frames: k.frames.tableFrames,
    ptlocks: k.ptlocks,
    tlb_flushes: k.tlbFlushes,
    ipis: k.ipis,
    leaks: countLeaks(k),
    violations: k.violations.length,
    rcu_pending: k.rcuFrames,
    ooms: k.ooms,
    injected: k.injected,
    enomems: k.enomems,
  };
}

/** A snapshot of every metric. */
export function snapshot(k: Machine, label: string, line: number): Snapshot {
  const mms: Record<string, MmFigures> = {};
  for (const mm of k.mms.values()) mms[mm.name] = mmFigures(k, mm);
  return { label, line, metrics: systemFigures(k), mms, cpus: cpuFigures(k) };
}

/** What each CPU received so far. */
export function cpuFigures(k: Machine): CpuFigures {
  const lines: Record<string, number[]> = {};
  for (const [l, v] of k.cpuLines) lines[l] = Array.from(v);
  return {
    ipis: Array.from(k.cpuIpis),
    saved: Array.from(k.cpuSaved),
    lines,
    sync: {
      all: Array.from(k.cpuSync.all),
      mm_cpus: Array.from(k.cpuSync.mm_cpus),
      skip_if_flushed: Array.from(k.cpuSync.skip_if_flushed),
    },
  };
}

/** `cpu[N].METRIC` (see the compiler's CPU metrics). */
function cpuMetric(k: Machine, name: string, cpu: number): bigint {
  if (cpu >= k.ncpus) return 0n;
  if (name === "ipis") return BigInt(k.cpuIpis[cpu]);
  if (name === "saved") return BigInt(k.cpuSaved[cpu]);
  if (name.startsWith("sync_")) {
    return BigInt(k.cpuSync[name.slice(5) as keyof typeof k.cpuSync][cpu]);
  }
  const line = k.cpuLines.get(name.toUpperCase());
  return BigInt(line ? line[cpu] : 0);
}

function metric(k: Machine, name: string, mmName: string | undefined, line: number): bigint {
  if (mmName !== undefined) {
    const mm = k.mms.get(mmName);
    if (!mm && k.failedMms.has(mmName)) return 0n; // its creation failed: it has nothing
    if (!mm) throw new EngineError(`Process "${mmName}" does not exist here`, line);
    if (name === "vmpte") return BigInt(mm.pgtablesBytes);
    const shift = BigInt(k.cfg.pageShift);
    // get_mm_rss and the counters /proc/PID/status shows as RssAnon, RssFile, RssShmem
    if (name === "rss") return BigInt(mm.rssPages + mm.rssFile + mm.rssShmem) << shift;
    if (name === "rss_anon") return BigInt(mm.rssPages) << shift;
    if (name === "rss_file") return BigInt(mm.rssFile) << shift;
    if (name === "rss_shmem") return BigInt(mm.rssShmem) << shift;
    if (name === "hugetlb") return BigInt(mm.hugetlbPages) << shift;
    if (name === "vmas") return BigInt(mm.vmas.length);
    const l = LEVELS.indexOf(name.replace("tables.", "") as typeof LEVELS[number]);
    if (name.startsWith("tables.") && l >= 0) return BigInt(mm.tables[l]);
    throw new EngineError(`Unknown process metric "${name}"`, line);
  }
  switch (name) {
    case "total_vmpte": {
      let t = 0;
      for (const mm of k.mms.values()) t += mm.pgtablesBytes;
      return BigInt(t);
    }
    case "processes":
      return BigInt(k.mms.size);
    case "sync_ipis_all":
    case "sync_ipis_mm_cpus":
    case "sync_ipis_skip_if_flushed":
      return BigInt(k.cpuSync[name.slice(10) as keyof typeof k.cpuSync].reduce((a, b) => a + b, 0));
    case "leaks":
      return BigInt(countLeaks(k));
    case "nr_page_table_pages":
      return BigInt(k.nrPagetable);
    case "pagetable_frames":
      return BigInt(k.frames.tableFrames);
    case "ptlocks":
      return BigInt(k.ptlocks);
    case "tlb_flushes":
      return BigInt(k.tlbFlushes);
    case "ipis":
      return BigInt(k.ipis);
    case "violations":
      return BigInt(k.violations.length);
    case "rcu_pending":
      return BigInt(k.rcuFrames);
    case "ooms":
      return BigInt(k.ooms);
    case "injected":
      return BigInt(k.injected);
    case "enomems":
      return BigInt(k.enomems);
  }
  throw new EngineError(`Unknown metric "${name}"`, line);
}

/** Evaluates an expression against the machine (integer arithmetic, truncating division). */
export function evalExpr(
  k: Machine,
  e: Expr,
  vars: Map<string, bigint>,
  line: number,
): bigint {
  switch (e.k) {
    case "num":
      return e.v;
    case "var": {
      const v = vars.get(e.name);
      if (v === undefined) throw new EngineError(`"${e.name}" has no value yet`, line);
      return v;
    }
    case "metric":
      return e.cpu !== undefined ? cpuMetric(k, e.name, e.cpu) : metric(k, e.name, e.mm, line);
    case "neg":
      return -evalExpr(k, e.e, vars, line);
    case "bin": {
      const l = evalExpr(k, e.l, vars, line);
      const r = evalExpr(k, e.r, vars, line);
      switch (e.op) {
        case "+":
          return l + r;
        case "-":
          return l - r;
        case "*":
          return l * r;
        case "/":
          if (r === 0n) throw new ExprError("division by zero", e.at, line);
          return l / r;
        case "%":
          if (r === 0n) throw new ExprError("division by zero", e.at, line);
          return l % r;
        case "<<":
        case ">>":
          if (r < 0n || r > MAX_SHIFT) {
            throw new ExprError(`shift count ${r} is out of range (0..${MAX_SHIFT})`, e.at, line);
          }
          return e.op === "<<" ? l << r : l >> r;
      }
      break;
    }
    case "cmp":
      return compareValues(evalExpr(k, e.l, vars, line), e.op, evalExpr(k, e.r, vars, line))
        ? 1n
        : 0n;
    case "logic": {
      const l = evalExpr(k, e.l, vars, line) !== 0n;
      if (e.op === "and" ? !l : l) return l ? 1n : 0n;
      return evalExpr(k, e.r, vars, line) !== 0n ? 1n : 0n;
    }
    case "call": {
      let best = evalExpr(k, e.args[0], vars, line);
      for (let i = 1; i < e.args.length; i++) {
        const v = evalExpr(k, e.args[i], vars, line);
        if (e.fn === "min" ? v < best : v > best) best = v;
      }
      return best;
    }
  }
  throw new EngineError("Bad expression", line);
}

/** The comparison that decides a condition: the first that failed, or else the first that held. */
interface Decided {
  ok: boolean;
  l: bigint;
  r: bigint;
  op: CmpOp;
  text: string;
}

function decide(
  k: Machine,
  e: Expr,
  vars: Map<string, bigint>,
  line: number,
): Decided {
  if (e.k === "cmp") {
    const l = evalExpr(k, e.l, vars, line), r = evalExpr(k, e.r, vars, line);
    return { ok: compareValues(l, e.op, r), l, r, op: e.op, text: e.text ?? "" };
  }
  if (e.k === "logic") {
    const a = decide(k, e.l, vars, line);
    if (e.op === "and" ? !a.ok : a.ok) return a;
    const b = decide(k, e.r, vars, line);
    return e.op === "and" || b.ok ? b : a;
  }
  const v = evalExpr(k, e, vars, line);
  return { ok: v !== 0n, l: v, r: 0n, op: "!=", text: "" };
}

/** A template's text, its expressions evaluated. */
export function formatTemplate(
  k: Machine,
  parts: TextTemplate,
  vars: Map<string, bigint>,
  line: number,
): string {
  let out = "";
  for (const p of parts) out += typeof p === "string" ? p : evalExpr(k, p, vars, line).toString();
  return out;
}

function jsonNum(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

/** A machine ready to run operations one at a time (the library's stepping API). */
export class Run {
  /** The machine. */
  readonly k: Machine;
  /** Values bound by `let` at run time. */
  readonly vars: Map<string, bigint> = new Map();
  /** Snapshots taken. */
  readonly snapshots: Snapshot[] = [];
  /** Expectations evaluated. */
  readonly expectations: ExpectationResult[] = [];
  /** What `print` printed. */
  readonly prints: PrintOutput[] = [];
  /** The error that stopped the run, if one did. */
  error?: RunError;
  /** The `param` values reported with the result. */
  readonly params?: Record<string, string>;
  #created = 0;
  readonly #shift: bigint;
  readonly #pageMask: bigint;

  /**
   * A machine for `cfg`, ready for its first operation.
   *
   * @param cfg resolved configuration
   * @param be its backend
   * @param cpus online CPUs
   * @param opts run options
   */
  constructor(cfg: ArchConfig, be: Backend, cpus: number, opts: RunOptions = {}) {
    this.k = new Machine(cfg, be, { cpus, trace: opts.trace });
    this.params = opts.params;
    this.#shift = BigInt(cfg.pageShift);
    this.#pageMask = (1n << this.#shift) - 1n;
  }

  #mm(name: string, line: number): Mm | null {
    const mm = this.k.mms.get(name);
    if (mm) return mm;
    if (this.k.failedMms.has(name)) {
      this.k.event("skipped", `process ${name} was never created (its creation failed)`);
      return null;
    }
    throw new EngineError(`No process named "${name}"`, line);
  }

  /** [start, end) in pages, checked against TASK_SIZE (the DSL checks this first). */
  #range(addr: bigint, size: bigint, line: number): [number, number] {
    if (addr < 0n || size < 0n || addr + size > this.k.cfg.taskSize) {
      throw new EngineError(
        `0x${addr.toString(16)}..0x${(addr + size).toString(16)} is outside the user address ` +
          `space of ${this.k.cfg.name}`,
        line,
      );
    }
    const s = this.#pages(addr, line);
    return [s, s + this.#pages(size, line)];
  }

  #pages(bytes: bigint, line: number): number {
    const shift = this.#shift;
    if (bytes & this.#pageMask) {
      throw new EngineError(`0x${bytes.toString(16)} is not page aligned`, line);
    }
    return Number(bytes >> shift);
  }

  /** Carries out one operation, then lets an RCU grace period elapse. */
  step(op: Op): void {
    const k = this.k;
    k.line = op.line;
    if (op.op !== "snapshot" && op.op !== "expect" && op.op !== "print" && op.op !== "let") {
      k.mutations++;
    }
    switch (op.op) {
      case "mm": {
        this.#created++;
        const mm = mmAlloc(k, op.name);
        if (!mm) this.k.failedMms.add(op.name);
        else {
          this.k.failedMms.delete(op.name);
          // `exec`: execve of a small static binary (a fault that runs out of memory leaves the
          // process as far as it got, as a SIGKILL'd exec would leave it to exit_mmap)
          if (op.exec) loadElfBinary(k, mm);
        }
        break;
      }
      case "map": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        if (k.trace) k.call("mmap", `${mm.name} ${hexPage(k, s)}-${hexPage(k, e)}`);
        // MAP_FIXED_NOREPLACE: a range still mapped (an mremap away from it failed) is -EEXIST
        const at = mm.vmas[mm.findIndex(s)];
        if (at && at.start < e) {
          k.event("skipped", `mmap of ${hexPage(k, s)} in ${mm.name}: EEXIST, the range is mapped`);
          break;
        }
        if (k.be.archMmap && !k.be.archMmap(k, mm, s, e)) {
          k.enomems++;
          k.event("ENOMEM", `mmap of ${hexPage(k, s)} in ${mm.name} failed`);
          break;
        }
        let obj = 0, pgoff = s;
        let hugetlb: number | undefined;
        if (op.hugetlb !== undefined) {
          const h = k.cfg.hugetlb.findIndex((x) => x.bytes === op.hugetlb);
          if (h < 0) {
            throw new EngineError(`${k.cfg.name} has no ${op.hugetlb}-byte hugetlb pages`, op.line);
          }
          hugetlb = h;
        }
        if (op.backing !== undefined) {
          obj = k.files.get(op.backing) ?? 0;
          if (!obj) throw new EngineError(`No file named "${op.backing}"`, op.line);
          pgoff = this.#pages(op.offset ?? 0n, op.line);
        } else if (op.shared || hugetlb !== undefined) {
          // shmem_zero_setup: shared anonymous memory is a shmem object of its own, empty;
          // MAP_HUGETLB: a file of its own on the internal hugetlbfs mount (hugetlb_file_setup)
          obj = k.newObject(hugetlb !== undefined ? "hugetlb" : "shmem", e - s, false);
          pgoff = 0;
        }
        insertVma(mm, s, e, {
          shared: op.shared ?? false,
          obj,
          pgoff,
          prot: op.prot ?? "write",
          ...(hugetlb !== undefined ? { hugetlb } : {}),
        });
        break;
      }
      case "file": {
        // a tmpfs file written in full: every page is in the page cache (mm/shmem.c)
        if (k.files.has(op.name)) throw new EngineError(`File "${op.name}" exists`, op.line);
        k.files.set(op.name, k.newObject(op.name, this.#pages(op.size, op.line), true));
        break;
      }
      case "touch": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        const step = Math.max(1, this.#pages(op.step, op.line));
        let i = mm.findIndex(s);
        for (; i < mm.vmas.length && mm.vmas[i].start < e; i++) {
          const v = mm.vmas[i];
          const lo = Math.max(s, v.start);
          const first = s + Math.ceil((lo - s) / step) * step;
          const hi = Math.min(e, v.end);
          if (first >= hi) continue;
          if (!faultRange(k, mm, v, first, hi, step, op.read ?? false)) break;
        }
        break;
      }
      case "unmap": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        if (k.trace) k.call("munmap", mm.name);
        doMunmap(k, mm, s, e);
        break;
      }
      case "madvise": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        if (k.trace) k.call("madvise", `${mm.name} MADV_${op.advice.toUpperCase()}`);
        switch (op.advice) {
          case "dontneed":
            madviseDontneed(k, mm, s, e);
            break;
          case "free":
            madviseFree(k, mm, s, e);
            break;
          case "hugepage":
          case "nohugepage":
            madviseHugepage(k, mm, s, e, op.advice === "hugepage" ? "huge" : "nohuge");
            break;
          case "populate_write":
            madvisePopulateWrite(k, mm, s, e);
            break;
          case "collapse":
            madviseCollapse(k, mm, s, e);
            break;
        }
        break;
      }
      case "mremap": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        const [t, te] = this.#range(op.newAddr, op.newSize, op.line);
        if (mm.findVma(s)?.hugetlb !== undefined) {
          k.event("skipped", `mremap of hugetlb memory in ${mm.name} is not modelled`);
          break;
        }
        doMremap(k, mm, s, e - s, t, te - t);
        break;
      }
      case "mprotect": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        const [s, e] = this.#range(op.addr, op.size, op.line);
        doMprotect(k, mm, s, e, op.prot);
        break;
      }
      case "fork": {
        const parent = this.#mm(op.mm, op.line);
        this.#created++;
        if (!parent || !dupMmap(k, parent, op.child)) this.k.failedMms.add(op.child);
        else this.k.failedMms.delete(op.child);
        break;
      }
      case "inject":
        k.addInject(op.site, op.mode, op.n);
        break;
      case "exit": {
        const mm = this.#mm(op.mm, op.line);
        if (mm) mmput(k, mm);
        else this.k.failedMms.delete(op.mm);
        break;
      }
      case "run": {
        const mm = this.#mm(op.mm, op.line);
        if (!mm) break;
        // the CPUs the mm leaves switch to the idle task; those it runs on switch to it
        k.contextSwitch(mm.cpus.filter((c) => !op.cpus.includes(c)));
        k.contextSwitch(op.cpus, mm);
        break;
      }
      case "idle":
        k.contextSwitch(op.cpus);
        break;
      case "let":
        this.vars.set(op.name, evalExpr(k, op.expr, this.vars, op.line));
        break;
      case "snapshot": {
        k.rcuGracePeriod();
        const label = op.parts ? formatTemplate(k, op.parts, this.vars, op.line) : op.label;
        this.snapshots.push(snapshot(k, label, op.line));
        break;
      }
      case "print": {
        k.rcuGracePeriod();
        const text = formatTemplate(k, op.parts, this.vars, op.line);
        this.prints.push({ line: op.line, ...(op.file ? { file: op.file } : {}), text });
        break;
      }
      case "expect": {
        k.rcuGracePeriod();
        if (op.cond) {
          const d = decide(k, op.cond, this.vars, op.line);
          this.expectations.push({
            line: op.line,
            text: op.text,
            ok: d.ok,
            actual: jsonNum(d.l),
            expected: jsonNum(d.r),
            op: d.op,
          });
          break;
        }
        const l = evalExpr(k, op.l, this.vars, op.line);
        const r = evalExpr(k, op.r, this.vars, op.line);
        this.expectations.push({
          line: op.line,
          text: op.text,
          ok: compareValues(l, op.cmp, r),
          actual: jsonNum(l),
          expected: jsonNum(r),
          op: op.cmp,
        });
        break;
      }
    }
    k.rcuGracePeriod();
  }

  /** Final checks and the result. */
  finish(lastLine: number): ScenarioRun {
    const k = this.k;
    k.rcuGracePeriod();
    k.line = lastLine;
    if (this.#created > 0 && k.mms.size === 0) {
      // every process exited: the machine must be back where it started
      if (k.nrPagetable !== 0) {
        k.violate(
          "nr-pagetable-drift",
          `NR_PAGETABLE is ${k.nrPagetable} after every process exited (baseline 0)`,
        );
      }
      if (k.ptlocks !== 0) {
        k.violate("ptlock-leak", `${k.ptlocks} split ptlock(s) alive after every process exited`);
      }
      const leaks = countLeaks(k);
      if (leaks !== 0) {
        k.violate(
          "leak",
          `${leaks} page-table frame(s) still allocated after every process exited`,
        );
      }
    }
    const cfg = k.cfg;
    return withExtras({
      arch: cfg.name,
      kernel: cfg.kernel,
      options: { ...cfg.options },
      ...(this.params ? { params: { ...this.params } } : {}),
      snapshots: this.snapshots,
      expectations: this.expectations,
      violations: [...k.violations],
      events: [...k.events],
      ...(k.eventsDropped ? { eventsDropped: k.eventsDropped } : {}),
      final: snapshot(k, "final", lastLine),
      ...(k.traceLog ? { trace: k.traceLog } : {}),
      ...(k.traceLog && k.traceLog.length >= MAX_TRACE ? { traceTruncated: true } : {}),
      ...(this.prints.length ? { prints: this.prints } : {}),
    }, {
      ...(this.error ? { error: this.error } : {}),
    });
  }
}

/**
 * A result with its {@link RunExtras}. The extras are not enumerable: they are not part of the
 * JSON document (`report/schema.ts`); read them as properties.
 */
export function withExtras(r: RunResult, extras: RunExtras): ScenarioRun {
  const out = r as ScenarioRun;
  for (const [key, value] of Object.entries(extras)) {
    if (value === undefined) continue;
    Object.defineProperty(out, key, {
      value,
      enumerable: false,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Runs a whole program on one configuration. */
export function runProgram(
  cfg: ArchConfig,
  be: Backend,
  program: Program,
  opts: RunOptions = {},
): ScenarioRun {
  const run = new Run(cfg, be, program.cpus, opts);
  let last = 0;
  for (const op of program.ops) {
    last = op.line;
    try {
      run.step(op);
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      // an expression could not be evaluated: the run stops here, cleanly
      run.error = {
        line: e.line,
        col: e.col,
        ...(e.file !== undefined ? { file: e.file } : {}),
        message: e.message,
      };
      break;
    }
  }
  return run.finish(last);
}
