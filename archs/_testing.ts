/**
 * A stepping harness for the per-arch tests: drive the engine operation by operation and read
 * figures in between, without the DSL ({@link Sim}); traced runs; and the standard cases every
 * family's test runs on its configurations (one page, many tables, every other region
 * unmapped, one page by kernel version), which return the figures for the test to compare with
 * the numbers the kernel rules give.
 *
 * @module
 */

import { mmFigures, Run, systemFigures } from "../engine/run.ts";
import {
  KERNEL_VERSIONS,
  type MmFigures,
  type Op,
  type SystemFigures,
  type TraceEvent,
} from "../engine/types.ts";
import { assertEquals } from "../testing/assert.ts";
import { configFor, findConfig } from "./registry.ts";

/** Binary units. */
export const K = 1024n, M = 1024n * K, G = 1024n * M, T = 1024n * G;

/** A machine to poke at. */
export class Sim {
  /** The run. */
  readonly run: Run;
  #line = 0;

  /** @param name configuration @param options its options @param cpus online CPUs */
  constructor(name: string, options: Record<string, string> = {}, cpus = 4) {
    this.run = new Run(configFor(name, options), findConfig(name)!.backend, cpus);
  }

  #op(o: Record<string, unknown>): this {
    this.run.step({ line: ++this.#line, col: 1, ...o } as unknown as Op);
    return this;
  }

  /** `mm NAME`. */
  mm(name: string): this {
    return this.#op({ op: "mm", name });
  }
  /** `map MM ADDR size SIZE`. */
  map(mm: string, addr: bigint, size: bigint): this {
    return this.#op({ op: "map", mm, addr, size });
  }
  /** `touch MM ADDR size SIZE every STEP`. */
  touch(mm: string, addr: bigint, size = 4n * K, step = 4n * K): this {
    return this.#op({ op: "touch", mm, addr, size, step });
  }
  /** `unmap MM ADDR size SIZE`. */
  unmap(mm: string, addr: bigint, size: bigint): this {
    return this.#op({ op: "unmap", mm, addr, size });
  }
  /** `madvise MM dontneed ADDR size SIZE`. */
  dontneed(mm: string, addr: bigint, size: bigint): this {
    return this.#op({ op: "madvise", mm, advice: "dontneed", addr, size });
  }
  /** `fork MM as CHILD`. */
  fork(mm: string, child: string): this {
    return this.#op({ op: "fork", mm, child });
  }
  /** `exit MM`. */
  exit(mm: string): this {
    return this.#op({ op: "exit", mm });
  }
  /** `run MM on CPUS`. */
  on(mm: string, ...cpus: number[]): this {
    return this.#op({ op: "run", mm, cpus });
  }
  /** The page-table figures of one process: VmPTE, tables per level, RSS. */
  fig(mm: string): Pick<MmFigures, "vmpte" | "tables" | "rss"> {
    const f = mmFigures(this.run.k, this.run.k.mms.get(mm)!);
    return { vmpte: f.vmpte, tables: f.tables, rss: f.rss };
  }
  /** System-wide figures. */
  get sys(): SystemFigures {
    return systemFigures(this.run.k);
  }
  /** The rule ids of the violations so far. */
  get violations(): string[] {
    return this.run.k.violations.map((v) => v.rule);
  }
}

// ---------------------------------------------------------------------------------------------
// Traced runs

/** A run with the kernel-call trace on, stepped through `ops` (scenario lines 1, 2 ...). */
export function traced(
  name: string,
  options: Record<string, string>,
  ops: Record<string, unknown>[],
  cpus = 4,
): Run {
  const run = new Run(configFor(name, options), findConfig(name)!.backend, cpus, { trace: true });
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run;
}

/** The kernel calls of the last of `ops`, traced ({@link traced}). */
export function traceOf(
  name: string,
  options: Record<string, string>,
  ops: Record<string, unknown>[],
  cpus = 4,
): TraceEvent[] {
  return traced(name, options, ops, cpus).k.trace!.filter((e) => e.line === ops.length);
}

// ---------------------------------------------------------------------------------------------
// The standard cases: each runs a fixed scenario on a configuration and returns its figures, for
// a test to compare with the numbers the kernel rules give

/** What a machine holds after its processes exited: nothing, with no rule broken, when clean. */
export interface Leftover {
  /** NR_PAGETABLE. */
  nrPagetable: number;
  /** Frames holding page tables. */
  pagetableFrames: number;
  /** Split ptlocks allocated. */
  ptlocks: number;
  /** Frames nothing reaches. */
  leaks: number;
  /** RCU callbacks not run yet. */
  rcuPending: number;
  /** The rules broken. */
  violations: string[];
}

/** A clean teardown. */
export const CLEAN: Leftover = {
  nrPagetable: 0,
  pagetableFrames: 0,
  ptlocks: 0,
  leaks: 0,
  rcuPending: 0,
  violations: [],
};

/** What `s` holds now ({@link Leftover}). */
export function leftover(s: Sim): Leftover {
  const y = s.sys;
  return {
    nrPagetable: y.nr_page_table_pages,
    pagetableFrames: y.pagetable_frames,
    ptlocks: y.ptlocks,
    leaks: y.leaks,
    rcuPending: y.rcu_pending,
    violations: s.violations,
  };
}

/** Asserts that every process exited cleanly: nothing left, nothing leaked, no rule broken. */
export function assertClean(s: Sim, what = ""): void {
  assertEquals(leftover(s), CLEAN, what);
}

/** Where the standard cases run. */
export interface Layout {
  /** PAGE_SIZE. */
  page: bigint;
  /** What one PTE table maps (PGDIR_SIZE with 2 levels, PMD_SIZE with more). */
  slot: bigint;
  /** A slot-aligned user address with free slots above it. */
  addr: bigint;
}

/** NR_PAGETABLE and VmPTE. */
export interface Counted {
  /** NR_PAGETABLE. */
  nrPagetable: number;
  /** VmPTE, bytes. */
  vmpte: number;
}

const counted = (s: Sim): Counted => ({
  nrPagetable: s.sys.nr_page_table_pages,
  vmpte: s.fig("a").vmpte,
});

/**
 * One page: a slot mapped (`mapped`: what the mm costs before any fault, pgd_alloc's doing) and
 * its first page touched (`first`: the process's figures and the system's); then every page of
 * the slot (`slot`); then exit (`exit`).
 */
export function onePage(name: string, l: Layout, options: Record<string, string> = {}) {
  const s = new Sim(name, options).mm("a").map("a", l.addr, l.slot);
  const mapped = { ...counted(s), pagetableFrames: s.sys.pagetable_frames };
  s.touch("a", l.addr, l.page, l.page);
  const first = {
    ...s.fig("a"),
    nrPagetable: s.sys.nr_page_table_pages,
    pagetableFrames: s.sys.pagetable_frames,
    ptlocks: s.sys.ptlocks,
  };
  s.touch("a", l.addr, l.slot, l.page);
  const slot = { vmpte: s.fig("a").vmpte, rss: s.fig("a").rss };
  s.exit("a");
  return { mapped, first, slot, exit: leftover(s) };
}

/**
 * Many tables: one page in each of `slots` slots (`spread`), then a page at `high` (the last
 * user slot: `highPtes`, the PTE tables then), then a fork (`fork`: the child's VmPTE, and
 * NR_PAGETABLE of both), then both exit (`exit`).
 */
export function manyTables(name: string, l: Layout, o: { slots: number; high: bigint }) {
  const size = BigInt(o.slots) * l.slot;
  const s = new Sim(name).mm("a").map("a", l.addr, size).touch("a", l.addr, size, l.slot);
  const spread = { ...counted(s), pagetableFrames: s.sys.pagetable_frames };
  s.map("a", o.high, l.page).touch("a", o.high, l.page, l.page);
  const highPtes = s.fig("a").tables.pte;
  s.fork("a", "b");
  const fork = { childVmpte: s.fig("b").vmpte, nrPagetable: s.sys.nr_page_table_pages };
  s.exit("b").exit("a");
  return { spread, highPtes, fork, exit: leftover(s) };
}

/**
 * Eight one-page VMAs and every other one unmapped (the odd ones): `perSlot`, one VMA per slot,
 * so floor = prev->vm_end and ceiling = next->vm_start leave each unmapped slot's tables free to
 * go (mm/memory.c free_pgd_range); `inSlot`, two pages apart in one slot, so they do not. Each
 * gives the figures `before` and `after` the unmaps, and after the exit.
 */
export function everyOther(name: string, l: Layout) {
  const run = (stride: bigint) => {
    const s = new Sim(name).mm("a");
    for (let i = 0n; i < 8n; i++) {
      s.map("a", l.addr + i * stride, l.page).touch("a", l.addr + i * stride, l.page, l.page);
    }
    const before = counted(s);
    for (let i = 1n; i < 8n; i += 2n) s.unmap("a", l.addr + i * stride, l.page);
    const after = { ...counted(s), rss: s.fig("a").rss };
    s.exit("a");
    return { before, after, exit: leftover(s) };
  };
  return { perSlot: run(l.slot), inSlot: run(2n * l.page) };
}

/**
 * One page at `addr` in each kernel version: NR_PAGETABLE and VmPTE with it mapped, and what the
 * exit leaves, each by version.
 */
export function byVersion(
  name: string,
  l: Pick<Layout, "page" | "addr">,
  options: Record<string, string> = {},
) {
  const out = {
    nrPagetable: {} as Record<string, number>,
    vmpte: {} as Record<string, number>,
    exit: {} as Record<string, Leftover>,
  };
  for (const kernel of KERNEL_VERSIONS) {
    const s = new Sim(name, { ...options, kernel }).mm("a").map("a", l.addr, l.page);
    s.touch("a", l.addr, l.page, l.page);
    out.nrPagetable[kernel] = s.sys.nr_page_table_pages;
    out.vmpte[kernel] = s.fig("a").vmpte;
    s.exit("a");
    out.exit[kernel] = leftover(s);
  }
  return out;
}

/** The same value for every modelled kernel version. */
export function everyKernel<T>(v: T): Record<string, T> {
  return Object.fromEntries(KERNEL_VERSIONS.map((k) => [k, v]));
}
