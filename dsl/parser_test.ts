import assert from "node:assert/strict";
import { type ExprNode, parseScenario, type Scenario, type Statement } from "./mod.ts";

function parse(src: string): Scenario {
  const r = parseScenario(src, "t.ptlab");
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.scenario);
  return r.scenario;
}

function one(src: string): Statement {
  const s = parse(src);
  assert.equal(s.statements.length, 1);
  return s.statements[0];
}

/** An expression as text with full parentheses, to check precedence and associativity. */
function show(e: ExprNode): string {
  switch (e.kind) {
    case "num":
      return String(e.value);
    case "name":
      return e.name;
    case "mmMetric":
      return `${e.mm.name}.${e.metric}`;
    case "neg":
      return `(-${show(e.operand)})`;
    case "bin":
    case "cmp":
    case "logic":
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "call":
      return `${e.fn.name}(${e.args.map(show).join(", ")})`;
  }
}

function expr(src: string): string {
  const st = one(`let x = ${src}`);
  assert.equal(st.kind, "let");
  return show(st.value);
}

Deno.test("parser: the design's example parses into statements", () => {
  const src = `# Fault 2 MiB in, unmap it, and check nothing leaks.
arch x86_64-4level {
  kernel = 6.6
}

let base = 0x7f00_0000_0000
mm a
map a base size 2M
touch a base size 2M every 4K
expect a.vmpte == 12K          # one PTE, one PMD, one PUD table (a fresh mm)
snapshot "touched"
unmap a base size 2M
exit a
expect leaks == 0
expect nr_page_table_pages == 0
`;
  const s = parse(src);
  assert.deepEqual(s.statements.map((st) => st.kind), [
    "arch",
    "let",
    "mm",
    "map",
    "touch",
    "expect",
    "snapshot",
    "unmap",
    "exit",
    "expect",
    "expect",
  ]);
  assert.equal(s.arch?.name, "x86_64-4level");
  assert.deepEqual(s.arch?.options, { kernel: "6.6" });
  assert.deepEqual(s.arch?.nameSpan, { offset: src.indexOf("x86_64-4level"), length: 13 });
  assert.equal(s.file, "t.ptlab");
});

Deno.test("parser: arch options are separated by newlines or commas; values of every kind", () => {
  const st = one("arch i386-pae { kernel = 6.12, thp = on\n highpte = off ram = 16G }");
  assert.equal(st.kind, "arch");
  assert.deepEqual(
    st.options.map((o) => [o.key.name, o.value]),
    [["kernel", "6.12"], ["thp", "on"], ["highpte", "off"], ["ram", "16G"]],
  );
  assert.deepEqual(st.options[1].valueSpan, { offset: 37, length: 2 });
  assert.equal(one("arch generic").kind, "arch");
});

Deno.test("parser: touch with and without size and step", () => {
  const t1 = one("touch a 0x1000");
  assert.ok(t1.kind === "touch" && !t1.size && !t1.step);
  const t2 = one("touch a 0x1000 size 8K");
  assert.ok(t2.kind === "touch" && t2.size && !t2.step && show(t2.size) === "8192");
  const t3 = one("touch a 0x1000 every 8K");
  assert.ok(t3.kind === "touch" && !t3.size && t3.step && show(t3.step) === "8192");
  const t4 = one("touch a 0x1000 size 2M every 4K");
  assert.ok(t4.kind === "touch" && t4.size && t4.step);
  assert.equal(show(t4.size), "2097152");
  assert.equal(show(t4.step), "4096");
});

