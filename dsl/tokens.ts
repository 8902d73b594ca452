/**
 * Tokens of the scenario language and the one lexer over them.
 *
 * Whitespace (newlines included), a byte-order mark at the very start and `#` comments are
 * skipped: every statement starts with a
 * keyword, so statements need no terminator. Keywords are reserved words (`longer_alt: Ident`),
 * except the contextual words of `map`, `mm`, `touch` and `mremap` (`shared`, `offset`, `prot`,
 * `hugetlb`, `exec`, `read`, `to`): they are
 * tokens of their own that are also names (category {@link Ident}), so a variable or process named
 * `offset` or `read`, or the metric `p.hugetlb`, still is one wherever a name is expected.
 * A configuration name such as `x86_64-4level` is one {@link ArchName} token, but only right
 * after the `arch` keyword (a custom matcher looks at the previous token); elsewhere `-` is minus.
 *
 * Numbers are lexed loosely (a digit followed by letters, digits and `_`) so that `12Q` or `0x`
 * become one token that {@link numberValue} rejects with a clear message, instead of a number
 * followed by a name.
 *
 * @module
 */

import { createToken, type IToken, Lexer, type TokenType } from "chevrotain";

/** Identifiers: process names, variables, metrics, option names and values. */
export const Ident: TokenType = createToken({
  name: "Ident",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
});

function keyword(word: string): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Ident,
    label: `'${word}'`,
  });
}

/**
 * A contextual word: a token of its own where the grammar asks for it, a name (an {@link Ident})
 * anywhere else.
 */
function contextual(word: string): TokenType {
  return createToken({
    name: word[0].toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Ident,
    categories: [Ident],
    label: `'${word}'`,
  });
}

/** `arch` */
export const Arch: TokenType = keyword("arch");
/** `cpus` */
export const Cpus: TokenType = keyword("cpus");
/** `let` */
export const Let: TokenType = keyword("let");
/** `mm` */
export const Mm: TokenType = keyword("mm");
/** `map` */
export const MapKw: TokenType = keyword("map");
/** `file` (a statement, and a clause of `map`) */
export const File: TokenType = keyword("file");
/** `touch` */
export const Touch: TokenType = keyword("touch");
/** `unmap` */
export const Unmap: TokenType = keyword("unmap");
/** `madvise` */
export const Madvise: TokenType = keyword("madvise");
/** `mprotect` */
export const Mprotect: TokenType = keyword("mprotect");
/** `mremap` */
export const Mremap: TokenType = keyword("mremap");
/** `fork` */
export const Fork: TokenType = keyword("fork");
/** `exit` */
export const Exit: TokenType = keyword("exit");
/** `run` */
export const Run: TokenType = keyword("run");
/** `idle` */
export const Idle: TokenType = keyword("idle");
/** `snapshot` */
export const Snapshot: TokenType = keyword("snapshot");
/** `expect` */
export const Expect: TokenType = keyword("expect");
/** `repeat` */
export const Repeat: TokenType = keyword("repeat");
/** `inject` */
export const Inject: TokenType = keyword("inject");
/** `size` */
export const Size: TokenType = keyword("size");
/** `every` */
export const Every: TokenType = keyword("every");
/** `as` */
export const As: TokenType = keyword("as");
/** `on` (also an option value) */
export const On: TokenType = keyword("on");
/** `in` */
export const In: TokenType = keyword("in");
/** `include` */
export const Include: TokenType = keyword("include");
/** `param` */
export const Param: TokenType = keyword("param");
/** `print` */
export const Print: TokenType = keyword("print");
/** `if` */
export const If: TokenType = keyword("if");
/** `else` */
export const Else: TokenType = keyword("else");
/** `shared` (a clause of `map`; elsewhere a name) */
export const Shared: TokenType = contextual("shared");
/** `offset` (a clause of `map`; elsewhere a name) */
export const Offset: TokenType = contextual("offset");
/** `prot` (a clause of `map`; elsewhere a name) */
export const Prot: TokenType = contextual("prot");
/** `hugetlb` (a clause of `map`; elsewhere a name, such as the metric `p.hugetlb`) */
export const Hugetlb: TokenType = contextual("hugetlb");
/** `exec` (after `mm NAME`: a process as execve leaves it; elsewhere a name) */
export const Exec: TokenType = contextual("exec");
/** `read` (read faults, at the end of `touch`; elsewhere a name) */
export const Read: TokenType = contextual("read");
/** `to` (the new address of `mremap`; elsewhere a name) */
export const To: TokenType = contextual("to");

