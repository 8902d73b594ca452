/**
 * `ptlab fmt`: the canonical layout of a `.ptlab` scenario.
 *
 * The formatter works on the text with a tokenizer of its own ({@link tokenize}), not on the
 * parser, so it lays out any scenario it can tokenize, valid or not, and new syntax needs no
 * change here as long as it is made of the same kinds of tokens.
 *
 * Rules (simple on purpose, and stable: `formatScenario` of its own output is that output):
 *
 * - Lines stay as written: one output line per input line, never joined or split. Only blank
 *   lines change: at most one in a row, none at the start or the end.
 * - Indentation is 2 spaces per open `{`; a line that starts with `}` is indented one level less
 *   (`} else {`). A `}` with nothing open is kept at depth 0.
 * - A metric path (`a.tables.pte`) is one token. Tokens are separated by one space, except:
 *   none around `..` (`0..4`); none after `(` and before `)`; none before `,` (one after); none
 *   between a name and its `(` (`min(a, b)`, but `expect (a + b) == 1` after a keyword); none
 *   between a name and its index, inside the brackets' ends, or around the `.` after one
 *   (`p[i + 1].tables.pte`); none after a sign, that is a `-` or `+` after an operator, `(`, `[`,
 *   `,` or a keyword (`expect x == -1`, `offset -4K` in a `map`), or written as a sign after a
 *   name (`map a -4K`); and a CPU list after `run MM on` is written without spaces (`0-3,8`,
 *   `0..4`, `0,2`). Two tokens are never glued where that would lex them differently.
 * - The advice of a `madvise`, the protection that ends an `mprotect` and the `to` of an `mremap`
 *   are keywords there (a sign after them is a sign, a `(` after them no call): names anywhere
 *   else.
 * - The clauses of a `map` written on one line come in the order `shared`, `file NAME`,
 *   `offset OFF`, `hugetlb [SIZE]`, `prot P`, `as NAME` (when each is there at most once and
 *   `offset` follows `file`; else, or over several lines, they stay as written). This is the only
 *   change of token order.
 * - A trailing comment is separated from the code by two spaces. A full-line comment is indented
 *   like code, except one that continues the trailing comment of the line above (it started in
 *   the same column): it stays aligned under that comment.
 * - Comments and strings are kept byte for byte (trailing whitespace of a comment is dropped).
 * - No trailing whitespace, LF line ends (CRLF and CR become LF), no byte-order mark, exactly one
 *   final newline (an empty scenario stays empty).
 *
 * An unterminated string is an error (with its 1-based line and column): nothing is formatted.
 *
 * @module
 */

import { STATEMENT_WORDS } from "../dsl/keywords.ts";
import { ADVICE } from "../engine/types.ts";

/** The kinds of token of {@link tokenize}. */
export type TokenKind = "comment" | "string" | "number" | "word" | "arch" | "punct" | "other";

/** One token: its kind, its text and where it starts (1-based line and column). */
export interface FmtToken {
  /** What it is. */
  kind: TokenKind;
  /** Its text (a comment without trailing whitespace). */
  text: string;
  /** 1-based line. */
  line: number;
  /** 1-based column (in UTF-16 code units). */
  col: number;
}

/** A tokenizing or formatting error. */
export interface FmtError {
  /** Always false. */
  ok: false;
  /** What is wrong. */
  error: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
}

/** The result of {@link formatScenario}. */
export type FormatResult = { ok: true; text: string } | FmtError;

/** The result of {@link tokenize}. */
export type TokenizeResult = { ok: true; tokens: FmtToken[] } | FmtError;

/** The words that begin a statement (`else` continues one). */
export const STATEMENT_KEYWORDS: readonly string[] = [...STATEMENT_WORDS, "else"];

/**
 * Words after which `-`/`+` is unary and `(` is not a call: the statement keywords and the
 * contextual words of the language (`size`, `every`, ..., `and`, `or`).
 */
export const KEYWORDS: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS,
  "size",
  "every",
  "as",
  "on",
  "in",
  "fail",
  "at",
  "after",
  "dontneed",
  "and",
  "or",
]);

