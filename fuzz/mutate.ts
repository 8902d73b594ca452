/**
 * A mutation fuzzer for the scenario language (issue 8): inputs are the example scenarios and the
 * invalid corpus, mutated byte by byte (bit flips, inserted and deleted bytes, duplicated spans,
 * splices of two seeds), token by token (replaced by another token seen in the corpus or by a
 * keyword of the language, deleted, duplicated, swapped), with extreme numbers, deep nesting
 * (parentheses, unary minus chains, long sums, nested `repeat` blocks), long lines (100k-char
 * names, labels and comments) and odd characters (control characters, NUL, lone surrogates, BOM,
 * CRLF). Each input runs through the CLI function; the {@link judge} oracle says whether what
 * came back is a finding: a throw (the real CLI's "internal error"), a stack trace, an exit code
 * other than 0, 1 or 2, exit 2 without a `FILE:LINE:COL` diagnostic, JSON that does not parse or
 * fails the schema of `ptlab schema`, or more than 2 s for one command.
 *
 * Everything is deterministic: input `i` of run seed `s` is {@link makeInput}`(corpus, s, i)`,
 * a pure function of the seed texts and a seeded PRNG (no `Math.random`).
 *
 * @module
 */

import { cli, type CliResult } from "../cli.ts";
import { catalog, configNames, reportJsonSchema } from "../mod.ts";
import { KERNEL_VERSIONS, LEVELS, SYSTEM_METRICS } from "../engine/types.ts";
import { allTokens } from "../dsl/tokens.ts";

// ---------------------------------------------------------------------------------------------
// PRNG

