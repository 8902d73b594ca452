// Every configuration's allocation paths with injected failures: each allocation site of the
// engine and of the arch fails at its 1st, 2nd ... call of a lifecycle (two regions, one high
// enough to need every level, a fork, MADV_DONTNEED, munmap, exits). The error paths must hold
// every kernel rule, and the failure must show in the figures: an OOM, an -ENOMEM, or (for the
// mmu_gather's batch pages, whose failure only changes how the gather flushes) the injection.
import { ENGINE_INJECT_SITES } from "../engine/machine.ts";
import { Run } from "../engine/run.ts";
import type { Op, RunResult } from "../engine/types.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { type ConfigSpec, resolveConfig } from "./config.ts";
import { CONFIGS } from "./registry.ts";

/** The lifecycle; `inject` = [site, n] fails the n-th call of site (n = 0 only counts). */
function lifecycle(
  spec: ConfigSpec,
  kernel: string,
  inject?: [string, number],
): { result: RunResult; calls: number } {
  const cfg = resolveConfig(spec, { kernel });
  const page = 1n << BigInt(cfg.pageShift);
  const top = cfg.levels.find((l) => l.folded === "none" && l.name !== "pgd")!;
  const slot = 1n << BigInt(top.shift + Math.log2(top.entries));
  let high = cfg.taskSize / 2n / slot * slot;
  if (high === 0n) high = cfg.taskSize / 2n / page * page;
  const pmd = 1n << BigInt(cfg.levels[3].shift);
  const low = (cfg.taskSize / 8n < 1n << 30n ? cfg.taskSize / 8n : 1n << 30n) / pmd * pmd;
  const size = 4n * pmd > cfg.taskSize / 16n ? 4n * page : 4n * pmd;
  const run = new Run(cfg, spec.backend, 2);
  if (inject) run.k.addInject(inject[0], "at", inject[1]);
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: low, size },
    { op: "map", mm: "a", addr: high, size: page },
    { op: "touch", mm: "a", addr: low, size, step: page * 2n },
    { op: "touch", mm: "a", addr: high, size: page, step: page },
    { op: "fork", mm: "a", child: "b" },
    { op: "madvise", mm: "a", advice: "dontneed", addr: low, size: size / 2n },
    { op: "unmap", mm: "a", addr: high, size: page },
    { op: "exit", mm: "b" },
    { op: "unmap", mm: "a", addr: low, size: size / 2n },
    { op: "exit", mm: "a" },
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return { result: run.finish(ops.length), calls: run.k.inject[0]?.calls ?? 0 };
}

/** The calls to fail: the first ten and the last. */
function picks(calls: number): number[] {
  const out = [];
  for (let n = 1; n <= Math.min(calls, 10); n++) out.push(n);
  if (calls > 10) out.push(calls);
  return out;
}

const ABSORBED = new Set(["tlb_next_batch", "tlb_remove_table"]);

for (const spec of CONFIGS) {
  Deno.test(`${spec.name}: every allocation path fails cleanly`, () => {
    const sites = [...ENGINE_INJECT_SITES, ...(spec.backend.injectSites ?? [])];
    let exercised = 0;
    for (const kernel of ["6.6", "6.18"]) {
      const clean = lifecycle(spec, kernel).result;
      assertEquals(clean.violations, [], `${spec.name} ${kernel}: the clean lifecycle`);
      for (const site of sites) {
        const { calls } = lifecycle(spec, kernel, [site, 0]);
        for (const n of picks(calls)) {
          const where = `${spec.name} ${kernel}: ${site} fails at call ${n} of ${calls}`;
          const r = lifecycle(spec, kernel, [site, n]).result;
          assertEquals(r.violations.map((v) => `${v.rule}: ${v.message}`), [], where);
          const m = r.final.metrics;
          assertEquals(m.injected, 1, where);
          assert(m.ooms + m.enomems > 0 || ABSORBED.has(site), `${where}: no OOM nor -ENOMEM`);
          // and each shows as an event of the run, where the output lists it
          const kinds = r.events.map((e) => e.kind);
          assertEquals(kinds.filter((k) => k === "injected-failure").length, 1, where);
          assertEquals(kinds.filter((k) => k === "VM_FAULT_OOM").length, m.ooms, where);
          assertEquals(kinds.filter((k) => k === "ENOMEM").length, m.enomems, where);
          assertEquals([m.nr_page_table_pages, m.leaks, m.ptlocks], [0, 0, 0], where);
          exercised++;
        }
      }
    }
    assert(exercised > 0, `${spec.name}: no allocation site was called`);
  });
}
