/**
 * CST to AST: a Chevrotain CST visitor that builds the {@link Statement} tree of `ast.ts`.
 * It runs only on a CST without syntax errors, so every mandatory child is present.
 *
 * A statement's CST node holds the children of the one alternative that matched; its first key
 * is the keyword, which picks the builder. An expression's CST node is flat: its tokens are put
 * back in source order and folded with `* / %` binding tighter than `+ -` (all left-associative),
 * unary minus tightest.
 *
 * @module
 */

import type { CstNode, IToken } from "chevrotain";
import type {
  ArchOption,
  BinaryOp,
  CompareOp,
  CpuList,
  ExprNode,
  IndexedName,
  MapClause,
  NameRef,
  Span,
  Statement,
  TextPart,
} from "./ast.ts";
import { parser } from "./parser.ts";
import * as T from "./tokens.ts";

// deno-lint-ignore no-explicit-any
type Ctx = Record<string, any[]>;

function tokSpan(t: IToken): Span {
  return { offset: t.startOffset, length: t.image.length };
}

function nameRef(t: IToken): NameRef {
  return { name: t.image, span: { offset: t.startOffset, length: t.image.length } };
}

function join(a: Span, b: Span): Span {
  return { offset: a.offset, length: b.offset + b.length - a.offset };
}

function num(t: IToken): ExprNode {
  const v = T.numberValue(t.image);
  return { kind: "num", value: typeof v === "bigint" ? v : 0n, span: tokSpan(t) };
}

function byOffset(a: IToken, b: IToken): number {
  return a.startOffset - b.startOffset;
}

function bin(op: BinaryOp, left: ExprNode, right: ExprNode, t: IToken): ExprNode {
  return { kind: "bin", op, left, right, opSpan: tokSpan(t), span: join(left.span, right.span) };
}

const BaseVisitor = parser.getBaseCstVisitorConstructor<void, unknown>();

/** Builds the AST. One instance, reused. */
class AstBuilder extends BaseVisitor {
  source = "";

  constructor() {
    super();
    this.validateVisitor();
  }

  scenario(ctx: Ctx): Statement[] {
    return this.statements(ctx.statement);
  }

  statements(list: CstNode[] | undefined): Statement[] {
    const out: Statement[] = [];
    if (list) { for (let i = 0; i < list.length; i++) out.push(this.statement(list[i].children)); }
    return out;
  }

  statement(ctx: Ctx): Statement {
    for (const k in ctx) return STATEMENTS[k](this, ctx);
    throw new Error("Empty statement");
  }

  indexedName(ctx: Ctx): IndexedName {
    const t: IToken = ctx.Ident[0];
    if (!ctx.RBracket) return nameRef(t);
    return {
      name: t.image,
      span: join(tokSpan(t), tokSpan(ctx.RBracket[0])),
      index: this.expr(ctx.expr[0].children),
    };
  }

  archOption(ctx: Ctx): ArchOption {
    const v: IToken = (ctx.Version ?? ctx.Num ?? ctx.On ?? ctx.Madvise ?? [ctx.Ident[1]])[0];
    return { key: nameRef(ctx.Ident[0]), value: v.image, valueSpan: tokSpan(v) };
  }

  expr(ctx: Ctx): ExprNode {
    // fast paths: a lone number or name
    if (
      ctx.AnyOp === undefined && ctx.Minus === undefined && ctx.LParen === undefined &&
      ctx.LBracket === undefined
    ) {
      if (ctx.Num !== undefined) return num(ctx.Num[0]);
      if (ctx.Ident !== undefined && ctx.Dot === undefined) {
        const t: IToken = ctx.Ident[0];
        return { kind: "name", name: t.image, span: tokSpan(t) };
      }
    }
    const toks: IToken[] = [];
    for (const k in ctx) if (k !== "expr") { for (const t of ctx[k]) toks.push(t); }
    toks.sort(byOffset);
    return new ExprReader(this, toks, ctx.expr ?? []).or();
  }

  text(span: Span): string {
    return this.source.slice(span.offset, span.offset + span.length);
  }

  /** The pieces of a string token, its interpolations parsed (`parse.ts` checked them). */
  parts(t: IToken, interpolate: boolean): TextPart[] {
    const out: TextPart[] = [];
    for (const p of T.stringParts(t.image, interpolate).parts) {
      if ("text" in p) out.push({ text: p.text });
      else {
        const e = parseExprText(p.expr, t.startOffset + p.offset);
        if (e.expr) out.push({ expr: e.expr });
      }
    }
    return out;
  }
}

const CMP_OPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">="]);

