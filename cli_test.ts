// The ptlab command: exit statuses, formats, and the launcher end to end.
import { cli } from "./cli.ts";
import { KERNEL_VERSIONS, parseReportDocument } from "./mod.ts";
import { PTLAB_VERSION } from "./report/schema.ts";
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
  assertMatch(t.stdout, /ipis\s+injected\s+ooms\s+leaks/); // enomems stays out: it is 0
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
  assert(!/ooms|events:/.test(clean.stdout), clean.stdout);
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

// ---- issue 8: the command line behaves like the tools its users know ----

const root = new URL(".", import.meta.url).pathname;
const ESC = String.fromCharCode(27);

/** Runs a shell pipeline from the repository root; its exit statuses and standard error. */
async function pipeline(script: string): Promise<{ statuses: string; stderr: string }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `${script}; echo "\${PIPESTATUS[@]}"`],
    cwd: root,
    env: { NO_COLOR: "1" },
    stderr: "piped",
  }).output();
  return {
    statuses: new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!,
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("a closed stdout ends the run quietly, as cat does (json, table, archs json)", async () => {
  // 3,000 snapshots: far more output than a pipe holds, so ptlab is still writing when head goes
  const big = await Deno.makeTempFile({ suffix: ".ptlab" });
  await Deno.writeTextFile(big, 'mm a\nrepeat i in 0..3000 {\n  snapshot "s"\n}\n');
  try {
    for (
      const cmd of [
        `./ptlab run ${big} --format json`,
        `./ptlab run ${big} --format table`,
        `./ptlab run ${big} --format csv`,
        `./ptlab archs --format json`,
      ]
    ) {
      const r = await pipeline(`${cmd} | head -c 100 > /dev/null`);
      assertEquals(r.stderr, "", cmd);
      assertEquals(r.statuses, "0 0", cmd);
    }
  } finally {
    await Deno.remove(big);
  }
});

Deno.test("--version names ptlab, Deno and the dependencies", () => {
  const r = cli(["--version"]);
  assertEquals(r.code, 0);
  assertMatch(r.stdout, /^ptlab \d+\.\d+\.\d+\ndeno \d+\.\d+\.\d+ \(v8 .*typescript .*\)\n/);
  assertMatch(r.stdout, /\nchevrotain 13\.\d+\.\d+\nzod 4\.\d+\.\d+\n$/);
  assertEquals(cli(["version"]).stdout, r.stdout);
});

Deno.test("help COMMAND and COMMAND --help: that command's options and examples", () => {
  const h = cli(["help", "run"]);
  assertEquals(h.code, 0);
  assertEquals(cli(["run", "--help"]).stdout, h.stdout);
  assertMatch(h.stdout, /^usage: ptlab run FILE\|- \[OPTIONS\]\n/);
  for (
    const o of ["--arch SEL", "--kernel V", "--format F", "--metrics LIST", "--set NAME=VALUE"]
  ) {
    assert(h.stdout.includes(o), o);
  }
  assert(h.stdout.includes("examples:\n  ptlab run examples/quickstart.ptlab\n"));
  assert(!h.stdout.includes("--seed"), "fuzz's options are not run's");
  assertMatch(cli(["help", "fuzz"]).stdout, /--seed S/);
  const all = cli(["help"]).stdout;
  for (const c of ["run", "check", "archs", "explain", "fuzz", "fmt", "schema", "completions"]) {
    assertMatch(all, new RegExp(`\\n  ${c} `));
  }
});

Deno.test("one error style: a line, a did-you-mean, where to look; no usage dump", () => {
  const cases: [string[], string][] = [
    [
      ["run", "s.ptlab", "--frmat", "json"],
      'run: unknown option --frmat (did you mean "--format"?)',
    ],
    [["rn", "s.ptlab"], 'unknown command "rn" (did you mean "run"?)'],
    [["run", "s.ptlab", "--arch", "x86_64-4levl"], '--arch: unknown configuration "x86_64-4levl"'],
    [["run", "s.ptlab", "--kernel", "6.7"], '--kernel: unknown kernel version "6.7"'],
    [["run", "s.ptlab", "--format", "jsn"], '--format jsn: unknown value (did you mean "json"?)'],
    [
      ["explain", "x86_64-4levl"],
      'unknown configuration "x86_64-4levl" (did you mean "x86_64-4level"?)',
    ],
    [["run", "s.ptlab", "--seed", "3"], "run: unknown option --seed (it is an option of fuzz)"],
    [["fuzz", "--runs", "5", "--time", "2"], "--runs and --time contradict each other: give one"],
    [["run", "s.ptlab", "--metrics", "flushs"], '--metrics: unknown metric "flushs"'],
    [["run", "s.ptlab", "--format", "json", "--format", "csv"], "--format is given twice"],
    [["completions", "tcsh"], 'unknown shell "tcsh"'],
  ];
  for (const [args, msg] of cases) {
    const r = cli(args, { read: read({ "s.ptlab": GOOD }) });
    assertEquals(r.code, 2, args.join(" "));
    const lines = r.stderr.trimEnd().split("\n");
    assert(lines[0].startsWith(`ptlab: ${msg}`), `${args.join(" ")}: ${lines[0]}`);
    assertEquals(lines.length, 2, r.stderr); // the error and where to look, no usage
    assertMatch(lines[1], /^\(ptlab help( \w+)? shows the options\)$/);
    assert(!/:0:0/.test(r.stderr), "no fake locations");
  }
  assertMatch(
    cli(["run", "s.ptlab", "--arch", "x86_64-4levl"], { read: read({}) }).stderr,
    /did you mean "x86_64-4level"/,
  );
});

Deno.test("repeated --arch and --kernel accumulate; --kernel all", () => {
  const files = read({ "s.ptlab": GOOD });
  const j = (args: string[]) =>
    parseReportDocument(
      JSON.parse(cli(["run", "s.ptlab", "--format", "json", ...args], { read: files }).stdout),
    );
  const d = j([
    "--arch",
    "x86_64-4level",
    "--arch",
    "x86_64-5level",
    "--kernel",
    "6.1",
    "--kernel",
    "6.18",
  ]);
  assertEquals(d.runs.map((r) => `${r.arch} ${r.kernel}`), [
    "x86_64-4level 6.1",
    "x86_64-4level 6.18",
    "x86_64-5level 6.1",
    "x86_64-5level 6.18",
  ]);
  assertEquals(j(["--kernel", "all"]).runs.map((r) => r.kernel), [...KERNEL_VERSIONS]);
});

Deno.test("run - reads standard input; /dev/stdin too, without a permission prompt", async () => {
  const r = cli(["run", "-", "--format", "json"], { stdin: () => GOOD });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(parseReportDocument(JSON.parse(r.stdout)).file, "<stdin>");
  const bad = cli(["run", "-"], { stdin: () => "mm a\ntouch b 0x1000\n" });
  assertMatch(bad.stderr, /^<stdin>:2:7: /);
  for (const f of ["-", "/dev/stdin"]) {
    const p = await pipeline(`printf '%s' '${GOOD}' | ./ptlab run ${f} --format csv > /dev/null`);
    assertEquals([p.statuses, p.stderr], ["0 0", ""], f);
  }
});

Deno.test("a directory, a missing file: one line saying so, exit 2", () => {
  const dir = cli(["run", "examples"]);
  assertEquals([dir.code, dir.stderr], [2, "ptlab: cannot read examples: is a directory\n"]);
  const none = cli(["run", "nope.ptlab"]);
  assertEquals([none.code, none.stderr], [2, "ptlab: cannot read nope.ptlab: no such file\n"]);
});

Deno.test("JSON carries schemaVersion and the ptlab version", () => {
  const r = cli(["run", "s.ptlab", "--format", "json"], { read: read({ "s.ptlab": GOOD }) });
  const doc = JSON.parse(r.stdout);
  assertEquals([doc.schemaVersion, doc.ptlab], [1, PTLAB_VERSION]);
  parseReportDocument(doc);
});

Deno.test("--format junit: a testcase per expectation and per run's kernel rules", () => {
  const src = GOOD.replace("expect a.vmpte == 12K", "expect a.vmpte == 12K\nexpect a.rss == 4K");
  const r = cli(["run", "s.ptlab", "--format", "junit", "--arch", "x86_64-4level,x86_64-5level"], {
    read: read({ "s.ptlab": src }),
  });
  assertEquals(r.code, 1);
  assertMatch(
    r.stdout,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="ptlab s\.ptlab" tests="6" failures="2" errors="0" skipped="0">/,
  );
  assertEquals(r.stdout.match(/<testsuite /g)?.length, 2);
  assertEquals(r.stdout.match(/<testcase /g)?.length, 6);
  assertMatch(
    r.stdout,
    /name="line 6: expect a\.rss == 4K">\n\s+<failure message="left is 2097152, right is 4096">/,
  );
  assertMatch(
    r.stdout,
    /<testcase classname="s\.ptlab\.x86_64-5level 6\.6" name="kernel rules"\/>/,
  );
});

Deno.test("--format tap: TAP 13, a test point per check, YAML under a failure", () => {
  const src = GOOD.replace("12K", "8K");
  const r = cli(["run", "s.ptlab", "--format", "tap"], { read: read({ "s.ptlab": src }) });
  assertEquals(r.code, 1);
  assertEquals(r.stdout.split("\n").slice(0, 6), [
    "TAP version 13",
    "1..2",
    "not ok 1 - x86_64-4level 6.6: line 5: expect a.vmpte == 8K",
    "  ---",
    '  message: "left is 12288, right is 8192"',
    '  detail: "expect a.vmpte == 8K: left is 12288, right is 8192"',
  ]);
  assertMatch(r.stdout, /\nok 2 - x86_64-4level 6\.6: kernel rules\n$/);
});

Deno.test("colour on a terminal, off with NO_COLOR or when piped", () => {
  const src = GOOD.replace("12K", "8K");
  const files = read({ "s.ptlab": src });
  const tty = cli(["run", "s.ptlab"], { read: files, isTerminal: true });
  assert(tty.stdout.includes(`${ESC}[31m  FAILED line 5`), tty.stdout);
  assert(
    !cli(["run", "s.ptlab"], { read: files, isTerminal: true, noColor: true }).stdout.includes(
      "\x1b[",
    ),
  );
  assert(!cli(["run", "s.ptlab", "--format", "table"], { read: files }).stdout.includes(ESC));
});

Deno.test("--metrics chooses the comparison columns, --exact the exact bytes, width wraps", () => {
  const files = read({ "s.ptlab": GOOD });
  const args = ["run", "s.ptlab", "--format", "table", "--arch", "x86_64-4level,x86_64-5level"];
  const t = cli([...args, "--metrics", "vmpte,flushes,ipis"], { read: files }).stdout;
  const head = t.split("\n")[0];
  assertMatch(head, /touched: a\.vmpte\s+touched: tlb_flushes\s+touched: ipis/);
  assert(!head.includes("nr_page_table_pages"), head);
  assertMatch(
    cli([...args, "--exact"], { read: files }).stdout,
    /\nx86_64-5level\s+6\.6\s+12288\s+2\s+ok/,
  );
  const narrow = cli([...args, "--metrics", "vmpte,pages,flushes,ipis,rss"], {
    read: files,
    isTerminal: true,
    noColor: true,
    columns: 80,
  }).stdout;
  const lines = narrow.trimEnd().split("\n");
  assert(lines.every((l) => l.length <= 80), narrow);
  // every block repeats the row keys
  assertEquals(lines.filter((l) => l.startsWith("configuration")).length > 1, true);
  assertEquals(
    lines.filter((l) => l.startsWith("x86_64-5level")).length,
    lines.filter((l) => l.startsWith("configuration")).length,
  );
});

Deno.test("--format svg draws the comparison", () => {
  const r = cli(["run", "s.ptlab", "--format", "svg", "--arch", "x86_64-4level,x86_64-5level"], {
    read: read({ "s.ptlab": GOOD }),
  });
  assertEquals(r.code, 0);
  assertMatch(r.stdout, /<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
});

Deno.test("CSV: text cells a spreadsheet would run as a formula are escaped", () => {
  const src = GOOD.replace('snapshot "touched"', 'snapshot "=HYPERLINK(1)"');
  const c = cli(["run", "s.ptlab", "--format", "csv"], { read: read({ "s.ptlab": src }) }).stdout;
  assertMatch(c, /\nx86_64-4level,6\.6,'=HYPERLINK\(1\),4,a,12288,/);
});

Deno.test("completions: bash (syntax-checked and asked), zsh and fish scripts", async () => {
  const bash = cli(["completions", "bash"]).stdout;
  const ask = async (line: string) => {
    const words = line.split(" ");
    const script = `${bash}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); ` +
      `COMP_CWORD=${words.length - 1}; _ptlab; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = await new Deno.Command("bash", { args: ["-c", script], cwd: root }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim().split("\n").sort();
  };
  assertEquals(await ask("ptlab ru"), ["run"]);
  assertEquals(await ask("ptlab run --for"), ["--format"]);
  assertEquals(await ask("ptlab run x.ptlab --format j"), ["json", "junit"]);
  assertEquals(await ask("ptlab explain x86_64-4"), ["x86_64-4level"]);
  assertEquals(await ask("ptlab fuzz --se"), ["--seed"]);
  assertEquals(await ask("ptlab run examples/quicks"), ["examples/quickstart.ptlab"]);
  const zsh = cli(["completions", "zsh"]).stdout;
  assertMatch(zsh, /^#compdef ptlab\n/);
  assertMatch(
    zsh,
    /\n {4}run\) _arguments -s .*'--format=\[[^\]]*\]:F:\(table json ndjson csv junit tap svg\)'/,
  );
  const fish = cli(["completions", "fish"]).stdout;
  assertMatch(
    fish,
    /\ncomplete -c ptlab -n '__fish_seen_subcommand_from run' -l format -r -a 'table json ndjson csv junit tap svg'/,
  );
  for (const sh of ["zsh", "fish"]) {
    // the shells themselves check the scripts where they are installed
    const which = await new Deno.Command("sh", { args: ["-c", `command -v ${sh}`] }).output();
    if (which.code !== 0) continue;
    const check = sh === "zsh" ? ["-n", "-c", zsh] : ["-n", "-c", fish];
    const out = await new Deno.Command(sh, { args: check }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  }
});

Deno.test("fmt: lays a file out in place, --check lists what it would change (exit 1)", () => {
  const files: Record<string, string> = {
    "s.ptlab": "mm   a\r\n\r\n\r\nmap a 0x1000  size 4K   # x\r\n",
  };
  const written: Record<string, string> = {};
  const env = { read: read(files), writeFile: (p: string, t: string) => void (written[p] = t) };
  const chk = cli(["fmt", "--check", "s.ptlab"], env);
  assertEquals([chk.code, chk.stdout.trim(), written], [1, "s.ptlab", {}]);
  assertEquals(cli(["fmt", "s.ptlab"], env).code, 0);
  assertEquals(written["s.ptlab"], "mm a\n\nmap a 0x1000 size 4K  # x\n");
  files["s.ptlab"] = written["s.ptlab"];
  assertEquals(cli(["fmt", "--check", "s.ptlab"], env).code, 0);
});

Deno.test("--max-tables refuses a scenario before it runs, at the statement that crosses it", () => {
  const files = read({ "s.ptlab": GOOD });
  const r = cli(["run", "s.ptlab", "--max-tables", "3"], { read: files });
  assertEquals(r.code, 2);
  assertMatch(
    r.stderr,
    /^s\.ptlab:\d+:1: scenario needs about \d+ page tables at once, more than --max-tables 3/,
  );
  assertEquals(
    cli(["run", "s.ptlab", "--max-tables", "1000", "--format", "json"], { read: files }).code,
    0,
  );
  assertEquals(cli(["run", "s.ptlab", "--max-tables", "x"], { read: files }).code, 2);
});

Deno.test("a sweep (--set n=1,2) is one comparison table with the param as a column; prints and params in every format", () => {
  const src = "param n = 1\nmm a\nmap a 0x10000000 size n * PMD_SIZE\n" +
    "touch a 0x10000000 size n * PMD_SIZE every PMD_SIZE\n" +
    'print "ptes" a.tables.pte\nsnapshot "touched"\nexpect a.tables.pte == n\n';
  const files = read({ "s.ptlab": src });
  const args = [
    "run",
    "s.ptlab",
    "--set",
    "n=1,2",
    "--arch",
    "x86_64-4level",
    "--arch",
    "i386-2level",
  ];
  const t = cli([...args, "--format", "table", "--metrics", "pte"], { read: files });
  assertEquals(t.code, 0, t.stderr);
  const lines = t.stdout.trimEnd().split("\n");
  // one PTE table per PMD-sized step (a page in each), on both configurations
  assertMatch(lines[0], /^configuration +kernel +n +touched: a\.tables\.pte +result$/);
  assertMatch(lines[1], /^x86_64-4level +6\.6 +1 +1 +ok$/);
  assertMatch(lines[4], /^i386-2level +6\.6 +2 +2 +ok$/);
  assertEquals(lines.slice(5), [
    "x86_64-4level 6.6 n=1: print line 5: ptes 1",
    "i386-2level 6.6 n=1: print line 5: ptes 1",
    "x86_64-4level 6.6 n=2: print line 5: ptes 2",
    "i386-2level 6.6 n=2: print line 5: ptes 2",
  ]);
  const j = cli([...args, "--format", "json"], { read: files });
  const doc = parseReportDocument(JSON.parse(j.stdout));
  assertEquals(doc.runs.map((r) => [r.arch, r.params, r.prints]), [
    ["x86_64-4level", { n: "1" }, [{ line: 5, text: "ptes 1" }]],
    ["i386-2level", { n: "1" }, [{ line: 5, text: "ptes 1" }]],
    ["x86_64-4level", { n: "2" }, [{ line: 5, text: "ptes 2" }]],
    ["i386-2level", { n: "2" }, [{ line: 5, text: "ptes 2" }]],
  ]);
  const nd = cli([...args, "--format", "ndjson"], { read: files }).stdout.trimEnd().split("\n")
    .map((l) => JSON.parse(l));
  assertEquals(nd.filter((x) => x.type === "print").map((x) => [x.arch, x.text]), [
    ["x86_64-4level", "ptes 1"],
    ["i386-2level", "ptes 1"],
    ["x86_64-4level", "ptes 2"],
    ["i386-2level", "ptes 2"],
  ]);
  const one = cli(["run", "s.ptlab", "--format", "table"], { read: files });
  assertMatch(one.stdout, /\nprint line 5: ptes 1\n/);
  // an unknown param is named, not given a fake location
  const bad = cli(["run", "s.ptlab", "--set", "m=1"], { read: files });
  assertEquals(bad.code, 2);
  assertEquals(
    bad.stderr.split("\n")[0],
    '--set: the scenario has no param "m" (did you mean "n"?)',
  );
});

Deno.test("a million snapshots is a diagnostic at the repeat; 20,000 stream out in small chunks", () => {
  // a million snapshots died with "Invalid string length" while the JSON was built
  const million = 'mm a\nrepeat i in 0..1_000_000 {\n  snapshot "s"\n}\n';
  const r = cli(["run", "m.ptlab"], { read: read({ "m.ptlab": million }) });
  assertEquals(r.code, 2);
  assertEquals(
    r.stderr.split("\n")[0],
    "m.ptlab:2:1: repeat makes more than 100000 snapshots, prints and expectations in total",
  );
  const most = 'mm a\nrepeat i in 0..20_000 {\n  snapshot "s"\n}\n';
  let chunks = 0, longest = 0, bytes = 0;
  const s = cli(["run", "m.ptlab", "--format", "json"], {
    read: read({ "m.ptlab": most }),
    write: (c) => {
      chunks++;
      longest = Math.max(longest, c.length);
      bytes += c.length;
    },
  });
  assertEquals(s.code, 0, s.stderr);
  assert(bytes > 5_000_000, `${bytes} bytes`);
  assert(longest < 1_000_000, `a chunk of ${longest} characters`);
  assert(chunks > 100, `${chunks} chunks`);
});