/**
 * The contextual words of `map` (`shared`, `offset`, `hugetlb`, `prot` and the protections), `mm`
 * (`exec`), `touch` (`read`), `mprotect` (the protections), `madvise` (the advice) and `mremap`
 * (`to`): keywords where those statements have them, names anywhere else.
 */
export const CLAUSE_WORDS: readonly string[] = [
  "shared",
  "offset",
  "hugetlb",
  "exec",
  "prot",
  "read",
  "write",
  "none",
  "to",
  ...ADVICE,
];

/** The words the lexer reserves (which no expression holds). */
const RESERVED: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS,
  "size",
  "every",
  "as",
  "on",
  "in",
  "and",
  "or",
]);

const PUNCT = [
  "..",
  "==",
  "!=",
  "<=",
  ">=",
  "<<",
  ">>",
  "<",
  ">",
  "=",
  "+",
  "-",
  "*",
  "/",
  "%",
  ".",
  ",",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
];

const wordRe = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const archRe = /[A-Za-z0-9_][A-Za-z0-9_-]*/y;
const numberRe = /[0-9][0-9A-Za-z_]*(?:\.[0-9][0-9A-Za-z_]*)*/y;

function sticky(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : undefined;
}

/** Text with LF line ends and no byte-order mark. */
function normalise(source: string): string {
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  return source.replace(/\r\n?/g, "\n");
}

/**
 * Splits a scenario into tokens (whitespace dropped, comments kept). Numbers are lexed loosely
 * (`0x7f00_0000`, `4K`, `6.18`, even `12Q`), a name may have dots (`a.tables.pte`), the word
 * after `arch` is a configuration name (`x86_64-4level`) and any other character is an `other`
 * token: only an unterminated string is an error.
 */
export function tokenize(source: string): TokenizeResult {
  const text = normalise(source);
  const tokens: FmtToken[] = [];
  let line = 1, lineStart = 0, i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === " " || c === "\t" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    const push = (kind: TokenKind, t: string) => {
      tokens.push({ kind, text: t, line, col });
      i += t.length;
    };
    if (c === "#") {
      let j = text.indexOf("\n", i);
      if (j < 0) j = n;
      const t = text.slice(i, j);
      tokens.push({ kind: "comment", text: t.trimEnd(), line, col });
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= n || text[j] === "\n") {
          return { ok: false, error: "unterminated string", line, col };
        }
        if (text[j] === "\\" && j + 1 < n && text[j + 1] !== "\n") j += 2;
        else if (text[j] === '"') break;
        else j++;
      }
      push("string", text.slice(i, j + 1));
      continue;
    }
    const prev = tokens.length ? tokens[tokens.length - 1] : undefined;
    if (prev?.kind === "word" && prev.text === "arch") {
      const a = sticky(archRe, text, i);
      if (a) {
        push("arch", a);
        continue;
      }
    }
    if (c >= "0" && c <= "9") {
      push("number", sticky(numberRe, text, i)!);
      continue;
    }
    const w = sticky(wordRe, text, i);
    if (w) {
      push("word", w);
      continue;
    }
    const p = PUNCT.find((p) => text.startsWith(p, i));
    if (p) {
      push("punct", p);
      continue;
    }
    const cp = text.codePointAt(i)!;
    push("other", String.fromCodePoint(cp));
  }
  return { ok: true, tokens };
}

const unaryAfter = new Set([
  "(",
  ",",
  "=",
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "<<",
  ">>",
  "+",
  "-",
  "*",
  "/",
  "%",
  "..",
  "{",
  "[",
]);

/** Whether a token is a keyword (a contextual word only where its statement has it). */
type IsKeyword = (t: FmtToken) => boolean;

/** `-` or `+` used as a sign: after an operator, an opening bracket, a keyword, or first. */
function isUnary(prev: FmtToken | undefined, isKeyword: IsKeyword): boolean {
  if (!prev) return true;
  if (prev.kind === "punct") return unaryAfter.has(prev.text);
  if (prev.kind === "word") return isKeyword(prev);
  return false;
}

function isPunct(t: FmtToken | undefined, text: string): boolean {
  return t !== undefined && t.kind === "punct" && t.text === text;
}

function isWord(t: FmtToken | undefined, text?: string): boolean {
  return t !== undefined && t.kind === "word" && (text === undefined || t.text === text);
}

