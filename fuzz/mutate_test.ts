// The mutation fuzzer (issue 8): its mutators are deterministic and change the text, its oracle
// flags what it must, its shrinker shrinks, and a fixed budget of mutated inputs finds nothing
// (except the findings listed in KNOWN_FINDINGS, which are being fixed elsewhere).
import { cli, type CliResult } from "../cli.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import {
  type CliFn,
  describeFinding,
  EXTREME_NUMBERS,
  FILE,
  findingClass,
  fuzzRange,
  judge,
  loadSeeds,
  makeCorpus,
  makeInput,
  MUTATORS,
  oracle,
  outputSchema,
  RAW_MUTATORS,
  Rng,
  shrinkFinding,
  shrinkText,
  tokenize,
  validateSchema,
} from "./mutate.ts";

const corpus = makeCorpus(loadSeeds());
const QUICKSTART = corpus.seeds.find((s) => s.name === "examples/quickstart.ptlab")!.text;
const JSON_RUN = ["run", FILE, "--format", "json"];

Deno.test("the seeds are every example and every invalid scenario", () => {
  const names = corpus.seeds.map((s) => s.name);
  assert(names.includes("examples/quickstart.ptlab"));
  assert(names.includes("testdata/invalid/division_by_zero.ptlab"));
  assert(names.every((n) => n.endsWith(".ptlab")));
  assert(corpus.words.includes("repeat") && corpus.words.includes("x86_64-4level"));
  assert(corpus.tokens.includes("0x7f00_0000_0000"));
});

Deno.test("the PRNG is deterministic per seed", () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xs = Array.from({ length: 100 }, () => a.u32());
  assertEquals(Array.from({ length: 100 }, () => b.u32()), xs);
  assert(Array.from({ length: 100 }, () => c.u32()).some((x, i) => x !== xs[i]));
  const r = new Rng(7);
  for (let i = 0; i < 1000; i++) {
    const n = r.int(10);
    assert(n >= 0 && n < 10 && Number.isInteger(n));
    const l = r.logRange(10, 5000);
    assert(l >= 10 && l <= 5000);
  }
});

Deno.test("an input is a pure function of the run seed and its index", () => {
  for (let i = 0; i < 200; i++) {
    const a = makeInput(corpus, 9, i), b = makeInput(corpus, 9, i);
    assertEquals(a, b);
  }
  const texts = new Set(Array.from({ length: 200 }, (_, i) => makeInput(corpus, 9, i).text));
  assert(texts.size > 190, `only ${texts.size} distinct inputs of 200`);
  assert(makeInput(corpus, 9, 5).text !== makeInput(corpus, 10, 5).text);
});

Deno.test("each mutator is deterministic and changes the text", () => {
  for (const [name, m] of Object.entries(MUTATORS)) {
    let unchangedRaw = 0, cases = 0;
    for (const seed of corpus.seeds) {
      for (const s of [1, 2, 3]) {
        const out = m(seed.text, new Rng(s), corpus);
        assert(out !== seed.text, `${name} left ${seed.name} unchanged (rng ${s})`);
        assertEquals(m(seed.text, new Rng(s), corpus), out, `${name} is not deterministic`);
        cases++;
        if (RAW_MUTATORS[name](seed.text, new Rng(s), corpus) === seed.text) unchangedRaw++;
      }
    }
    // the guard that forces a change is a last resort, not how mutators work
    assert(unchangedRaw <= cases / 10, `${name} changes only ${cases - unchangedRaw}/${cases}`);
  }
});

