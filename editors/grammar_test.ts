import { STATEMENT_KEYWORDS } from "../format/fmt.ts";
// The TextMate grammar: valid JSON, JS-compatible regexes, and a tiny TextMate-style tokenizer
// (patterns tried line by line, earliest match first, begin/end rules on a stack) that must give
// every comment, string, statement keyword and number of the examples the right scope.
import { assert, assertEquals } from "../testing/assert.ts";
import { CLAUSE_WORDS, KEYWORDS, tokenize } from "../format/fmt.ts";

interface Captures {
  [group: string]: { name?: string };
}

interface Rule {
  include?: string;
  match?: string;
  begin?: string;
  end?: string;
  name?: string;
  contentName?: string;
  captures?: Captures;
  beginCaptures?: Captures;
  endCaptures?: Captures;
  patterns?: Rule[];
  comment?: string;
}

interface Grammar {
  scopeName: string;
  fileTypes: string[];
  patterns: Rule[];
  repository: Record<string, Rule>;
}

const here = new URL("./", import.meta.url);
const grammarText = Deno.readTextFileSync(new URL("ptlab.tmLanguage.json", here));
const grammar: Grammar = JSON.parse(grammarText);

/** Statement keywords: those of dsl/tokens.ts and the ones being added. */
const STATEMENTS = STATEMENT_KEYWORDS;

const regexCache = new Map<string, RegExp>();
function re(source: string): RegExp {
  let r = regexCache.get(source);
  if (!r) {
    r = new RegExp(source, "dgu");
    regexCache.set(source, r);
  }
  return r;
}

/** Every regex of the grammar, with where it is. */
function allRegexes(): { where: string; source: string }[] {
  const out: { where: string; source: string }[] = [];
  const walk = (r: Rule, where: string) => {
    for (const k of ["match", "begin", "end"] as const) {
      if (r[k] !== undefined) out.push({ where: `${where}.${k}`, source: r[k]! });
    }
    r.patterns?.forEach((p, i) => walk(p, `${where}.patterns[${i}]`));
  };
  grammar.patterns.forEach((p, i) => walk(p, `patterns[${i}]`));
  for (const [k, r] of Object.entries(grammar.repository)) walk(r, `repository.${k}`);
  return out;
}

/** The leaf rules (match or begin/end) that a list of patterns stands for, includes resolved. */
function leaves(patterns: Rule[], seen = new Set<string>()): Rule[] {
  const out: Rule[] = [];
  for (const p of patterns) {
    if (p.include !== undefined) {
      const key = p.include === "$self" ? "$self" : p.include.slice(1);
      if (seen.has(key)) continue;
      const next = new Set(seen).add(key);
      const target = key === "$self" ? grammar.patterns : grammar.repository[key].patterns ??
        [grammar.repository[key]];
      out.push(...leaves(target, next));
    } else if (p.match !== undefined || p.begin !== undefined) out.push(p);
    else if (p.patterns) out.push(...leaves(p.patterns, seen));
  }
  return out;
}

interface Frame {
  rule: Rule;
  scopes: string[]; // the scopes of the rule's content
  outer: string[]; // the scopes of its begin and end (without contentName)
}

/**
 * The scopes of `src`, looked up by line and the first occurrence of a text on it (with an
 * offset into that text).
 */
function scopesAt(src: string): (line: number, text: string, offset?: number) => string[] {
  const s = tokenizeLines(src);
  return (line, text, offset = 0) => {
    const col = src.split("\n")[line - 1].indexOf(text);
    assert(col >= 0, text);
    return s[line - 1][col + offset];
  };
}