/** Index after the bracket group that opens at `k` (`(`...`)` or `[`...`]`), or undefined. */
function skipGroup(code: FmtToken[], k: number): number | undefined {
  const open = code[k].text, close = open === "(" ? ")" : "]";
  for (let depth = 0; k < code.length; k++) {
    const t = code[k];
    if (t.kind !== "punct") {
      if (t.kind === "word" && RESERVED.has(t.text)) return undefined;
      continue;
    }
    if (t.text === "{" || t.text === "}") return undefined;
    if (t.text === open) depth++;
    else if (t.text === close && --depth === 0) return k + 1;
  }
  return undefined;
}

/** The token after `MM ADDR size SIZE` starting at `from` (mprotect, mremap), if it is there. */
function afterRange(code: FmtToken[], from: number): number | undefined {
  let k = nameEnd(code, from);
  if (k !== undefined) k = exprEnd(code, k);
  return k !== undefined && isWord(code[k], "size") ? exprEnd(code, k + 1) : undefined;
}

/** Index after a process or file name at `k` (`p`, `p[i]`), or undefined. */
function nameEnd(code: FmtToken[], k: number): number | undefined {
  const t = code[k];
  if (!t || t.kind !== "word" || RESERVED.has(t.text)) return undefined;
  return isPunct(code[k + 1], "[") ? skipGroup(code, k + 1) : k + 1;
}

const BINARY = new Set(["+", "-", "*", "/", "%", "<<", ">>", "==", "!=", "<", "<=", ">", ">="]);

/** Index after the operand at `k` (signs, then a number, a group or a name), or undefined. */
function operandEnd(code: FmtToken[], k: number): number | undefined {
  while (isPunct(code[k], "-") || isPunct(code[k], "+")) k++;
  const t = code[k];
  if (!t) return undefined;
  if (t.kind === "number") return k + 1;
  if (isPunct(t, "(")) return skipGroup(code, k);
  let e = nameEnd(code, k);
  if (e === undefined) return undefined;
  if (isPunct(code[e], ".") && isWord(code[e + 1])) e += 2;
  return isPunct(code[e], "(") ? skipGroup(code, e) : e;
}

/** Index after the expression at `k`, or undefined. */
function exprEnd(code: FmtToken[], k: number): number | undefined {
  let e = operandEnd(code, k);
  while (e !== undefined && e < code.length) {
    const t = code[e];
    const op = t.kind === "punct" ? BINARY.has(t.text) : isWord(t, "and") || isWord(t, "or");
    if (!op) break;
    e = operandEnd(code, e + 1);
  }
  return e;
}

/** One clause of a `map`: its word and the indexes `[from, to)` of its tokens in `code`. */
interface Clause {
  word: string;
  from: number;
  to: number;
}

/** The words that begin a clause of `map` (no `hugetlb SIZE` starts with one). */
const MAP_CLAUSE_WORDS: ReadonlySet<string> = new Set([
  "shared",
  "file",
  "offset",
  "hugetlb",
  "prot",
  "as",
]);

/** Whether the token at `k` may begin an expression that is not a clause of `map`. */
function sizeAhead(code: FmtToken[], k: number): boolean {
  const t = code[k];
  if (!t) return false;
  if (t.kind === "number" || isPunct(t, "(") || isPunct(t, "-")) return true;
  return t.kind === "word" && !RESERVED.has(t.text) && !MAP_CLAUSE_WORDS.has(t.text);
}

/**
 * The clauses of the `map` whose keyword is `code[m]` (`shared`, `file NAME`, `offset OFF`,
 * `hugetlb [SIZE]`, `prot P`, `as NAME`), as far as the tokens read as them (the address may be
 * left out). A `file NAME size` after it is the next statement.
 */
