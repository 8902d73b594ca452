// Every file in examples/ runs on the configuration it names and all its expectations hold.
import { configNames, parseReportDocument, reportDocument, runScenario } from "./mod.ts";
import { assert, assertEquals } from "./testing/assert.ts";

const dir = new URL("./examples/", import.meta.url);
const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".ptlab"))
  .sort();

Deno.test("there are at least 8 examples, each with expectations", () => {
  assert(names.length >= 8);
  for (const n of names) {
    assert(/^\s*expect /m.test(Deno.readTextFileSync(new URL(n, dir))), `${n} has no expect line`);
  }
});

for (const name of names) {
  Deno.test(`example ${name} runs and its expectations hold`, () => {
    const file = `examples/${name}`;
    const out = runScenario(Deno.readTextFileSync(new URL(name, dir)), { file });
    assertEquals(out.diagnostics, []);
    assert(out.runs.length > 0);
    for (const r of out.runs) {
      const failed = r.expectations.filter((e) => !e.ok);
      assertEquals(failed, [], `${file} on ${r.arch} ${r.kernel}`);
      assertEquals(r.violations, [], `${file} on ${r.arch} ${r.kernel}`);
      assert(r.expectations.length > 0);
    }
    assertEquals(out.exitCode, 0);
    // the JSON document of every example validates against the published schema
    parseReportDocument(JSON.parse(JSON.stringify(reportDocument(out.runs, { file }))));
  });
}

Deno.test("every configuration runs every example, or says why its addresses do not fit", () => {
  for (const name of names) {
    const file = `examples/${name}`;
    const out = runScenario(Deno.readTextFileSync(new URL(name, dir)), { file, arch: "all" });
    assertEquals(out.diagnostics, [], file);
    const ran = out.runs.map((r) => r.arch);
    const skipped = out.skipped.map((s) => s.arch);
    assertEquals([...ran, ...skipped].sort(), configNames().sort(), file);
    for (const s of out.skipped) {
      assert(
        /outside the user address space|not aligned|multiple of the page size|is an allocation site of|needs transparent huge pages|has no (\S+ )?hugetlb pages|above the user address space ptlab models/
          .test(s.reason),
        `${file} ${s.arch}: ${s.reason}`,
      );
    }
    for (const r of out.runs) {
      // s390: an mm upgraded past 4 TiB with no VMA left below 4 TiB keeps its first region-3
      // table at exit (free_pgtables walks only VMA ranges, pgd_free frees the top table only:
      // arch/s390/include/asm/pgalloc.h), so check_mm complains, as the kernel would; a real
      // process always has its stack below 4 TiB (STACK_TOP_MAX < _REGION2_SIZE)
      const expected = r.arch === "s390-3level"
        ? ["leak", "pgtables-bytes-nonzero", "table-leak"]
        : [];
      for (const v of r.violations) {
        assert(expected.includes(v.rule), `${file} on ${r.arch}: [${v.rule}] ${v.message}`);
      }
    }
  }
});