const archNameRe = /[A-Za-z0-9_][A-Za-z0-9_-]*/y;
const nameStartChars: string[] = [];
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_]/.test(ch)) nameStartChars.push(ch);
}

/** A configuration name, lexed only right after `arch`: letters, digits, `_` and `-`. */
export const ArchName: TokenType = createToken({
  name: "ArchName",
  pattern: {
    exec(text: string, offset: number, tokens: IToken[]): RegExpExecArray | null {
      const n = tokens.length;
      if (n === 0 || tokens[n - 1].tokenType !== Arch) return null;
      archNameRe.lastIndex = offset;
      return archNameRe.exec(text);
    },
  },
  line_breaks: false,
  start_chars_hint: nameStartChars,
  label: "a configuration name",
});

/** A version such as `6.6` (option values only). */
export const Version: TokenType = createToken({
  name: "Version",
  pattern: /[0-9]+\.[0-9]+/,
  label: "a version",
});

/** A number, loosely: checked by {@link numberValue}. */
export const Num: TokenType = createToken({
  name: "Num",
  pattern: /[0-9][0-9A-Za-z_]*/,
  label: "a number",
});

/** A string: `"..."` on one line; `\\"` and `\\\\` are escapes (see {@link stringParts}). */
export const Str: TokenType = createToken({
  name: "Str",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"/,
  label: "a string",
});

/** A string missing its closing quote (reported, then parsed as a {@link Str}). */
export const BadStr: TokenType = createToken({
  name: "BadStr",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*\\?/,
  categories: [Str],
  label: "a string",
});

/** Comparison operators of `expect`. */
export const CmpOp: TokenType = createToken({
  name: "CmpOp",
  pattern: Lexer.NA,
  label: "a comparison (==, !=, <, <=, >, >=)",
});
/** Binary arithmetic operators. */
export const BinOp: TokenType = createToken({
  name: "BinOp",
  pattern: Lexer.NA,
  label: "an operator",
});
/** Every binary operator of an expression: arithmetic, comparisons, `and`, `or`. */
export const AnyOp: TokenType = createToken({
  name: "AnyOp",
  pattern: Lexer.NA,
  label: "an operator",
});
/** `and` (conditions) */
export const And: TokenType = createToken({
  name: "And",
  pattern: /and/,
  longer_alt: Ident,
  categories: [AnyOp],
  label: "'and'",
});
/** `or` (conditions) */
export const Or: TokenType = createToken({
  name: "Or",
  pattern: /or/,
  longer_alt: Ident,
  categories: [AnyOp],
  label: "'or'",
});

function punct(name: string, text: string, categories?: TokenType[]): TokenType {
  return createToken({
    name,
    pattern: text,
    label: `'${text}'`,
    ...(categories ? { categories } : {}),
  });
}

