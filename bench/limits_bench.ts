// Unbounded work, bounded: the 128 TiB touched at one page per MiB on s390-5level.
// - refused before it runs on the default 64 GiB machine (the estimate, microseconds);
// - run with `ram = 1G`, it creates 522,224 PTE tables until the frames run out and the fault
//   returns VM_FAULT_OOM (mm/memory.c __pte_alloc);
// - a step shorter than a table (every 8 KiB) costs per table, not per page.
// Then the simulator memory per live table (heap + typed arrays) on s390-5level and
// x86_64-4level, the figure engine/limits.ts BYTES_PER_TABLE rounds up.
import { configFor, findConfig } from "../archs/registry.ts";
import { checkTableLimit } from "../engine/limits.ts";
import { Run } from "../engine/run.ts";
import type { Op } from "../engine/types.ts";

const A = 0x1000_0000_0000n;
const K = 1n << 10n, M = 1n << 20n, G = 1n << 30n, T = 1n << 40n;
const ops = (size: bigint, step: bigint): Op[] => [
  { op: "mm", name: "a", line: 1, col: 1 },
  { op: "map", mm: "a", addr: A, size, line: 2, col: 1 },
  { op: "touch", mm: "a", addr: A, size, step, line: 3, col: 1 },
];

function run(arch: string, o: Op[], options: Record<string, string> = {}): Run {
  const r = new Run(configFor(arch, options), findConfig(arch)!.backend, 1);
  for (const op of o) r.step(op);
  return r;
}

const s390 = configFor("s390-5level");
const huge = ops(128n * T, M);

Deno.bench("estimate 128 TiB every 1 MiB on s390-5level (refused: 33,554,444 > 8 Mi)", () => {
  if (!checkTableLimit(huge, s390)) throw new Error("not refused");
});

Deno.bench("128 TiB every 1 MiB on s390-5level, ram = 1G: 522,224 PTE tables, then OOM", () => {
  const r = run("s390-5level", huge, { ram: "1G" });
  if (r.k.ooms !== 1) throw new Error("no OOM");
});

Deno.bench("4 GiB every 8 KiB on x86_64-4level: 2,048 PTE tables of 256 pages each", () => {
  run("x86_64-4level", ops(4n * G, 8n * K));
});

Deno.bench("1 TiB every 8 KiB on x86_64-4level: 524,288 PTE tables of 256 pages each", () => {
  run("x86_64-4level", ops(T, 8n * K));
});

// Memory per live table, with a garbage collection before each reading when
// --v8-flags=--expose-gc is given (`./ptlab task bench` does).
const gc = (globalThis as { gc?: () => void }).gc;
function used(): number {
  gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}
for (
  const [arch, size, step] of [["s390-5level", 4n * T, M], ["x86_64-4level", T, 2n * M]] as const
) {
  const before = used();
  const r = run(arch, ops(size, step));
  const tables = r.k.pool.live;
  console.log(
    `${arch}: ${((used() - before) / tables).toFixed(1)} bytes per live table (${tables} tables${
      gc ? "" : "; run with --v8-flags=--expose-gc for a collected reading"
    })`,
  );
}