/** Offset of the first token of a CST node. */
function firstOffset(node: CstNode): number {
  let min = Infinity;
  for (const k in node.children) {
    const first = node.children[k][0] as IToken | CstNode;
    const o = "image" in first ? first.startOffset : firstOffset(first);
    if (o < min) min = o;
  }
  return min;
}

/**
 * Precedence climbing over the source-ordered tokens of one flat expression node, loosest first:
 * `or`, `and`, comparisons, `<< >>`, `+ -`, `* / %`, unary minus (all left-associative; the
 * compiler rejects a chained comparison).
 */
class ExprReader {
  #i = 0;
  #nested = 0;
  constructor(
    readonly b: AstBuilder,
    readonly toks: IToken[],
    readonly inner: CstNode[],
  ) {}

  #peek(): string | undefined {
    return this.#i < this.toks.length ? this.toks[this.#i].image : undefined;
  }

  or(): ExprNode {
    let left = this.and();
    while (this.#peek() === "or") {
      const t = this.toks[this.#i++];
      const right = this.and();
      left = {
        kind: "logic",
        op: "or",
        left,
        right,
        opSpan: tokSpan(t),
        span: join(left.span, right.span),
      };
    }
    return left;
  }

  and(): ExprNode {
    let left = this.cmp();
    while (this.#peek() === "and") {
      const t = this.toks[this.#i++];
      const right = this.cmp();
      left = {
        kind: "logic",
        op: "and",
        left,
        right,
        opSpan: tokSpan(t),
        span: join(left.span, right.span),
      };
    }
    return left;
  }

  cmp(): ExprNode {
    let left = this.shift();
    for (let op = this.#peek(); op !== undefined && CMP_OPS.has(op); op = this.#peek()) {
      const t = this.toks[this.#i++];
      const right = this.shift();
      left = {
        kind: "cmp",
        op: op as CompareOp,
        left,
        right,
        opSpan: tokSpan(t),
        span: join(left.span, right.span),
      };
    }
    return left;
  }

  shift(): ExprNode {
    let left = this.sum();
    for (let op = this.#peek(); op === "<<" || op === ">>"; op = this.#peek()) {
      const t = this.toks[this.#i++];
      left = bin(op, left, this.sum(), t);
    }
    return left;
  }

  sum(): ExprNode {
    let left = this.product();
    for (let op = this.#peek(); op === "+" || op === "-"; op = this.#peek()) {
      const t = this.toks[this.#i++];
      left = bin(op, left, this.product(), t);
    }
    return left;
  }

  product(): ExprNode {
    let left = this.unary();
    for (let op = this.#peek(); op === "*" || op === "/" || op === "%"; op = this.#peek()) {
      const t = this.toks[this.#i++];
      left = bin(op, left, this.unary(), t);
    }
    return left;
  }

  unary(): ExprNode {
    const t = this.toks[this.#i++];
    if (t.tokenType === T.Minus) {
      const operand = this.unary();
      return { kind: "neg", operand, span: join(tokSpan(t), operand.span) };
    }
    if (t.tokenType === T.Num) return num(t);
    if (t.tokenType === T.LParen) {
      const e = this.b.expr(this.inner[this.#nested++].children);
      const r = this.toks[this.#i++]; // ')'
      return { ...e, span: join(tokSpan(t), tokSpan(r)) };
    }
    // a name, maybe indexed (p[i]), maybe dotted (process metric), maybe called
    let index: ExprNode | undefined;
    let nameEnd = t;
    if (this.#i < this.toks.length && this.toks[this.#i].tokenType === T.LBracket) {
      index = this.b.expr(this.inner[this.#nested++].children);
      nameEnd = this.toks[this.#i + 1]; // ']'
      this.#i += 2;
    }
    const name: NameRef = index
      ? { name: t.image, span: join(tokSpan(t), tokSpan(nameEnd)) }
      : nameRef(t);
    let first: IToken | undefined, last = t;
    let metric = "";
    while (this.#i + 1 < this.toks.length && this.toks[this.#i].tokenType === T.Dot) {
      last = this.toks[this.#i + 1];
      first ??= last;
      metric += (metric ? "." : "") + last.image;
      this.#i += 2;
    }
    if (!first && this.#i < this.toks.length && this.toks[this.#i].tokenType === T.LParen) {
      const open = this.toks[this.#i++];
      const args: ExprNode[] = [];
      let close = this.toks[this.#i++];
      while (close.tokenType === T.Comma) close = this.toks[this.#i++];
      // the arguments are inner nodes between the parentheses
      while (
        this.#nested < this.inner.length &&
        firstOffset(this.inner[this.#nested]) > open.startOffset &&
        firstOffset(this.inner[this.#nested]) < close.startOffset
      ) args.push(this.b.expr(this.inner[this.#nested++].children));
      // an indexed function name (`min[0](...)`) is one the compiler does not know
      const fn = index ? { name: this.b.text(name.span), span: name.span } : name;
      return { kind: "call", fn, args, span: join(tokSpan(t), tokSpan(close)) };
    }
    if (!first) {
      return { kind: "name", name: t.image, span: name.span, ...(index ? { index } : {}) };
    }
    const metricSpan = join(tokSpan(first), tokSpan(last));
    return {
      kind: "mmMetric",
      mm: index ? { ...name, index } : name,
      metric,
      metricSpan,
      span: join(tokSpan(t), metricSpan),
    };
  }
}

type Build = (b: AstBuilder, ctx: Ctx) => Statement;

/** The CPU list of `run MM on LIST` and `idle LIST`: `A..B`, or items separated by commas. */
function cpuList(b: AstBuilder, ctx: Ctx): CpuList {
  const items: ExprNode[] = [];
  for (const e of ctx.expr) items.push(b.expr(e.children));
  return ctx.DotDot && items.length === 2
    ? { kind: "range", from: items[0], to: items[1] }
    : { kind: "list", items };
}

/** Statement builders by keyword token name. */
const STATEMENTS: Record<string, Build> = {
  Arch: (b, ctx) => {
    const options: ArchOption[] = [];
    for (const o of ctx.archOption ?? []) options.push(b.archOption(o.children));
    return {
      kind: "arch",
      keyword: tokSpan(ctx.Arch[0]),
      name: nameRef(ctx.ArchName[0]),
      options,
    };
  },
  Cpus: (b, ctx) => ({
    kind: "cpus",
    keyword: tokSpan(ctx.Cpus[0]),
    count: b.expr(ctx.expr[0].children),
  }),
  Let: (b, ctx) => ({
    kind: "let",
    keyword: tokSpan(ctx.Let[0]),
    name: nameRef(ctx.Ident[0]),
    value: b.expr(ctx.expr[0].children),
  }),
  Mm: (b, ctx) => ({
    kind: "mm",
    keyword: tokSpan(ctx.Mm[0]),
    name: b.indexedName(ctx.indexedName[0].children),
    ...(ctx.Exec ? { exec: tokSpan(ctx.Exec[0]) } : {}),
  }),
  File: (b, ctx) => ({
    kind: "file",
    keyword: tokSpan(ctx.File[0]),
    name: b.indexedName(ctx.indexedName[0].children),
    size: b.expr(ctx.expr[0].children),
  }),
  Map: (b, ctx) => {
    // the clauses' parts are listed by kind; their keywords put them back in order. Names:
    // the process, then the clauses' (`file NAME`, `as NAME`) in source order; expressions: the
    // address (when there is one), the size, then the clauses' (`offset OFF`, `hugetlb SIZE`)
    const names: CstNode[] = [...ctx.indexedName].sort((x, y) => firstOffset(x) - firstOffset(y));
    const exprs: CstNode[] = [...ctx.expr].sort((x, y) => firstOffset(x) - firstOffset(y));
    const sizeKw: IToken = ctx.Size[0];
    const hasAddr = exprs.length > 0 && firstOffset(exprs[0]) < sizeKw.startOffset;
    const size = exprs[hasAddr ? 1 : 0];
    const rest = exprs.slice(hasAddr ? 2 : 1);
    const restNames = names.slice(1);
    // the node right after a clause keyword, if it is one of `nodes`
    const after = (t: IToken, nodes: CstNode[]): CstNode | undefined => {
      const end = t.startOffset + t.image.length;
      let best: CstNode | undefined;
      for (const n of nodes) {
        const o = firstOffset(n);
        if (o >= end && (best === undefined || o < firstOffset(best))) best = n;
      }
      return best;
    };
    const keywords: IToken[] = [
      ...(ctx.Shared ?? []),
      ...(ctx.File ?? []),
      ...(ctx.Offset ?? []),
      ...(ctx.Hugetlb ?? []),
      ...(ctx.Prot ?? []),
      ...(ctx.As ?? []),
    ].sort(byOffset);
    const clauses: MapClause[] = [];
    let protIdent = 0;
    keywords.forEach((t, i) => {
      const next = keywords[i + 1]?.startOffset ?? Infinity;
      // a clause's own node lies between its keyword and the next clause's
      const own = (nodes: CstNode[]) => {
        const n = after(t, nodes);
        return n && firstOffset(n) < next ? n : undefined;
      };
      switch (t.tokenType) {
        case T.Shared:
          clauses.push({ kind: "shared", keyword: tokSpan(t) });
          break;
        case T.File:
          clauses.push({
            kind: "file",
            keyword: tokSpan(t),
            name: b.indexedName(own(restNames)!.children),
          });
          break;
        case T.As:
          clauses.push({
            kind: "as",
            keyword: tokSpan(t),
            name: b.indexedName(own(restNames)!.children),
          });
          break;
        case T.Offset:
          clauses.push({ kind: "offset", keyword: tokSpan(t), value: b.expr(own(rest)!.children) });
          break;
        case T.Hugetlb: {
          const n = own(rest);
          clauses.push({
            kind: "hugetlb",
            keyword: tokSpan(t),
            ...(n ? { value: b.expr(n.children) } : {}),
          });
          break;
        }
        case T.Prot:
          clauses.push({
            kind: "prot",
            keyword: tokSpan(t),
            value: nameRef(ctx.Ident[protIdent++]),
          });
          break;
      }
    });
    return {
      kind: "map",
      keyword: tokSpan(ctx.Map[0]),
      mm: b.indexedName(names[0].children),
      ...(hasAddr ? { addr: b.expr(exprs[0].children) } : {}),
      size: b.expr(size.children),
      clauses,
    };
  },
  Touch: (b, ctx) => {
    const e = ctx.expr;
    const st: Statement = {
      kind: "touch",
      keyword: tokSpan(ctx.Touch[0]),
      mm: b.indexedName(ctx.indexedName[0].children),
      addr: b.expr(e[0].children),
      ...(ctx.Size ? { size: b.expr(e[1].children) } : {}),
      ...(ctx.Every ? { step: b.expr(e[ctx.Size ? 2 : 1].children) } : {}),
      ...(ctx.Read ? { read: tokSpan(ctx.Read[0]) } : {}),
    };
    return st;
  },
  Unmap: (b, ctx) => ({
    kind: "unmap",
    keyword: tokSpan(ctx.Unmap[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
  }),
  Madvise: (b, ctx) => ({
    kind: "madvise",
    keyword: tokSpan(ctx.Madvise[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    advice: nameRef(ctx.Ident[0]),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
  }),
  Mprotect: (b, ctx) => ({
    kind: "mprotect",
    keyword: tokSpan(ctx.Mprotect[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
    prot: nameRef(ctx.Ident[0]),
  }),
  Mremap: (b, ctx) => ({
    kind: "mremap",
    keyword: tokSpan(ctx.Mremap[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
    newAddr: b.expr(ctx.expr[2].children),
    ...(ctx.expr[3] ? { newSize: b.expr(ctx.expr[3].children) } : {}),
  }),
  Fork: (b, ctx) => ({
    kind: "fork",
    keyword: tokSpan(ctx.Fork[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    child: b.indexedName(ctx.indexedName[1].children),
  }),
  Exit: (b, ctx) => ({
    kind: "exit",
    keyword: tokSpan(ctx.Exit[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
  }),
  Inject: (b, ctx) => ({
    kind: "inject",
    keyword: tokSpan(ctx.Inject[0]),
    verb: nameRef(ctx.Ident[0]),
    site: nameRef(ctx.Ident[1]),
    ...(ctx.Ident[2] || ctx.Every
      ? { mode: nameRef(ctx.Ident[2] ?? ctx.Every[0]), count: b.expr(ctx.expr[0].children) }
      : {}),
  }),
  Run: (b, ctx) => ({
    kind: "run",
    keyword: tokSpan(ctx.Run[0]),
    mm: b.indexedName(ctx.indexedName[0].children),
    cpus: cpuList(b, ctx),
  }),
  Idle: (b, ctx) => ({ kind: "idle", keyword: tokSpan(ctx.Idle[0]), cpus: cpuList(b, ctx) }),
  Snapshot: (b, ctx) => {
    const t: IToken = ctx.Str[0];
    const parts = b.parts(t, true);
    const plain = parts.length === 1 && "text" in parts[0];
    return {
      kind: "snapshot",
      keyword: tokSpan(ctx.Snapshot[0]),
      label: plain
        ? (parts[0] as { text: string }).text
        : b.parts(t, false).map((p) => "text" in p ? p.text : "").join(""),
      labelSpan: tokSpan(t),
      ...(plain ? {} : { parts }),
    };
  },
  Expect: (b, ctx) => {
    const cond = b.expr(ctx.expr[0].children);
    let first = cond;
    while (first.kind === "logic") first = first.left;
    const c = first.kind === "cmp" ? first : undefined;
    return {
      kind: "expect",
      keyword: tokSpan(ctx.Expect[0]),
      cond,
      left: c ? c.left : cond,
      cmp: c ? c.op : "==",
      cmpSpan: c ? c.opSpan : cond.span,
      right: c ? c.right : cond,
      text: b.text(cond.span),
    };
  },
  Include: (b, ctx) => {
    const t: IToken = ctx.Str[0];
    return {
      kind: "include",
      keyword: tokSpan(ctx.Include[0]),
      path: b.parts(t, false).map((p) => ("text" in p ? p.text : "")).join(""),
      pathSpan: tokSpan(t),
    };
  },
  Param: (b, ctx) => ({
    kind: "param",
    keyword: tokSpan(ctx.Param[0]),
    name: nameRef(ctx.Ident[0]),
    value: b.expr(ctx.expr[0].children),
  }),
  Print: (b, ctx) => {
    const items: (Statement & { kind: "print" })["items"][number][] = [];
    const nodes: (IToken | CstNode)[] = [...(ctx.Str ?? []), ...(ctx.expr ?? [])];
    const at = (n: IToken | CstNode) => "image" in n ? n.startOffset : firstOffset(n);
    nodes.sort((x, y) => at(x) - at(y));
    for (const n of nodes) {
      if ("image" in n) items.push({ kind: "text", parts: b.parts(n, true), span: tokSpan(n) });
      else items.push({ kind: "expr", expr: b.expr(n.children) });
    }
    return { kind: "print", keyword: tokSpan(ctx.Print[0]), items };
  },
  If: (b, ctx) => {
    const sts: CstNode[] = ctx.statement ?? [];
    const close: IToken = ctx.RCurly[0];
    const then = b.statements(sts.filter((n) => firstOffset(n) < close.startOffset));
    const rest = sts.filter((n) => firstOffset(n) > close.startOffset);
    return {
      kind: "if",
      keyword: tokSpan(ctx.If[0]),
      cond: b.expr(ctx.expr[0].children),
      then,
      ...(ctx.Else ? { else: b.statements(rest) } : {}),
    };
  },
  Repeat: (b, ctx) => ({
    kind: "repeat",
    keyword: tokSpan(ctx.Repeat[0]),
    variable: nameRef(ctx.Ident[0]),
    from: b.expr(ctx.expr[0].children),
    to: b.expr(ctx.expr[1].children),
    body: b.statements(ctx.statement),
  }),
};

const builder = new AstBuilder();

/**
 * Parses the text of one expression (an interpolation `{EXPR}` of a string) whose first character
 * is at `offset` of the source: the expression, or the offset, length and message of the first
 * syntax error.
 */
export function parseExprText(
  text: string,
  offset: number,
): { expr?: ExprNode; error?: { offset: number; length: number; message: string } } {
  const lexed = T.lexer.tokenize(text);
  if (lexed.errors.length) {
    const e = lexed.errors[0];
    return {
      error: {
        offset: offset + e.offset,
        length: e.length,
        message: `unexpected character '${text.slice(e.offset, e.offset + 1)}'`,
      },
    };
  }
  const toks = lexed.tokens.map((t) => ({ ...t, startOffset: t.startOffset + offset }));
  if (toks.length === 0) {
    return {
      error: {
        offset: offset - 1,
        length: 2,
        message: "empty '{}' in a string (write {{ for a literal brace)",
      },
    };
  }
  for (const t of toks) {
    if (t.tokenType !== T.Num) continue;
    const v = T.numberValue(t.image);
    if (typeof v === "string") {
      return { error: { offset: t.startOffset, length: t.image.length, message: v } };
    }
  }
  const saved = parser.input;
  parser.input = toks;
  const cst = parser.expr();
  const errs = parser.errors;
  parser.input = saved;
  if (errs.length) {
    const t = errs[0].token;
    const bad = t.tokenType.name === "EOF" || !(t.startOffset >= 0);
    return {
      error: {
        offset: bad ? offset + text.length : t.startOffset,
        length: bad ? 1 : t.image.length,
        message: bad || t.tokenType.name === "EOF"
          ? "expected the end of the interpolation '}'"
          : `unexpected ${"'" + t.image + "'"} in an interpolation`,
      },
    };
  }
  return { expr: builder.expr(cst.children) };
}

/** Builds the statements of a CST produced by `parser.scenario()` without errors. */
export function buildAst(cst: CstNode, source: string): Statement[] {
  builder.source = source;
  return builder.scenario(cst.children);
}
