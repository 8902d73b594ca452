/**
 * The grammar: one Chevrotain `CstParser`, created once and reused for every file.
 *
 * ```
 * scenario   := statement*
 * statement  := 'arch' ArchName ('{' (archOption ','?)* '}')?
 *             | 'cpus' expr
 *             | 'let' Ident '=' expr
 *             | 'mm' name 'exec'?
 *             | 'file' name 'size' expr
 *             | 'map' name expr? 'size' expr mapClause*
 *             | 'touch' name expr ('size' expr)? ('every' expr)? 'read'?
 *             | 'unmap' name expr 'size' expr
 *             | 'madvise' name Ident expr 'size' expr
 *             | 'mprotect' name expr 'size' expr Ident  (none, read or write)
 *             | 'mremap' name expr 'size' expr 'to' expr ('size' expr)?
 *             | 'fork' name 'as' name
 *             | 'exit' name
 *             | 'run' name 'on' expr (('..' expr) | (',' expr)*)
 *             | 'snapshot' Str
 *             | 'expect' expr                      (a condition: comparisons, and, or)
 *             | 'repeat' Ident 'in' expr '..' expr '{' statement* '}'
 *             | 'include' Str
 *             | 'param' Ident '=' expr
 *             | 'print' (Str | expr) (','? (Str | expr))*
 *             | 'if' expr '{' statement* '}' ('else' '{' statement* '}')?
 * mapClause  := 'shared' | 'file' name | 'offset' expr | 'hugetlb' expr? | 'prot' Ident
 *             | 'as' name                      (any order; the compiler checks repeats)
 * name       := Ident ('[' expr ']')?           (a process or file name: p, p[i])
 * archOption := Ident '=' (Version | Num | Ident | 'on')
 * expr       := '-'* atom (AnyOp '-'* atom)*      (AnyOp: + - * / % << >> == != < <= > >= and or)
 * atom       := Num | '(' expr ')'
 *             | Ident ('[' expr ']')? ('.' Ident)* ('(' (expr (',' expr)*)? ')')?
 * ```
 *
 * `shared`, `offset`, `prot`, `hugetlb`, `exec`, `read` and `to` are contextual: names everywhere
 * but where the grammar asks for them (`p.hugetlb` is a metric). The SIZE of `hugetlb` is there
 * when an expression follows that does not start with a clause word (`hugetlb prot read` has
 * none; write `hugetlb (prot)` for a variable named so). `file` is a keyword, and starts a
 * statement only when `file NAME` is followed by `size`; otherwise it is the `file NAME` clause of
 * the `map` before it (see {@link fileStatementAhead}).
 *
 * For speed the statements are alternatives of one rule (one CST node per statement, told apart
 * by their keyword) and an expression is one flat CST node (operands and operators); the visitor
 * restores the order of its tokens and applies precedence.
 *
 * @module
 */

import {
  CstParser,
  EOF,
  type IOrAlt,
  type IParserErrorMessageProvider,
  type IToken,
  tokenLabel,
  tokenMatcher,
  type TokenType,
} from "chevrotain";
import { ADVICE } from "../engine/types.ts";
import { didYouMean } from "./diagnostics.ts";
import * as T from "./tokens.ts";
import { STATEMENT_WORDS } from "./keywords.ts";

/** What the expression being parsed stands for, for messages ("an address expression"). */
let exprRole = "an";
/** Keyword of the statement being parsed, for messages. */
let stmtKind = "";

function found(t: IToken): string {
  return t.tokenType === EOF ? "end of input" : `'${t.image}'`;
}

/** The protection word of the `mprotect` being parsed (for the message after `prot read`). */
let protWord = "";

/** The `map` being parsed has an address (for the message when its `size` is missing). */
let mapAddr = false;

/** The `expect` being parsed has no comparison at its top level (yet). */
let expectOpen = false;

const CONDITION_OPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">=", "and", "or"]);

const COMPARISON_WANTED = "a comparison (==, !=, <, <=, >, >=)";