/** Scopes of every character of every line (a tiny subset of TextMate, enough for this grammar). */
function tokenizeLines(text: string): string[][][] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const result: string[][][] = [];
  const stack: Frame[] = [];
  for (const line of lines) {
    const scopes: string[][] = Array.from({ length: line.length }, () => []);
    const paint = (from: number, to: number, s: string[]) => {
      for (let i = from; i < to && i < line.length; i++) scopes[i] = [...s];
    };
    const paintCaptures = (m: RegExpExecArray, caps: Captures | undefined, base: string[]) => {
      if (!caps) return;
      const idx = m.indices!;
      for (const [g, c] of Object.entries(caps)) {
        const span = idx[Number(g)];
        if (!span || !c.name) continue;
        for (let i = span[0]; i < span[1] && i < line.length; i++) scopes[i] = [...base, c.name];
      }
    };
    let pos = 0, guard = 0;
    for (;;) {
      if (++guard > 10_000) throw new Error(`the tokenizer loops on: ${line}`);
      const top = stack.at(-1);
      const base = ["source.ptlab", ...(top ? top.scopes : [])];
      let end: RegExpExecArray | null = null;
      if (top) {
        const e = re(top.rule.end!);
        e.lastIndex = pos;
        end = e.exec(line);
      }
      let best: { m: RegExpExecArray; rule: Rule } | undefined;
      if (pos < line.length) {
        for (const rule of leaves(top ? top.rule.patterns ?? [] : grammar.patterns)) {
          const r = re(rule.match ?? rule.begin!);
          r.lastIndex = pos;
          const m = r.exec(line);
          if (m && (!best || m.index < best.m.index)) best = { m, rule };
        }
      }
      if (end && top && (!best || end.index <= best.m.index)) {
        paint(pos, end.index, base);
        const outer = ["source.ptlab", ...top.outer];
        paint(end.index, end.index + end[0].length, outer);
        paintCaptures(end, top.rule.endCaptures, outer);
        pos = end.index + end[0].length;
        stack.pop();
        continue;
      }
      if (!best) {
        paint(pos, line.length, base);
        break;
      }
      const { m, rule } = best;
      paint(pos, m.index, base);
      const named = rule.name ? [...base, rule.name] : base;
      paint(m.index, m.index + m[0].length, named);
      if (rule.match !== undefined) {
        paintCaptures(m, rule.captures, named);
        pos = m.index + Math.max(1, m[0].length);
      } else {
        paintCaptures(m, rule.beginCaptures, named);
        const outer = named.slice(1);
        stack.push({
          rule,
          outer,
          scopes: rule.contentName ? [...outer, rule.contentName] : outer,
        });
        pos = m.index + m[0].length;
      }
    }
    result.push(scopes);
  }
  return result;
}

function has(scopes: string[] | undefined, prefix: string): boolean {
  return (scopes ?? []).some((s) => s === prefix || s.startsWith(prefix + "."));
}

function corpus(dir: string): { name: string; text: string }[] {
  const url = new URL(`../${dir}`, here);
  return [...Deno.readDirSync(url)].filter((e) => e.name.endsWith(".ptlab")).map((e) => ({
    name: `${dir}${e.name}`,
    text: Deno.readTextFileSync(new URL(e.name, url)),
  })).sort((a, b) => a.name < b.name ? -1 : 1);
}

/** Checks the scopes of comments, strings, numbers and statement keywords; returns the count. */
function checkScopes(name: string, text: string): number {
  const scopes = tokenizeLines(text);
  const tok = tokenize(text);
  if (!tok.ok) throw new Error(`${name}: ${tok.error}`);
  let checked = 0;
  let lastLine = 0;
  for (const t of tok.tokens) {
    const first = t.line !== lastLine;
    lastLine = t.line;
    const at = (i: number) => scopes[t.line - 1][t.col - 1 + i];
    const where = `${name}:${t.line}:${t.col} ${t.text}`;
    if (t.kind === "comment" || t.kind === "string") {
      const want = t.kind === "comment" ? "comment" : "string";
      for (let i = 0; i < t.text.length; i++) {
        assert(has(at(i), want), `${where}: char ${i} is ${JSON.stringify(at(i))}, not ${want}`);
      }
      checked++;
    } else if (t.kind === "number") {
      assert(has(at(0), "constant.numeric"), `${where}: ${JSON.stringify(at(0))}`);
      checked++;
    } else if (t.kind === "word" && first && STATEMENTS.includes(t.text)) {
      for (let i = 0; i < t.text.length; i++) {
        assert(has(at(i), "keyword"), `${where}: ${JSON.stringify(at(i))}`);
      }
      checked++;
    }
  }
  return checked;
}