Deno.test("parser: every statement kind", () => {
  const s = parse(`cpus 4
mm a
map a 0 size 4K
unmap a 0 size 4K
madvise a dontneed 0 size 4K
fork a as b
run a on 0..4
run b on 1, 3
run b on 2
exit b
snapshot "x y"
expect a.tables.pte * 2 >= 1
repeat i in 0 .. 3 { repeat j in 0..2 { mm c exit c } }
`);
  const st = s.statements;
  assert.deepEqual(st.map((x) => x.kind), [
    "cpus",
    "mm",
    "map",
    "unmap",
    "madvise",
    "fork",
    "run",
    "run",
    "run",
    "exit",
    "snapshot",
    "expect",
    "repeat",
  ]);
  const [, , , , madvise, fork, r1, r2, r3, , snap, exp, rep] = st;
  assert.ok(madvise.kind === "madvise" && madvise.advice.name === "dontneed");
  assert.ok(fork.kind === "fork" && fork.mm.name === "a" && fork.child.name === "b");
  assert.ok(r1.kind === "run" && r1.cpus.kind === "range");
  assert.ok(r2.kind === "run" && r2.cpus.kind === "list" && r2.cpus.items.length === 2);
  assert.ok(r3.kind === "run" && r3.cpus.kind === "list" && r3.cpus.items.length === 1);
  assert.ok(snap.kind === "snapshot" && snap.label === "x y");
  assert.ok(exp.kind === "expect");
  assert.equal(exp.cmp, ">=");
  assert.equal(exp.text, "a.tables.pte * 2 >= 1");
  assert.equal(show(exp.left), "(a.tables.pte * 2)");
  assert.ok(rep.kind === "repeat" && rep.variable.name === "i" && rep.body.length === 1);
  const inner = rep.body[0];
  assert.ok(inner.kind === "repeat" && inner.body.length === 2);
});

Deno.test("parser: precedence, associativity, unary minus, parentheses", () => {
  assert.equal(expr("1 + 2 * 3"), "(1 + (2 * 3))");
  assert.equal(expr("1 - 2 - 3"), "((1 - 2) - 3)");
  assert.equal(expr("8 / 4 / 2"), "((8 / 4) / 2)");
  assert.equal(expr("1 + 2 * 3 - 4 / 2 % 3"), "((1 + (2 * 3)) - ((4 / 2) % 3))");
  assert.equal(expr("-(1 + 2) * 3"), "((-(1 + 2)) * 3)");
  assert.equal(expr("--4K"), "(-(-4096))");
  assert.equal(expr("2 * -x"), "(2 * (-x))");
  assert.equal(expr("((base))"), "base");
  assert.equal(expr("a.vmpte - (a.rss + 1) * 2"), "(a.vmpte - ((a.rss + 1) * 2))");
  assert.equal(expr("x * (y + (z - 1)) % 7"), "((x * (y + (z - 1))) % 7)");
});

Deno.test("parser: expression spans cover their text", () => {
  const src = "let x = -(a + 1) * b.tables.pmd";
  const st = one(src);
  assert.ok(st.kind === "let");
  const v = st.value;
  assert.equal(src.slice(v.span.offset, v.span.offset + v.span.length), "-(a + 1) * b.tables.pmd");
  assert.ok(v.kind === "bin" && v.right.kind === "mmMetric");
  const m = v.right;
  assert.equal(
    src.slice(m.metricSpan.offset, m.metricSpan.offset + m.metricSpan.length),
    "tables.pmd",
  );
  assert.deepEqual(m.mm.span, { offset: src.indexOf("b."), length: 1 });
});

Deno.test("parser: newlines are not significant inside a statement", () => {
  const st = one("map a\n  0x1000\n  size\n  4K");
  assert.equal(st.kind, "map");
});

Deno.test("parser: syntax errors stop before the AST and are all reported", () => {
  const r = parseScenario("mm a\nmap a = 4K\nexpect 1 = 1\n", "e.ptlab");
  assert.equal(r.scenario, undefined);
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.col, d.kind, d.message]), [
    [2, 7, "syntax", "expected an address expression or 'size' but found '='"],
    [3, 10, "syntax", "expected a comparison (==, !=, <, <=, >, >=) but found '='"],
  ]);
});

Deno.test("parser: errors at the end of input point just after the last token", () => {
  const r = parseScenario("mm a\nrepeat i in 0..2 {\n  exit a   \n\n", "e.ptlab");
  assert.deepEqual(r.diagnostics.map((d) => [d.line, d.col, d.length, d.message]), [
    [3, 9, 1, "expected '}' but found end of input"],
  ]);
  const r2 = parseScenario("arch", "e.ptlab");
  assert.deepEqual(r2.diagnostics.map((d) => [d.line, d.col, d.message]), [
    [1, 5, "expected a configuration name but found end of input"],
  ]);
});

Deno.test("parser: an empty file is a valid empty scenario", () => {
  assert.deepEqual(parse("").statements, []);
  assert.deepEqual(parse("# nothing\n\n").statements, []);
});

Deno.test("parser: the parser is reusable after an error", () => {
  assert.equal(parseScenario("map", "e.ptlab").scenario, undefined);
  assert.equal(parse("mm a").statements.length, 1);
  assert.equal(parseScenario("mm", "e.ptlab").scenario, undefined);
  assert.equal(parse("mm b\nexit b").statements.length, 2);
});

