// Who receives which IPI: the flush IPIs of flush_tlb_mm_range to the mm's CPUs (lazy ones too
// when tables are freed, arch/x86/mm/tlb.c), tlb_remove_table_sync_one to every other online CPU
// (mm/mmu_gather.c), and the `sync_ipi` what-if rules. 4 CPUs, a worker on CPUs 0-2, a
// bystander alone on CPU 3; 4 KiB pages, 512 pages a PMD.
import { configFor, findConfig } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { Op, RunResult, SyncIpiRule } from "./types.ts";

const K = 1024n, M = 1024n * K;
const A = 0x1000_0000_0000n;

function play(
  ops: Record<string, unknown>[],
  config = "x86_64-4level",
  syncIpi: SyncIpiRule = "all",
  kernel = "6.18",
): RunResult {
  const opts: Record<string, string> = { kernel, thp: "madvise", "sync_ipi": syncIpi };
  const cfg = configFor(config, opts);
  const run = new Run(cfg, findConfig(config)!.backend, 4);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const snap = { op: "snapshot", label: "s" };
/** A worker on CPUs 0-2 with 8 MiB written (4 PTE tables), a bystander on CPU 3. */
const setup = [
  { op: "mm", name: "rt" },
  { op: "run", mm: "rt", cpus: [3] },
  { op: "mm", name: "w" },
  { op: "run", mm: "w", cpus: [0, 1, 2] },
  { op: "map", mm: "w", addr: A, size: 8n * M },
  { op: "touch", mm: "w", addr: A, size: 8n * M, step: 64n * K },
];
const collapse = [
  { op: "madvise", mm: "w", advice: "hugepage", addr: A, size: 8n * M },
  { op: "madvise", mm: "w", advice: "collapse", addr: A, size: 8n * M },
  snap,
];

Deno.test("x86: a flush IPI goes to the mm's other CPUs, and counts in TLB and CAL there", () => {
  const r = play([...setup, { op: "unmap", mm: "w", addr: A, size: 8n * M }, snap]);
  const c = r.snapshots[0].cpus;
  // one tlb_flush at the end of the unmap: CPUs 1 and 2 run w, CPU 3 does not
  assertEquals(c.ipis, [0, 1, 1, 0]);
  assertEquals(c.lines.TLB, [0, 1, 1, 0]);
  assertEquals(c.lines.CAL, [0, 1, 1, 0]);
});

Deno.test("x86: a CPU that stopped running the mm is lazy; a flush that frees tables reaches it", () => {
  // w leaves CPU 2 (it keeps w as its lazy TLB mm); the unmap frees the tables: freed_tables
  // makes flush_tlb_mm_range IPI lazy CPUs too
  const r = play([
    ...setup,
    { op: "run", mm: "w", cpus: [0, 1] },
    { op: "unmap", mm: "w", addr: A, size: 8n * M },
    snap,
  ]);
  assertEquals(r.snapshots[0].cpus.lines.TLB, [0, 1, 1, 0]);
});

Deno.test("x86: MADV_COLLAPSE syncs every other online CPU, one CAL per 2 MiB each", () => {
  const r = play([...setup, ...collapse]);
  const c = r.snapshots[0].cpus;
  // 4 collapses: pmdp_collapse_flush to CPUs 1, 2 (TLB + CAL), the sync to 1, 2, 3 (CAL)
  assertEquals(c.lines.TLB, [0, 4, 4, 0]);
  assertEquals(c.lines.CAL, [0, 8, 8, 4]);
  assertEquals(c.ipis, [0, 8, 8, 4]);
  assertEquals(c.sync.all, [0, 4, 4, 4]);
  // mm_cpus: only w's CPUs; skip_if_flushed: the flush before reached both of them
  assertEquals(c.sync.mm_cpus, [0, 4, 4, 0]);
  assertEquals(c.sync.skip_if_flushed, [0, 0, 0, 0]);
  assertEquals(c.saved, [0, 0, 0, 0]);
});

Deno.test("sync_ipi = mm_cpus and skip_if_flushed spare the bystander, and say so per CPU", () => {
  const m = play([...setup, ...collapse], "x86_64-4level", "mm_cpus").snapshots[0].cpus;
  assertEquals(m.ipis, [0, 8, 8, 0]);
  assertEquals(m.saved, [0, 0, 0, 4]);
  const s = play([...setup, ...collapse], "x86_64-4level", "skip_if_flushed").snapshots[0].cpus;
  assertEquals(s.ipis, [0, 4, 4, 0]);
  assertEquals(s.saved, [0, 4, 4, 4]);
});

Deno.test("arm64: TLBI is broadcast (no flush IPI) and no mm_cpumask is kept: every rule syncs all", () => {
  for (const rule of ["all", "mm_cpus", "skip_if_flushed"] as const) {
    const c = play([...setup, ...collapse], "arm64-4k-48", rule).snapshots[0].cpus;
    // IPI1, function call interrupts: only the syncs, 4 to each other CPU
    assertEquals(c.lines.IPI1, [0, 4, 4, 4], rule);
    assertEquals(c.sync.mm_cpus, [0, 4, 4, 4], rule);
    assertEquals(c.sync.skip_if_flushed, [0, 4, 4, 4], rule);
  }
});

Deno.test("s390: IDTE is broadcast, but mm_cpumask says CPU 3 cannot walk the worker", () => {
  // 1 MiB segments: 8 collapses of the 8 MiB
  const c = play([...setup, ...collapse], "s390-4level").snapshots[0].cpus;
  assertEquals(c.sync.all, [0, 8, 8, 8]);
  assertEquals(c.sync.mm_cpus, [0, 8, 8, 0]);
  // no IPI reached CPUs 1 and 2 before the sync: they could be walking
  assertEquals(c.sync.skip_if_flushed, [0, 8, 8, 8]);
});

/** 2 MiB mapped, written and unmapped at `at`: its PTE table is freed (freed_tables). */
const cycle = (at: bigint, mm = "w") => [
  { op: "map", mm, addr: at, size: 2n * M },
  { op: "touch", mm, addr: at, size: 2n * M, step: 64n * K },
  { op: "unmap", mm, addr: at, size: 2n * M },
  snap,
];
const B = A + (1n << 30n);
/** TLB-line counts of CPU `cpu` at each snapshot. */
const tlbAt = (r: RunResult, cpu: number) => r.snapshots.map((s) => s.cpus.lines.TLB[cpu]);

Deno.test("x86 6.18: a lazy CPU takes the freed-tables flush, leaves the mm, and one more IPI clears it", () => {
  // CPU 2 goes idle with w loaded (lazy). Unmap 1: native_flush_tlb_multi IPIs it (freed_tables),
  // flush_tlb_func switches it to init_mm but, since 209954cbc7d0 (6.14), leaves it in
  // mm_cpumask. Unmap 2: the IPI finds w not loaded and clears the CPU (TLB_REMOTE_WRONG_CPU).
  // Unmap 3: CPU 2 is no longer in the mask. CPU 1 runs w throughout: one IPI per unmap.
  const r = play([...setup, { op: "idle", cpus: [2] }, ...cycle(B), ...cycle(B), ...cycle(B)]);
  assertEquals(tlbAt(r, 2), [1, 2, 2]);
  assertEquals(tlbAt(r, 1), [1, 2, 3]);
  assertEquals(tlbAt(r, 3), [0, 0, 0]);
});

Deno.test("x86 6.12: switch_mm_irqs_off to init_mm takes the lazy CPU out of mm_cpumask at once", () => {
  const r = play(
    [...setup, { op: "idle", cpus: [2] }, ...cycle(B), ...cycle(B)],
    "x86_64-4level",
    "all",
    "6.12",
  );
  assertEquals(tlbAt(r, 2), [1, 1]);
});

Deno.test("x86: a flush that frees no tables skips lazy CPUs (should_flush_tlb)", () => {
  // mprotect's gather frees nothing: on_each_cpu_cond_mask leaves out the idle CPU 2
  const r = play([
    ...setup,
    { op: "idle", cpus: [2] },
    { op: "mprotect", mm: "w", addr: A, size: 8n * M, prot: "read" },
    snap,
  ]);
  assertEquals(r.snapshots[0].cpus.lines.TLB, [0, 1, 0, 0]);
});

Deno.test("x86: another process on the CPU leaves it stale in the mask from 6.14, cleared before", () => {
  // rt runs on CPU 2 after w did: switch_mm_irqs_off from w to rt. 6.18 keeps CPU 2 in w's
  // mm_cpumask, so w's next freed-tables flush IPIs it (and clears it); 6.12 cleared it then.
  const ops = [...setup, { op: "run", mm: "rt", cpus: [2, 3] }, ...cycle(B), ...cycle(B)];
  assertEquals(tlbAt(play(ops), 2), [1, 1]);
  assertEquals(tlbAt(play(ops, "x86_64-4level", "all", "6.12"), 2), [0, 0]);
  // rt left CPU 3 only by sharing it: still running there, and w never ran on 3
  assertEquals(tlbAt(play(ops), 3), [0, 0]);
});

Deno.test("x86: a migrated thread leaves its old CPU lazy; the flush now comes from the new one", () => {
  const r = play([
    { op: "mm", name: "w" },
    { op: "run", mm: "w", cpus: [0] },
    { op: "run", mm: "w", cpus: [1] },
    ...cycle(A),
  ]);
  // flushes come from CPU 1: CPU 0 is a lazy CPU of w and takes the freed-tables IPI
  assertEquals(r.snapshots[0].cpus.lines.TLB, [1, 0, 0, 0]);
});

Deno.test("x86: pmdp_collapse_flush frees tables from 6.14 (flush_tlb_range), so lazy CPUs get it", () => {
  const ops = [...setup, { op: "idle", cpus: [2] }, ...collapse];
  // 4 collapses; 6.18: the first IPIs the lazy CPU 2 (then stale), the second clears it
  assertEquals(play(ops).snapshots[0].cpus.lines.TLB, [0, 4, 2, 0]);
  // 6.12: flush_tlb_range passed freed_tables = false: lazy CPU 2 is skipped
  assertEquals(play(ops, "x86_64-4level", "all", "6.12").snapshots[0].cpus.lines.TLB, [0, 4, 0, 0]);
});
