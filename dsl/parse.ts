/**
 * Text to {@link Scenario}: lexing, token checks (numbers, strings), parsing and the CST to AST
 * visit. Syntax errors are collected (the parser recovers and goes on); the AST is built only
 * when there are none.
 *
 * @module
 */

import { EOF, type IRecognitionException, type IToken } from "chevrotain";
import type { ArchDecl, Scenario, Statement } from "./ast.ts";
import { type Diagnostic, diagnosticAt } from "./diagnostics.ts";
import { parser } from "./parser.ts";
import * as T from "./tokens.ts";
import { buildAst } from "./visitor.ts";

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
    T.MapKw,
    T.Touch,
    T.Unmap,
    T.Madvise,
    T.Fork,
    T.Exit,
    T.Run,
    T.Snapshot,
    T.Expect,
    T.Repeat,
  ]
) isStatementStart[k.tokenTypeIdx!] = 1;

/**
 * Parses and visits one top-level statement at a time (a statement keyword outside braces
 * starts the next one), so each statement's CST dies young. Returns undefined on the first
 * syntax error: the caller then parses the whole file to report every error with context.
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

/** Parses a scenario; returns the AST when there is no syntax error, and the diagnostics. */
export function parseScenario(
  source: string,
  file: string,
): { scenario?: Scenario; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const at = (offset: number, length: number, message: string) =>
    diags.push(diagnosticAt(file, source, { offset, length }, message, "syntax"));

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
    }
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
    return { diagnostics: diags };
  }

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
  };
}
