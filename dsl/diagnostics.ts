/**
 * Diagnostics: what they hold, how they print (with a caret under the offending token), how
 * offsets become lines and columns, and "did you mean" suggestions by edit distance.
 *
 * @module
 */

import type { Span } from "./ast.ts";

/**
 * One problem found in a scenario. Lines and columns are 1-based; a tab is one column, and a
 * byte-order mark at the start of the file is not one.
 */
export interface Diagnostic {
  /** File name as given to the parser. */
  file: string;
  /** Line (1-based; 0 when the problem is not in the file, e.g. a command-line option). */
  line: number;
  /** Column (1-based). */
  col: number;
  /** Length of the offending text in characters (at least 1). */
  length: number;
  /** What is wrong. */
  message: string;
  /** Lexing/parsing, meaning, or "does not fit this configuration". */
  kind: "syntax" | "semantic" | "fit";
  /** "warning": the scenario is still valid (absent: an error). */
  severity?: "error" | "warning";
  /**
   * The text of the line, when the diagnostic is in another file than the scenario's own (an
   * included file): {@link formatDiagnostic} shows it instead of a line of the source it is given.
   */
  lineText?: string;
  /**
   * Set on the note that closes a list cut at {@link MAX_DIAGNOSTICS}: how many more problems
   * were found and not listed (0 when checking stopped at the limit and did not count them).
   */
  omitted?: number;
}

/** At most this many diagnostics are listed; a note says how many more there were. */
export const MAX_DIAGNOSTICS = 200;

/** Source lines longer than this are shown as a window around the caret. */
export const MAX_SHOWN_LINE = 160;

/**
 * A list cut to {@link MAX_DIAGNOSTICS} and closed by one `omitted` note (merging the notes the
 * list already had): `and N more errors`, or that checking stopped at the limit.
 */
export function capDiagnostics(ds: readonly Diagnostic[], file: string): Diagnostic[] {
  const kept: Diagnostic[] = [];
  let omitted = 0, notes = 0;
  for (const d of ds) {
    if (d.omitted !== undefined) omitted += d.omitted, notes++;
    else if (kept.length < MAX_DIAGNOSTICS) kept.push(d);
    else omitted++;
  }
  if (notes === 0 && omitted === 0) return kept;
  const kind = kept.every((d) => d.kind === "fit") ? "fit" : "semantic";
  kept.push(omittedNote(file, omitted, kind));
  return kept;
}

/**
 * A note standing for `omitted` problems not listed, or (0) for checking that stopped at the
 * limit (see {@link capDiagnostics}).
 */
export function omittedNote(
  file: string,
  omitted: number,
  kind: Diagnostic["kind"] = "syntax",
): Diagnostic {
  const message = omitted > 0
    ? `and ${omitted} more error${
      omitted === 1 ? "" : "s"
    } (only the first ${MAX_DIAGNOSTICS} are listed)`
    : `checking stopped after ${MAX_DIAGNOSTICS} errors`;
  return { file, line: 0, col: 0, length: 0, message, kind, omitted };
}

/** `N errors` for a list of diagnostics, counting what an `omitted` note stands for. */
export function errorCount(ds: readonly Diagnostic[]): string {
  let n = 0, stopped = false;
  for (const d of ds) {
    if (d.severity === "warning") continue;
    if (d.omitted === undefined) n++;
    else if (d.omitted > 0) n += d.omitted;
    else stopped = true;
  }
  return `${n}${stopped ? "+" : ""} error${n === 1 && !stopped ? "" : "s"}`;
}

const lineIndexes = new Map<string, Int32Array>();

/** Offsets at which each line starts (cached for the last few sources). */
function lineStarts(source: string): Int32Array {
  let idx = lineIndexes.get(source);
  if (idx) return idx;
  const starts: number[] = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1);
  idx = Int32Array.from(starts);
  if (lineIndexes.size >= 8) lineIndexes.delete(lineIndexes.keys().next().value!);
  lineIndexes.set(source, idx);
  return idx;
}

/** Line and column (both 1-based) of an offset in a source text. */
export function locate(source: string, offset: number): { line: number; col: number } {
  const starts = lineStarts(source);
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  const bom = lo === 0 && offset > 0 && source.charCodeAt(0) === 0xfeff ? 1 : 0;
  return { line: lo + 1, col: offset - starts[lo] + 1 - bom };
}

/** Text of a 1-based line, without its line break. */
export function lineText(source: string, line: number): string {
  const starts = lineStarts(source);
  if (line < 1 || line > starts.length) return "";
  const s = starts[line - 1];
  let e = line < starts.length ? starts[line] - 1 : source.length;
  if (e > s && source[e - 1] === "\r") e--;
  return source.slice(s === 0 && source.charCodeAt(0) === 0xfeff ? 1 : s, e);
}

