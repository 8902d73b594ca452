/**
 * Tokens of the scenario language and the one lexer over them.
 *
 * Whitespace (newlines included) and `#` comments are skipped: every statement starts with a
 * keyword, so statements need no terminator. Keywords are reserved words (`longer_alt: Ident`).
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
/** `touch` */
export const Touch: TokenType = keyword("touch");
/** `unmap` */
export const Unmap: TokenType = keyword("unmap");
/** `madvise` */
export const Madvise: TokenType = keyword("madvise");
/** `fork` */
export const Fork: TokenType = keyword("fork");
/** `exit` */
export const Exit: TokenType = keyword("exit");
/** `run` */
export const Run: TokenType = keyword("run");
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

/** A string: `"..."` on one line, no escapes. */
export const Str: TokenType = createToken({
  name: "Str",
  pattern: /"[^"\n\r]*"/,
  label: "a string",
});

/** A string missing its closing quote (reported, then parsed as a {@link Str}). */
export const BadStr: TokenType = createToken({
  name: "BadStr",
  pattern: /"[^"\n\r]*/,
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

function punct(name: string, text: string, categories?: TokenType[]): TokenType {
  return createToken({
    name,
    pattern: text,
    label: `'${text}'`,
    ...(categories ? { categories } : {}),
  });
}

/** `==` */
export const EqEq: TokenType = punct("EqEq", "==", [CmpOp]);
/** `!=` */
export const NotEq: TokenType = punct("NotEq", "!=", [CmpOp]);
/** `<=` */
export const Le: TokenType = punct("Le", "<=", [CmpOp]);
/** `>=` */
export const Ge: TokenType = punct("Ge", ">=", [CmpOp]);
/** `<` */
export const Lt: TokenType = punct("Lt", "<", [CmpOp]);
/** `>` */
export const Gt: TokenType = punct("Gt", ">", [CmpOp]);
/** `=` */
export const Equals: TokenType = punct("Equals", "=");
/** `+` */
export const Plus: TokenType = punct("Plus", "+", [BinOp]);
/** `-` (binary or unary) */
export const Minus: TokenType = punct("Minus", "-", [BinOp]);
/** `*` */
export const Star: TokenType = punct("Star", "*", [BinOp]);
/** `/` */
export const Slash: TokenType = punct("Slash", "/", [BinOp]);
/** `%` */
export const Percent: TokenType = punct("Percent", "%", [BinOp]);
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
/** `#` to the end of the line. */
export const Comment: TokenType = createToken({
  name: "Comment",
  pattern: /#[^\n\r]*/,
  group: Lexer.SKIPPED,
});

/** Every token type, in lexing priority order. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  ArchName,
  Arch,
  Cpus,
  Let,
  MapKw,
  Madvise,
  Mm,
  Touch,
  Unmap,
  Fork,
  Exit,
  Run,
  Snapshot,
  Expect,
  Repeat,
  Inject,
  Size,
  Every,
  As,
  On,
  In,
  Ident,
  Version,
  Num,
  Str,
  BadStr,
  EqEq,
  NotEq,
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
  LParen,
  RParen,
  CmpOp,
  BinOp,
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
