/**
 * Limits on the shape of a scenario, checked on the token stream before the parser runs, so
 * that neither the parser's recursion nor anything downstream (the visitor, the compiler, the
 * engine's expression evaluation) can run out of stack, whatever the input.
 *
 * - an expression nests at most {@link MAX_EXPR_DEPTH} deep: every open parenthesis or bracket
 *   (an index, `p[i]`) and every unary minus whose operand has not ended yet counts one level;
 * - an expression has at most {@link MAX_EXPR_OPERATORS} binary operators (comparisons, `and`,
 *   `or` included; the arguments of a call are part of the expression);
 * - blocks (`repeat`, `if`, `else`) nest at most {@link MAX_BLOCK_DEPTH} deep.
 *
 * The total work of a scenario is bounded by `MAX_ITERATIONS` and `MAX_OPS` of `compile.ts` and
 * by {@link MAX_INCLUDE_DEPTH} / {@link MAX_INCLUDES}.
 *
 * @module
 */

import { type IToken, tokenMatcher } from "chevrotain";
import * as T from "./tokens.ts";

/** Deepest nesting of parentheses and unary minus in one expression. */
export const MAX_EXPR_DEPTH = 64;
/** Most binary operators in one expression. */
export const MAX_EXPR_OPERATORS = 1000;
/** Deepest nesting of `repeat` / `if` blocks. */
export const MAX_BLOCK_DEPTH = 16;
/** Deepest nesting of `include`s (a file included by an included file ... ). */
export const MAX_INCLUDE_DEPTH = 16;
/** Most `include` statements resolved for one scenario, nested ones included. */
export const MAX_INCLUDES = 256;
/** Largest shift count of `<<` and `>>`. */
export const MAX_SHIFT = 128;

/** A limit crossed: at the token where it was crossed. */
export interface LimitProblem {
  /** Offset of the token. */
  offset: number;
  /** Its length. */
  length: number;
  /** Which limit. */
  message: string;
}

function isOperandEnd(t: IToken | undefined): boolean {
  if (!t) return false;
  const tt = t.tokenType;
  return tt === T.Num || tt === T.RParen || tt === T.RBracket || tokenMatcher(t, T.Ident);
}

function isOperator(t: IToken): boolean {
  const cats = t.tokenType.CATEGORIES;
  return cats !== undefined && cats.includes(T.AnyOp);
}

/**
 * The first limit the tokens cross (one linear pass), or undefined. Expression counters restart
 * at every token that cannot be inside an expression (a keyword, a brace, a string ...).
 */
export function checkLimits(tokens: readonly IToken[]): LimitProblem | undefined {
  let blocks = 0;
  // per open parenthesis: the unary minuses pending before it
  const parens: number[] = [];
  let pendingSum = 0, pending = 0, operators = 0;
  const at = (t: IToken, message: string): LimitProblem => ({
    offset: t.startOffset,
    length: t.image.length,
    message,
  });
  let prev: IToken | undefined;
  for (const t of tokens) {
    const tt = t.tokenType;
    if (tt === T.Minus && !isOperandEnd(prev)) {
      pending++;
      if (parens.length + pendingSum + pending > MAX_EXPR_DEPTH) {
        return at(t, `expression nested more than ${MAX_EXPR_DEPTH} deep`);
      }
    } else if (tt === T.LParen || tt === T.LBracket) {
      parens.push(pending);
      pendingSum += pending;
      pending = 0;
      if (parens.length + pendingSum > MAX_EXPR_DEPTH) {
        return at(t, `expression nested more than ${MAX_EXPR_DEPTH} deep`);
      }
    } else if (tt === T.RParen || tt === T.RBracket) {
      if (parens.length) pendingSum -= parens.pop()!;
      pending = 0;
    } else if (isOperator(t)) {
      if (++operators > MAX_EXPR_OPERATORS) {
        return at(t, `expression has more than ${MAX_EXPR_OPERATORS} operators`);
      }
    } else if (tt === T.Num || tt === T.Dot || tt === T.Comma || tokenMatcher(t, T.Ident)) {
      pending = 0;
    } else {
      // not part of an expression: the next one starts here
      parens.length = 0;
      pendingSum = pending = operators = 0;
      if (tt === T.LCurly) {
        if (++blocks > MAX_BLOCK_DEPTH) {
          return at(t, `blocks (repeat, if) nested more than ${MAX_BLOCK_DEPTH} deep`);
        }
      } else if (tt === T.RCurly) {
        if (blocks > 0) blocks--;
      }
    }
    prev = t;
  }
  return undefined;
}
