/**
 * A stepping harness for the per-arch tests: drive the engine operation by operation and read
 * figures in between, without the DSL.
 *
 * @module
 */

import { mmFigures, Run, systemFigures } from "../engine/run.ts";
import type { MmFigures, Op, SystemFigures } from "../engine/types.ts";
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
  /** Figures of one process. */
  fig(mm: string): MmFigures {
    return mmFigures(this.run.k, this.run.k.mms.get(mm)!);
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