/** A diagnostic for a span of a source; the length is clipped to the span's first line. */
export function diagnosticAt(
  file: string,
  source: string,
  span: Span,
  message: string,
  kind: Diagnostic["kind"],
): Diagnostic {
  const { line, col } = locate(source, span.offset);
  const nl = source.indexOf("\n", span.offset);
  const lineEnd = nl < 0 ? source.length : nl;
  const length = Math.max(1, Math.min(span.length, lineEnd - span.offset));
  return { file, line, col, length, message, kind };
}

/**
 * Formats a diagnostic as `FILE:LINE:COL: MESSAGE` (`FILE:LINE:COL: warning: MESSAGE` for a
 * warning), then the source line, then a caret under the column followed by `~` over the rest of
 * the token. The caret line repeats the tabs of the source line before the column, so that the
 * caret sits under its character in a terminal. A line longer than {@link MAX_SHOWN_LINE} is
 * shown as a window around the caret. Without a length (length 0) only the first line; without
 * a line (line 0: a command-line option, a note) `FILE: MESSAGE`.
 */
export function formatDiagnostic(d: Diagnostic, source: string): string {
  const sev = d.severity === "warning" ? "warning: " : "";
  // a message quoting a 100,000-character name is cut in the middle
  const msg = d.message.length <= 2 * MAX_SHOWN_LINE
    ? d.message
    : `${d.message.slice(0, MAX_SHOWN_LINE)}...${d.message.slice(-(MAX_SHOWN_LINE >> 1))}`;
  if (d.line < 1) return `${d.file}: ${sev}${msg}`;
  const head = `${d.file}:${d.line}:${d.col}: ${sev}${msg}`;
  if (d.length === 0) return head;
  let text = d.lineText ?? lineText(source, d.line);
  let col = d.col;
  let len = Math.max(1, d.length);
  if (text.length > MAX_SHOWN_LINE) {
    // a window of the line around the caret, with "..." where it was cut
    const start = Math.max(
      0,
      Math.min(col - 1 - (MAX_SHOWN_LINE >> 2), text.length - MAX_SHOWN_LINE),
    );
    const end = Math.min(text.length, start + MAX_SHOWN_LINE);
    const lead = start > 0 ? "..." : "";
    text = lead + text.slice(start, end) + (end < text.length ? "..." : "");
    col = col - start + lead.length;
    len = Math.max(1, Math.min(len, end - (d.col - 1)));
  }
  let pad = "";
  for (let i = 0; i < col - 1; i++) pad += text[i] === "\t" ? "\t" : " ";
  return `${head}\n${text}\n${pad}^${"~".repeat(len - 1)}`;
}

/**
 * Edit distance between two strings: insertions, deletions, substitutions and transpositions of
 * adjacent characters each cost 1 (Levenshtein with the optimal-string-alignment transposition).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const w = b.length + 1;
  // three rows: i-2, i-1, i
  let r2 = new Array<number>(w).fill(0);
  let r1 = new Array<number>(w);
  let r0 = new Array<number>(w);
  for (let j = 0; j < w; j++) r1[j] = j;
  for (let i = 1; i <= a.length; i++) {
    r0[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j < w; j++) {
      const cb = b.charCodeAt(j - 1);
      let d = Math.min(r1[j] + 1, r0[j - 1] + 1, r1[j - 1] + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        d = Math.min(d, r2[j - 2] + 1);
      }
      r0[j] = d;
    }
    [r2, r1, r0] = [r1, r0, r2];
  }
  return r1[b.length];
}

/** Names longer than this get no "did you mean" (and are not suggested). */
export const MAX_SUGGEST_LENGTH = 64;

/**
 * The candidate closest to `word` if it is close enough to be a likely misspelling (distance at
 * most a third of the longer word, and at least 1 allowed), else undefined. Ties go to the
 * candidate sharing the longest prefix with `word`; a tie that remains gives no suggestion.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  // the distance costs length x length: a 100,000-character name is not a typo of anything
  if (word.length > MAX_SUGGEST_LENGTH) return undefined;
  let best: string | undefined;
  let bestD = Infinity, bestPrefix = -1, tied = false;
  const lw = word.toLowerCase();
  for (const c of candidates) {
    if (c === word || c === best || c.length > MAX_SUGGEST_LENGTH) continue;
    // the lengths' difference is a lower bound of the distance
    if (Math.abs(c.length - word.length) > bestD) continue;
    const lc = c.toLowerCase();
    const d = lc === lw ? 0.5 : editDistance(lw, lc);
    let prefix = 0;
    while (prefix < lw.length && prefix < lc.length && lw[prefix] === lc[prefix]) prefix++;
    if (d < bestD || (d === bestD && prefix > bestPrefix)) {
      bestD = d;
      bestPrefix = prefix;
      best = c;
      tied = false;
    } else if (d === bestD && prefix === bestPrefix) {
      tied = true;
    }
  }
  if (best === undefined || tied) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}

/** ` (did you mean "x"?)` for the closest candidate, or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}