function noStatement(t: IToken): string {
  if (stmtKind === "expect" && expectOpen) {
    return `expected ${COMPARISON_WANTED} but found ${found(t)}`;
  }
  if (t.tokenType === T.RCurly) return `unexpected '}' (no block is open)`;
  if (stmtKind === "mprotect" && protWord === "prot" && PROT_WORDS.includes(t.image)) {
    // `mprotect a 0 size 4K prot read`, by analogy with map's clause
    return `expected a statement but found '${t.image}' (mprotect takes the protection ` +
      `without 'prot': mprotect MM ADDR size SIZE ${t.image})`;
  }
  const words = stmtKind === "map"
    ? [...STATEMENT_WORDS, ...MAP_CLAUSE_WORDS]
    : stmtKind === "touch"
    ? [...STATEMENT_WORDS, "read"]
    : stmtKind === "mm"
    ? [...STATEMENT_WORDS, "exec"]
    : STATEMENT_WORDS;
  const hint = tokenMatcher(t, T.Ident) ? didYouMean(t.image, words) : "";
  return `expected a statement but found ${found(t)}${hint}`;
}

/** The protections of `mprotect` (and of map's `prot`). */
const PROT_WORDS: readonly string[] = ["none", "read", "write"];

/** `dontneed, free, ... or populate_write`. */
const ADVICE_LIST = `${ADVICE.slice(0, -1).join(", ")} or ${ADVICE[ADVICE.length - 1]}`;

/** The words that begin a clause of `map` (for "did you mean"). */
const MAP_CLAUSE_WORDS: readonly string[] = ["shared", "file", "offset", "hugetlb", "prot", "as"];

/** Tokens that begin a clause of `map` (the SIZE of `hugetlb` does not start with one). */
const CLAUSE_STARTS: readonly TokenType[] = [T.Shared, T.File, T.Offset, T.Hugetlb, T.Prot, T.As];

/** Whether a token may begin an expression (a number, a name, `(` or a sign). */
function exprStart(t: IToken): boolean {
  const tt = t.tokenType;
  return tt === T.Num || tt === T.LParen || tt === T.Minus || tokenMatcher(t, T.Ident);
}

/** Whether a token may be in an index expression (a look-ahead scan stops at one that may not). */
function inExpression(t: IToken): boolean {
  const tt = t.tokenType;
  return tt === T.Num || tt === T.LParen || tt === T.RParen || tt === T.LBracket ||
    tt === T.RBracket || tt === T.Dot || tt === T.Comma || tokenMatcher(t, T.Ident) ||
    tokenMatcher(t, T.AnyOp);
}

/**
 * Whether the `file` token `la(1)` begins a `file NAME size SIZE` statement rather than being
 * the `file NAME` clause of the `map` before it: its name (and index) is followed by `size`.
 * `la(k)` is the k-th token from the `file` (undefined or EOF past the end). The scan over an
 * index stops at the first token no expression has, so it stays linear over a whole file.
 */
export function fileStatementAhead(la: (k: number) => IToken | undefined): boolean {
  const name = la(2);
  if (!name || !tokenMatcher(name, T.Ident)) return false;
  let k = 3;
  let t = la(k);
  if (t && t.tokenType === T.LBracket) {
    for (let depth = 0;; t = la(++k)) {
      if (!t || !inExpression(t)) return false;
      if (t.tokenType === T.LBracket) depth++;
      else if (t.tokenType === T.RBracket && --depth === 0) break;
    }
    t = la(++k);
  }
  return t !== undefined && t.tokenType === T.Size;
}

function firstLabels(paths: TokenType[][]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (p.length === 0) continue;
    const l = tokenLabel(p[0]);
    if (!out.includes(l)) out.push(l);
  }
  return out;
}

function expectedList(labels: string[]): string {
  return labels.length === 1 ? labels[0] : `one of ${labels.join(", ")}`;
}

