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
  NameRef,
  Span,
  Statement,
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

function bin(op: BinaryOp, left: ExprNode, right: ExprNode): ExprNode {
  return { kind: "bin", op, left, right, span: join(left.span, right.span) };
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

  archOption(ctx: Ctx): ArchOption {
    const v: IToken = (ctx.Version ?? ctx.Num ?? ctx.On ?? [ctx.Ident[1]])[0];
    return { key: nameRef(ctx.Ident[0]), value: v.image, valueSpan: tokSpan(v) };
  }

  expr(ctx: Ctx): ExprNode {
    // fast paths: a lone number or name
    if (ctx.BinOp === undefined && ctx.Minus === undefined) {
      if (ctx.Num !== undefined) return num(ctx.Num[0]);
      if (ctx.Ident !== undefined && ctx.Dot === undefined) {
        const t: IToken = ctx.Ident[0];
        return { kind: "name", name: t.image, span: tokSpan(t) };
      }
    }
    const toks: IToken[] = [];
    for (const k in ctx) if (k !== "expr") { for (const t of ctx[k]) toks.push(t); }
    toks.sort(byOffset);
    return new ExprReader(this, toks, ctx.expr ?? []).sum();
  }

  expectText(left: ExprNode, right: ExprNode): string {
    return this.source.slice(left.span.offset, right.span.offset + right.span.length);
  }
}

/** Precedence climbing over the source-ordered tokens of one flat expression node. */
class ExprReader {
  #i = 0;
  #nested = 0;
  constructor(
    readonly b: AstBuilder,
    readonly toks: IToken[],
    readonly inner: CstNode[],
  ) {}

  sum(): ExprNode {
    let left = this.product();
    while (this.#i < this.toks.length) {
      const op = this.toks[this.#i].image;
      if (op !== "+" && op !== "-") break;
      this.#i++;
      left = bin(op, left, this.product());
    }
    return left;
  }

  product(): ExprNode {
    let left = this.unary();
    while (this.#i < this.toks.length) {
      const op = this.toks[this.#i].image;
      if (op !== "*" && op !== "/" && op !== "%") break;
      this.#i++;
      left = bin(op, left, this.unary());
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
    // a name, maybe dotted (process metric)
    let first: IToken | undefined, last = t;
    let metric = "";
    while (this.#i + 1 < this.toks.length && this.toks[this.#i].tokenType === T.Dot) {
      last = this.toks[this.#i + 1];
      first ??= last;
      metric += (metric ? "." : "") + last.image;
      this.#i += 2;
    }
    if (!first) return { kind: "name", name: t.image, span: tokSpan(t) };
    const metricSpan = join(tokSpan(first), tokSpan(last));
    return {
      kind: "mmMetric",
      mm: nameRef(t),
      metric,
      metricSpan,
      span: join(tokSpan(t), metricSpan),
    };
  }
}

type Build = (b: AstBuilder, ctx: Ctx) => Statement;

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
  Mm: (_b, ctx) => ({ kind: "mm", keyword: tokSpan(ctx.Mm[0]), name: nameRef(ctx.Ident[0]) }),
  Map: (b, ctx) => ({
    kind: "map",
    keyword: tokSpan(ctx.Map[0]),
    mm: nameRef(ctx.Ident[0]),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
  }),
  Touch: (b, ctx) => {
    const e = ctx.expr;
    const st: Statement = {
      kind: "touch",
      keyword: tokSpan(ctx.Touch[0]),
      mm: nameRef(ctx.Ident[0]),
      addr: b.expr(e[0].children),
      ...(ctx.Size ? { size: b.expr(e[1].children) } : {}),
      ...(ctx.Every ? { step: b.expr(e[ctx.Size ? 2 : 1].children) } : {}),
    };
    return st;
  },
  Unmap: (b, ctx) => ({
    kind: "unmap",
    keyword: tokSpan(ctx.Unmap[0]),
    mm: nameRef(ctx.Ident[0]),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
  }),
  Madvise: (b, ctx) => ({
    kind: "madvise",
    keyword: tokSpan(ctx.Madvise[0]),
    mm: nameRef(ctx.Ident[0]),
    advice: nameRef(ctx.Ident[1]),
    addr: b.expr(ctx.expr[0].children),
    size: b.expr(ctx.expr[1].children),
  }),
  Fork: (_b, ctx) => ({
    kind: "fork",
    keyword: tokSpan(ctx.Fork[0]),
    mm: nameRef(ctx.Ident[0]),
    child: nameRef(ctx.Ident[1]),
  }),
  Exit: (_b, ctx) => ({ kind: "exit", keyword: tokSpan(ctx.Exit[0]), mm: nameRef(ctx.Ident[0]) }),
  Inject: (b, ctx) => ({
    kind: "inject",
    keyword: tokSpan(ctx.Inject[0]),
    verb: nameRef(ctx.Ident[0]),
    site: nameRef(ctx.Ident[1]),
    ...(ctx.Ident[2] || ctx.Every
      ? { mode: nameRef(ctx.Ident[2] ?? ctx.Every[0]), count: b.expr(ctx.expr[0].children) }
      : {}),
  }),
  Run: (b, ctx) => {
    const items: ExprNode[] = [];
    for (const e of ctx.expr) items.push(b.expr(e.children));
    const cpus: CpuList = ctx.DotDot && items.length === 2
      ? { kind: "range", from: items[0], to: items[1] }
      : { kind: "list", items };
    return { kind: "run", keyword: tokSpan(ctx.Run[0]), mm: nameRef(ctx.Ident[0]), cpus };
  },
  Snapshot: (_b, ctx) => {
    const t: IToken = ctx.Str[0];
    const s = t.image;
    return {
      kind: "snapshot",
      keyword: tokSpan(ctx.Snapshot[0]),
      label: s.length >= 2 && s.endsWith('"') ? s.slice(1, -1) : s.slice(1),
      labelSpan: tokSpan(t),
    };
  },
  Expect: (b, ctx) => {
    const left = b.expr(ctx.expr[0].children);
    const right = b.expr(ctx.expr[1].children);
    const c: IToken = ctx.CmpOp[0];
    return {
      kind: "expect",
      keyword: tokSpan(ctx.Expect[0]),
      left,
      cmp: c.image as CompareOp,
      cmpSpan: tokSpan(c),
      right,
      text: b.expectText(left, right),
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

/** Builds the statements of a CST produced by `parser.scenario()` without errors. */
export function buildAst(cst: CstNode, source: string): Statement[] {
  builder.source = source;
  return builder.scenario(cst.children);
}