Deno.test("grammar: JSON with the scope, file type and every statement keyword", () => {
  assertEquals(grammar.scopeName, "source.ptlab");
  assertEquals(grammar.fileTypes, ["ptlab"]);
  for (const k of [...STATEMENTS, ...KEYWORDS, ...CLAUSE_WORDS]) {
    assert(grammarText.includes(k), `keyword ${k} missing`);
  }
});

Deno.test("grammar: every regex compiles as a JS RegExp and avoids Oniguruma-only syntax", () => {
  const all = allRegexes();
  assert(all.length > 20);
  for (const { where, source } of all) {
    new RegExp(source, "u"); // throws on a bad regex
    assert(!/\\[GAzZhH]|\(\?[imx-]+[:)]|[*+?}]\+/.test(source), `${where}: ${source}`);
  }
});

Deno.test("grammar: every include names a repository rule", () => {
  const walk = (r: Rule) => {
    if (r.include && r.include !== "$self") {
      assert(r.include.slice(1) in grammar.repository, r.include);
    }
    r.patterns?.forEach(walk);
  };
  grammar.patterns.forEach(walk);
  Object.values(grammar.repository).forEach(walk);
});

Deno.test("grammar: the examples' comments, strings, keywords and numbers get their scopes", () => {
  let n = 0;
  for (const { name, text } of corpus("examples/")) n += checkScopes(name, text);
  assert(n > 500, `only ${n} tokens checked`);
});

Deno.test("grammar: comments and strings of the invalid corpus", () => {
  for (const { name, text } of corpus("testdata/invalid/")) {
    if (!tokenize(text).ok) continue;
    const scopes = tokenizeLines(text);
    const tok = tokenize(text);
    if (!tok.ok) continue;
    for (const t of tok.tokens) {
      if (t.kind !== "comment" && t.kind !== "string") continue;
      const want = t.kind === "comment" ? "comment" : "string";
      assert(has(scopes[t.line - 1][t.col - 1], want), `${name}:${t.line}:${t.col}`);
    }
  }
});

Deno.test("grammar: the syntax being added", () => {
  const src = [
    'include "lib/common.ptlab"  # shared',
    "param n = 4",
    "arch x86_64-5level { kernel = 6.18 }",
    "run a on 0-3,8",
    "let x = (PAGE_SIZE << 3) >> 1",
    "let y = max(PMD_SIZE, PUD_SIZE / PTRS_PER_PTE)",
    'snapshot "a \\"quoted\\" {x + 1} label # not a comment"',
    "if x >= y and levels == 4 {",
    '  print "x is" x',
    "} else {",
    "  expect a.tables.pte == 0x7f_ff or a.vmpte < 16T",
    "}",
  ].join("\n");
  assert(checkScopes("sample", src) >= 10);
  const at = scopesAt(src);
  assert(has(at(1, "include"), "keyword.control"));
  assert(has(at(1, "#"), "comment.line"));
  assert(has(at(2, "param"), "keyword"));
  assert(has(at(2, "n"), "variable.other.definition"));
  assert(has(at(3, "x86_64-5level", 8), "entity.name.type.configuration"));
  assert(has(at(3, "kernel"), "variable"));
  assert(has(at(3, "6.18"), "constant.numeric.version"));
  assert(has(at(4, "-3"), "keyword.operator"));
  assert(has(at(5, "PAGE_SIZE"), "support.constant"));
  assert(has(at(5, "<<"), "keyword.operator.bitwise"));
  assert(has(at(6, "max"), "support.function"));
  assert(has(at(7, '\\"'), "constant.character.escape"));
  assert(has(at(7, "{x"), "meta.interpolation"));
  assert(has(at(7, "+ 1}"), "keyword.operator.arithmetic"));
  assert(has(at(7, "label"), "string.quoted.double"));
  assert(!has(at(7, "label"), "meta.interpolation"));
  assert(has(at(7, "# not"), "string"));
  assert(!has(at(7, "# not"), "comment"));
  assert(has(at(8, "and"), "keyword.operator.logical"));
  assert(has(at(8, "levels"), "support.constant"));
  assert(has(at(10, "else"), "keyword.control"));
  assert(has(at(11, "tables", 0), "support.variable.metric"));
  assert(has(at(11, "a.t"), "variable.other.process"));
  assert(has(at(11, "0x7f_ff"), "constant.numeric.hex"));
  assert(has(at(11, "T"), "keyword.other.unit"));
});