/** A small seeded PRNG (sfc32, seeded through splitmix32). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator for a 32-bit seed. */
  constructor(seed: number) {
    let s = seed >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = split();
    this.#b = split();
    this.#c = split();
    this.#d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The next 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n) (n >= 1). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi] . */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** An integer in [lo, hi], log-uniformly (as many small as large ones). */
  logRange(lo: number, hi: number): number {
    return Math.min(hi, Math.floor(lo * Math.pow(hi / lo, this.float())));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Mixes a run seed and an input index into the 32-bit seed of that input. */
export function inputSeed(runSeed: number, index: number): number {
  let h = Math.imul((runSeed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (index >>> 0) ^ (h >>> 15), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ Math.floor(index / 4294967296) ^ (h >>> 13), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Seeds and tokens

/** One seed text. */
export interface Seed {
  /** Its path, relative to the repository. */
  name: string;
  /** Its text. */
  text: string;
}

/** The seeds and what the token mutations draw from. */
export interface Corpus {
  /** Seed texts, in name order. */
  seeds: readonly Seed[];
  /** Every distinct non-blank token of the seeds, sorted. */
  tokens: readonly string[];
  /** Keywords, punctuation, metric, option, configuration and inject-site names. */
  words: readonly string[];
}

/** Directories the seeds come from, relative to the repository. */
export const SEED_DIRS: readonly string[] = ["examples", "testdata/invalid"];

/** Reads every `.ptlab` file of {@link SEED_DIRS} (needs --allow-read). */
export function loadSeeds(root: URL = new URL("../", import.meta.url)): Seed[] {
  const seeds: Seed[] = [];
  for (const dir of SEED_DIRS) {
    for (const e of Deno.readDirSync(new URL(`${dir}/`, root))) {
      if (!e.isFile || !e.name.endsWith(".ptlab")) continue;
      const name = `${dir}/${e.name}`;
      seeds.push({ name, text: Deno.readTextFileSync(new URL(name, root)) });
    }
  }
  return seeds.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A crude token: its kind and its span in the text. */
export interface Tok {
  /** `comment`, `string`, `number`, `word`, `punct` or `space`. */
  kind: "comment" | "string" | "number" | "word" | "punct" | "space";
  /** Start offset. */
  start: number;
  /** End offset (exclusive). */
  end: number;
}

const TOKEN_RE =
  /(#[^\n\r]*)|("[^"\n\r]*"?)|(0[xX][0-9A-Za-z_]*|[0-9][0-9A-Za-z_]*(?:\.[0-9]+)?)|([A-Za-z_][A-Za-z0-9_-]*)|(==|!=|<=|>=|\.\.|[^\s\w])|(\s+)/gu;

/** Splits a text crudely into comments, strings, numbers, words, punctuation and blanks. */
export function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m; m = TOKEN_RE.exec(text)) {
    const kind = m[1] !== undefined
      ? "comment"
      : m[2] !== undefined
      ? "string"
      : m[3] !== undefined
      ? "number"
      : m[4] !== undefined
      ? "word"
      : m[5] !== undefined
      ? "punct"
      : "space";
    out.push({ kind, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** Names of the language beyond its keywords: metrics, options, advice and inject modes. */
const LANGUAGE_WORDS = [
  "vmpte",
  "rss",
  "tables",
  ...LEVELS,
  ...SYSTEM_METRICS,
  "kernel",
  "thp",
  "pti",
  "split_ptlocks",
  "alloc_split_ptlocks",
  "ram",
  "dontneed",
  "fail",
  "at",
  "after",
  "off",
  ...KERNEL_VERSIONS,
];

/** Builds the corpus: the seeds, their tokens and the language's words. */
export function makeCorpus(seeds: readonly Seed[]): Corpus {
  const tokens = new Set<string>();
  for (const s of seeds) {
    for (const t of tokenize(s.text)) {
      if (t.kind !== "space") tokens.add(s.text.slice(t.start, t.end));
    }
  }
  const words = new Set<string>(LANGUAGE_WORDS);
  for (const t of allTokens) {
    const p = t.PATTERN;
    if (typeof p === "string") words.add(p);
    else if (p instanceof RegExp && /^[a-z]+$/.test(p.source)) words.add(p.source);
  }
  for (const n of configNames()) words.add(n);
  for (const n of configNames()) for (const s of catalog.injectSites(n)) words.add(s);
  return { seeds, tokens: [...tokens].sort(), words: [...words].sort() };
}

// ---------------------------------------------------------------------------------------------
// Mutators

/** A mutation: a pure function of the text, the generator and the (constant) corpus. */
export type Mutator = (text: string, rng: Rng, corpus: Corpus) => string;

const enc = new TextEncoder();
const dec = new TextDecoder(); // not fatal: invalid UTF-8 becomes U+FFFD, as a file read does

function bytesOf(text: string): Uint8Array {
  return enc.encode(text);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Seeds that unroll to a million operations or more (the op limit's own tests). */
const EXPENSIVE_SEED = /\.\.\s*\d[\d_]{3,}/;

/** A seed; one that takes ~0.5 s a command to unroll ({@link EXPENSIVE_SEED}) a tenth as often. */
function pickSeed(rng: Rng, c: Corpus): Seed {
  const s = rng.pick(c.seeds);
  return EXPENSIVE_SEED.test(s.text) && rng.chance(0.9) ? rng.pick(c.seeds) : s;
}

/** A span [start, end) of a length n text, short spans being likelier. */
function span(rng: Rng, n: number): [number, number] {
  const start = rng.int(n + 1);
  const len = Math.min(n - start, rng.logRange(1, Math.max(1, Math.min(n, 4096))));
  return [start, start + len];
}

/** Characters that lexers and line counters tend to get wrong. */
export const ODD_CHARS: readonly string[] = [
  "\0",
  "\x01",
  "\x07",
  "\b",
  "\t",
  "\v",
  "\f",
  "\r",
  "\r\n",
  "\n",
  "\x1b",
  "\x7f",
  "\x85",
  "\xa0",
  "\u00ad",
  "\u200b",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffd",
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "\udbff\udfff",
  "\u{1f600}",
  "é",
  "ℵ",
  "０", // fullwidth zero
  '"',
  "#",
  "{",
  "}",
  "(",
  ")",
];

/** Numbers at and past every limit the lexer, the checker and the engine have. */
export const EXTREME_NUMBERS: readonly string[] = [
  "0",
  "-1",
  "1",
  "-0",
  "00",
  "0x0",
  "0x",
  "0x_",
  "0x_1",
  "1__0",
  "1_",
  "_1",
  "4095",
  "4097",
  "2147483647",
  "2147483648",
  "4294967295",
  "4294967296",
  "9007199254740991",
  "9007199254740993",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775808",
  "18446744073709551615",
  "18446744073709551616",
  "0x7fffffffffffffff",
  "0x8000000000000000",
  "0xffffffffffffffff",
  "0x10000000000000000",
  "0xffffffffffffffffffff",
  "0x7fff_ffff_ffff",
  "0x7fff_ffff_f000",
  "0x8000_0000_0000",
  "0xffff_8000_0000_0000",
  "0x00ff_ffff_ffff_f000",
  "999999999999T",
  "18446744073709551616T",
  "16777216T",
  "4096T",
  "1T",
  "0K",
  "0T",
  "1K",
  "1e308",
  "1e309",
  "1.7976931348623157e308",
  "5e-324",
  "1.5",
  "0.5",
  "6.6",
  "99999999999999999999.9",
  "NaN",
  "Infinity",
  "1" + "0".repeat(400),
  "0x" + "f".repeat(300),
  "9".repeat(40) + "K",
  "1K * 1K * 1K * 1K * 1K * 1K * 1K",
  "0 - 0x8000000000000000",
  "1 / 0",
  "1 % 0",
  "0x7fff_ffff_ffff + 1",
  "(0 - 1) * 4096",
];

const NUM_RE = /^(?:0[xX][0-9A-Za-z_]*|[0-9][0-9A-Za-z_]*)$/;

/** Token indexes that are not blank. */
function solid(toks: readonly Tok[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < toks.length; i++) if (toks[i].kind !== "space") out.push(i);
  return out;
}

/** Replaces token i's span (or the span [start, end)) by `by`. */
function replaceSpan(text: string, start: number, end: number, by: string): string {
  return text.slice(0, start) + by + text.slice(end);
}

/** A random offset at the start of a line. */
function lineStart(text: string, rng: Rng): number {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return rng.pick(starts);
}

/** Offsets of the number tokens, or of any solid token when there is none. */
function targets(text: string, toks: readonly Tok[]): number[] {
  const nums = toks.map((t, i) => [t, i] as const).filter(([t]) =>
    t.kind === "number" && NUM_RE.test(text.slice(t.start, t.end))
  ).map(([, i]) => i);
  return nums.length ? nums : solid(toks);
}

/** A line that gives an expression somewhere to live when the text has no number. */
const LET_LINE = "let fuzz_n = 1\n";

/** Replaces a number (or adds one) through `f`. */
function atNumber(text: string, rng: Rng, f: (image: string) => string): string {
  const toks = tokenize(text);
  const ts = targets(text, toks);
  if (ts.length === 0 || rng.chance(0.1)) {
    const at = lineStart(text, rng);
    return text.slice(0, at) + LET_LINE.replace("1", f("1")) + text.slice(at);
  }
  const t = toks[rng.pick(ts)];
  return replaceSpan(text, t.start, t.end, f(text.slice(t.start, t.end)));
}

function depth(rng: Rng): number {
  return rng.chance(0.2) ? rng.pick([10, 100, 1000, 5000]) : rng.logRange(10, 5000);
}

function longLength(rng: Rng): number {
  return rng.chance(0.4) ? 100_000 : rng.logRange(1000, 200_000);
}

/** Whether a generated variable name may be used (an identifier not in the text). */
function freshName(text: string, base: string): string {
  let n = base;
  for (let i = 0; text.includes(n); i++) n = `${base}${i}`;
  return n;
}

const BYTE_MUTATORS: Record<string, Mutator> = {
  /** Flips 1..8 random bits of the UTF-8 bytes. */
  byteFlip(text, rng) {
    const b = bytesOf(text);
    if (b.length === 0) return "\x80";
    for (let k = rng.range(1, 8); k > 0; k--) b[rng.int(b.length)] ^= 1 << rng.int(8);
    return dec.decode(b);
  },
  /** Inserts 1..16 random bytes. */
  byteInsert(text, rng) {
    const b = bytesOf(text);
    const at = rng.int(b.length + 1);
    const ins = new Uint8Array(rng.range(1, 16));
    for (let i = 0; i < ins.length; i++) {
      ins[i] = rng.chance(0.5) ? rng.int(256) : rng.range(32, 126);
    }
    return dec.decode(concat(b.subarray(0, at), ins, b.subarray(at)));
  },
  /** Deletes a span of bytes. */
  byteDelete(text, rng) {
    const b = bytesOf(text);
    const [s, e] = span(rng, b.length);
    return dec.decode(concat(b.subarray(0, s), b.subarray(Math.max(e, s + 1))));
  },
  /** Duplicates a span of bytes, 1..64 times, in place. */
  byteDuplicate(text, rng) {
    const b = bytesOf(text);
    const [s, e0] = span(rng, b.length);
    const e = Math.max(e0, Math.min(b.length, s + 1));
    const times = rng.logRange(1, 64);
    const parts = [b.subarray(0, e)];
    for (let i = 0; i < times; i++) parts.push(b.subarray(s, e));
    parts.push(b.subarray(e));
    return dec.decode(concat(...parts)) + (e === s ? "\n" : "");
  },
  /** The start of this text, then the end of another seed (cut anywhere, even inside a char). */
  splice(text, rng, c) {
    const a = bytesOf(text);
    const b = bytesOf(pickSeed(rng, c).text);
    return dec.decode(concat(a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length))));
  },
  /** Some lines of another seed inserted at a line start. */
  spliceLines(text, rng, c) {
    const other = pickSeed(rng, c).text.split("\n");
    const s = rng.int(other.length);
    const lines = other.slice(s, s + rng.range(1, 12)).join("\n") + "\n";
    const at = lineStart(text, rng);
    return text.slice(0, at) + lines + text.slice(at);
  },
  /** Deletes, duplicates or swaps whole lines. */
  lines(text, rng) {
    const ls = text.split("\n");
    const i = rng.int(ls.length), j = rng.int(ls.length);
    switch (rng.int(3)) {
      case 0:
        ls.splice(i, rng.range(1, 4));
        break;
      case 1:
        ls.splice(i, 0, ...ls.slice(i, i + rng.range(1, 4)));
        break;
      default:
        [ls[i], ls[j]] = [ls[j], ls[i]];
    }
    return ls.join("\n");
  },
};

const TOKEN_MUTATORS: Record<string, Mutator> = {
  /** A token replaced by another token seen in the corpus. */
  tokenReplace(text, rng, c) {
    const toks = tokenize(text);
    const ts = solid(toks);
    if (!ts.length) return text + rng.pick(c.tokens);
    const t = toks[rng.pick(ts)];
    return replaceSpan(text, t.start, t.end, rng.pick(c.tokens));
  },
  /** A token replaced by (or a keyword inserted before it) a word of the language. */
  tokenKeyword(text, rng, c) {
    const toks = tokenize(text);
    const ts = solid(toks);
    const w = rng.pick(c.words);
    if (!ts.length) return `${w} ${text}`;
    const t = toks[rng.pick(ts)];
    return rng.chance(0.7)
      ? replaceSpan(text, t.start, t.end, w)
      : replaceSpan(text, t.start, t.start, `${w} `);
  },
  /** A token (or a run of 1..4) deleted. */
  tokenDelete(text, rng) {
    const toks = tokenize(text);
    const ts = solid(toks);
    if (!ts.length) return text.slice(1);
    const k = rng.int(ts.length);
    const last = ts[Math.min(ts.length - 1, k + rng.int(4))];
    return replaceSpan(text, toks[ts[k]].start, toks[last].end, "");
  },
  /** A token (or a run) duplicated. */
  tokenDuplicate(text, rng) {
    const toks = tokenize(text);
    const ts = solid(toks);
    if (!ts.length) return text + "mm";
    const k = rng.int(ts.length);
    const last = ts[Math.min(ts.length - 1, k + rng.int(4))];
    const s = toks[ts[k]].start, e = toks[last].end;
    return text.slice(0, e) + " " + text.slice(s, e) + text.slice(e);
  },
  /** Two different tokens swapped. */
  tokenSwap(text, rng) {
    const toks = tokenize(text);
    const ts = solid(toks);
    for (let tries = 0; tries < 16 && ts.length >= 2; tries++) {
      let i = rng.pick(ts), j = rng.pick(ts);
      if (i > j) [i, j] = [j, i];
      const a = text.slice(toks[i].start, toks[i].end), b = text.slice(toks[j].start, toks[j].end);
      if (a === b) continue;
      return text.slice(0, toks[i].start) + b + text.slice(toks[i].end, toks[j].start) + a +
        text.slice(toks[j].end);
    }
    return text + "\n}";
  },
};

const SHAPE_MUTATORS: Record<string, Mutator> = {
  /** A number replaced by an extreme one. */
  extremeNumber(text, rng) {
    return atNumber(text, rng, () => rng.pick(EXTREME_NUMBERS));
  },
  /** A number with an extreme suffix or prefix glued to it. */
  numberGlue(text, rng) {
    return atNumber(
      text,
      rng,
      (n) =>
        rng.chance(0.5)
          ? n + rng.pick(["K", "T", "TT", "_", "0000000000000000", "Q", ".5", "..", "e308", "n"])
          : rng.pick(["-", "0x", "--", "+", "0", "9999999999"]) + n,
    );
  },
  /** A number wrapped in 10..5000 parentheses (sometimes left unbalanced). */
  deepParens(text, rng) {
    const n = depth(rng);
    const close = rng.chance(0.9) ? n : rng.int(n);
    return atNumber(text, rng, (x) => "(".repeat(n) + x + ")".repeat(close));
  },
  /** A number behind a chain of 10..5000 unary minuses. */
  unaryChain(text, rng) {
    const n = depth(rng);
    const sep = rng.pick(["", " ", "(", "-"]);
    return atNumber(
      text,
      rng,
      (x) => sep === "(" ? "-(".repeat(n) + x + ")".repeat(n) : ("-" + sep).repeat(n) + x,
    );
  },
  /** A number continued with a sum (or a product) of 10..5000 terms. */
  longSum(text, rng) {
    const n = depth(rng);
    const op = rng.pick(["+", "-", "*", "/", "%", "mixed"]);
    const ops = ["+", "-", "*", "/", "%"];
    return atNumber(text, rng, (x) => {
      let s = x;
      for (let i = 0; i < n; i++) {
        const o = op === "mixed" ? rng.pick(ops) : op;
        s += ` ${o} ${o === "+" || o === "-" ? rng.pick(["1", "0", x]) : "1"}`;
      }
      return s;
    });
  },
  /** Lines wrapped in 2..5000 nested `repeat` blocks (one iteration each, mostly). */
  nestedRepeat(text, rng) {
    const n = rng.chance(0.5) ? rng.range(2, 12) : depth(rng);
    const ls = text.split("\n");
    const a = rng.int(ls.length), b = Math.min(ls.length, a + rng.range(1, 8));
    const v = freshName(text, "fz");
    const open: string[] = [], close: string[] = [];
    for (let i = 0; i < n; i++) {
      const hi = n <= 6 && rng.chance(0.3) ? 2 : 1;
      open.push(`${"  ".repeat(i % 40)}repeat ${v}${i} in 0 .. ${hi} {`);
      close.push(`${"  ".repeat(i % 40)}}`);
    }
    if (rng.chance(0.05)) close.pop(); // unbalanced
    return [...ls.slice(0, a), ...open, ...ls.slice(a, b), ...close.reverse(), ...ls.slice(b)]
      .join("\n");
  },
  /** Unclosed or deeply nested braces. */
  deepBraces(text, rng) {
    const n = depth(rng);
    const at = lineStart(text, rng);
    const s = rng.pick(["{", "{\n", "arch x86_64-4level {", "}", "{ }"]).repeat(n);
    return text.slice(0, at) + s + "\n" + text.slice(at);
  },
  /** A name (every occurrence of it), a label, a comment, a number or a line 1k..200k long. */
  longLine(text, rng) {
    const n = longLength(rng);
    const toks = tokenize(text);
    const words = toks.filter((t) => t.kind === "word").map((t) => text.slice(t.start, t.end));
    const kind = rng.int(7);
    if (kind === 0 && words.length) {
      const w = rng.pick(words);
      const long = (w + "_".repeat(n)).slice(0, n);
      return text.replace(new RegExp(`\\b${w}\\b`, "g"), long);
    }
    const at = lineStart(text, rng);
    const ins = [
      () => `snapshot "${"L".repeat(n)}"`,
      () => `# ${"c".repeat(n)}`,
      () => `let ${freshName(text, "x")} = ${"9".repeat(Math.min(n, 5000))}`,
      () => `mm ${"m".repeat(n)}`,
      () => `${'snapshot "s" '.repeat(Math.ceil(n / 13))}`,
      () => `${" ".repeat(n)}mm`,
      () => `"${"u".repeat(n)}`,
    ][kind]();
    return text.slice(0, at) + ins + "\n" + text.slice(at);
  },
  /** 1..8 control characters, NULs, lone surrogates or other odd characters inserted. */
  oddChars(text, rng) {
    let t = text;
    for (let k = rng.range(1, 8); k > 0; k--) {
      const at = rng.int(t.length + 1);
      t = t.slice(0, at) + rng.pick(ODD_CHARS) + t.slice(at);
    }
    return t;
  },
  /** Line ends as CRLF, CR or mixed; a BOM; a missing final newline; tabs for spaces. */
  lineEnds(text, rng) {
    switch (rng.int(6)) {
      case 0:
        return text.replaceAll("\n", "\r\n") + (text.includes("\n") ? "" : "\r\n");
      case 1:
        return text.replaceAll("\n", "\r") + (text.includes("\n") ? "" : "\r");
      case 2:
        return text.replace(/\n/g, () => rng.pick(["\n", "\r\n", "\r", "\n\r", "\u2028"])) + "\r";
      case 3:
        return "\ufeff" + text;
      case 4:
        return text.endsWith("\n") ? text.slice(0, -1) : text + "\n";
      default:
        return text.replaceAll(" ", "\t") + "\t";
    }
  },
};

/** The mutators without the guard of {@link MUTATORS} (for the tests). */
export const RAW_MUTATORS: Readonly<Record<string, Mutator>> = {
  ...BYTE_MUTATORS,
  ...TOKEN_MUTATORS,
  ...SHAPE_MUTATORS,
};

/** Every mutator by name. Each is pure in (text, rng, corpus) and returns a different text. */
export const MUTATORS: Readonly<Record<string, Mutator>> = guarded(RAW_MUTATORS);

/** Each mutator retried a few times when it happens not to change the text, then forced. */
function guarded(ms: Readonly<Record<string, Mutator>>): Record<string, Mutator> {
  const out: Record<string, Mutator> = {};
  for (const [name, m] of Object.entries(ms)) {
    out[name] = (text, rng, c) => {
      for (let i = 0; i < 8; i++) {
        const t = m(text, rng, c);
        if (t !== text) return t;
      }
      return text + rng.pick(ODD_CHARS.filter((x) => x !== ""));
    };
  }
  return out;
}

/** How often each mutator is chosen (the expensive shapes less often). */
const WEIGHTS: Record<string, number> = {
  byteFlip: 8,
  byteInsert: 6,
  byteDelete: 6,
  byteDuplicate: 4,
  splice: 4,
  spliceLines: 5,
  lines: 6,
  tokenReplace: 10,
  tokenKeyword: 8,
  tokenDelete: 6,
  tokenDuplicate: 5,
  tokenSwap: 5,
  extremeNumber: 10,
  numberGlue: 4,
  deepParens: 2,
  unaryChain: 2,
  longSum: 2,
  nestedRepeat: 3,
  deepBraces: 1,
  longLine: 2,
  oddChars: 5,
  lineEnds: 3,
};

const HEAVY = new Set([
  "deepParens",
  "unaryChain",
  "longSum",
  "nestedRepeat",
  "deepBraces",
  "longLine",
]);
const WEIGHTED: string[] = Object.entries(WEIGHTS).flatMap(([n, w]) => Array(w).fill(n));

/** The commands an input is run with (`F` stands for the scenario file). */
export type Plan = string[][];

/** The scenario file name the inputs are read under. */
export const FILE = "fuzz.ptlab";

/** One fuzz input: what to run and how it was made. */
export interface Input {
  /** Index in the run. */
  index: number;
  /** The run seed. */
  runSeed: number;
  /** The seed text it came from. */
  seed: string;
  /** Mutator names, in the order applied. */
  path: string[];
  /** The mutated scenario. */
  text: string;
  /** CLI argument lists to run it with. */
  plan: Plan;
}

/**
 * Input `index` of run `runSeed`: a seed, 1..4 mutations of it (at most one expensive shape),
 * and the commands: `run --format json` always, `check` 1 in 4, csv / ndjson / table 1 in 10
 * each, `--kernel 6.1,6.18 --trace` 1 in 50, `--arch all` 1 in 200.
 */
export function makeInput(c: Corpus, runSeed: number, index: number): Input {
  const rng = new Rng(inputSeed(runSeed, index));
  const seed = pickSeed(rng, c);
  let text = seed.text;
  const path: string[] = [];
  const n = rng.pick([1, 1, 1, 1, 2, 2, 2, 3, 3, 4]);
  let heavy = false;
  for (let k = 0; k < n; k++) {
    let name = rng.pick(WEIGHTED);
    while (heavy && HEAVY.has(name)) name = rng.pick(WEIGHTED);
    heavy ||= HEAVY.has(name);
    text = MUTATORS[name](text, rng, c);
    path.push(name);
  }
  const plan: Plan = [["run", FILE, "--format", "json"]];
  if (rng.chance(1 / 4)) plan.push(["check", FILE]);
  if (rng.chance(1 / 10)) plan.push(["run", FILE, "--format", "csv"]);
  if (rng.chance(1 / 10)) plan.push(["run", FILE, "--format", "ndjson"]);
  if (rng.chance(1 / 10)) plan.push(["run", FILE, "--format", "table"]);
  if (rng.chance(1 / 50)) {
    plan.push(["run", FILE, "--format", "json", "--kernel", "6.1,6.18", "--trace"]);
  }
  if (rng.chance(1 / 200)) plan.push(["run", FILE, "--format", "json", "--arch", "all"]);
  for (const cmd of plan) cmd.push("--max-tables", String(FUZZ_MAX_TABLES));
  return { index, runSeed, seed: seed.name, path, text, plan };
}

// ---------------------------------------------------------------------------------------------
// JSON Schema (the subset reportJsonSchema() uses)

/** A JSON Schema node. */
type Schema = Record<string, unknown> | boolean;

const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "id",
  "title",
  "description",
  "default",
  "examples",
]);

/**
 * Validates a value against a JSON Schema, for the keywords ptlab's schema uses (`type` with
 * `integer`, `properties`, `required`, `additionalProperties`, `propertyNames`, `items`,
 * `$ref` into `$defs`, `enum`, `const`, `minimum`, `maximum`, `anyOf`, `oneOf`). An unknown
 * keyword is an error of its own, so a schema that grows past the subset is noticed.
 * Returns the first problem as `PATH: MESSAGE`, or null.
 */
export function validateSchema(
  value: unknown,
  schema: Schema,
  root: Schema = schema,
): string | null {
  return check(value, schema, root, "$");
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    default:
      return typeOf(v) === t;
  }
}

function check(v: unknown, s: Schema, root: Schema, at: string): string | null {
  if (s === true) return null;
  if (s === false) return `${at}: not allowed`;
  for (const [k, x] of Object.entries(s)) {
    let err: string | null = null;
    switch (k) {
      case "$ref": {
        const m = /^#\/\$defs\/(.+)$/.exec(String(x));
        const defs = typeof root === "object" ? root.$defs as Record<string, Schema> : undefined;
        if (!m || !defs?.[m[1]]) return `${at}: unresolved $ref ${x}`;
        err = check(v, defs[m[1]], root, at);
        break;
      }
      case "$defs":
        break;
      case "type": {
        const ts = Array.isArray(x) ? x as string[] : [x as string];
        if (!ts.some((t) => hasType(v, t))) {
          err = `${at}: expected ${ts.join(" or ")}, got ${typeOf(v)}`;
        }
        break;
      }
      case "enum":
        if (!(x as unknown[]).some((e) => e === v)) err = `${at}: ${JSON.stringify(v)} not in enum`;
        break;
      case "const":
        if (x !== v) err = `${at}: expected ${JSON.stringify(x)}`;
        break;
      case "minimum":
        if (typeof v === "number" && v < (x as number)) err = `${at}: below minimum`;
        break;
      case "maximum":
        if (typeof v === "number" && v > (x as number)) err = `${at}: above maximum`;
        break;
      case "required":
        if (typeOf(v) === "object") {
          const miss = (x as string[]).find((p) => !Object.hasOwn(v as object, p));
          if (miss) err = `${at}: missing property ${miss}`;
        }
        break;
      case "properties":
        if (typeOf(v) === "object") {
          for (const [p, ps] of Object.entries(x as Record<string, Schema>)) {
            if (Object.hasOwn(v as object, p)) {
              err = check((v as Record<string, unknown>)[p], ps, root, `${at}.${p}`);
              if (err) break;
            }
          }
        }
        break;
      case "additionalProperties":
        if (typeOf(v) === "object") {
          const known = (s.properties ?? {}) as Record<string, unknown>;
          for (const [p, pv] of Object.entries(v as Record<string, unknown>)) {
            if (Object.hasOwn(known, p)) continue;
            err = x === false
              ? `${at}: unexpected property ${p}`
              : check(pv, x as Schema, root, `${at}.${p}`);
            if (err) break;
          }
        }
        break;
      case "propertyNames":
        if (typeOf(v) === "object") {
          for (const p of Object.keys(v as object)) {
            err = check(p, x as Schema, root, `${at}[key ${JSON.stringify(p)}]`);
            if (err) break;
          }
        }
        break;
      case "items":
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length && !err; i++) {
            err = check(v[i], x as Schema, root, `${at}[${i}]`);
          }
        }
        break;
      case "anyOf":
        if ((x as Schema[]).every((y) => check(v, y, root, at) !== null)) {
          err = `${at}: matches no anyOf`;
        }
        break;
      case "oneOf":
        if ((x as Schema[]).filter((y) => check(v, y, root, at) === null).length !== 1) {
          err = `${at}: does not match exactly one oneOf`;
        }
        break;
      default:
        if (!ANNOTATIONS.has(k)) err = `${at}: unsupported schema keyword ${k}`;
    }
    if (err) return err;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Oracle

/** A finding: the kind of problem and its first message. */
export interface Verdict {
  /**
   * `throw` (the cli function threw: the real CLI prints "internal error"), `internal-error`,
   * `stack-trace`, `exit-code`, `no-diagnostic`, `diagnostic-position`, `bad-json`, `schema`,
   * `ok-mismatch`, `bad-ndjson`, `bad-csv`, `bad-output`, `slow` or `hang`.
   */
  kind: string;
  /** What was wrong. */
  message: string;
  /** The CLI arguments that showed it. */
  args: string[];
}

/** Milliseconds one command may take. */
export const SLOW_MS = 2000;

let schemaCache: Schema | undefined;

/** The JSON Schema of `ptlab schema` (computed once). */
export function outputSchema(): Schema {
  return schemaCache ??= reportJsonSchema() as Schema;
}

/** Lines of `out` that are not lines of the input (diagnostics echo input lines). */
function foreignLines(out: string, input: string): string[] {
  const mine = new Set([...input.split(/\r\n|\r|\n/), ...input.split("\n")]);
  return out.split("\n").filter((l) => !mine.has(l) && !mine.has(l + "\r"));
}

/** Parses RFC 4180 CSV; returns the field count of every row, or a message. */
function csvRows(text: string): number[] | string {
  const rows: number[] = [];
  let fields = 0, i = 0;
  const n = text.length;
  if (!text.endsWith("\n")) return "no final newline";
  while (i < n) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return "unterminated quoted field";
        if (text[q + 1] === '"') i = q + 2;
        else {
          i = q + 1;
          break;
        }
      }
    } else {
      while (i < n && text[i] !== "," && text[i] !== "\n") {
        if (text[i] === '"' || text[i] === "\r") {
          return `stray ${JSON.stringify(text[i])} in a field`;
        }
        i++;
      }
    }
    fields++;
    if (text[i] === ",") i++;
    else if (text[i] === "\n") {
      rows.push(fields);
      fields = 0;
      i++;
    } else return `garbage after a quoted field at ${i}`;
  }
  return rows;
}

/**
 * Judges what one command did with an input: null when it is fine, else the finding. `result`
 * is what the cli function returned, or `{ thrown }` when it threw; `ms` how long it took.
 */
export function judge(
  args: string[],
  result: CliResult | { thrown: unknown },
  input: string,
  ms: number,
): Verdict | null {
  const v = (kind: string, message: string): Verdict => ({ kind, message, args });
  if ("thrown" in result) {
    const e = result.thrown;
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return v("throw", msg.split("\n")[0]);
  }
  const { code, stdout, stderr } = result;
  const errLines = foreignLines(stderr, input);
  const ie = errLines.find((l) => /internal error/i.test(l));
  if (ie) return v("internal-error", ie);
  // a V8 stack frame: "    at fn (file:///x.ts:1:2)", "    at file:///x.ts:1:2", "    at new X (<anonymous>)"
  const frame = /^\s+at (?:.*\(.*(?::\d+:\d+|<anonymous>|native)\)|\S+:\d+:\d+)$/;
  const st = [...errLines, ...foreignLines(stdout, input)].find((l) => frame.test(l));
  if (st) return v("stack-trace", st);
  if (code !== 0 && code !== 1 && code !== 2) return v("exit-code", `exit code ${code}`);
  if (ms > SLOW_MS) return v("slow", `${Math.round(ms)} ms`);
  const cmd = args[0];
  if (code === 2) {
    const heads = stderr.split("\n").filter((l) => /^[^:\n]+:\d+:\d+: /.test(l));
    if (!heads.length) return v("no-diagnostic", `exit 2: ${stderr.split("\n")[0]}`);
    const lines = input.split("\n");
    for (const h of heads) {
      const m = /^(.*?):(\d+):(\d+): /.exec(h)!;
      if (m[1] !== FILE) continue;
      const line = Number(m[2]), col = Number(m[3]);
      if (line < 1 || line > lines.length) {
        return v("diagnostic-position", `line ${line} of ${lines.length}: ${h.slice(m[0].length)}`);
      }
      if (col < 1 || col > lines[line - 1].length + 1) {
        return v("diagnostic-position", `column ${col} of a line of ${lines[line - 1].length}`);
      }
    }
    return null;
  }
  if (cmd === "check") {
    return /: ok\b/.test(stdout) ? null : v("bad-output", `check: ${stdout.slice(0, 80)}`);
  }
  const format = args[args.indexOf("--format") + 1];
  const words = /\b(NaN|undefined|Infinity)\b|\[object /.exec(stdout);
  if (words && !input.includes(words[0])) {
    return v("bad-output", `"${words[0]}" in the ${format} output`);
  }
  if (format === "json") {
    let doc: unknown;
    try {
      doc = JSON.parse(stdout);
    } catch (e) {
      return v("bad-json", e instanceof Error ? e.message : String(e));
    }
    const err = validateSchema(doc, outputSchema());
    if (err) return v("schema", err);
    const d = doc as { ok: boolean; file?: string };
    if (d.ok !== (code === 0)) return v("ok-mismatch", `ok is ${d.ok} with exit code ${code}`);
    if (d.file !== FILE) return v("schema", `file is ${JSON.stringify(d.file)}`);
  } else if (format === "ndjson") {
    for (const l of stdout.split("\n").slice(0, -1)) {
      try {
        const o = JSON.parse(l);
        if (typeof o?.type !== "string") return v("bad-ndjson", "a line without a type");
      } catch (e) {
        return v("bad-ndjson", e instanceof Error ? e.message : String(e));
      }
    }
  } else if (format === "csv") {
    const rows = csvRows(stdout);
    if (typeof rows === "string") return v("bad-csv", rows);
    const bad = rows.findIndex((r) => r !== rows[0]);
    if (bad >= 0) {
      return v("bad-csv", `row ${bad + 1} has ${rows[bad]} fields, the header ${rows[0]}`);
    }
  }
  return null;
}

/**
 * The `--max-tables` of every fuzzed command: a million tables run in well under the 2 s a
 * command may take on the 2-core machine (a scenario as big as the default limit allows, 8 Mi
 * tables, is a workload for `deno bench`, not a robustness finding).
 */
export const FUZZ_MAX_TABLES = 1_000_000;

/** Anything with the shape of the `cli` function of cli.ts. */
export type CliFn = typeof cli;

/** Runs one command on an input and judges it. */
export function runOne(args: string[], text: string, cliFn: CliFn = cli): Verdict | null {
  const t0 = performance.now();
  let r: CliResult | { thrown: unknown };
  try {
    r = cliFn(args, { read: () => text });
  } catch (e) {
    r = { thrown: e };
  }
  return judge(args, r, text, performance.now() - t0);
}

/**
 * Runs every command of a plan; the first finding, or null. A command that was slow is run once
 * more and only reported when it is slow again (a busy machine is not a finding).
 */
export function oracle(text: string, plan: Plan, cliFn: CliFn = cli): Verdict | null {
  for (const args of plan) {
    const f = runOne(args, text, cliFn);
    if (f?.kind === "slow" && Number.parseInt(f.message) < 2 * SLOW_MS) {
      const again = runOne(args, text, cliFn);
      if (again?.kind !== "slow") continue;
    }
    if (f) return f;
  }
  return null;
}

/**
 * The class of a finding, for grouping and for shrinking: its kind and its message with the
 * numbers, quoted text and positions left out (so a shrink cannot wander off to another bug).
 */
export function findingClass(f: Verdict): string {
  if (f.kind === "slow" || f.kind === "hang") return `${f.kind} ${f.args.join(" ")}`;
  const msg = f.message
    .replace(/"[^"]*"|'[^']*'/g, "S")
    .replace(/\$[\w.[\]]*?\[(\d+)\]/g, (m) => m.replace(/\[\d+\]/g, "[]"))
    .replace(/0x[0-9a-f]+|\d+/gi, "N");
  return `${f.kind} ${msg}`;
}

/**
 * The class of a finding on an input: {@link findingClass}, and for a slow command or a hang
 * (whose message says nothing) the expensive mutations that made the input, or its seed.
 */
export function inputClass(f: Verdict, input: Input): string {
  if (f.kind !== "slow" && f.kind !== "hang") return findingClass(f);
  const heavy = input.path.filter((p) => HEAVY.has(p));
  return `${f.kind} ${f.args[0]} [${heavy.length ? heavy.join(",") : input.seed}]`;
}

/** Findings that are known bugs of the current code, being fixed elsewhere. */
export const KNOWN_FINDINGS: readonly { re: RegExp; why: string }[] = [];

/** Why a finding class is known, or undefined. */
export function knownWhy(cls: string): string | undefined {
  return KNOWN_FINDINGS.find((k) => k.re.test(cls))?.why;
}

// ---------------------------------------------------------------------------------------------
// Shrinking

/**
 * Delta debugging: removes chunks of lines, then of characters (halving the chunk size each
 * time nothing more can go), while `fails` still holds, until `budgetMs` runs out. Then tries to
 * shorten runs of a repeated character (`((((((` to `((`) by halves. Returns the smallest input.
 */
export function shrinkText(
  text: string,
  fails: (t: string) => boolean,
  budgetMs = 5000,
): string {
  const deadline = performance.now() + budgetMs;
  let cur = text;
  const pass = (split: (t: string) => string[], join: string) => {
    let units = split(cur);
    let chunk = Math.max(1, units.length >> 1);
    while (chunk >= 1 && performance.now() < deadline) {
      let changed = false;
      for (let i = 0; i < units.length && performance.now() < deadline;) {
        const cand = [...units.slice(0, i), ...units.slice(i + chunk)];
        const t = cand.join(join);
        if (t !== cur && fails(t)) {
          units = cand;
          cur = t;
          changed = true;
        } else i += chunk;
      }
      if (!changed) chunk >>= 1;
    }
  };
  pass((t) => t.split("\n"), "\n");
  for (const [re, by] of [[/^[ \t]+/gm, ""], [/[ \t]{2,}/g, " "], [/#[^\n]*/g, ""]] as const) {
    const t = cur.replace(re, by);
    if (t !== cur && performance.now() < deadline && fails(t)) cur = t;
  }
  pass((t) => t.split("\n"), "\n");
  pass((t) => [...t], "");
  // runs of one character kept only because halving them (not removing one chunk) is needed
  for (let changed = true; changed && performance.now() < deadline;) {
    changed = false;
    for (const m of cur.matchAll(/(.)\1{3,}/gsu)) {
      const half = m[0].slice(0, Math.ceil(m[0].length / 2));
      const t = cur.slice(0, m.index) + half + cur.slice(m.index! + m[0].length);
      if (fails(t)) {
        cur = t;
        changed = true;
        break;
      }
    }
  }
  return cur;
}

/** Shrinks an input that shows a finding, keeping the finding's class and its command. */
export function shrinkFinding(
  text: string,
  f: Verdict,
  budgetMs = 5000,
  cliFn: CliFn = cli,
): string {
  const cls = findingClass(f);
  return shrinkText(text, (t) => {
    const g = runOne(f.args, t, cliFn);
    return g !== null && findingClass(g) === cls;
  }, budgetMs);
}

// ---------------------------------------------------------------------------------------------
// A run

/** One finding of a run: the input, the verdict, the shrunk input. */
export interface Finding {
  /** Class (see {@link findingClass}). */
  cls: string;
  /** The verdict on the original input. */
  verdict: Verdict;
  /** The input that showed it first. */
  input: Input;
  /** The shrunk input (undefined when not shrunk). */
  shrunk?: string;
  /** Why it is a known finding (undefined when it is not). */
  known?: string;
  /** How many inputs showed this class. */
  count: number;
}

/** Options of {@link fuzzRange}. */
export interface RangeOptions {
  /** The run seed. */
  seed: number;
  /** First input index. */
  from: number;
  /** Inputs to run. */
  count: number;
  /** Stop after this many milliseconds. */
  budgetMs?: number;
  /** Milliseconds to shrink each new finding class (0: no shrinking). */
  shrinkMs?: number;
  /** The CLI function (tests pass a fake). */
  cliFn?: CliFn;
  /** Called before each input (the watchdog of the task runs on it). */
  onInput?: (index: number) => void;
  /** Called with each new finding class (and later with the same class only as counts). */
  onFinding?: (f: Finding) => void;
  /**
   * Classes already found (by earlier calls): not shrunk nor passed to `onFinding` again, only
   * counted. New classes are added to it.
   */
  seen?: Set<string>;
}

/** Runs inputs `from .. from+count` and returns what they showed, one finding per class. */
export function fuzzRange(
  c: Corpus,
  opts: RangeOptions,
): { inputs: number; findings: Finding[] } {
  const found = new Map<string, Finding>();
  const deadline = performance.now() + (opts.budgetMs ?? Infinity);
  let inputs = 0;
  for (let i = opts.from; i < opts.from + opts.count && performance.now() < deadline; i++) {
    opts.onInput?.(i);
    const input = makeInput(c, opts.seed, i);
    inputs++;
    const v = oracle(input.text, input.plan, opts.cliFn);
    if (!v) continue;
    const cls = inputClass(v, input);
    const old = found.get(cls);
    if (old) {
      old.count++;
      continue;
    }
    const f: Finding = { cls, verdict: v, input, known: knownWhy(cls), count: 1 };
    found.set(cls, f);
    if (opts.seen?.has(cls)) continue;
    opts.seen?.add(cls);
    if ((opts.shrinkMs ?? 0) > 0 && v.kind !== "slow") {
      f.shrunk = shrinkFinding(input.text, v, opts.shrinkMs, opts.cliFn);
    }
    opts.onFinding?.(f);
  }
  return { inputs, findings: [...found.values()] };
}

/** A finding as text: class, reproduction, message, the shrunk input. */
export function describeFinding(f: Finding): string {
  const show = (t: string) => JSON.stringify(t.length > 2000 ? t.slice(0, 2000) + "…" : t);
  return [
    `${f.cls}${f.known ? "  (known: " + f.known + ")" : ""}`,
    `  ${f.count} input(s); first: --seed ${f.input.runSeed} --index ${f.input.index} ` +
    `(from ${f.input.seed}, mutations ${f.input.path.join(" > ")})`,
    `  command: ptlab ${f.verdict.args.join(" ")}`,
    `  message: ${f.verdict.message}`,
    `  input (${f.input.text.length} chars): ${show(f.input.text.slice(0, 200))}`,
    ...(f.shrunk !== undefined ? [`  shrunk (${f.shrunk.length} chars): ${show(f.shrunk)}`] : []),
  ].join("\n");
}
