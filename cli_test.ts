// The ptlab command: exit statuses, formats, and the launcher end to end.
import { cli } from "./cli.ts";
import { parseReportDocument } from "./mod.ts";
import { assert, assertEquals, assertMatch } from "./testing/assert.ts";

const read = (files: Record<string, string>) => (p: string) => {
  if (p in files) return files[p];
  throw new Deno.errors.NotFound(p);
};

const GOOD = `mm a
map a 0x7f00_0000_0000 size 2M
touch a 0x7f00_0000_0000 size 2M
snapshot "touched"
expect a.vmpte == 12K
`;

Deno.test("run: exit 0 and a JSON document that validates", () => {
  const r = cli(["run", "s.ptlab", "--format", "json"], { read: read({ "s.ptlab": GOOD }) });
  assertEquals(r.code, 0);
  const doc = parseReportDocument(JSON.parse(r.stdout));
  assertEquals(doc.ok, true);
  assertEquals(doc.runs[0].arch, "x86_64-4level"); // the default configuration
  assertEquals(doc.runs[0].snapshots[0].mms.a.vmpte, 12288);
});

Deno.test("run: a failing expectation exits 1 and says which", () => {
  const src = GOOD.replace("12K", "8K");
  const r = cli(["run", "s.ptlab", "--format", "table"], { read: read({ "s.ptlab": src }) });
  assertEquals(r.code, 1);
  assertMatch(r.stdout, /FAILED line 5: expect a\.vmpte == 8K\s+\(left is 12288, right is 8192\)/);
});

Deno.test("run: an invalid scenario exits 2 with file:line:col and a caret", () => {
  const r = cli(["run", "bad.ptlab"], { read: read({ "bad.ptlab": "mm a\ntouch b 0x1000\n" }) });
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /^bad\.ptlab:2:7: /);
  assertMatch(r.stderr, /\n {6}\^/);
  assert(!/at .*\.ts:\d+/.test(r.stderr), "no stack trace");
});

Deno.test("bad arguments and missing files exit 2 without a stack trace", () => {
  assertEquals(cli(["run"]).code, 2);
  assertEquals(cli(["frobnicate"]).code, 2);
  assertEquals(cli(["run", "x.ptlab", "--bogus"]).code, 2);
  const r = cli(["run", "missing.ptlab"], { read: read({}) });
  assertEquals(r.code, 2);
  assertEquals(r.stderr, "ptlab: cannot read missing.ptlab: no such file\n");
  assertEquals(
    cli(["run", "s.ptlab", "--arch", "x86_65"], { read: read({ "s.ptlab": GOOD }) }).code,
    2,
  );
});

Deno.test("--arch runs once per configuration; table, ndjson and csv formats", () => {
  const files = read({ "s.ptlab": GOOD });
  const j = cli(["run", "s.ptlab", "--arch", "x86_64-4level,x86_64-5level", "--format", "json"], {
    read: files,
  });
  assertEquals(parseReportDocument(JSON.parse(j.stdout)).runs.map((r) => r.arch), [
    "x86_64-4level",
    "x86_64-5level",
  ]);
  const t = cli(["run", "s.ptlab", "--format", "table"], { read: files });
  assertMatch(t.stdout, /touched\s+4\s+12 KiB\s+1\/0\/1\/1\/1\s+2 MiB\s+2 pages/);
  const n = cli(["run", "s.ptlab", "--format", "ndjson"], { read: files });
  assert(n.stdout.trim().split("\n").every((l) => typeof JSON.parse(l).type === "string"));
  const c = cli(["run", "s.ptlab", "--format", "csv"], { read: files });
  assertMatch(c.stdout, /^arch,kernel,snapshot,line,mm,vmpte,pgd,p4d,pud,pmd,pte,rss,/);
  assertMatch(c.stdout, /\nx86_64-4level,6\.6,touched,4,a,12288,1,0,1,1,1,2097152,2,/);
});