function mapClauses(code: FmtToken[], m: number): Clause[] {
  const out: Clause[] = [];
  let k = nameEnd(code, m + 1);
  if (k !== undefined && !isWord(code[k], "size")) k = exprEnd(code, k);
  if (k === undefined || !isWord(code[k], "size")) return out;
  k = exprEnd(code, k + 1);
  while (k !== undefined && k < code.length) {
    const t = code[k];
    let to: number | undefined;
    if (isWord(t, "shared")) to = k + 1;
    else if (isWord(t, "file")) {
      to = nameEnd(code, k + 1);
      if (to !== undefined && isWord(code[to], "size")) break;
    } else if (isWord(t, "offset")) to = exprEnd(code, k + 1);
    else if (isWord(t, "hugetlb")) to = sizeAhead(code, k + 1) ? exprEnd(code, k + 1) : k + 1;
    else if (isWord(t, "prot")) to = isWord(code[k + 1]) ? k + 2 : undefined;
    else if (isWord(t, "as")) to = nameEnd(code, k + 1);
    if (to === undefined) break;
    out.push({ word: t.text, from: k, to });
    k = to;
  }
  return out;
}

const CLAUSE_ORDER = ["shared", "file", "offset", "hugetlb", "prot", "as"];

/** The statements whose first operand is a process, an address after it (`map p (base) ...`). */
const PROCESS_FIRST: ReadonlySet<string> = new Set([
  "map",
  "touch",
  "unmap",
  "madvise",
  "mprotect",
  "mremap",
]);

/**
 * The code tokens with the clauses of one-line `map`s put in the canonical order, and the
 * tokens that are contextual keywords (clause words of `map`, the `exec` of `mm`, the `read` that
 * ends a `touch`, the advice of a `madvise`, the protection that ends an `mprotect`, the `to` of
 * an `mremap`), with the process names followed by a parenthesized address.
 */
function contextual(code: FmtToken[]): { code: FmtToken[]; keywords: Set<FmtToken> } {
  const keywords = new Set<FmtToken>();
  let out = code;
  for (let m = 0; m < code.length; m++) {
    const t = code[m];
    // the process a statement names: an address in parentheses after it is no call
    if (PROCESS_FIRST.has(t.text) && t.kind === "word" && isWord(code[m + 1])) {
      if (isPunct(code[m + 2], "(")) keywords.add(code[m + 1]);
    }
    if (isWord(t, "touch")) {
      // touch MM ADDR [size SIZE] [every STEP] [read]
      let k = nameEnd(code, m + 1);
      if (k !== undefined) k = exprEnd(code, k);
      for (const w of ["size", "every"]) {
        if (k !== undefined && isWord(code[k], w)) k = exprEnd(code, k + 1);
      }
      if (k !== undefined && isWord(code[k], "read")) keywords.add(code[k]);
      continue;
    }
    if (isWord(t, "mm")) {
      // mm MM [exec]
      const k = nameEnd(code, m + 1);
      if (k !== undefined && isWord(code[k], "exec")) keywords.add(code[k]);
      continue;
    }
    if (isWord(t, "madvise")) {
      // madvise MM ADVICE ADDR size SIZE
      const k = nameEnd(code, m + 1);
      if (k !== undefined && nameEnd(code, k) === k + 1) keywords.add(code[k]);
      continue;
    }
    if (isWord(t, "mprotect")) {
      // mprotect MM ADDR size SIZE PROT
      const k = afterRange(code, m + 1);
      if (k !== undefined && nameEnd(code, k) === k + 1) keywords.add(code[k]);
      continue;
    }
    if (isWord(t, "mremap")) {
      // mremap MM ADDR size SIZE to NEWADDR [size NEWSIZE]
      const k = afterRange(code, m + 1);
      if (k !== undefined && isWord(code[k], "to")) keywords.add(code[k]);
      continue;
    }
    if (!isWord(t, "map")) continue;
    const clauses = mapClauses(code, m);
    for (const c of clauses) {
      keywords.add(code[c.from]);
      if (c.word === "prot") keywords.add(code[c.from + 1]);
    }
    if (clauses.length < 2) continue;
    const words = clauses.map((c) => c.word);
    const first = clauses[0].from, last = clauses[clauses.length - 1].to;
    const canonical = [...clauses].sort((a, b) =>
      CLAUSE_ORDER.indexOf(a.word) - CLAUSE_ORDER.indexOf(b.word)
    );
    if (
      new Set(words).size !== words.length ||
      (words.includes("offset") && words.indexOf("offset") < words.indexOf("file")) ||
      code[last - 1].line !== code[first].line ||
      canonical.every((c, i) => c === clauses[i])
    ) continue;
    if (out === code) out = [...code];
    out.splice(first, last - first, ...canonical.flatMap((c) => code.slice(c.from, c.to)));
  }
  return { code: out, keywords };
}

