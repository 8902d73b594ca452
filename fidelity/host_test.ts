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
  probeOnce,
  replayOnHost,
  replaysExec,
} from "./host.ts";
import {
  compareReplay,
  type Comparison,
  ipisDisturbed,
  judge,
  judgedTable,
  type Verdict,
} from "./judge.ts";

const unsupported = hostUnsupported();
const cc = unsupported ? null : findCompiler();
const dir = new URL("../examples/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name)
  .filter((n) => n.startsWith("host-") && n.endsWith(".ptlab")).sort();

// The probe reads /proc and /sys for us (Deno asks for --allow-all to read them); it is built
// and asked what the host is before the tests are declared, so every skip can say why. Its
// directory goes when the tests end (the last test below, or the unload of this module).
const buildDir = cc ? Deno.makeTempDirSync({ prefix: "ptlab-probe-" }) : null;
// a run that was killed leaves its directory: those a day old go now
if (buildDir) {
  const tmp = buildDir.slice(0, buildDir.lastIndexOf("/"));
  for (const e of Deno.readDirSync(tmp)) {
    if (!e.isDirectory || !e.name.startsWith("ptlab-probe-")) continue;
    const path = `${tmp}/${e.name}`;
    try {
      const age = Date.now() - (Deno.statSync(path).mtime?.getTime() ?? Date.now());
      if (age > 86_400_000) Deno.removeSync(path, { recursive: true });
    } catch { /* another run's, gone already */ }
  }
}
const removeBuildDir = () => {
  if (buildDir) Deno.removeSync(buildDir, { recursive: true });
};
globalThis.addEventListener("unload", () => {
  try {
    removeBuildDir();
  } catch { /* removed already */ }
});
const probe = cc ? buildProbe(cc, buildDir!) : null;
// `mm NAME exec` workloads: the probe linked statically, run with ASLR off
let staticProbe: string | null = null, noStatic: string | null = null;
if (cc) {
  try {
    staticProbe = buildProbe(cc, buildDir!, { static: true });
  } catch (e) {
    noStatic = `the probe cannot be linked statically (${
      (e as Error).message.split("\n")[1] ?? "no static libc"
    })`;
  }
}
const facts: HostFacts | null = probe ? probeFacts(probe) : null;
const skip = unsupported ?? (cc ? null : "no C compiler (cc, gcc or clang) to build the probe");
const noPages = facts && !facts.statRefresh
  ? "/proc/sys/vm/stat_refresh cannot be written (not root), so page-table pages are not read"
  : null;
const counting = probe && !noPages ? probeCounting(probe) : null;
const noOwn = counting?.counting === "system" ? counting.why : null;
// IPIs per CPU: the probe counts those its own cgroup queues (fidelity/probe_ipi.c)
const ipiCount = probe && !noOwn && !noPages
  ? probeOnce(probe, "isolate", "ipicount")[1] as unknown as { counting: boolean; why: string }
  : null;
const noIpis = facts && facts.cpus < 2
  ? "the host has one CPU: no IPIs"
  : noPages ?? noOwn ?? (ipiCount?.counting ? null : ipiCount?.why ?? null);
/** Replays of one workload tried before its IPI rows are left uncompared. */
const IPI_TRIES = 6;
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
  name: `host fidelity: IPIs per CPU (TLB and CAL), exact${skipped(skip ?? noIpis)}`,
  ignore: (skip ?? noIpis) !== null,
  fn() {
    assert(ipiCount!.counting);
  },
});
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

/** The 2 MiB hugetlb pages a workload can use at most: its hugetlb files and maps in full. */
function hugePagesWanted(ops: readonly Op[]): number {
  let bytes = 0n;
  for (const o of ops) {
    if ((o.op === "file" || (o.op === "map" && o.backing === undefined)) && o.hugetlb) {
      bytes += o.size;
    }
  }
  return Number(bytes / (2n << 20n));
}

/** The probe's `hugepages [N]`: the default hugetlb pool (set to N first), and whether it could. */
function hugePool(n?: number): { nr: number; written: boolean } {
  const r = probeOnce(probe!, n === undefined ? "hugepages" : `hugepages ${n}`)[0];
  return r as unknown as { nr: number; written: boolean };
}

/**
 * Grows the default (2 MiB) hugetlb pool to at least `n` pages; returns how to put it back, or
 * why it cannot (not root, or the kernel could not find the memory).
 */