Deno.test("the mutators do what they say", () => {
  const r = () => new Rng(11);
  const t = QUICKSTART;
  const n = MUTATORS.extremeNumber(t, r(), corpus);
  assert(EXTREME_NUMBERS.some((x) => n.includes(x) && !t.includes(x)) || n.length !== t.length);
  assert(/\({10}/.test(MUTATORS.deepParens(t, r(), corpus)));
  assert(/(-.?){10}/.test(MUTATORS.unaryChain(t, r(), corpus)));
  assert(/repeat fz\d+ in 0 \.\. [12] \{\n *repeat fz/.test(MUTATORS.nestedRepeat(t, r(), corpus)));
  assert(MUTATORS.longLine(t, r(), corpus).split("\n").some((l) => l.length >= 1000));
  assert(MUTATORS.longSum(t, r(), corpus).split(/[-+*/%]/).length > t.split(/[-+*/%]/).length + 9);
  // splices take from another seed; token mutations keep to token boundaries
  const toks = tokenize(t).filter((x) => x.kind !== "space").length;
  const del = tokenize(MUTATORS.tokenDelete(t, r(), corpus)).filter((x) => x.kind !== "space");
  assert(del.length < toks && del.length >= toks - 4);
  // odd characters: across seeds every kind shows up
  const odd = corpus.seeds.map((s, i) => MUTATORS.oddChars(s.text, new Rng(i), corpus)).join("");
  // deno-lint-ignore no-control-regex
  assert(/\x00/.test(odd) && /[\ud800-\udbff](?![\udc00-\udfff])/.test(odd));
  const ends = corpus.seeds.map((s, i) => MUTATORS.lineEnds(s.text, new Rng(i), corpus)).join("");
  assert(ends.includes("\r\n") && ends.includes("\ufeff"));
});

Deno.test("the schema validator covers the schema and checks real output", () => {
  const schema = outputSchema();
  const out = cli(JSON_RUN, { read: () => QUICKSTART });
  const doc = JSON.parse(out.stdout);
  assertEquals(validateSchema(doc, schema), null);
  assertEquals(
    validateSchema({ ...doc, extra: 1 }, schema),
    "$: unexpected property extra",
  );
  const bad = structuredClone(doc);
  bad.runs[0].final.metrics.leaks = 0.5;
  assertEquals(
    validateSchema(bad, schema),
    "$.runs[0].final.metrics.leaks: expected integer, got number",
  );
  bad.runs[0].final.metrics.leaks = null; // what NaN and Infinity become
  assert(validateSchema(bad, schema)?.includes("expected integer, got null"));
  assertEquals(
    validateSchema(1, { type: "integer", patternProperties: {} }),
    "$: unsupported schema keyword patternProperties",
  );
});

Deno.test("the oracle flags throws, internal errors, stack traces and bad output", () => {
  const ok = (stdout: string, code = 0): CliResult => ({ code, stdout, stderr: "" });
  const err = (stderr: string, code = 2): CliResult => ({ code, stdout: "", stderr });
  const kind = (args: string[], r: CliResult | { thrown: unknown }, input = "mm a\n", ms = 1) =>
    judge(args, r, input, ms)?.kind ?? null;
  const good = cli(JSON_RUN, { read: () => QUICKSTART });
  assertEquals(kind(JSON_RUN, good, QUICKSTART), null);
  assertEquals(
    kind(JSON_RUN, { thrown: new RangeError("Maximum call stack size exceeded") }),
    "throw",
  );
  assertEquals(
    kind(JSON_RUN, err("ptlab: internal error: Division by zero\n", 3)),
    "internal-error",
  );
  assertEquals(
    kind(JSON_RUN, err("fuzz.ptlab:1:1: x\n    at parse (file:///a.ts:1:2)\n")),
    "stack-trace",
  );
  // a diagnostic that shows an input line looking like a stack frame is not a stack trace
  assertEquals(
    kind(JSON_RUN, err("fuzz.ptlab:2:5: x\n    at 3\n    ^\n"), "mm a\n    at 3\n"),
    null,
  );
  assertEquals(kind(JSON_RUN, err("fuzz.ptlab:1:1: x\n\rat a as\n"), "mm\rat a as\n"), null);
  assertEquals(kind(JSON_RUN, err("", 4)), "exit-code");
  assertEquals(kind(JSON_RUN, err("something went wrong\n")), "no-diagnostic");
  assertEquals(kind(JSON_RUN, err("fuzz.ptlab:9:1: x\n")), "diagnostic-position");
  assertEquals(kind(JSON_RUN, err("fuzz.ptlab:1:99: x\n")), "diagnostic-position");
  assertEquals(kind(JSON_RUN, err("--arch:0:0: unknown configuration\n")), null);
  assertEquals(kind(JSON_RUN, ok("{not json")), "bad-json");
  assertEquals(kind(JSON_RUN, ok('{"ok":true,"runs":"x","file":"fuzz.ptlab"}')), "schema");
  assertEquals(kind(JSON_RUN, { ...good, code: 1 }, QUICKSTART), "ok-mismatch");
  assertEquals(kind(JSON_RUN, good, QUICKSTART, 2500), "slow");
  assertEquals(
    kind(["run", FILE, "--format", "ndjson"], ok('{"type":"run"}\n{oops\n')),
    "bad-ndjson",
  );
  assertEquals(kind(["run", FILE, "--format", "csv"], ok('a,b\n1,"2,3"\n')), null);
  assertEquals(kind(["run", FILE, "--format", "csv"], ok("a,b\n1,2,3\n")), "bad-csv");
  assertEquals(kind(["run", FILE, "--format", "table"], ok("vmpte NaN\n")), "bad-output");
  // and through the CLI function: a fake one that throws, one that prints a stack
  const thrower: CliFn = () => {
    throw new Error("boom");
  };
  assertEquals(oracle("mm a\n", [JSON_RUN], thrower)?.kind, "throw");
  const tracer: CliFn = () => err("fuzz.ptlab:1:1: x\n    at f (file:///x.ts:3:4)\n");
  assertEquals(oracle("mm a\n", [JSON_RUN], tracer)?.kind, "stack-trace");
});

Deno.test("finding classes leave out numbers and names", () => {
  const a = findingClass({ kind: "throw", message: "Error: line 3: bad 'a' 0x10", args: [] });
  const b = findingClass({ kind: "throw", message: "Error: line 7: bad 'b' 0x20", args: [] });
  assertEquals(a, b);
  assertEquals(a, "throw Error: line N: bad S N");
});

Deno.test("the shrinker shrinks a synthetic finding to its minimal input", () => {
  // lines, then characters
  const text = QUICKSTART.replace('snapshot "touched"', 'snapshot "tou BUG ched"');
  assertEquals(shrinkText(text, (t) => t.includes("BUG")), "BUG");
  // two pieces far apart
  assertEquals(shrinkText(text, (t) => /map.*touch/s.test(t)), "maptouch");
  // a deep nesting halves down to the least depth that still fails
  const deep = "let x = " + "(".repeat(3000) + "1" + ")".repeat(3000) + "\n";
  assertEquals(shrinkText(deep, (t) => /\({100}/.test(t)), "(".repeat(100));
  // through a fake CLI that crashes on a word: the finding keeps its class
  const fake: CliFn = (args, env) => {
    const src = env!.read!(args[1]);
    if (src.includes("unmap")) throw new RangeError("Maximum call stack size exceeded");
    return cli(args, env);
  };
  const f = oracle(QUICKSTART, [JSON_RUN], fake)!;
  assertEquals(f.kind, "throw");
  assertEquals(shrinkFinding(QUICKSTART, f, 5000, fake), "unmap");
});

/** Inputs of the fixed budget below (about 5 ms each on a 2-CPU machine with the known findings, ~12 s). */
const BUDGET = 2500;

Deno.test(`${BUDGET} mutated inputs find nothing that is not known`, () => {
  const t0 = performance.now();
  const r = fuzzRange(corpus, { seed: 2026, from: 0, count: BUDGET, shrinkMs: 1000 });
  const secs = (performance.now() - t0) / 1000;
  assertEquals(r.inputs, BUDGET);
  const known = r.findings.filter((f) => f.known);
  if (known.length) {
    console.log(
      `${BUDGET} inputs in ${secs.toFixed(1)} s; known findings (being fixed elsewhere):\n` +
        known.map(describeFinding).join("\n"),
    );
  }
  // a timing is no verdict in the suite on a busy machine: `slow` is the task's to report
  // (deno task fuzz:mutate, with its watchdog); crashes, internal errors and bad output are not
  assertEquals(
    r.findings.filter((f) => !f.known && f.verdict.kind !== "slow").map(describeFinding),
    [],
  );
});