/** `==` */
export const EqEq: TokenType = punct("EqEq", "==", [CmpOp, AnyOp]);
/** `!=` */
export const NotEq: TokenType = punct("NotEq", "!=", [CmpOp, AnyOp]);
/** `<<` */
export const Shl: TokenType = punct("Shl", "<<", [BinOp, AnyOp]);
/** `>>` */
export const Shr: TokenType = punct("Shr", ">>", [BinOp, AnyOp]);
/** `<=` */
export const Le: TokenType = punct("Le", "<=", [CmpOp, AnyOp]);
/** `>=` */
export const Ge: TokenType = punct("Ge", ">=", [CmpOp, AnyOp]);
/** `<` */
export const Lt: TokenType = punct("Lt", "<", [CmpOp, AnyOp]);
/** `>` */
export const Gt: TokenType = punct("Gt", ">", [CmpOp, AnyOp]);
/** `=` */
export const Equals: TokenType = punct("Equals", "=");
/** `+` */
export const Plus: TokenType = punct("Plus", "+", [BinOp, AnyOp]);
/** `-` (binary or unary) */
export const Minus: TokenType = punct("Minus", "-", [BinOp, AnyOp]);
/** `*` */
export const Star: TokenType = punct("Star", "*", [BinOp, AnyOp]);
/** `/` */
export const Slash: TokenType = punct("Slash", "/", [BinOp, AnyOp]);
/** `%` */
export const Percent: TokenType = punct("Percent", "%", [BinOp, AnyOp]);
/** `..` */
export const DotDot: TokenType = punct("DotDot", "..");
/** `.` */
export const Dot: TokenType = punct("Dot", ".");
/** `,` */
export const Comma: TokenType = punct("Comma", ",");
/** `{` */
export const LCurly: TokenType = punct("LCurly", "{");
/** `}` */
export const RCurly: TokenType = punct("RCurly", "}");
/** `[` (an index: `p[i]`) */
export const LBracket: TokenType = punct("LBracket", "[");
/** `]` */
export const RBracket: TokenType = punct("RBracket", "]");
/** `(` */
export const LParen: TokenType = punct("LParen", "(");
/** `)` */
export const RParen: TokenType = punct("RParen", ")");

/** Whitespace, newlines included. */
export const WhiteSpace: TokenType = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
});
/** A UTF-8 byte-order mark, skipped (the lexer sees it only at the start: see `parse.ts`). */
export const Bom: TokenType = createToken({
  name: "Bom",
  pattern: {
    exec(text: string, offset: number): RegExpExecArray | null {
      return offset === 0 && text.charCodeAt(0) === 0xfeff ? /^\uFEFF/.exec(text) : null;
    },
  },
  line_breaks: false,
  start_chars_hint: ["\uFEFF"],
  group: Lexer.SKIPPED,
});
/** `#` to the end of the line. */
export const Comment: TokenType = createToken({
  name: "Comment",
  pattern: /#[^\n\r]*/,
  group: Lexer.SKIPPED,
});

/** Every token type, in lexing priority order. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Bom,
  Comment,
  ArchName,
  Arch,
  Cpus,
  Let,
  MapKw,
  Madvise,
  Mprotect,
  Mremap,
  File,
  Mm,
  Touch,
  Unmap,
  Fork,
  Exit,
  Run,
  Idle,
  Snapshot,
  Expect,
  Repeat,
  Inject,
  Size,
  Every,
  As,
  On,
  Include,
  In,
  Param,
  Print,
  If,
  Else,
  Shared,
  Offset,
  Prot,
  Hugetlb,
  Exec,
  Read,
  To,
  And,
  Or,
  Ident,
  Version,
  Num,
  Str,
  BadStr,
  EqEq,
  NotEq,
  Shl,
  Shr,
  Le,
  Ge,
  Lt,
  Gt,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  DotDot,
  Dot,
  Comma,
  LCurly,
  RCurly,
  LBracket,
  RBracket,
  LParen,
  RParen,
  CmpOp,
  BinOp,
  AnyOp,
];

/** The lexer (created once). Tokens carry offsets only; lines and columns are computed on demand. */
export const lexer: Lexer = new Lexer(allTokens, {
  positionTracking: "onlyOffset",
  ensureOptimizations: true,
});

/** Value of a decimal image with an optional unit, or undefined if it is not exactly that. */
function decimalValue(image: string): bigint | undefined {
  const n = image.length;
  let end = n;
  let shift = 0n;
  switch (image.charCodeAt(n - 1)) {
    case 75: // K
      shift = 10n;
      end--;
      break;
    case 77: // M
      shift = 20n;
      end--;
      break;
    case 71: // G
      shift = 30n;
      end--;
      break;
    case 84: // T
      shift = 40n;
      end--;
      break;
  }
  if (end === 0) return undefined;
  let v = 0, digits = 0, prevDigit = false;
  for (let i = 0; i < end; i++) {
    const c = image.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      digits++;
      prevDigit = true;
    } else if (c === 95 && prevDigit && i + 1 < end) {
      prevDigit = false;
    } else return undefined;
  }
  if (!prevDigit) return undefined;
  const big = digits <= 15 ? BigInt(v) : BigInt(image.slice(0, end).replaceAll("_", ""));
  return shift ? big << shift : big;
}