Deno.test("grammar: files, map clauses, read touches, indexed names, new metrics (issue 9)", () => {
  const src = [
    "file cache[i] size 64K",
    "map p[i] base size 16K shared file cache offset i * 4K prot read  # mapped",
    "touch p[i] base size 16K read",
    "expect p[i].tables.pte == 1 and c[0].rss_file > 0 and total_vmpte >= processes",
    'print "{p[i].vmas}"',
  ].join("\n");
  assert(checkScopes("sample", src) >= 6);
  const at = scopesAt(src);
  assert(has(at(1, "file"), "keyword.other.statement"));
  assert(has(at(1, "cache"), "entity.name.file"));
  assert(has(at(1, "["), "punctuation.section.brackets.begin"));
  assert(has(at(1, "i]"), "variable.other"));
  assert(has(at(1, "]"), "punctuation.section.brackets.end"));
  assert(has(at(2, "shared"), "keyword.other"));
  assert(has(at(2, "file"), "keyword"));
  assert(has(at(2, "cache"), "entity.name.file"));
  assert(has(at(2, "offset"), "keyword.other"));
  assert(has(at(2, "prot"), "keyword.other"));
  assert(has(at(2, "read"), "constant.language.protection"));
  assert(has(at(2, "# mapped"), "comment"));
  assert(has(at(3, "read"), "keyword.other"));
  assert(has(at(4, ".tables", 1), "support.variable.metric"));
  assert(has(at(4, "pte"), "support.variable.metric"));
  assert(has(at(4, "c[0]"), "variable.other"));
  assert(has(at(4, "rss_file"), "support.variable.metric"));
  assert(has(at(4, "total_vmpte"), "support.variable.metric"));
  assert(has(at(4, "processes"), "support.variable.metric"));
  assert(has(at(5, "vmas"), "support.variable.metric"));
  assert(has(at(5, "vmas"), "meta.interpolation"));
});

Deno.test("grammar: mprotect and the advice of madvise (issue 9)", () => {
  const src = [
    "mprotect p[i] base + 4K size 2 * PAGE_SIZE read  # ro",
    "madvise p[i] populate_write base size 4K",
    "madvise a collapse base size 2M",
    "repeat i in 0..2 { mprotect a i * 4K size 4K none }",
    "let free = 1",
    "mprotect a 0 size 4K write",
  ].join("\n");
  assert(checkScopes("sample", src) >= 6);
  const at = scopesAt(src);
  assert(has(at(1, "mprotect"), "keyword.other.statement"));
  assert(has(at(1, "p["), "variable.other"));
  assert(has(at(1, "["), "punctuation.section.brackets.begin"));
  assert(has(at(1, "size"), "keyword.other"));
  assert(has(at(1, "PAGE_SIZE"), "support.constant"));
  assert(has(at(1, "read"), "constant.language.protection"));
  assert(has(at(1, "# ro"), "comment"));
  assert(has(at(2, "madvise"), "keyword.other.statement"));
  assert(has(at(2, "]"), "punctuation.section.brackets.end"));
  assert(has(at(2, "populate_write"), "keyword.other.advice"));
  assert(has(at(2, "base"), "variable.other"));
  assert(has(at(2, "size"), "keyword.other"));
  assert(has(at(3, "collapse"), "keyword.other.advice"));
  assert(has(at(3, "2M"), "constant.numeric"));
  assert(has(at(4, "mprotect"), "keyword.other.statement"));
  assert(has(at(4, "none"), "constant.language.protection"));
  assert(has(at(4, "}"), "punctuation.section.block.end"));
  assert(!has(at(5, "free"), "keyword"));
  assert(has(at(6, "write"), "constant.language.protection"));
});

