/**
 * Sets of page ranges as sorted, disjoint, non-adjacent `[start, end)` pairs in one flat array:
 * what a page cache holds of a file, what a process has mapped. Work follows the number of
 * ranges, never the number of pages.
 *
 * @module
 */

/** `[s0, e0, s1, e1, ...]`, sorted, disjoint and not touching. */
export type Ranges = number[];

/** The union of `r` and `[s, e)`. */
export function addRange(r: Ranges, s: number, e: number): Ranges {
  if (s >= e) return r;
  const out: Ranges = [];
  let i = 0;
  while (i < r.length && r[i + 1] < s) out.push(r[i], r[i + 1]), i += 2;
  while (i < r.length && r[i] <= e) s = Math.min(s, r[i]), e = Math.max(e, r[i + 1]), i += 2;
  out.push(s, e);
  while (i < r.length) out.push(r[i], r[i + 1]), i += 2;
  return out;
}

/** `r` without `[s, e)`. */
export function removeRange(r: Ranges, s: number, e: number): Ranges {
  const out: Ranges = [];
  for (let i = 0; i < r.length; i += 2) {
    const a = r[i], b = r[i + 1];
    if (b <= s || a >= e) out.push(a, b);
    else {
      if (a < s) out.push(a, s);
      if (b > e) out.push(e, b);
    }
  }
  return out;
}

/** Whether page `x` is in `r`. */
export function inRanges(r: Ranges, x: number): boolean {
  let lo = 0, hi = r.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r[2 * mid + 1] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo < r.length >> 1 && r[2 * lo] <= x;
}

/** The parts of `[s, e)` that are in `r`, as ranges. */
export function intersect(r: Ranges, s: number, e: number): Ranges {
  const out: Ranges = [];
  for (let i = 0; i < r.length; i += 2) {
    const a = Math.max(s, r[i]), b = Math.min(e, r[i + 1]);
    if (a < b) out.push(a, b);
  }
  return out;
}
