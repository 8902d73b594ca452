// Fidelity against the running kernel: every examples/host-*.ptlab workload is carried out in a
// real process on this machine. Its VmPTE must equal ptlab's figure for the host's configuration
// exactly, in every replay; its page-table pages too, by the rule of fidelity/judge.ts (exact
// where the probe has a cgroup v2 of its own, the median of replays where only the system-wide
// nr_page_table_pages exists).
import { catalog, compileScenario, findConfig, parseScenario, runProgram } from "../mod.ts";
import type { Op } from "../engine/types.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import {
  buildProbe,
  findCompiler,
  forkBaseOps,
  type HostFacts,
  hostUnsupported,
  probeCounting,
  probeFacts,
  replayOnHost,
} from "./host.ts";
import { compareReplay, type Comparison, judge, judgedTable, type Verdict } from "./judge.ts";

const unsupported = hostUnsupported();
const cc = unsupported ? null : findCompiler();
const dir = new URL("../examples/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name)
  .filter((n) => n.startsWith("host-") && n.endsWith(".ptlab")).sort();

// The probe reads /proc and /sys for us (Deno asks for --allow-all to read them); it is built
// and asked what the host is before the tests are declared, so every skip can say why.
const probe = cc ? buildProbe(cc, Deno.makeTempDirSync({ prefix: "ptlab-probe-" })) : null;
const facts: HostFacts | null = probe ? probeFacts(probe) : null;
const skip = unsupported ?? (cc ? null : "no C compiler (cc, gcc or clang) to build the probe");
const noPages = facts && !facts.statRefresh
  ? "/proc/sys/vm/stat_refresh cannot be written (not root), so page-table pages are not read"
  : null;
const counting = probe && !noPages ? probeCounting(probe) : null;
const noOwn = counting?.counting === "system" ? counting.why : null;
const skipped = (why: string | null) => why ? `: skipped (${why})` : "";

Deno.test({
  name: `host fidelity${skipped(skip)}`,
  ignore: skip !== null,
  fn() {
    assert(files.length >= 8, "the host workloads are examples/host-*.ptlab");
    const f = facts!;
    console.log(
      `host: ${f.config}, kernel ${f.release} (modelled as ${f.kernel}), pti ${f.pti}, ` +
        `${f.cpus} CPU(s); settling by ${f.settle}; ` +
        (noPages ??
          (noOwn
            ? `system-wide nr_page_table_pages, median of replays (${noOwn})`
            : `the probe's own page-table pages (${counting!.counting}), exact`)),
    );
  },
});

// the skips that leave part of the comparison out, counted as skips, each saying why
Deno.test({
  name: `host fidelity: page-table pages${skipped(skip ?? noPages)}`,
  ignore: (skip ?? noPages) !== null,
  fn() {
    assert(facts!.statRefresh);
  },
});
Deno.test({
  name: `host fidelity: the probe's own page-table pages, exact${
    skipped(skip ?? noPages ?? noOwn)
  }`,
  ignore: (skip ?? noPages ?? noOwn) !== null,
  fn() {
    assert(probeCounting(probe!).counting !== "system");
  },
});

function modelOf(name: string, f: HostFacts) {
  const file = `examples/${name}`;
  const parsed = parseScenario(Deno.readTextFileSync(new URL(name, dir)), file);
  assertEquals(parsed.diagnostics, []);
  const c = compileScenario(parsed.scenario!, f.config, catalog, {
    optionOverrides: { kernel: f.kernel, pti: f.pti ? "on" : "off" },
  });
  assertEquals(c.diagnostics, []);
  const backend = findConfig(f.config)!.backend;
  const run = (ops: readonly Op[]) => runProgram(c.config!, backend, { ...c.program!, ops });
  const model = run(c.program!.ops);
  assertEquals(model.violations, []);
  // what a fork at the baseline costs in the model: its pgd and its copies of the stand-ins
  const fb = run(forkBaseOps(c.program!.ops)).snapshots;
  const forkPages = fb.at(-1)!.metrics.nr_page_table_pages - fb.at(-2)!.metrics.nr_page_table_pages;
  return { file, ops: c.program!.ops, model, forkPages };
}

for (const name of files) {
  Deno.test({
    name: `host fidelity: ${name}`,
    ignore: skip !== null,
    sanitizeResources: false,
    async fn() {
      const f = facts!;
      const { file, ops, model, forkPages } = modelOf(name, f);
      const replays: Comparison[][] = [];
      let v: Verdict;
      do {
        const own = noOwn === null && !noPages;
        const r = await replayOnHost(probe!, ops, { isolate: own });
        // the probe counted its own tables at load: a replay that cannot is a failure, not a
        // quiet fall back to the system-wide figure
        assert(
          !own || r.counting.counting !== "system",
          `replay ${replays.length + 1} could not count its own tables: ${r.counting.why}`,
        );
        replays.push(compareReplay(r, ops, model, forkPages));
        v = judge(replays, r.counting.counting !== "system");
      } while (v.more);
      const how = noPages ? "not read" : noOwn ? `median of ${replays.length} replays` : "own";
      const text = `${file} (${f.config}, kernel ${f.kernel}${f.exact ? "" : " nearest"}, ` +
        `page-table pages: ${how}):\n${judgedTable(v.rows)}`;
      assert(v.ok, `the host differs from ptlab:\n${text}`);
      console.log(text);
    },
  });
}