function growHugePool(n: number): { restore: () => void } | string {
  if (n === 0) return { restore: () => {} };
  const before = hugePool().nr;
  if (before < 0) return "/proc/sys/vm/nr_hugepages cannot be read";
  if (before >= n) return { restore: () => {} };
  const grown = hugePool(n);
  const restore = () => {
    hugePool(before);
  };
  if (!grown.written) {
    return `/proc/sys/vm/nr_hugepages cannot be written (not root), and the host has ${before}`;
  }
  if (grown.nr < n) {
    restore();
    return `the kernel found memory for ${grown.nr} of them`;
  }
  return { restore };
}

function modelOf(name: string, f: HostFacts) {
  const file = `examples/${name}`;
  const parsed = parseScenario(Deno.readTextFileSync(new URL(name, dir)), file);
  assertEquals(parsed.diagnostics, []);
  const c = compileScenario(parsed.scenario!, f.config, catalog, {
    optionOverrides: { kernel: f.kernel, pti: f.pti ? "on" : "off" },
  });
  assertEquals(c.diagnostics, []);
  const backend = findConfig(f.config)!.backend;
  // the model has the host's CPUs: tlb_remove_table_sync_one reaches every other online one
  const cpus = Math.max(c.program!.cpus, f.cpus);
  const run = (ops: readonly Op[]) => runProgram(c.config!, backend, { ...c.program!, cpus, ops });
  const model = run(c.program!.ops);
  assertEquals(model.violations, []);
  // what a fork at the baseline costs in the model: its pgd and its copies of the stand-ins
  const fb = run(forkBaseOps(c.program!.ops)).snapshots;
  const forkPages = fb.at(-1)!.metrics.nr_page_table_pages - fb.at(-2)!.metrics.nr_page_table_pages;
  return { file, ops: c.program!.ops, model, forkPages, cpus: c.program!.cpus };
}

// what each workload needs beyond the probe, decided before the tests are declared
function needs(name: string): string | null {
  if (!facts) return null;
  const { ops, cpus } = modelOf(name, facts);
  if (cpus > facts.cpus) return `it needs ${cpus} CPUs, the host has ${facts.cpus}`;
  if (replaysExec(ops) && !staticProbe) return noStatic;
  const huge = hugePagesWanted(ops);
  if (huge === 0) return null;
  // a trial: the pool grows now (and shrinks back at once) or the workload says why it skips
  const g = growHugePool(huge);
  if (typeof g === "string") return `it needs ${huge} hugetlb pages: ${g}`;
  g.restore();
  return null;
}

for (const name of files) {
  const why = skip ?? needs(name);
  Deno.test({
    name: `host fidelity: ${name}${skipped(why)}`,
    ignore: why !== null,
    sanitizeResources: false,
    async fn() {
      const f = facts!;
      const { file, ops, model, forkPages } = modelOf(name, f);
      const pool = growHugePool(hugePagesWanted(ops));
      assert(typeof pool !== "string", `the hugetlb pool grew at load but not now: ${pool}`);
      try {
        const replays: Comparison[][] = [];
        let v: Verdict, disturbed = 0;
        const bin = replaysExec(ops) ? staticProbe! : probe!;
        do {
          const own = noOwn === null && !noPages;
          // a replay in which other tasks disturbed the CPU states the scenario gives is no
          // measurement of them: it is repeated (and its IPI rows left out if every try was)
          let r = await replayOnHost(bin, ops, { isolate: own });
          for (let t = 1; t < IPI_TRIES && ipisDisturbed(r); t++) {
            disturbed++;
            r = await replayOnHost(bin, ops, { isolate: own });
          }
          if (ipisDisturbed(r)) disturbed++;
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
          `page-table pages: ${how}` +
          (disturbed ? `, ${disturbed} replay(s) disturbed by other tasks and repeated` : "") +
          `):\n${judgedTable(v.rows)}`;
        assert(v.ok, `the host differs from ptlab:\n${text}`);
        console.log(text);
      } finally {
        pool.restore();
      }
    },
  });
}

Deno.test({
  name: "host fidelity: the probe's build directory is removed",
  ignore: buildDir === null,
  fn() {
    removeBuildDir();
    let gone = false;
    try {
      Deno.statSync(buildDir!);
    } catch (e) {
      gone = e instanceof Deno.errors.NotFound;
    }
    assert(gone, `${buildDir} is still there`);
  },
});
