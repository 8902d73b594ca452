// Many processes sharing one file: 64 processes each map the same 64 GiB tmpfs file shared and
// touch every page of it, on x86_64-4level (64 x 32,768 PTE tables, 64 x 64 PMD tables). Every
// process builds its own tables (__pte_alloc per process: nothing shares PTE tables of a tmpfs
// file), so the engine makes 2.1 million tables. The README records its time and memory.
import { runScenario } from "../mod.ts";

const source = `
param procs = 64
param region = 64G
arch x86_64-4level { ram = 1T }
file db size region
let base = 0x1000_0000_0000
repeat i in 0..procs {
  mm p[i]
  map p[i] base size region shared file db
  touch p[i] base size region
}
# a PTE table per 2 MiB, a PMD table per 1 GiB and one PUD table per process
expect total_vmpte == procs * (region / PMD_SIZE + region / PUD_SIZE + 1) * PAGE_SIZE
expect p[0].rss_shmem == region
`;

function run(): void {
  const o = runScenario(source, { file: "shared_bench", maxTables: 8_000_000 });
  if (o.exitCode !== 0) {
    throw new Error(`The scenario failed: ${JSON.stringify(o.diagnostics.slice(0, 3))}`);
  }
}

Deno.bench("64 processes x 64 GiB shared tmpfs file, every page touched (2.1M tables)", {
  n: 3,
}, run);

// Memory: heap and typed-array (external) bytes at the peak, read after one run with the run's
// results still alive (collected first when --v8-flags=--expose-gc is given).
const gc = (globalThis as { gc?: () => void }).gc;
const used = () => {
  gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
const before = used();
const kept = runScenario(source, { file: "shared_bench", maxTables: 8_000_000 });
console.log(
  `64 x 64 GiB shared: ${((used() - before) / 2 ** 20).toFixed(0)} MiB after the run, ` +
    `rss ${(Deno.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, ${kept.runs.length} run`,
);