/** The two tokens, written without a space, lex back as the same two tokens. */
function glueSafe(a: FmtToken, b: FmtToken): boolean {
  if (a.kind === "comment" || a.kind === "arch" || (a.kind === "word" && a.text === "arch")) {
    return false;
  }
  const r = tokenize(a.text + b.text);
  return r.ok && r.tokens.length === 2 && r.tokens[0].kind === a.kind &&
    r.tokens[0].text === a.text && r.tokens[1].kind === b.kind && r.tokens[1].text === b.text;
}

/** Marks the tokens of CPU lists (`run MM on LIST`, `idle LIST`): indexes into `code`. */
function cpuListTokens(code: FmtToken[]): Set<number> {
  const inList = new Set<number>();
  for (let r = 0; r + 1 < code.length; r++) {
    let k: number | undefined;
    if (isWord(code[r], "idle")) k = r;
    else if (isWord(code[r], "run")) {
      k = nameEnd(code, r + 1);
      if (k === undefined || k + 1 >= code.length || !isWord(code[k], "on")) continue;
    } else continue;
    const t = code[k];
    for (let m = k + 1; m < code.length && code[m].line === t.line; m++) {
      const u = code[m];
      const item = u.kind === "number" || (u.kind === "word" && !KEYWORDS.has(u.text));
      const sep = u.kind === "punct" && (u.text === "," || u.text === ".." || u.text === "-");
      if (!item && !sep) break;
      inList.add(m);
    }
  }
  return inList;
}

/** `b` follows `a` with no space between them in the source. */
function adjacent(a: FmtToken, b: FmtToken): boolean {
  return a.line === b.line && a.col + a.text.length === b.col;
}

/** The space to put between two tokens of the same line ("" or " "). */
function spaceBetween(
  a: FmtToken,
  b: FmtToken,
  beforeA: FmtToken | undefined,
  bothInCpuList: boolean,
  isKeyword: IsKeyword,
): string {
  let glue = false;
  if (bothInCpuList) glue = true;
  else if (a.text === ".." && a.kind === "punct") glue = true;
  else if (b.text === ".." && b.kind === "punct") glue = true;
  else if (a.kind === "punct" && (a.text === "(" || a.text === "[")) glue = true;
  else if (b.kind === "punct" && (b.text === ")" || b.text === "]" || b.text === ",")) glue = true;
  else if (b.kind === "punct" && b.text === "(" && a.kind === "word") glue = !isKeyword(a);
  else if (b.kind === "punct" && b.text === "[" && a.kind === "word") glue = !RESERVED.has(a.text);
  else if (isPunct(a, "]") && isPunct(b, ".")) glue = true;
  else if (isPunct(a, ".") && isPunct(beforeA, "]")) glue = true;
  else if (a.kind === "punct" && (a.text === "-" || a.text === "+")) {
    // A sign: after an operator or keyword, or written as one (`map a -4K`).
    glue = isUnary(beforeA, isKeyword) ||
      (beforeA?.kind === "word" && !adjacent(beforeA, a) && adjacent(a, b));
  }
  return glue && glueSafe(a, b) ? "" : " ";
}

/**
 * Formats a scenario (see the module documentation for the rules). Pure: the text in, the text
 * out, or the position of an unterminated string.
 */
