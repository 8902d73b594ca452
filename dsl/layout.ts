/**
 * The static VMA layout of one process, simulated at compile time to check `map` overlaps and
 * `touch` coverage and access: sorted, non-overlapping `[start, end)` ranges, each remembering
 * the line of the `map` that made it and its protection. Every operation is per range, never per
 * page.
 *
 * @module
 */

import type { Prot } from "../engine/types.ts";

/** One mapped range. */
export interface Area {
  /** First byte. */
  start: bigint;
  /** First byte after. */
  end: bigint;
  /** Line of the `map` that made it. */
  line: number;
  /** Its protection (`write`: PROT_READ | PROT_WRITE, the default). */
  prot: Prot;
}

/** The mapped ranges of a process. */
export class Layout {
  /** Ranges, sorted by start, non-overlapping. */
  areas: Area[];

  /** @param areas initial ranges (sorted, non-overlapping) */
  constructor(areas: Area[] = []) {
    this.areas = areas;
  }

  /** A copy (what `fork` gives the child). */
  clone(): Layout {
    return new Layout(this.areas.map((a) => ({ ...a })));
  }

  /** Index of the first range whose end is above `addr`. */
  #first(addr: bigint): number {
    const a = this.areas;
    let lo = 0, hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid].end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first range overlapping `[start, end)`, if any. */
  overlap(start: bigint, end: bigint): Area | undefined {
    const i = this.#first(start);
    const a = this.areas[i];
    return a && a.start < end ? a : undefined;
  }

  /** Adds `[start, end)` (the caller checked it overlaps nothing). */
  insert(start: bigint, end: bigint, line: number, prot: Prot = "write"): void {
    this.areas.splice(this.#first(start), 0, { start, end, line, prot });
  }

  /** Removes `[start, end)`, splitting ranges that straddle its ends. */
  remove(start: bigint, end: bigint): void {
    const a = this.areas;
    const i = this.#first(start);
    let j = i;
    const keep: Area[] = [];
    while (j < a.length && a[j].start < end) {
      const v = a[j];
      if (v.start < start) keep.push({ ...v, end: start });
      if (v.end > end) keep.push({ ...v, start: end });
      j++;
    }
    if (j > i) a.splice(i, j - i, ...keep);
  }

  /**
   * The first of the addresses `start, start + step, ...` below `end` that no range contains,
   * or undefined when every one is mapped. Checks each gap arithmetically.
   */
  firstUnmapped(start: bigint, end: bigint, step: bigint): bigint | undefined {
    const a = this.areas;
    let pos = start;
    const hit = (g0: bigint, g1: bigint): bigint | undefined => {
      const k = (g0 - start + step - 1n) / step;
      const p = start + k * step;
      return p < g1 ? p : undefined;
    };
    for (let i = this.#first(start); i < a.length && a[i].start < end && pos < end; i++) {
      const v = a[i];
      if (v.start > pos) {
        const p = hit(pos, v.start < end ? v.start : end);
        if (p !== undefined) return p;
      }
      if (v.end > pos) pos = v.end;
    }
    return pos < end ? hit(pos, end) : undefined;
  }

  /**
   * The first of the addresses `start, start + step, ...` below `end` that lies in a range whose
   * protection `denied` refuses, with that range; undefined when none does.
   */
  firstDenied(
    start: bigint,
    end: bigint,
    step: bigint,
    denied: (prot: Prot) => boolean,
  ): { addr: bigint; area: Area } | undefined {
    const a = this.areas;
    for (let i = this.#first(start); i < a.length && a[i].start < end; i++) {
      const v = a[i];
      if (!denied(v.prot)) continue;
      const from = v.start > start ? v.start : start;
      const p = start + (from - start + step - 1n) / step * step;
      if (p < v.end && p < end) return { addr: p, area: v };
    }
    return undefined;
  }
}
