// The replay rule of judge.ts on made-up replays: it must be able to fail, and it must ask for
// exactly as many replays as it documents (2 that agree, else 3, else 5).
import { assert, assertEquals } from "../testing/assert.ts";
import { type Comparison, judge, judgedTable, MAX_REPLAYS } from "./judge.ts";

/** One replay: VmPTE 4096 at `one`, and `pages` page-table pages over that interval. */
function replay(vmpte: number, pages: number | null, drift = 0): Comparison[] {
  return [
    { label: "one", what: "a VmPTE", kind: "vmpte", model: 4096, host: vmpte, drift: 0 },
    {
      label: "one",
      what: "nr_page_table_pages",
      kind: "pages",
      model: 3,
      host: pages,
      drift,
      note: pages === null ? "page-table pages cannot be read" : undefined,
    },
  ];
}

/** Replays one by one until the rule stops asking, as host_test.ts does. */
function run(hosts: (number | null)[], exact: boolean, vmpte = 4096) {
  const replays: Comparison[][] = [];
  for (const h of hosts) {
    replays.push(replay(vmpte, h, h === 3 ? 0 : 2));
    const v = judge(replays, exact);
    if (!v.more) return { ...v, n: replays.length };
  }
  throw new Error(`the rule asked for more than ${hosts.length} replays`);
}

Deno.test("judge: own pages are exact, one replay decides", () => {
  assertEquals(run([3], true).ok, true);
  assertEquals(run([3], true).n, 1);
  const bad = run([2], true);
  assertEquals([bad.ok, bad.n, bad.rows[1].host], [false, 1, 2]);
});

Deno.test("judge: VmPTE is exact in every replay, and a difference decides at once", () => {
  const v = run([3, 3], false, 8192);
  assertEquals([v.ok, v.n, v.rows[0].host, v.rows[0].ok], [false, 1, 8192, false]);
  // a later replay's VmPTE differing fails even though the first agreed
  const replays = [replay(4096, 3), replay(0, 3)];
  const w = judge(replays, false);
  assertEquals([w.ok, w.more, w.rows[0].host], [false, false, 0]);
});

Deno.test("judge: system-wide pages, two replays that agree settle it", () => {
  const v = run([3, 3], false);
  assertEquals([v.ok, v.n], [true, 2]);
  // two that agree with each other but not the model: their value is the median of any third
  const w = run([4, 4], false);
  assertEquals([w.ok, w.n, w.rows[1].host], [false, 2, 4]);
});

Deno.test("judge: system-wide pages, a noisy replay is outvoted by the median of three", () => {
  const v = run([-1, 3, 3], false);
  assertEquals([v.ok, v.n, v.rows[1].host, v.rows[1].replays], [true, 3, 3, [-1, 3, 3]]);
});

Deno.test("judge: system-wide pages, a median of three that differs asks for five", () => {
  const v = run([-1, 7, 9, 3, 3], false);
  assertEquals([v.ok, v.n, v.rows[1].host], [true, MAX_REPLAYS, 3]);
  const w = run([-1, 7, 9, 5, 8], false);
  assertEquals([w.ok, w.n, w.rows[1].host], [false, MAX_REPLAYS, 7]);
});

Deno.test("judge: a figure that cannot be read is shown, not compared", () => {
  const v = run([null], false);
  assertEquals([v.ok, v.n, v.rows[1].host, v.rows[1].note], [
    true,
    1,
    null,
    "page-table pages cannot be read",
  ]);
});

Deno.test("judge: the table reports a disagreeing replay with its control-window movement", () => {
  const v = run([-1, 7, 9, 3, 8], false);
  const t = judgedTable(v.rows);
  assert(t.includes("DIFFERS"), t);
  assert(
    t.includes(
      "-1 (control windows moved 2), 7 (control windows moved 2), 9 (control windows moved 2), 3,",
    ),
    t,
  );
  assertEquals(judgedTable(run([3, 3], false).rows).includes("replays"), false);
});

Deno.test("judge: IPI rows go by the median of replays, exactly", () => {
  const ipi = (host: number | null): Comparison => ({
    label: "one",
    what: "cpu[1] TLB",
    kind: "ipis",
    model: 2,
    host,
    drift: 40,
    note: host === null ? "CPU states disturbed 1 time(s)" : undefined,
  });
  const agree = judge([[...replay(4096, 3), ipi(2)], [...replay(4096, 3), ipi(2)]], false);
  assertEquals([agree.ok, agree.more], [true, false]);
  // one replay off by one IPI asks for more; outvoted by two, it is shown, not hidden
  const one = judge([[...replay(4096, 3), ipi(3)]], true);
  assertEquals(one.more, true);
  const three = [ipi(3), ipi(2), ipi(2)].map((x) => [...replay(4096, 3), x]);
  const v = judge(three, true);
  assertEquals([v.ok, v.more, v.rows[2].host], [true, false, 2]);
  assert(judgedTable(v.rows).includes("/proc/interrupts moved 40"));
  // a median that differs fails
  const bad = judge([[ipi(3)], [ipi(3)]].map((x) => [...replay(4096, 3), ...x]), true);
  assertEquals([bad.ok, bad.more], [false, false]);
  // a disturbed interval is shown, not compared
  const gone = judge([[...replay(4096, 3), ipi(null)]], true);
  assertEquals([gone.ok, gone.rows[2].host], [true, null]);
});
