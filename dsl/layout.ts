/**
 * The static VMA layout of one process, simulated at compile time to check `map` overlaps,
 * `touch`, `mprotect` and `mremap` coverage and access, and to place the maps that name no
 * address: sorted, non-overlapping `[start, end)` ranges, each remembering the line of the `map`
 * (or `mm ... exec`) that made it, its protection (and the `mprotect` that gave it, if one did)
 * and its hugetlb page size. Every operation is per range, never per page.
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
  /** Line of the `mprotect` that gave it `prot` (absent: the `map`'s own). */
  protLine?: number;
  /** hugetlb memory: its huge page size in bytes. */
  hugetlb?: bigint;
  /** VM_GROWSDOWN (the stack exec made). */
  growsDown?: boolean;
  /** What exec made it (`text`, `stack` ...), for a range `mm NAME exec` made. */
  exec?: string;
}

function sameKind(a: Area, b: Area): boolean {
  return a.line === b.line && a.prot === b.prot && a.protLine === b.protLine &&
    a.hugetlb === b.hugetlb && a.exec === b.exec && a.growsDown === b.growsDown;
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

  /** The one range holding all of `[start, end)`, if one does (mremap's single VMA). */
  containing(start: bigint, end: bigint): Area | undefined {
    const a = this.areas[this.#first(start)];
    return a && a.start <= start && a.end >= end ? a : undefined;
  }

  /**
   * mremap of `[start, start + size)`, which the caller checked lies inside one range, to
   * `[newStart, newStart + newSize)`: in place (`newStart` is `start`) a shrink removes the tail
   * and a grow extends the range (the caller checked `start + size` is its end and the pages
   * after it are free); a move removes the old range and adds the new one, free but for nothing
   * (checked), with the old one's `map` line and protection.
   */
  remap(start: bigint, size: bigint, newStart: bigint, newSize: bigint): void {
    const end = start + size;
    const v = this.containing(start, end);
    if (!v) return;
    if (newStart === start) {
      if (newSize < size) this.remove(start + newSize, end);
      else if (newSize > size) v.end = start + newSize;
      return;
    }
    const moved: Area = { ...v, start: newStart, end: newStart + newSize };
    this.remove(start, end);
    this.areas.splice(this.#first(newStart), 0, moved);
  }

  /** Adds `[start, end)` (the caller checked it overlaps nothing), hugetlb memory of `hugetlb` pages. */
  insert(start: bigint, end: bigint, line: number, prot: Prot = "write", hugetlb?: bigint): void {
    const a: Area = { start, end, line, prot, ...(hugetlb !== undefined ? { hugetlb } : {}) };
    this.areas.splice(this.#first(start), 0, a);
  }

  /** The range holding `addr`, if one does. */
  at(addr: bigint): Area | undefined {
    const a = this.areas[this.#first(addr)];
    return a && a.start <= addr ? a : undefined;
  }

  /** The first hugetlb range overlapping `[start, end)`, if any. */
  hugetlbIn(start: bigint, end: bigint): Area | undefined {
    const a = this.areas;
    for (let i = this.#first(start); i < a.length && a[i].start < end; i++) {
      if (a[i].hugetlb !== undefined) return a[i];
    }
    return undefined;
  }

  /**
   * Where a call on `[start, end)` would split a hugetlb range inside one of its huge pages: the
   * first of `start` and `end` strictly inside a hugetlb range (one `changes` accepts, if given)
   * and not aligned to its page size, with that range; undefined when there is none.
   */
  hugetlbSplit(
    start: bigint,
    end: bigint,
    changes?: (a: Area) => boolean,
  ): { at: bigint; area: Area } | undefined {
    for (const at of [start, end]) {
      const a = this.at(at);
      if (
        a && a.hugetlb !== undefined && a.start < at && at % a.hugetlb !== 0n &&
        (!changes || changes(a))
      ) return { at, area: a };
    }
    return undefined;
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
   * Gives `[start, end)` protection `prot` from the `mprotect` on line `line`, splitting ranges
   * that straddle its ends (the caller checked every page of it is mapped). Neighbours left alike
   * (same `map`, same protection from the same line) are merged again, as vma_modify merges VMAs,
   * so an `mprotect` page by page in a loop keeps one range.
   */
  protect(start: bigint, end: bigint, prot: Prot, line: number): void {
    const a = this.areas;
    const i = this.#first(start);
    let j = i;
    const out: Area[] = [];
    while (j < a.length && a[j].start < end) {
      const v = a[j];
      if (v.start < start) out.push({ ...v, end: start });
      out.push({
        ...v,
        start: v.start > start ? v.start : start,
        end: v.end < end ? v.end : end,
        prot,
        protLine: line,
      });
      if (v.end > end) out.push({ ...v, start: end });
      j++;
    }
    if (j === i) return;
    // merge with the neighbours outside the range too
    let from = i, to = j;
    if (from > 0) out.unshift(a[--from]);
    if (to < a.length) out.push(a[to++]);
    const merged: Area[] = [];
    for (const v of out) {
      const last = merged[merged.length - 1];
      if (last && last.end === v.start && sameKind(last, v)) last.end = v.end;
      else merged.push({ ...v });
    }
    a.splice(from, to - from, ...merged);
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