Deno.test("grammar: mremap and its `to`", () => {
  const src = [
    "mremap p[i] base size 16K to base + 1M  # move",
    "mremap a base size 16K to base size 2 * PAGE_SIZE",
    "repeat i in 0..2 { mremap a i * 4K size 4K to i * 4K + 1M }",
    "let to = 1",
  ].join("\n");
  assert(checkScopes("sample", src) >= 4);
  const at = scopesAt(src);
  assert(has(at(1, "mremap"), "keyword.other.statement"));
  assert(has(at(1, "p["), "variable.other"));
  assert(has(at(1, "["), "punctuation.section.brackets.begin"));
  assert(has(at(1, "size"), "keyword.other"));
  assert(has(at(1, " to ", 1), "keyword.other"));
  assert(has(at(1, "1M"), "constant.numeric"));
  assert(has(at(1, "# move"), "comment"));
  assert(has(at(2, " to ", 1), "keyword.other"));
  assert(has(at(2, "PAGE_SIZE"), "support.constant"));
  assert(has(at(3, "mremap"), "keyword.other.statement"));
  assert(has(at(3, " to ", 1), "keyword.other"));
  assert(has(at(3, "}"), "punctuation.section.block.end"));
  assert(!has(at(4, "to"), "keyword.other.ptlab"));
});

Deno.test("grammar: hugetlb, address-less maps with `as`, mm exec", () => {
  const src = [
    "mm p exec  # exec'd",
    "map p size 4M as buf",
    "map p size 2M shared hugetlb prot read as shm",
    "repeat i in 0..2 { map p[i] size 2M hugetlb 2M file f offset i * 2M as b[i] }",
    "expect p.hugetlb == 2M and p[0].hugetlb == 0",
    "mm q[1] exec",
    "fork p as c",
    "let exec = 1",
  ].join("\n");
  assert(checkScopes("sample", src) >= 8);
  const at = scopesAt(src);
  assert(has(at(1, "mm"), "keyword.other.statement"));
  assert(has(at(1, "p"), "entity.name.process"));
  assert(has(at(1, "exec"), "keyword.other"));
  assert(has(at(1, "# exec"), "comment"));
  assert(has(at(2, "map"), "keyword.other.statement"));
  assert(has(at(2, "size"), "keyword.other"));
  assert(has(at(2, "as"), "keyword.other"));
  assert(has(at(2, "buf"), "variable.other.definition"));
  assert(has(at(3, "shared"), "keyword.other"));
  assert(has(at(3, "hugetlb"), "keyword.other"));
  assert(has(at(3, "read"), "constant.language.protection"));
  assert(has(at(3, "shm"), "variable.other.definition"));
  assert(has(at(4, "hugetlb"), "keyword.other"));
  assert(has(at(4, "2M file"), "constant.numeric"));
  assert(has(at(4, "file"), "keyword"));
  assert(has(at(4, "f offset", 0), "entity.name.file"));
  assert(has(at(4, "b[i]"), "variable.other.definition"));
  assert(has(at(4, "}"), "punctuation.section.block.end"));
  assert(has(at(5, "hugetlb"), "support.variable.metric"));
  assert(!has(at(5, "hugetlb"), "keyword"));
  assert(has(at(5, "].hugetlb", 2), "support.variable.metric"));
  assert(has(at(6, "q"), "entity.name.process"));
  assert(has(at(6, "["), "punctuation.section.brackets.begin"));
  assert(has(at(6, "exec"), "keyword.other"));
  assert(has(at(7, "c"), "entity.name.process"));
  assert(!has(at(8, "exec"), "keyword"));
});