/**
 * The value of a {@link Num} token image, or a message saying why it is not a number.
 * Accepts `123`, `1_000`, `0x7f00_0000_0000` and decimals with a unit `K M G T` (binary).
 */
export function numberValue(image: string): bigint | string {
  const c1 = image.charCodeAt(1);
  if (image.charCodeAt(0) !== 48 || (c1 !== 120 && c1 !== 88)) {
    const v = decimalValue(image);
    if (v !== undefined) return v;
    const u = /^[0-9_]*[0-9]([A-Za-z]\w*)$/.exec(image);
    if (u && !/^[KMGT]$/.test(u[1])) {
      return `invalid number '${image}': unknown unit '${u[1]}' (use K, M, G or T)`;
    }
    return `invalid number '${image}'`;
  }
  const digits = image.slice(2);
  if (digits.length === 0) return `invalid number '${image}': no digits after '0x'`;
  if (!/^[0-9a-fA-F](?:_?[0-9a-fA-F])*$/.test(digits)) {
    return /^[0-9a-fA-F_]+[KMGT]$/.test(digits)
      ? `invalid number '${image}': units (K, M, G, T) apply to decimal numbers only`
      : `invalid number '${image}'`;
  }
  return BigInt("0x" + digits.replaceAll("_", ""));
}

/** A piece of a string literal: text, or the source of a `{EXPR}` interpolation. */
export type StrPart =
  | { readonly text: string }
  /** `offset`: where the expression's text starts in the token image. */
  | { readonly expr: string; readonly offset: number };

/** A problem inside a string literal; `offset` is within the token image. */
export interface StrProblem {
  /** Offset in the image. */
  readonly offset: number;
  /** Length in characters. */
  readonly length: number;
  /** What is wrong. */
  readonly message: string;
}

/**
 * The pieces of a {@link Str} image: `\\"` is a quote, `\\\\` a backslash (no other escapes).
 * With `interpolate`, `{EXPR}` is an expression to format into the text and `{{` / `}}` stand
 * for `{` / `}` (a lone `}` is itself).
 */
export function stringParts(
  image: string,
  interpolate: boolean,
): { parts: StrPart[]; problem?: StrProblem } {
  const end = image.length >= 2 && image.endsWith('"') && !/(^|[^\\])(\\\\)*\\"$/.test(image)
    ? image.length - 1
    : image.length;
  const parts: StrPart[] = [];
  let text = "";
  for (let i = 1; i < end; i++) {
    const ch = image[i];
    if (ch === "\\") {
      const nx = image[i + 1];
      if (nx === '"' || nx === "\\") {
        text += nx;
        i++;
        continue;
      }
      return {
        parts,
        problem: {
          offset: i,
          length: nx === undefined ? 1 : 2,
          message: nx === undefined
            ? "a string cannot end with a lone '\\' (write \\\\ for a backslash)"
            : `unknown escape '\\${nx}' in a string (only \\" and \\\\ are escapes)`,
        },
      };
    }
    if (interpolate && ch === "{") {
      if (image[i + 1] === "{") {
        text += "{";
        i++;
        continue;
      }
      const close = image.indexOf("}", i + 1);
      if (close < 0 || close >= end) {
        return {
          parts,
          problem: {
            offset: i,
            length: 1,
            message: "unclosed '{' in a string (write {{ for a literal brace)",
          },
        };
      }
      if (text) parts.push({ text });
      text = "";
      parts.push({ expr: image.slice(i + 1, close), offset: i + 1 });
      i = close;
      continue;
    }
    if (interpolate && ch === "}" && image[i + 1] === "}") i++;
    text += ch;
  }
  if (text || parts.length === 0) parts.push({ text });
  return { parts };
}