function nameWanted(ruleName: string, previous: IToken): string {
  if (ruleName === "archOption") return "an option name";
  if (ruleName === "expr") return "a metric name after '.'";
  if (previous.tokenType === T.File) return "a file name";
  if (stmtKind === "map" && previous.tokenType === T.Prot) {
    return "a protection (none, read or write)";
  }
  if (stmtKind === "map" && previous.tokenType === T.As) {
    return "a name for the mapping's address";
  }
  switch (stmtKind) {
    case "let":
      return "a variable name";
    case "repeat":
      return "a loop variable name";
    case "madvise":
      return ruleName === "indexedName" ? "a process name" : `an advice (${ADVICE_LIST})`;
    case "mprotect":
      return ruleName === "indexedName" ? "a process name" : "a protection (none, read or write)";
    case "fork":
      return previous.tokenType === T.As ? "a name for the child process" : "a process name";
    case "inject":
      return previous.tokenType === T.Inject
        ? "'fail'"
        : previous.image === "fail"
        ? "an allocation site (a kernel function such as pagetable_alloc)"
        : "at, every or after";
    default:
      return "a process name";
  }
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    if (expected === EOF) return noStatement(actual);
    if (expected === T.Size && stmtKind === "map" && !mapAddr) {
      return `expected an address expression or 'size' but found ${found(actual)}`;
    }
    if (expected === T.RCurly && stmtKind === "expect" && expectOpen) {
      return `expected ${COMPARISON_WANTED} but found ${found(actual)}`;
    }
    if (expected === T.Ident) {
      return `expected ${nameWanted(ruleName, previous)} but found ${found(actual)}`;
    }
    return `expected ${tokenLabel(expected)} but found ${found(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return noStatement(firstRedundant);
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const t = actual[0];
    if (ruleName === "expr") return `expected ${exprRole} expression but found ${found(t)}`;
    if (ruleName === "statement") return noStatement(t);
    if (ruleName === "archOption") {
      return `expected an option value (a version, a name or a number) but found ${found(t)}`;
    }
    return `expected ${expectedList(firstLabels(expectedPathsPerAlt.flat()))} but found ${
      found(t)
    }`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const t = actual[0];
    if (ruleName === "expr") return `expected ${exprRole} expression but found ${found(t)}`;
    return `expected ${expectedList(firstLabels(expectedIterationPaths))} but found ${found(t)}`;
  },
};

type Alts = IOrAlt<unknown>[];

/** The scenario parser. Use the single {@link parser} instance. */
export class ScenarioParser extends CstParser {
  constructor() {
    super(T.allTokens, {
      maxLookahead: 1,
      recoveryEnabled: true,
      errorMessageProvider: messages,
    });
    this.performSelfAnalysis();
  }

  #stmtAlts?: Alts;
  #clauseAlts?: Alts;
  #optValueAlts?: Alts;
  #atomAlts0?: Alts;
  #atomAlts1?: Alts;

  /** The whole file. */
  scenario = this.RULE("scenario", () => {
    this.MANY(() => this.SUBRULE(this.statement));
  });

  /** One statement (every kind is an alternative of this rule). */
  statement = this.RULE("statement", () => {
    this.OR(
      this.#stmtAlts ??= [
        { ALT: () => this.#arch() },
        { ALT: () => this.#cpus() },
        { ALT: () => this.#let() },
        { ALT: () => this.#mm() },
        { ALT: () => this.#file() },
        { ALT: () => this.#map() },
        { ALT: () => this.#touch() },
        { ALT: () => this.#unmap() },
        { ALT: () => this.#madvise() },
        { ALT: () => this.#mprotect() },
        { ALT: () => this.#mremap() },
        { ALT: () => this.#fork() },
        { ALT: () => this.#exit() },
        { ALT: () => this.#run() },
        { ALT: () => this.#idle() },
        { ALT: () => this.#snapshot() },
        { ALT: () => this.#expect() },
        { ALT: () => this.#repeat() },
        { ALT: () => this.#inject() },
        { ALT: () => this.#include() },
        { ALT: () => this.#param() },
        { ALT: () => this.#print() },
        { ALT: () => this.#if() },
      ],
    );
  });

  // Each statement's body. Indices of consume/subrule/option/many are unique within the
  // `statement` rule, as Chevrotain requires.

  #arch(): void {
    stmtKind = "arch";
    this.consume(0, T.Arch);
    this.consume(0, T.ArchName);
    this.option(0, () => {
      this.consume(0, T.LCurly);
      this.many(0, () => {
        this.subrule(0, this.archOption);
        this.option(1, () => this.consume(0, T.Comma));
      });
      this.consume(0, T.RCurly);
    });
  }

  #cpus(): void {
    stmtKind = "cpus";
    this.consume(0, T.Cpus);
    exprRole = "a CPU count";
    this.subrule(0, this.expr);
  }

  #let(): void {
    stmtKind = "let";
    this.consume(0, T.Let);
    this.consume(1, T.Ident);
    this.consume(0, T.Equals);
    exprRole = "an";
    this.subrule(1, this.expr);
  }

  #mm(): void {
    stmtKind = "mm";
    this.consume(0, T.Mm);
    this.subrule(0, this.indexedName);
    this.option(10, () => this.consume(0, T.Exec));
  }

  #file(): void {
    stmtKind = "file";
    this.consume(0, T.File);
    this.subrule(9, this.indexedName);
    this.consume(4, T.Size);
    exprRole = "a size";
    this.subrule(23, this.expr);
  }

  #map(): void {
    stmtKind = "map";
    this.consume(0, T.MapKw);
    this.subrule(1, this.indexedName);
    mapAddr = false;
    exprRole = "an address";
    // no address: the kernel chooses one (`size` is a keyword, so no expression starts with it)
    this.option(11, () => {
      this.subrule(2, this.expr);
      mapAddr = true;
    });
    this.consume(0, T.Size);
    exprRole = "a size";
    this.subrule(3, this.expr);
    // shared | file NAME | offset OFF | hugetlb [SIZE] | prot P | as NAME, in any order (a
    // `file NAME size` after the map is the next statement)
    this.many(6, {
      GATE: () => this.LA(1).tokenType !== T.File || !fileStatementAhead((k) => this.LA(k)),
      DEF: () =>
        this.or(
          4,
          this.#clauseAlts ??= [
            { ALT: () => this.consume(0, T.Shared) },
            {
              ALT: () => {
                this.consume(1, T.File);
                this.subrule(10, this.indexedName);
              },
            },
            {
              ALT: () => {
                this.consume(0, T.Offset);
                exprRole = "an offset";
                this.subrule(24, this.expr);
              },
            },
            {
              ALT: () => {
                this.consume(0, T.Hugetlb);
                this.option(12, {
                  GATE: () => {
                    const t = this.LA(1);
                    return exprStart(t) && !CLAUSE_STARTS.includes(t.tokenType);
                  },
                  DEF: () => {
                    exprRole = "a hugetlb page size";
                    this.subrule(31, this.expr);
                  },
                });
              },
            },
            {
              ALT: () => {
                this.consume(0, T.Prot);
                this.consume(17, T.Ident);
              },
            },
            {
              ALT: () => {
                this.consume(1, T.As);
                this.subrule(13, this.indexedName);
              },
            },
          ],
        ),
    });
  }

  #touch(): void {
    stmtKind = "touch";
    this.consume(0, T.Touch);
    this.subrule(2, this.indexedName);
    exprRole = "an address";
    this.subrule(4, this.expr);
    this.option(2, () => {
      this.consume(1, T.Size);
      exprRole = "a size";
      this.subrule(5, this.expr);
    });
    this.option(3, () => {
      this.consume(0, T.Every);
      exprRole = "a step";
      this.subrule(6, this.expr);
    });
    this.option(8, () => this.consume(0, T.Read));
  }

  #unmap(): void {
    stmtKind = "unmap";
    this.consume(0, T.Unmap);
    this.subrule(3, this.indexedName);
    exprRole = "an address";
    this.subrule(7, this.expr);
    this.consume(2, T.Size);
    exprRole = "a size";
    this.subrule(8, this.expr);
  }

  #madvise(): void {
    stmtKind = "madvise";
    this.consume(0, T.Madvise);
    this.subrule(4, this.indexedName);
    this.consume(7, T.Ident);
    exprRole = "an address";
    this.subrule(9, this.expr);
    this.consume(3, T.Size);
    exprRole = "a size";
    this.subrule(10, this.expr);
  }

  #mprotect(): void {
    stmtKind = "mprotect";
    protWord = "";
    this.consume(0, T.Mprotect);
    this.subrule(11, this.indexedName);
    exprRole = "an address";
    this.subrule(25, this.expr);
    this.consume(5, T.Size);
    exprRole = "a size";
    this.subrule(26, this.expr);
    const w = this.consume(18, T.Ident); // none | read | write
    if (!this.RECORDING_PHASE) protWord = w.image;
  }

  #mremap(): void {
    stmtKind = "mremap";
    this.consume(0, T.Mremap);
    this.subrule(12, this.indexedName);
    exprRole = "an address";
    this.subrule(27, this.expr);
    this.consume(6, T.Size);
    exprRole = "a size";
    this.subrule(28, this.expr);
    this.consume(0, T.To);
    exprRole = "a new address";
    this.subrule(29, this.expr);
    this.option(9, () => {
      this.consume(7, T.Size);
      exprRole = "a new size";
      this.subrule(30, this.expr);
    });
  }

  #fork(): void {
    stmtKind = "fork";
    this.consume(0, T.Fork);
    this.subrule(5, this.indexedName);
    this.consume(0, T.As);
    this.subrule(6, this.indexedName);
  }

  #exit(): void {
    stmtKind = "exit";
    this.consume(0, T.Exit);
    this.subrule(7, this.indexedName);
  }

  #run(): void {
    stmtKind = "run";
    this.consume(0, T.Run);
    this.subrule(8, this.indexedName);
    this.consume(0, T.On);
    this.#cpuList(0);
  }

  /**
   * A CPU list (`A..B`, or items separated by commas); `k` keeps the DSL indexes of `run`'s (0)
   * and `idle`'s (1) apart, as Chevrotain wants them unique within the statement rule.
   */
  #cpuList(k: 0 | 1): void {
    exprRole = "a CPU";
    this.subrule(k ? 40 : 11, this.expr);
    this.option(k ? 20 : 4, () => {
      this.consume(k ? 20 : 0, T.DotDot);
      this.subrule(k ? 41 : 12, this.expr);
    });
    this.many(k ? 20 : 1, () => {
      this.consume(k ? 20 : 1, T.Comma);
      this.subrule(k ? 42 : 13, this.expr);
    });
  }

  #idle(): void {
    stmtKind = "idle";
    this.consume(0, T.Idle);
    this.#cpuList(1);
  }

  #snapshot(): void {
    stmtKind = "snapshot";
    this.consume(0, T.Snapshot);
    this.consume(0, T.Str);
  }

  #expect(): void {
    stmtKind = "expect";
    expectOpen = false;
    this.consume(0, T.Expect);
    exprRole = "a condition";
    const node = this.subrule(14, this.expr);
    if (!this.RECORDING_PHASE && node?.children) {
      const ops = (node.children.AnyOp ?? []) as IToken[];
      expectOpen = !ops.some((t) => CONDITION_OPS.has(t.image));
    }
  }

  #include(): void {
    stmtKind = "include";
    this.consume(0, T.Include);
    this.consume(1, T.Str);
  }

  #param(): void {
    stmtKind = "param";
    this.consume(0, T.Param);
    this.consume(16, T.Ident);
    this.consume(1, T.Equals);
    exprRole = "a parameter value";
    this.subrule(19, this.expr);
  }

  #print(): void {
    stmtKind = "print";
    this.consume(0, T.Print);
    exprRole = "a string or an";
    this.or(2, [
      { ALT: () => this.consume(2, T.Str) },
      { ALT: () => this.subrule(20, this.expr) },
    ]);
    this.many(3, () => {
      this.option(6, () => this.consume(2, T.Comma));
      this.or(3, [
        { ALT: () => this.consume(3, T.Str) },
        { ALT: () => this.subrule(21, this.expr) },
      ]);
    });
  }

  #if(): void {
    stmtKind = "if";
    this.consume(0, T.If);
    exprRole = "a condition";
    this.subrule(22, this.expr);
    this.consume(2, T.LCurly);
    this.many(4, () => this.subrule(1, this.statement));
    this.consume(2, T.RCurly);
    this.option(7, () => {
      this.consume(0, T.Else);
      this.consume(3, T.LCurly);
      this.many(5, () => this.subrule(2, this.statement));
      this.consume(3, T.RCurly);
    });
  }

  #inject(): void {
    stmtKind = "inject";
    this.consume(0, T.Inject);
    this.consume(13, T.Ident); // fail
    this.consume(14, T.Ident); // the allocation site
    this.option(5, () => {
      // at | every | after (`every` is a keyword of its own)
      this.or(1, [
        { ALT: () => this.consume(15, T.Ident) },
        { ALT: () => this.consume(1, T.Every) },
      ]);
      exprRole = "a call count";
      this.subrule(18, this.expr);
    });
  }

  #repeat(): void {
    stmtKind = "repeat";
    this.consume(0, T.Repeat);
    this.consume(12, T.Ident);
    this.consume(0, T.In);
    exprRole = "a loop start";
    this.subrule(16, this.expr);
    this.consume(1, T.DotDot);
    exprRole = "a loop end";
    this.subrule(17, this.expr);
    this.consume(1, T.LCurly);
    this.many(2, () => this.subrule(0, this.statement));
    this.consume(1, T.RCurly);
  }

  /** A process or file name: `p`, or `p[EXPR]` with a constant index. */
  indexedName = this.RULE("indexedName", () => {
    this.CONSUME(T.Ident);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      exprRole = "an index";
      this.SUBRULE(this.expr);
      this.CONSUME(T.RBracket);
    });
  });

  /** `KEY = VALUE` of an `arch` block. */
  archOption = this.RULE("archOption", () => {
    this.CONSUME(T.Ident);
    this.CONSUME(T.Equals);
    this.OR(
      this.#optValueAlts ??= [
        { ALT: () => this.CONSUME(T.Version) },
        { ALT: () => this.CONSUME(T.Num) },
        { ALT: () => this.CONSUME2(T.Ident) },
        { ALT: () => this.CONSUME(T.On) },
        // thp = madvise: the sysfs word is also a statement keyword
        { ALT: () => this.CONSUME(T.Madvise) },
      ],
    );
  });

  /** Operands and binary operators (comparisons, `and`, `or` too), flat; the visitor applies precedence. */
  expr = this.RULE("expr", () => {
    this.many(0, () => this.consume(0, T.Minus));
    this.or(0, this.#atomAlts0 ??= this.#atom(0));
    this.many(1, () => {
      this.consume(0, T.AnyOp);
      this.many(2, () => this.consume(1, T.Minus));
      this.or(1, this.#atomAlts1 ??= this.#atom(1));
    });
  });

  /** Alternatives of an operand: number, parenthesised expression, (indexed, dotted) name. */
  #atom(i: number): Alts {
    return [
      { ALT: () => this.consume(i, T.Num) },
      {
        ALT: () => {
          this.consume(i, T.LParen);
          this.subrule(i, this.expr);
          this.consume(i, T.RParen);
        },
      },
      {
        ALT: () => {
          this.consume(2 * i, T.Ident);
          // an indexed process name: p[i].vmpte
          this.option(4 + i, () => {
            this.consume(i, T.LBracket);
            const role = exprRole;
            exprRole = "an index";
            this.subrule(6 + i, this.expr);
            exprRole = role;
            this.consume(i, T.RBracket);
          });
          this.many(3 + i, () => {
            this.consume(i, T.Dot);
            this.consume(2 * i + 1, T.Ident);
          });
          // a function call: min(a, b), max(a, b, c)
          this.option(i, () => {
            this.consume(2 + i, T.LParen);
            this.option(2 + i, () => {
              this.subrule(2 + i, this.expr);
              this.many(5 + i, () => {
                this.consume(i, T.Comma);
                this.subrule(4 + i, this.expr);
              });
            });
            this.consume(2 + i, T.RParen);
          });
        },
      },
    ];
  }
}

/** The one parser instance. */
export const parser: ScenarioParser = new ScenarioParser();
