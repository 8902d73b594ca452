// Regressions kept from `ptlab fuzz` findings (testdata/regressions/): each file says what was
// found and what must hold now.
import { MAX_TRACE, runScenario } from "./mod.ts";
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

// found by the mutation fuzzer (fuzz/mutate.ts): 22 s for two kernels
Deno.test("--trace stops at MAX_TRACE calls and says so (a terabyte traced took 22 s)", () => {
  const src = "mm a\nmap a 0x10000000000 size 1T\ntouch a 0x10000000000 size 1T every 2M\n";
  const r = runScenario(src, { trace: true }).runs[0];
  assertEquals(r.trace!.length, MAX_TRACE);
  assertEquals(r.traceTruncated, true);
  // the figures are the whole run's: one PTE table per 2M step
  assertEquals(r.final.mms.a.tables.pte, 524_288);
  const small = runScenario("mm a\nmap a 0x10000000 size 4K\ntouch a 0x10000000\n", {
    trace: true,
  });
  assertEquals(small.runs[0].traceTruncated, undefined);
});

// found by the mutation fuzzer: 5,000 snapshots a loop, 2 loops, on 57 configurations (34 s)
Deno.test("every run's results together are bounded by MAX_RESULTS", () => {
  const src = 'mm a\nrepeat i in 0..2000 {\n  snapshot "s"\n}\n';
  const all = runScenario(src, { file: "s.ptlab", arch: "all" });
  assertEquals(all.exitCode, 2);
  assertEquals(
    all.diagnostics.map((d) => d.message),
    [
      "the 57 runs would record more than 100000 snapshots, prints and expectations in total " +
      "(2000 in each): choose fewer configurations or kernels, or record less",
    ],
  );
  assertEquals(
    runScenario(src, { file: "s.ptlab", arch: "x86_64-4level,arm64-4k-48" }).exitCode,
    0,
  );
});

// found by ptlab fuzz: an mremap above s390's page-table root crashed (no crst_table_upgrade);
// a failed one left the old mapping, which a later map then overlapped
Deno.test("mremap asks the arch for the new range (s390 crst_table_upgrade); a failed one keeps the old", () => {
  const up = runScenario(
    "arch s390-4level\nmm a\nmap a 0x1000 size 0xa000\ntouch a 0x1000 size 0xa000\n" +
      "mremap a 0x1000 size 0xa000 to 0x7fdffffffffff000\nexit a\nexpect leaks == 0\n",
  );
  assertEquals([up.exitCode, up.runs[0].violations], [0, []]);
  const failed = runScenario(
    "arch s390-4level\nmm a\nmap a 0x1000 size 0x1000\ntouch a 0x1000\n" +
      "inject fail crst_table_alloc every 1\nmremap a 0x1000 size 0x1000 to 0x7fdffffffffff000\n" +
      "map a 0x1000 size 0x1000 shared\nexit a\n",
  );
  assertEquals(failed.runs[0].violations, []);
  assertEquals(failed.runs[0].events.map((e) => e.kind), ["injected-failure", "ENOMEM", "skipped"]);
});
