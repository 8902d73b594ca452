/**
 * Text to {@link Scenario}: lexing, token checks (numbers, strings), parsing and the CST to AST
 * visit. Syntax errors are collected (the parser recovers and goes on); the AST is built only
 * when there are none.
 *
 * @module
 */

import { EOF, type IRecognitionException, type IToken } from "chevrotain";
import type { ArchDecl, Scenario, Span, Statement } from "./ast.ts";
import {
  type Diagnostic,
  diagnosticAt,
  lineText,
  MAX_DIAGNOSTICS,
  omittedNote,
} from "./diagnostics.ts";
import { checkLimits, MAX_INCLUDE_DEPTH, MAX_INCLUDES } from "./limits.ts";
import { fileStatementAhead, parser } from "./parser.ts";
import * as T from "./tokens.ts";
import { buildAst, parseExprText } from "./visitor.ts";

/** Options of {@link parseScenario}. */
export interface ParseOptions {
  /**
   * Reads an included file (`include "FILE"`, resolved against the including file's directory);
   * throws when it cannot. Default: `Deno.readTextFileSync`.
   */
  readFile?: (path: string) => string;
}

/** What {@link parseScenario} returns. */
export interface ParseResult {
  /** The syntax tree, when there is no error. */
  scenario?: Scenario;
  /** Errors. */
  diagnostics: Diagnostic[];
  /** Warnings (severity "warning"): the scenario is still valid. */
  warnings: Diagnostic[];
}

/** State shared by a file and the files it includes. */
interface IncludeState {
  readFile: (path: string) => string;
  /** Files being included, outermost first (for cycles). */
  stack: string[];
  /** Includes resolved so far. */
  count: number;
}

/** The directory part of a path ("." for none). */
function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** `path` relative to directory `dir`, with `.` and `..` segments resolved where possible. */
export function joinPath(dir: string, path: string): string {
  const abs = path.startsWith("/");
  const whole = abs || dir === "." ? path : `${dir}/${path}`;
  const out: string[] = [];
  for (const seg of whole.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (seg === ".." && whole.startsWith("/")) continue;
    else out.push(seg);
  }
  const joined = out.join("/");
  return whole.startsWith("/") ? "/" + joined : joined || ".";
}

function defaultReadFile(path: string): string {
  const d = (globalThis as { Deno?: { readTextFileSync(p: string): string } }).Deno;
  if (!d) throw new Error("no file system");
  return d.readTextFileSync(path);
}

function readError(e: unknown): string {
  const name = e instanceof Error ? e.name : "";
  if (name === "NotFound" || (e as { code?: string })?.code === "ENOENT") {
    return "no such file";
  }
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/ \(os error \d+\).*$/, "");
}

/** Offset just after a token (tokens carry start offsets only). */
function tokenEnd(t: IToken): number {
  return t.startOffset + t.image.length;
}

const isStatementStart = new Uint8Array(256);
for (
  const k of [
    T.Arch,
    T.Cpus,
    T.Let,
    T.Mm,
    T.File,
    T.MapKw,
    T.Touch,
    T.Unmap,
    T.Madvise,
    T.Mprotect,
    T.Mremap,
    T.Fork,
    T.Exit,
    T.Run,
    T.Snapshot,
    T.Expect,
    T.Repeat,
    T.Inject,
    T.Include,
    T.Param,
    T.Print,
    T.If,
  ]
) isStatementStart[k.tokenTypeIdx!] = 1;

/**
 * Parses and visits one top-level statement at a time (a statement keyword outside braces
 * starts the next one, `file` only when it is not a clause of `map`), so each statement's CST
 * dies young. Returns undefined on the first syntax error: the caller then parses the whole file
 * to report every error with context.
 */