/** A map's clauses as `kind[:value]`, in the order written. */
function clauses(st: Statement): string[] {
  assert.ok(st.kind === "map");
  return st.clauses.map((c) => {
    switch (c.kind) {
      case "shared":
        return "shared";
      case "file":
        return `file:${c.name.name}${c.name.index ? `[${show(c.name.index)}]` : ""}`;
      case "offset":
        return `offset:${show(c.value)}`;
      case "hugetlb":
        return c.value ? `hugetlb:${show(c.value)}` : "hugetlb";
      case "prot":
        return `prot:${c.value.name}`;
      case "as":
        return `as:${c.name.name}${c.name.index ? `[${show(c.name.index)}]` : ""}`;
    }
  });
}

Deno.test("parser: map without an address, hugetlb [SIZE], as NAME, mm NAME exec", () => {
  const noAddr = one("map p size 4M");
  assert.ok(noAddr.kind === "map" && noAddr.addr === undefined && show(noAddr.size) === "4194304");
  const withAddr = one("map p 0x1000 size 4K as a");
  assert.ok(withAddr.kind === "map" && withAddr.addr && show(withAddr.addr) === "4096");
  assert.deepEqual(clauses(withAddr), ["as:a"]);
  // every clause, in the order written; hugetlb's SIZE is an expression
  assert.deepEqual(
    clauses(one("map p[i] size 2M as b[i] prot read hugetlb 1G file f[i] offset i * 2M shared")),
    ["as:b[i]", "prot:read", "hugetlb:1073741824", "file:f[i]", "offset:(i * 2097152)", "shared"],
  );
  // hugetlb without a SIZE: a clause word, a statement or the end follows
  for (const tail of ["prot read", "as x", "shared", "file f", "offset 0"]) {
    const c = clauses(one(`map p size 2M hugetlb ${tail}`));
    assert.equal(c[0], "hugetlb", tail);
  }
  const s = parse("map p size 2M hugetlb\nfile f size 2M\nmap p size 2M hugetlb\ntouch p 0");
  assert.deepEqual(s.statements.map((x) => x.kind), ["map", "file", "map", "touch"]);
  assert.deepEqual(clauses(s.statements[0]), ["hugetlb"]);
  // a name that is not a clause word is the SIZE; parentheses make one of a clause word
  assert.deepEqual(clauses(one("map p size 2M hugetlb read")), ["hugetlb:read"]);
  assert.deepEqual(clauses(one("map p size 2M hugetlb (prot)")), ["hugetlb:prot"]);
  assert.deepEqual(clauses(one("map p size 2M hugetlb -1")), ["hugetlb:(-1)"]);
  // `hugetlb size 2M` before the size is an address named hugetlb (the compiler says more)
  const early = one("map p hugetlb size 2M");
  assert.ok(early.kind === "map" && early.addr && show(early.addr) === "hugetlb");
  // mm NAME exec; `exec` and `hugetlb` are names elsewhere, `p.hugetlb` a metric
  const ex = one("mm q[1] exec");
  assert.ok(ex.kind === "mm" && ex.exec && ex.name.name === "q");
  const plain = one("mm q");
  assert.ok(plain.kind === "mm" && plain.exec === undefined);
  assert.equal(expr("exec + hugetlb"), "(exec + hugetlb)");
  assert.equal(expr("p.hugetlb - p[1].hugetlb"), "(p.hugetlb - p.hugetlb)");
  const two = parse("mm p exec\nmm exec\nmm exec exec");
  assert.deepEqual(
    two.statements.map((x) => x.kind === "mm" ? `${x.name.name}${x.exec ? " exec" : ""}` : ""),
    ["p exec", "exec", "exec exec"],
  );
});

Deno.test("parser: what a map's syntax errors say", () => {
  const err = (src: string) =>
    parseScenario(src, "t.ptlab").diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
  assert.deepEqual(err("mm a\nmap a = 4K"), [
    "2:7: expected an address expression or 'size' but found '='",
  ]);
  assert.deepEqual(err("mm a\nmap a 0 size 4K as"), [
    "2:19: expected a name for the mapping's address but found end of input",
  ]);
  assert.deepEqual(err("mm a\nmap a size 4K as 1"), [
    "2:18: expected a name for the mapping's address but found '1'",
  ]);
});
