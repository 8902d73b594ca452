// The fuzzer: deterministic, finds nothing in a small fixed budget over every configuration,
// and shrinks a failing scenario to the few statements that fail.
import { configNames } from "../mod.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { type Action, generate, oracleMmapBase, oracleUnmappedArea, render } from "./gen.ts";
import { check, fuzz, resolver, shrink, signature, without } from "./mod.ts";

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

Deno.test("the generator's own get_unmapped_area: the kernel's figures on x86_64-4level", () => {
  const M = 1n << 20n, G = 1n << 30n;
  const base = 0x7fff_f7ff_f000n;
  const cfg = (kernel: string) => resolver("x86_64-4level")({ kernel });
  assertEquals(oracleMmapBase(cfg("6.6")), base);
  assertEquals(oracleUnmappedArea(cfg("6.6"), [], 4n * M), 0x7fff_f7bf_f000n);
  assertEquals(oracleUnmappedArea(cfg("6.12"), [], 4n * M), 0x7fff_f7a0_0000n);
  assertEquals(oracleUnmappedArea(cfg("6.18"), [], 4n * M), 0x7fff_f7a0_0000n);
  // below the first; 6.12's padded search ends on a boundary: the padded area's top
  const first = [{ s: 0x7fff_f7a0_0000n, e: 0x7fff_f7e0_0000n }];
  assertEquals(oracleUnmappedArea(cfg("6.12"), first, 4n * M), 0x7fff_f760_0000n);
  assertEquals(oracleUnmappedArea(cfg("6.12"), [], 4n * M, { shared: true }), base - 4n * M);
  assertEquals(oracleUnmappedArea(cfg("6.12"), [], 3n * M), base - 3n * M);
  assertEquals(oracleUnmappedArea(cfg("6.6"), [], G, { hugetlb: G }), 0x7fff_8000_0000n);
  // a gap of one aligned huge page is less than length + align_mask
  const hole = [{ s: 0x7fff_f7c0_0000n, e: base }, { s: 0x7fff_f780_0000n, e: 0x7fff_f7a0_0000n }];
  assertEquals(
    oracleUnmappedArea(cfg("6.6"), hole, 2n * M, { hugetlb: 2n * M }),
    0x7fff_f760_0000n,
  );
  assertEquals(oracleUnmappedArea(cfg("6.6"), hole, 2n * M), 0x7fff_f7a0_0000n);
  // the stack guard gap below a VM_GROWSDOWN mapping
  const stack = [{ s: base - 4096n, e: base, growsDown: true }];
  assertEquals(oracleUnmappedArea(cfg("6.6"), stack, 4096n), base - 4096n - 256n * 4096n - 4096n);
  assertEquals(oracleUnmappedArea(cfg("6.6"), [], 1n << 47n), undefined);
});

Deno.test("generated scenarios map without an address, bind names, map hugetlb memory, exec", () => {
  const r = resolver("x86_64-4level");
  const texts = Array.from(
    { length: 40 },
    (_, i) => render(generate(1000 + i, { resolve: r, thpAvailable: true, sites: [] }), r),
  ).join("\n");
  for (
    const re of [
      /^map p\d+ size 0x[0-9a-f]+/m, // no address
      /^map p\d+ 0x[0-9a-f]+ size 0x[0-9a-f]+ shared/m,
      /^map .* hugetlb 0x40000000/m,
      /^map .* hugetlb( as a\d+)?$/m, // the default size
      /^map .* as a\d+$/m,
      /^expect a\d+ == 0x[0-9a-f]+$/m, // where the oracle says mmap puts it
      /^(touch|unmap|madvise \w+|mprotect) p\d+ a\d+ \+ 0x/m, // relative to the bound name
      /^mm p\d+ exec$/m,
      /^expect p\d+\.hugetlb == [1-9]/m,
      /^expect p\d+\.tables\.pte <= pte0_p\d+$/m,
    ]
  ) assert(re.test(texts), String(re));
});

Deno.test("shrinking drops what was written relative to a name whose map it dropped", () => {
  const actions: Action[] = [
    { k: "mm", name: "p0" },
    { k: "map", mm: "p0", addr: 0x1000n, size: 8192n, auto: true, as: "a0" },
    {
      k: "touch",
      mm: "p0",
      addr: 0x2000n,
      size: 4096n,
      step: 4096n,
      ref: { name: "a0", off: 4096n },
    },
    { k: "touch", mm: "p0", addr: 0x1000n, size: 4096n, step: 4096n },
    { k: "check" },
  ];
  assertEquals(without(actions, 1, 1).map((a) => a.k), ["mm", "touch", "check"]);
  assertEquals(without(actions, 0, 1).map((a) => a.k), ["check"]);
  assertEquals(without(actions, 3, 1).length, 4);
});