function parseByStatement(tokens: IToken[], source: string): Statement[] | undefined {
  const out: Statement[] = [];
  let depth = 0, start = 0;
  const n = tokens.length;
  for (let i = 0; i <= n; i++) {
    if (i < n) {
      const tt = tokens[i].tokenType;
      if (tt === T.LCurly) depth++;
      else if (tt === T.RCurly) depth--;
      if (depth !== 0 || i === start || isStatementStart[tokens[i].tokenTypeIdx] === 0) continue;
      if (tt === T.File && !fileStatementAhead((k) => tokens[i + k - 1])) continue;
    }
    if (i === start) break;
    parser.input = tokens.slice(start, i);
    const cst = parser.scenario();
    if (parser.errors.length > 0) return undefined;
    const sts = buildAst(cst, source);
    for (let j = 0; j < sts.length; j++) out.push(sts[j]);
    start = i;
  }
  parser.input = [];
  return out;
}

/**
 * Parses a scenario; returns the AST when there is no syntax error, and the diagnostics. Files
 * named by `include` are read (with `opts.readFile`) and parsed into the `include` statements'
 * `body`; their diagnostics name their own file. An empty scenario (no statements) is valid and
 * comes with a warning.
 */
export function parseScenario(
  source: string,
  file: string,
  opts: ParseOptions = {},
): ParseResult {
  const state: IncludeState = {
    readFile: opts.readFile ?? defaultReadFile,
    stack: [file],
    count: 0,
  };
  const r = parseFile(source, file, state);
  if (r.scenario && r.scenario.statements.length === 0) {
    r.warnings.push({
      file,
      line: 1,
      col: 1,
      length: 0,
      message: "empty scenario (no statements)",
      kind: "semantic",
      severity: "warning",
    });
  }
  return r;
}

function parseFile(source: string, file: string, state: IncludeState): ParseResult {
  const diags: Diagnostic[] = [];
  // past MAX_DIAGNOSTICS only counted (a line of 60,000 bad characters is 60,000 errors)
  let more = 0;
  const at = (offset: number, length: number, message: string) => {
    if (diags.length >= MAX_DIAGNOSTICS) more++;
    else diags.push(diagnosticAt(file, source, { offset, length }, message, "syntax"));
  };
  const cut = () => more ? [...diags, omittedNote(file, more)] : diags;

  const lexed = T.lexer.tokenize(source);
  const tokens = lexed.tokens;
  // offsets of the first token after each lexing error: a parse error there is a consequence
  const afterLexError = new Set<number>();
  if (lexed.errors.length > 0) {
    let ti = 0;
    for (const e of lexed.errors) {
      const bad = source.slice(e.offset, e.offset + e.length);
      at(
        e.offset,
        e.length,
        bad.length === 1
          ? `unexpected character '${bad}'`
          : `unexpected characters '${bad.length > 20 ? bad.slice(0, 20) + "..." : bad}'`,
      );
      while (ti < tokens.length && tokens[ti].startOffset < e.offset) ti++;
      if (ti < tokens.length) afterLexError.add(tokens[ti].startOffset);
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.tokenType === T.Num) {
      const v = T.numberValue(t.image);
      if (typeof v === "string") at(t.startOffset, t.image.length, v);
    } else if (t.tokenType === T.BadStr) {
      at(t.startOffset, t.image.length, "unterminated string (missing closing '\"')");
    } else if (t.tokenType === T.Str) {
      // escapes; interpolations except in an include's path
      const interpolate = i === 0 || tokens[i - 1].tokenType !== T.Include;
      const { parts, problem } = T.stringParts(t.image, interpolate);
      if (problem) at(t.startOffset + problem.offset, problem.length, problem.message);
      for (const p of parts) {
        if (!("expr" in p)) continue;
        const sub = T.lexer.tokenize(p.expr).tokens.map((x) => ({
          ...x,
          startOffset: x.startOffset + t.startOffset + p.offset,
        }));
        const lim = checkLimits(sub);
        if (lim) {
          at(lim.offset, lim.length, lim.message);
          continue;
        }
        const e = parseExprText(p.expr, t.startOffset + p.offset);
        if (e.error) at(e.error.offset, e.error.length, e.error.message);
      }
    }
  }
  // before the parser recurses, even to report other errors: nesting and size limits
  const lim = checkLimits(tokens);
  if (lim) {
    at(lim.offset, lim.length, lim.message);
    return { diagnostics: cut(), warnings: [] };
  }

  let statements: Statement[] | undefined;
  if (diags.length === 0) statements = parseByStatement(tokens, source);
  if (!statements) {
    // report the errors from a parse of the whole file, which recovers and goes on
    parser.input = tokens;
    const cst = parser.scenario();
    if (parser.errors.length === 0 && diags.length === 0) statements = buildAst(cst, source);
    const seen = new Set<number>();
    for (const e of parser.errors as IRecognitionException[]) {
      const t = e.token;
      let offset: number, length: number;
      if (t.tokenType === EOF || Number.isNaN(t.startOffset)) {
        const prev = (e as IRecognitionException & { previousToken?: IToken }).previousToken;
        offset = prev && !Number.isNaN(prev.startOffset) ? tokenEnd(prev) : source.length;
        length = 1;
      } else {
        offset = t.startOffset;
        length = t.image.length;
      }
      if (afterLexError.has(offset) || seen.has(offset)) continue;
      seen.add(offset);
      at(offset, length, e.message);
    }
    parser.input = [];
  }
  if (diags.length > 0 || !statements) {
    diags.sort((a, b) => a.line - b.line || a.col - b.col);
    return { diagnostics: cut(), warnings: [] };
  }

  const warnings: Diagnostic[] = [];
  statements = resolveIncludes(statements, file, source, state, diags, warnings);
  if (diags.length > 0) return { diagnostics: diags, warnings };

  let arch: ArchDecl | undefined;
  for (const s of statements) {
    if (s.kind !== "arch") continue;
    const options: Record<string, string> = {};
    for (const o of s.options) options[o.key.name] = o.value;
    arch = { name: s.name.name, nameSpan: s.name.span, options, optionList: s.options };
    break;
  }
  return {
    scenario: { file, source, ...(arch ? { arch } : {}), statements },
    diagnostics: [],
    warnings,
  };
}

