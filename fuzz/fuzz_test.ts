// The fuzzer: deterministic, finds nothing in a small fixed budget over every configuration,
// and shrinks a failing scenario to the few statements that fail.
import { configNames } from "../mod.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { generate, render } from "./gen.ts";
import { check, fuzz, resolver, shrink, signature } from "./mod.ts";

Deno.test("the same seed makes the same scenario", () => {
  const r = resolver("x86_64-4level");
  const opts = { resolve: r, thpAvailable: true, sites: ["pagetable_alloc"] };
  assertEquals(render(generate(42, opts), r), render(generate(42, opts), r));
  assert(render(generate(42, opts), r) !== render(generate(43, opts), r));
});

Deno.test("a small fixed budget over every configuration finds nothing", () => {
  const r = fuzz({ archs: configNames(), seed: 2026, runs: 3 });
  assertEquals(r.scenarios, configNames().length * 3);
  assertEquals(
    r.findings.map((f) => `${f.arch} ${f.kind}: ${f.message}\n${f.scenario}`),
    [],
  );
});

Deno.test("a failing scenario shrinks to the statements that fail", () => {
  // a generated scenario with a touch outside any mapping appended: invalid, a "diagnostic"
  const r = resolver("x86_64-4level");
  const sc = generate(7, { resolve: r, thpAvailable: true, sites: [] });
  const name = (sc.actions.find((a) => a.k === "mm") as { name: string }).name;
  sc.actions.splice(1, 0, {
    k: "touch",
    mm: name,
    addr: 0x7000_0000_0000n,
    size: 4096n,
    step: 4096n,
  });
  const f = check(sc, r);
  assertEquals(f?.kind, "diagnostic");
  const small = shrink(sc, r, signature(f!));
  // mm and the touch are all that is needed
  assertEquals(small.actions.map((a) => a.k), ["mm", "touch"]);
});

Deno.test("a kernel list (--kernel all) gives each scenario one kernel of it, in turn", () => {
  // the list used to go into the scenario as `kernel = 6.1,6.6,...`: a parse error per scenario
  const r = fuzz({ archs: ["x86_64-4level", "arm64-4k-48"], seed: 7, runs: 4, kernel: "6.1,6.18" });
  assertEquals(r.findings, []);
  assertEquals(r.scenarios, 8);
});
