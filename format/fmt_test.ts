import { assert, assertEquals } from "../testing/assert.ts";
import { checkFormatted, fmtFiles, formatScenario, tokenize } from "./fmt.ts";

type RunScenario = (source: string, opts: { file?: string }) => { exitCode: number };

// Loaded on demand, and not type-checked here: a half-edited dsl/ then fails only the tests that
// run scenarios.
async function runner(): Promise<RunScenario> {
  const mod = await import(new URL("../mod.ts", import.meta.url).href);
  return mod.runScenario as RunScenario;
}

const root = new URL("../", import.meta.url);

function corpus(dir: string): { name: string; text: string }[] {
  const url = new URL(dir, root);
  const out: { name: string; text: string }[] = [];
  for (const e of Deno.readDirSync(url)) {
    if (e.isFile && e.name.endsWith(".ptlab")) {
      out.push({ name: `${dir}${e.name}`, text: Deno.readTextFileSync(new URL(e.name, url)) });
    }
  }
  return out.sort((a, b) => a.name < b.name ? -1 : 1);
}

const examples = corpus("examples/");
const invalid = corpus("testdata/invalid/");

function fmt(source: string): string {
  const r = formatScenario(source);
  if (!r.ok) throw new Error(`${r.line}:${r.col}: ${r.error}`);
  return r.text;
}

function kinds(source: string): string[] {
  const r = tokenize(source);
  if (!r.ok) throw new Error(r.error);
  return r.tokens.map((t) => `${t.kind} ${t.text}`);
}

/** The tokens of each line, sorted (the order of a map's clauses may change). */
function lineKinds(source: string): string[] {
  const r = tokenize(source);
  if (!r.ok) throw new Error(r.error);
  const lines = new Map<number, string[]>();
  for (const t of r.tokens) {
    if (!lines.has(t.line)) lines.set(t.line, []);
    lines.get(t.line)!.push(`${t.kind} ${t.text}`);
  }
  return [...lines.values()].map((l) => l.sort().join(" | "));
}

Deno.test("the corpus is there", () => {
  assert(examples.length >= 10);
  assert(invalid.length >= 10);
});

Deno.test("idempotent, and the same tokens, on every example and invalid scenario", () => {
  let formatted = 0;
  for (const { name, text } of [...examples, ...invalid]) {
    const r = formatScenario(text);
    if (!r.ok) {
      // Only an unterminated string stops the formatter.
      assertEquals(r.error, "unterminated string", name);
      assert(/unterminated|syntax_multi/.test(name), name);
      continue;
    }
    formatted++;
    assertEquals(fmt(r.text), r.text, `${name}: not idempotent`);
    assertEquals(lineKinds(r.text), lineKinds(text), `${name}: tokens changed`);
    assert(checkFormatted(r.text), name);
    assert(r.text.endsWith("\n") && !r.text.endsWith("\n\n"), name);
    for (const line of r.text.split("\n")) assertEquals(line, line.trimEnd(), name);
  }
  assert(formatted >= examples.length);
});

Deno.test("formatting an example keeps its exit code", async () => {
  const runScenario = await runner();
  for (const { name, text } of examples) {
    const before = runScenario(text, { file: name }).exitCode;
    const after = runScenario(fmt(text), { file: name }).exitCode;
    assertEquals(after, before, name);
  }
});

Deno.test("formatting an invalid scenario keeps its exit code", async () => {
  const runScenario = await runner();
  for (const { name, text } of invalid) {
    const r = formatScenario(text);
    if (!r.ok) continue;
    assertEquals(
      runScenario(r.text, { file: name }).exitCode,
      runScenario(text, { file: name }).exitCode,
      name,
    );
  }
});