Deno.test("the VS Code extension contributes the grammar and the language id", () => {
  const pkg = JSON.parse(Deno.readTextFileSync(new URL("vscode/package.json", here)));
  const lang = pkg.contributes.languages[0];
  assertEquals(lang.id, "ptlab");
  assert(lang.extensions.includes(".ptlab"));
  const g = pkg.contributes.grammars[0];
  assertEquals(g.language, "ptlab");
  assertEquals(g.scopeName, grammar.scopeName);
  assert(g.path.endsWith("ptlab.tmLanguage.json"), g.path);
  const conf = JSON.parse(Deno.readTextFileSync(new URL(`vscode/${lang.configuration}`, here)));
  assertEquals(conf.comments.lineComment, "#");
});

Deno.test("grammar: address-less maps, hugetlb SIZE, indexed `as`, names that are clause words elsewhere", () => {
  const src = [
    "map p size 4M as buf  # as a comment",
    "map p 0x1000 size 4K hugetlb 2M as a[i]",
    "touch p buf + 4K size a[1]",
    "map p size 2M hugetlb",
    "file f size 2M",
    "let hugetlb = exec + 1",
    "repeat i in 0..2 { mm p[i] exec }",
    "if 1 == 1 { map p size 4K shared prot read as x }",
    "mm exec",
    "map p[0] size 2M file f offset 0 hugetlb as y",
  ].join("\n");
  assert(checkScopes("sample", src) >= 12);
  const at = scopesAt(src);
  assert(has(at(1, "map"), "keyword.other.statement"));
  assert(has(at(1, "size"), "keyword.other"));
  assert(has(at(1, "4M"), "constant.numeric"));
  assert(has(at(1, "buf"), "variable.other.definition"));
  assert(has(at(1, "# as"), "comment"));
  assert(!has(at(1, "as a comment"), "keyword"));
  assert(has(at(2, "0x1000"), "constant.numeric"));
  assert(has(at(2, "hugetlb"), "keyword.other"));
  assert(has(at(2, "2M as"), "constant.numeric"));
  assert(has(at(2, "a[i]"), "variable.other.definition"));
  assert(has(at(3, "touch"), "keyword.other.statement"));
  assert(!has(at(3, "buf"), "variable.other.definition"));
  assert(!has(at(3, "buf"), "keyword"));
  assert(has(at(4, "hugetlb"), "keyword.other"));
  assert(has(at(5, "file"), "keyword"));
  assert(has(at(5, "f size", 0), "entity.name.file"));
  assert(!has(at(6, "hugetlb"), "keyword"));
  assert(!has(at(6, "exec"), "keyword"));
  assert(has(at(7, "exec"), "keyword.other"));
  assert(has(at(7, "}"), "punctuation.section.block.end"));
  assert(has(at(8, "shared"), "keyword.other"));
  assert(has(at(8, "x }", 0), "variable.other.definition"));
  assert(has(at(8, "}"), "punctuation.section.block.end"));
  assert(has(at(9, "exec"), "entity.name.process"));
  assert(!has(at(9, "exec"), "keyword"));
  assert(has(at(10, "offset"), "keyword.other"));
  assert(has(at(10, "hugetlb"), "keyword.other"));
  assert(has(at(10, "y"), "variable.other.definition"));
});