/** Reads and parses the files `include` statements name (in blocks too). */
function resolveIncludes(
  list: Statement[],
  file: string,
  source: string,
  state: IncludeState,
  diags: Diagnostic[],
  warnings: Diagnostic[],
): Statement[] {
  const report = (span: Span, message: string) =>
    diags.push(diagnosticAt(file, source, span, message, "semantic"));
  const walk = (sts: readonly Statement[]): Statement[] =>
    sts.map((st) => {
      switch (st.kind) {
        case "repeat":
          return { ...st, body: walk(st.body) };
        case "if":
          return { ...st, then: walk(st.then), ...(st.else ? { else: walk(st.else) } : {}) };
        case "include":
          break;
        default:
          return st;
      }
      const target = joinPath(dirname(file), st.path);
      if (st.path === "") {
        report(st.pathSpan, "empty file name in 'include'");
        return st;
      }
      const cycle = state.stack.indexOf(target);
      if (cycle >= 0) {
        report(
          st.keyword,
          `include cycle: ${[...state.stack.slice(cycle), target].join(" -> ")}`,
        );
        return st;
      }
      if (state.stack.length > MAX_INCLUDE_DEPTH) {
        report(st.keyword, `includes nested more than ${MAX_INCLUDE_DEPTH} deep`);
        return st;
      }
      if (++state.count > MAX_INCLUDES) {
        report(st.keyword, `more than ${MAX_INCLUDES} includes`);
        return st;
      }
      let text: string;
      try {
        text = state.readFile(target);
      } catch (e) {
        report(st.pathSpan, `cannot read included file "${target}": ${readError(e)}`);
        return st;
      }
      state.stack.push(target);
      const sub = parseFile(text, target, state);
      state.stack.pop();
      const own = (d: Diagnostic): Diagnostic =>
        d.file === target && d.line >= 1 && d.lineText === undefined
          ? { ...d, lineText: lineText(text, d.line) }
          : d;
      for (const d of sub.diagnostics) diags.push(own(d));
      for (const d of sub.warnings) warnings.push(own(d));
      if (!sub.scenario) return st;
      return { ...st, file: target, source: text, body: sub.scenario.statements };
    });
  return walk(list);
}
