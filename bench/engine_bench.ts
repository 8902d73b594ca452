// Engine speed and memory: 1 TiB touched at one page per 2 MiB (524,288 PTE tables) and
// unmapped on x86_64-4level. Target: under 1 s; under 200 bytes of heap per live table.
import { configFor, findConfig, Run } from "../mod.ts";
import type { Op } from "../mod.ts";

const A = 0x1000_0000_0000n;
const T = 1n << 40n, M2 = 2n << 20n;
const ops = (unmap: boolean): Op[] => [
  { op: "mm", name: "a", line: 1, col: 1 },
  { op: "map", mm: "a", addr: A, size: T, line: 2, col: 1 },
  { op: "touch", mm: "a", addr: A, size: T, step: M2, line: 3, col: 1 },
  ...(unmap ? [{ op: "unmap", mm: "a", addr: A, size: T, line: 4, col: 1 } as Op] : []),
];

function machine(): Run {
  return new Run(configFor("x86_64-4level"), findConfig("x86_64-4level")!.backend, 1);
}

Deno.bench("touch 1 TiB at one page per 2 MiB, then unmap it (524,288 PTE tables)", () => {
  const r = machine();
  for (const o of ops(true)) r.step(o);
});

Deno.bench("touch 1 TiB at one page per 2 MiB (524,288 PTE tables)", () => {
  const r = machine();
  for (const o of ops(false)) r.step(o);
});

// Memory per live table: heap and typed-array (external) bytes after the touch, over the tables
// alive, with a garbage collection before each reading when --v8-flags=--expose-gc is given.
const gc = (globalThis as { gc?: () => void }).gc;
function used(): number {
  gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}
const before = used();
const r = machine();
for (const o of ops(false)) r.step(o);
const tables = r.k.pool.live;
const perTable = (used() - before) / tables;
console.log(
  `heap per live table: ${perTable.toFixed(1)} bytes (${tables} tables${
    gc ? "" : "; run with --v8-flags=--expose-gc for a collected reading"
  })`,
);