export function formatScenario(source: string): FormatResult {
  const tok = tokenize(source);
  if (!tok.ok) return tok;
  const text = normalise(source);
  const lines = text.split("\n");
  const { code, keywords } = contextual(tok.tokens.filter((t) => t.kind !== "comment"));
  const isKeyword: IsKeyword = (t) => KEYWORDS.has(t.text) || keywords.has(t);
  const codeIndex = new Map<FmtToken, number>();
  code.forEach((t, k) => codeIndex.set(t, k));
  const cpu = cpuListTokens(code);

  // lines in the (reordered) code order, comments where they were
  const byLine: FmtToken[][] = lines.map(() => []);
  let next = 0;
  for (const t of tok.tokens) {
    byLine[t.line - 1].push(t.kind === "comment" ? t : code[next++]);
  }

  const out: string[] = [];
  let depth = 0;
  // The original and the new column of the comment that ended the previous line, if any.
  let prevComment: { from: number; to: number } | undefined;
  let pendingBlank = false;
  for (const ts of byLine) {
    if (ts.length === 0) {
      if (out.length) pendingBlank = true;
      prevComment = undefined;
      continue;
    }
    if (pendingBlank) out.push("");
    pendingBlank = false;
    let leadingClose = 0;
    while (
      leadingClose < ts.length && ts[leadingClose].kind === "punct" && ts[leadingClose].text === "}"
    ) {
      leadingClose++;
    }
    const indent = "  ".repeat(Math.max(0, depth - Math.min(leadingClose, 1)));
    let s = "";
    let comment: { from: number; to: number } | undefined;
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k];
      if (t.kind === "comment") {
        if (k === 0) {
          // A full-line comment: a continuation keeps its column under the comment above.
          const cont = prevComment !== undefined && prevComment.from === t.col &&
            prevComment.to > indent.length + 1;
          const pad = cont ? " ".repeat(prevComment!.to - 1) : indent;
          s = pad + t.text;
          comment = { from: t.col, to: pad.length + 1 };
        } else {
          s += "  ";
          comment = { from: t.col, to: s.length + 1 };
          s += t.text;
        }
        continue;
      }
      if (k === 0) s = indent;
      else {
        const prev = ts[k - 1];
        const ci = codeIndex.get(t)!;
        const pi = codeIndex.get(prev)!;
        s += spaceBetween(
          prev,
          t,
          pi > 0 ? code[pi - 1] : undefined,
          cpu.has(ci) && cpu.has(pi),
          isKeyword,
        );
      }
      s += t.text;
      if (t.kind === "punct") {
        if (t.text === "{") depth++;
        else if (t.text === "}") depth = Math.max(0, depth - 1);
      }
    }
    out.push(s);
    prevComment = comment;
  }
  return { ok: true, text: out.length ? out.join("\n") + "\n" : "" };
}

/** The scenario is laid out canonically already (false also when it cannot be formatted). */
export function checkFormatted(source: string): boolean {
  const r = formatScenario(source);
  return r.ok && r.text === source;
}

/** What {@link fmtFiles} may use of its surroundings. */
export interface FmtFilesEnv {
  /** Reads a file (throws or returns an error message is not expected: throw). */
  read: (path: string) => string;
  /** Writes a file (not called with `check`). */
  write?: (path: string, text: string) => void;
}

/** The outcome of {@link fmtFiles}, shaped like the CLI's result. */
export interface FmtFilesResult {
  /** 0 all formatted (or all already so); 1 `check` found files to format; 2 a file failed. */
  code: number;
  /** With `check`: the files that need formatting, one a line. */
  stdout: string;
  /** Errors: `FILE:LINE:COL: message`, or an unreadable file. */
  stderr: string;
}

/**
 * `ptlab fmt [--check] FILE...`: formats each file in place (writing only those that change),
 * or with `check` lists those that are not formatted. Files that cannot be read or formatted are
 * reported on stderr and make the code 2; the others are still processed.
 */
export function fmtFiles(
  paths: readonly string[],
  check: boolean,
  env: FmtFilesEnv,
): FmtFilesResult {
  let stdout = "", stderr = "", unformatted = false, failed = false;
  for (const path of paths) {
    let source: string;
    try {
      source = env.read(path);
    } catch (e) {
      stderr += `ptlab: ${path}: ${e instanceof Error ? e.message : String(e)}\n`;
      failed = true;
      continue;
    }
    const r = formatScenario(source);
    if (!r.ok) {
      stderr += `${path}:${r.line}:${r.col}: ${r.error}\n`;
      failed = true;
      continue;
    }
    if (r.text === source) continue;
    if (check) {
      stdout += `${path}\n`;
      unformatted = true;
    } else {
      if (!env.write) throw new Error("fmtFiles: no write function");
      env.write(path, r.text);
    }
  }
  return { code: failed ? 2 : unformatted ? 1 : 0, stdout, stderr };
}
