// Regressions kept from `ptlab fuzz` findings (testdata/regressions/): each file says what was
// found and what must hold now.
import { runScenario } from "./mod.ts";
import { assertEquals } from "./testing/assert.ts";

const file = "testdata/regressions/riscv-6.6-pmd-reused-before-flush.ptlab";

Deno.test("riscv 6.6 frees a PMD before the flush and the gather reuses it; 6.8+ does not", () => {
  const source = Deno.readTextFileSync(new URL(file, import.meta.url));
  const old = runScenario(source, { file });
  assertEquals(old.runs[0].violations.map((v) => [v.rule, v.line]), [["reused-before-flush", 19]]);
  assertEquals(old.exitCode, 1);
  for (const kernel of ["6.12", "6.18"]) {
    const fixed = runScenario(source, { file, kernel });
    assertEquals(fixed.runs[0].violations, [], kernel);
    assertEquals(fixed.exitCode, 0, kernel);
  }
});