Deno.test("injected failures show in every format: columns, events, ndjson lines", () => {
  // the PUD comes (pagetable_alloc in __pud_alloc_one, 6.6), the PMD does not: pmd_alloc_one
  // returns NULL and the fault VM_FAULT_OOM; VmPTE keeps the PUD
  const src = GOOD.replace("touch a", "inject fail pagetable_alloc at 2\ntouch a")
    .replace("expect a.vmpte == 12K", "expect ooms == 1\nexpect a.vmpte == 4K");
  const files = read({ "s.ptlab": src });
  const t = cli(["run", "s.ptlab", "--format", "table"], { read: files });
  assertEquals(t.code, 0, t.stdout);
  assertMatch(t.stdout, /IPIs\s+injected\s+OOMs\s+leaks/); // ENOMEM stays out: it is 0
  assertMatch(t.stdout, /\nevents: 2\n {2}line 4: injected-failure pagetable_alloc\n/);
  assertMatch(t.stdout, /\n {2}line 4: VM_FAULT_OOM a fault at 0x7f0000000000/);
  const doc = parseReportDocument(
    JSON.parse(cli(["run", "s.ptlab", "--format", "json"], { read: files }).stdout),
  );
  assertEquals(doc.runs[0].events.map((e) => [e.line, e.kind]), [
    [4, "injected-failure"],
    [4, "VM_FAULT_OOM"],
  ]);
  const n = cli(["run", "s.ptlab", "--format", "ndjson"], { read: files }).stdout.trim()
    .split("\n").map((l) => JSON.parse(l)).filter((l) => l.type === "event");
  assertEquals(n.map((e) => e.kind), ["injected-failure", "VM_FAULT_OOM"]);
  // a run without failures has neither the columns nor the list
  const clean = cli(["run", "s.ptlab", "--format", "table"], { read: read({ "s.ptlab": GOOD }) });
  assert(!/OOMs|events:/.test(clean.stdout), clean.stdout);
});

Deno.test("an arch's own allocation site: the other configurations are skipped, with the reason", () => {
  // crst_table_alloc is s390's (arch/s390/mm/pgalloc.c): the first one the touch needs is the
  // segment (PMD) table, so the fault fails on every s390 configuration
  const src = "mm a\nmap a 0x1000_0000 size 4K\ninject fail crst_table_alloc at 1\n" +
    "touch a 0x1000_0000\nexpect ooms == 1\n";
  const r = cli(["run", "s.ptlab", "--arch", "s390-3level,x86_64-4level", "--format", "json"], {
    read: read({ "s.ptlab": src }),
  });
  assertEquals(r.code, 0, r.stderr);
  const doc = parseReportDocument(JSON.parse(r.stdout));
  assertEquals(doc.runs.map((x) => x.arch), ["s390-3level"]);
  assertEquals(doc.skipped, [{
    arch: "x86_64-4level",
    reason: 'line 3: "crst_table_alloc" is an allocation site of s390, not of x86_64-4level',
  }]);
});

Deno.test("the launcher runs the quickstart and its JSON parses (./ptlab ... | jq .)", async () => {
  const root = new URL(".", import.meta.url).pathname;
  const out = await new Deno.Command(`${root}ptlab`, {
    args: ["run", "examples/quickstart.ptlab", "--format", "json"],
    cwd: root,
    env: { NO_COLOR: "1" },
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = parseReportDocument(JSON.parse(new TextDecoder().decode(out.stdout)));
  assertEquals(doc.ok, true);
});

Deno.test("every scenario in testdata/invalid exits 2 with its diagnostics on stderr", () => {
  const dir = new URL("./testdata/invalid/", import.meta.url);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".ptlab"));
  assert(names.length >= 25);
  for (const n of names) {
    const file = `testdata/invalid/${n}`;
    const r = cli(["run", file], {
      read: () => Deno.readTextFileSync(new URL(n, dir)),
    });
    assertEquals(r.code, 2, file);
    const expected = Deno.readTextFileSync(new URL(n.replace(/\.ptlab$/, ".expected"), dir))
      .split("\n").filter(Boolean);
    const firstLines = r.stderr.split("\n").filter((l) => l.startsWith(`${file}:`));
    assertEquals(firstLines, expected, file);
    assert(!/\n\s+at .*:\d+:\d+/.test(r.stderr), `${file}: no stack trace`);
  }
});