Deno.test("spacing, indentation and comments", () => {
  const why = "expect a.tables.pte   <=  min( 1,2 )   ";
  const before = [
    "\uFEFF",
    "# head   ",
    "arch   x86_64-4level{",
    "\tkernel=6.6",
    "   thp = on    # comment",
    "}",
    "",
    "",
    "",
    "let base=0x7f00_0000_0000+2M*( 3 -1 )",
    "mm a",
    "map a base size 4K   ",
    "repeat i in 0 .. 4{",
    "touch a base+i*4K",
    "    repeat j in 0..2 {",
    "run a on 0 , 2",
    "}",
    "}",
    'snapshot   "two  spaces # not a comment"#c',
    "expect a.vmpte==-12K",
    why + "# why",
    " ".repeat(why.length) + "# continued",
    "# not continued",
    "",
    "",
  ].join("\r\n");
  const after = [
    "# head",
    "arch x86_64-4level {",
    "  kernel = 6.6",
    "  thp = on  # comment",
    "}",
    "",
    "let base = 0x7f00_0000_0000 + 2M * (3 - 1)",
    "mm a",
    "map a base size 4K",
    "repeat i in 0..4 {",
    "  touch a base + i * 4K",
    "  repeat j in 0..2 {",
    "    run a on 0,2",
    "  }",
    "}",
    'snapshot "two  spaces # not a comment"  #c',
    "expect a.vmpte == -12K",
    "expect a.tables.pte <= min(1, 2)  # why",
    "                                  # continued",
    "# not continued",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assert(!checkFormatted(before));
  assert(checkFormatted(after));
});

Deno.test("the syntax being added", () => {
  const before = [
    'include   "lib/common.ptlab"',
    "param ncpu=4",
    "cpus ncpu",
    "mm a",
    "run a on 0-3,8",
    "run a on 0 - 3 , 8..ncpu",
    "let x = (PAGE_SIZE<<3)>>1",
    "let y=max( PMD_SIZE , PUD_SIZE/PTRS_PER_PTE )",
    'snapshot "a \\"quoted\\" {x + 1} label"',
    "if x>=y and levels==4{",
    'print "x is" x',
    "}else{",
    "  print   y",
    "}",
    "expect x > 0 or y != -1",
    "map a -4K size 4K",
  ].join("\n");
  const after = [
    'include "lib/common.ptlab"',
    "param ncpu = 4",
    "cpus ncpu",
    "mm a",
    "run a on 0-3,8",
    "run a on 0-3,8..ncpu",
    "let x = (PAGE_SIZE << 3) >> 1",
    "let y = max(PMD_SIZE, PUD_SIZE / PTRS_PER_PTE)",
    'snapshot "a \\"quoted\\" {x + 1} label"',
    "if x >= y and levels == 4 {",
    '  print "x is" x',
    "} else {",
    "  print y",
    "}",
    "expect x > 0 or y != -1",
    "map a -4K size 4K",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assertEquals(kinds(after), kinds(before));
});

Deno.test("files, map clauses, read touches and indexed names (issue 9)", () => {
  const before = [
    "file   cache [ i ]   size 64K",
    "mm p [ -1 ]",
    "map p[i]  0x1000 size 4K prot read file cache offset  -4K shared   # all four",
    "map a 0 size 4K prot none shared",
    "map a 0 size n  shared",
    "file g size 4K",
    "touch p[ i ] 0 size 4K every 8K read",
    "run p[i+1] on 0 - 3 , 8",
    "expect p[ i ].tables.pte == 1 and p[i] .vmpte > 0",
    "fork p [0] as c[ 0 ]",
    "repeat i in 0..3 { map a 0 size 4K prot read shared }",
  ].join("\n");
  const after = [
    "file cache[i] size 64K",
    "mm p[-1]",
    "map p[i] 0x1000 size 4K shared file cache offset -4K prot read  # all four",
    "map a 0 size 4K shared prot none",
    "map a 0 size n shared",
    "file g size 4K",
    "touch p[i] 0 size 4K every 8K read",
    "run p[i + 1] on 0-3,8",
    "expect p[i].tables.pte == 1 and p[i].vmpte > 0",
    "fork p[0] as c[0]",
    "repeat i in 0..3 { map a 0 size 4K shared prot read }",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assertEquals(lineKinds(after), lineKinds(before));
  // left as written: a repeated clause, an offset before its file, clauses over two lines
  for (
    const keep of [
      "map a 0 size 4K prot read prot none\n",
      "map a 0 size 4K offset 4K file f\n",
      "map a 0 size 4K prot read\n  shared\n",
    ]
  ) assertEquals(fmt(keep), keep.replace("\n  ", "\n"));
  // contextual words elsewhere are names: `offset -1` is a difference written as a sign
  assertEquals(fmt("let x = offset - 1"), "let x = offset - 1\n");
  assertEquals(fmt("map a 0 size 4K file f offset -1"), "map a 0 size 4K file f offset -1\n");
  assertEquals(
    fmt("map a 0 size 4K file f offset (1 + 2)"),
    "map a 0 size 4K file f offset (1 + 2)\n",
  );
  assertEquals(fmt("let x = offset (1)"), "let x = offset(1)\n");
});

Deno.test("mprotect and the advice of madvise (issue 9)", () => {
  const before = [
    "mprotect  p[ i ]   base+4K size 2 * PAGE_SIZE   read  # ro",
    "mprotect a 0 size 4K none",
    "madvise p[i]  populate_write -4K size 4K",
    "madvise a collapse (base) size 2M",
    "madvise a free   base size 4K",
    "repeat i in 0..2 { mprotect a i*4K size 4K write }",
  ].join("\n");
  const after = [
    "mprotect p[i] base + 4K size 2 * PAGE_SIZE read  # ro",
    "mprotect a 0 size 4K none",
    "madvise p[i] populate_write -4K size 4K",
    "madvise a collapse (base) size 2M",
    "madvise a free base size 4K",
    "repeat i in 0..2 { mprotect a i * 4K size 4K write }",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assertEquals(kinds(after), kinds(before));
  // the advice words are names elsewhere: a call, a difference
  assertEquals(fmt("let x = free (1) - collapse - 1"), "let x = free(1) - collapse - 1\n");
});

Deno.test("mremap and its `to`", () => {
  const before = [
    "mremap  p[ i ]   base size 16K   to base+1M  # move",
    "mremap a base size 16K to (base) size 2*PAGE_SIZE",
    "mremap a base size 4K to -4K",
    "repeat i in 0..2 { mremap a i*4K size 4K to i*4K+1M }",
  ].join("\n");
  const after = [
    "mremap p[i] base size 16K to base + 1M  # move",
    "mremap a base size 16K to (base) size 2 * PAGE_SIZE",
    "mremap a base size 4K to -4K",
    "repeat i in 0..2 { mremap a i * 4K size 4K to i * 4K + 1M }",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assertEquals(kinds(after), kinds(before));
  // `to` is a name elsewhere: a call, a difference
  assertEquals(fmt("let x = to (1) - to - 1"), "let x = to(1) - to - 1\n");
});

Deno.test("maps without an address, hugetlb [SIZE], as NAME, mm NAME exec", () => {
  const before = [
    "mm  p   exec",
    "mm q[ 1 ]exec",
    "map p  size 4M   as  buf",
    "map p size 2M prot read hugetlb  shared as shm  # shared hugetlb",
    "map p size 2M as x[ i ] hugetlb 2M file f offset i*2M",
    "map p  0x200000 size 2M  hugetlb(2M) prot none",
    "map p size 2M hugetlb -1",
    "map p size 2M hugetlb",
    "file f size 2M",
    "map p size 2M hugetlb read",
    "map p size 4K hugetlb (prot)",
    "repeat i in 0..2{map p[i] size 4K as a[i]}",
    "let exec = hugetlb-1",
    "let y = p.hugetlb -exec",
    "map p hugetlb size 2M",
  ].join("\n");
  const after = [
    "mm p exec",
    "mm q[1] exec",
    "map p size 4M as buf",
    "map p size 2M shared hugetlb prot read as shm  # shared hugetlb",
    "map p size 2M file f offset i * 2M hugetlb 2M as x[i]",
    "map p 0x200000 size 2M hugetlb (2M) prot none",
    "map p size 2M hugetlb -1",
    "map p size 2M hugetlb",
    "file f size 2M",
    "map p size 2M hugetlb read",
    "map p size 4K hugetlb (prot)",
    "repeat i in 0..2 { map p[i] size 4K as a[i] }",
    "let exec = hugetlb - 1",
    "let y = p.hugetlb -exec",
    "map p hugetlb size 2M",
    "",
  ].join("\n");
  assertEquals(fmt(before), after);
  assertEquals(fmt(after), after);
  assertEquals(lineKinds(after), lineKinds(before));
  // `hugetlb` and `exec` are keywords where map and mm have them (a `(` after them is no call),
  // names elsewhere
  assertEquals(fmt("let x = hugetlb (1) + exec (2)"), "let x = hugetlb(1) + exec(2)\n");
  assertEquals(fmt("map p size 4K hugetlb(1)"), "map p size 4K hugetlb (1)\n");
  // nor is one after the process a statement names (it was glued as if `p(1)` were a call)
  assertEquals(fmt("map p (1) size 4K"), "map p (1) size 4K\n");
  assertEquals(fmt("touch p(base)\nunmap p (1)size 4K"), "touch p (base)\nunmap p (1) size 4K\n");
  // left as written: a clause twice, clauses over two lines
  for (
    const keep of [
      "map a size 4K as x as y\n",
      "map a size 4K hugetlb hugetlb\n",
      "map a size 4K as x\n  shared\n",
    ]
  ) assertEquals(fmt(keep), keep.replace("\n  ", "\n"));
});

Deno.test("edge cases: empty, unbalanced braces, odd characters, a one-line block", () => {
  assertEquals(fmt(""), "");
  assertEquals(fmt("\n\n  \n"), "");
  assertEquals(fmt("}\n  mm a\n{\nmm b"), "}\nmm a\n{\n  mm b\n");
  assertEquals(fmt("mm a ; @ b"), "mm a ; @ b\n");
  assertEquals(fmt("arch x86_64-5level{kernel=6.18}"), "arch x86_64-5level { kernel = 6.18 }\n");
  assertEquals(fmt("let a = b-c"), "let a = b - c\n");
  assertEquals(fmt("let a = b -c"), "let a = b -c\n");
  assertEquals(fmt("let a = ( -1 )"), "let a = (-1)\n");
  assertEquals(fmt("expect 1 - -1 == 2"), "expect 1 - -1 == 2\n");
  assertEquals(fmt("let a = x . y"), "let a = x . y\n"); // not glued: it would lex as one name
  assertEquals(fmt("let v = 12Q"), "let v = 12Q\n");
});

Deno.test("an unterminated string is an error with its position", () => {
  const r = formatScenario('mm a\nsnapshot "oops\nmm b\n');
  assertEquals(r, { ok: false, error: "unterminated string", line: 2, col: 10 });
  const e = formatScenario('snapshot "ends in a backslash \\');
  assert(!e.ok);
  assert(formatScenario('snapshot "\\\\"').ok);
  assert(!checkFormatted('snapshot "x'));
});

Deno.test("fmtFiles: in place, --check and errors", () => {
  const files: Record<string, string> = {
    "a.ptlab": "mm   a\n",
    "b.ptlab": "mm b\n",
    "c.ptlab": 'snapshot "x\n',
  };
  const written: Record<string, string> = {};
  const read = (p: string) => {
    if (!(p in files)) throw new Error("No such file");
    return files[p];
  };
  const check = fmtFiles(["a.ptlab", "b.ptlab"], true, { read });
  assertEquals(check, { code: 1, stdout: "a.ptlab\n", stderr: "" });
  assertEquals(fmtFiles(["b.ptlab"], true, { read }).code, 0);
  const w = fmtFiles(["a.ptlab", "b.ptlab", "c.ptlab", "d.ptlab"], false, {
    read,
    write: (p, t) => written[p] = t,
  });
  assertEquals(written, { "a.ptlab": "mm a\n" });
  assertEquals(w.code, 2);
  assertEquals(
    w.stderr,
    "c.ptlab:1:10: unterminated string\nptlab: d.ptlab: No such file\n",
  );
});
