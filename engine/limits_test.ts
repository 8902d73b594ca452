// The table estimate made before a run (engine/limits.ts), and RAM bounding page-table memory the
// way the kernel does: a table allocation the frames cannot satisfy ends the fault with
// VM_FAULT_OOM.
import { configFor, CONFIGS, findConfig } from "../archs/registry.ts";
import { generate } from "../fuzz/gen.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import {
  BYTES_PER_TABLE,
  checkTableLimit,
  DEFAULT_MAX_TABLES,
  estimateTables,
  MM_TABLES,
  ramTableCapacity,
  tableLimitMessage,
  tablesPerFrame,
} from "./limits.ts";
import { Run } from "./run.ts";
import type { Op } from "./types.ts";

const K = 1024n, M = 1024n * K, G = 1024n * M, T = 1024n * G;
const A = 0x1000_0000_0000n; // 16 TiB

/** The workload: 128 TiB mapped and touched at one page per MiB (one per PTE table). */
function huge(size = 128n * T, step = M): Op[] {
  return [
    { op: "mm", name: "a", line: 2, col: 1 },
    { op: "map", mm: "a", addr: A, size, line: 3, col: 1 },
    { op: "touch", mm: "a", addr: A, size, step, line: 4, col: 1 },
  ];
}

Deno.test("128 TiB on s390-5level: the estimate follows the geometry, capped by RAM", () => {
  const cfg = configFor("s390-5level"); // 64 GiB of RAM by default
  // 2 KiB PTE tables, two per 4 KiB frame; CRST tables are 16 KiB (order 2)
  assertEquals(tablesPerFrame(cfg), 2);
  assertEquals(ramTableCapacity(cfg), 2 * 16 * 2 ** 20);
  // with room for them all: a PTE table per MiB, a segment (PMD) table per 2 GiB, a region-3 (PUD)
  // table per 4 TiB, one region-2 (P4D) table for 16..144 TiB
  const big = { ...cfg, ramBytes: 2 ** 50 };
  assertEquals(estimateTables(huge(), big), MM_TABLES + 2 ** 27 + 2 ** 16 + 32 + 1);
  // 64 GiB holds 32 Mi 2 KiB tables at most: the touch can create no more
  assertEquals(estimateTables(huge(), cfg), MM_TABLES + 2 ** 25);
  const over = checkTableLimit(huge(), cfg)!;
  // simulator bytes: BYTES_PER_TABLE each, and an 8 KiB directory for a CRST table's 2048
  // entries; the touch's bytes are not capped (the CRST tables could fill RAM with more)
  const crst = BYTES_PER_TABLE + 4 * 2048;
  assertEquals(over, {
    limit: DEFAULT_MAX_TABLES,
    estimate: 2 ** 25,
    bytes: MM_TABLES * crst + 2 ** 27 * BYTES_PER_TABLE + (2 ** 16 + 32 + 1) * crst,
    kind: "tables",
    visits: MM_TABLES + 2 ** 25,
    line: 4,
    col: 1,
    op: "touch",
  });
  assertEquals(
    tableLimitMessage(over),
    "scenario needs about 33,554,432 page tables at once, more than --max-tables 8,388,608 (this touch " +
      "crosses it; raise --max-tables, lower the machine's ram, or touch fewer tables)",
  );
  // with 1 GiB of RAM it fits: at most 512 Ki tables
  const small = configFor("s390-5level", { ram: "1G" });
  assertEquals(checkTableLimit(huge(), small), null);
  assertEquals(estimateTables(huge(), small), MM_TABLES + 2 ** 19);
});

Deno.test("a touch one page per segment table is refused by its bytes, not its count", () => {
  // 4 PiB every 2 GiB on s390-5level: 2 Mi PTE tables, each with a segment table of its own,
  // whose 2048-entry directory costs 8 KiB: 17.8 GB of simulator memory for 4 Mi tables
  const cfg = configFor("s390-5level");
  const over = checkTableLimit(huge(4096n * T, 2n * G), cfg)!;
  assertEquals([over.estimate, over.kind, over.line], [
    MM_TABLES + 2 ** 22 + 2 ** 10 + 1,
    "bytes",
    4,
  ]);
  assertEquals(
    tableLimitMessage(over),
    "scenario needs about 4,195,341 page tables at once, taking about 16,937 MiB of simulator memory " +
      "(upper-level tables hold a directory each), more than --max-tables 8,388,608 allows " +
      "(1,088 MiB; this touch crosses it; raise --max-tables, lower the machine's ram, or touch " +
      "fewer tables)",
  );
});

Deno.test("128 TiB on s390-5level with 1 GiB of RAM: the frames run out, one VM_FAULT_OOM", () => {
  const cfg = configFor("s390-5level", { ram: "1G" });
  const run = new Run(cfg, findConfig("s390-5level")!.backend, 1);
  for (const op of huge()) run.step(op);
  const k = run.k, mm = k.mms.get("a")!;
  // 262144 frames: the region-1 root, region-2 and region-3 tables take 4 each (order 2); then
  // each segment table (4 frames) is followed by 2048 PTE tables in 1024 frames. 254 such rounds
  // and a 255th segment table leave 1016 frames: 2032 PTE tables, and the 2033rd of that
  // segment finds no frame (mm/memory.c __pte_alloc -> VM_FAULT_OOM).
  const frames = 2 ** 18;
  assertEquals(k.frames.total, frames);
  const pmds = 255, ptes = 254 * 2048 + (frames - 12 - 255 * 4 - 254 * 1024) * 2;
  assertEquals(ptes, 522224);
  assertEquals(mm.tables, [1, 1, 1, pmds, ptes]);
  assertEquals(k.frames.used, frames); // every frame holds page tables
  assertEquals(k.ooms, 1);
  assertEquals(k.events.map((e) => [e.kind, e.line, e.detail]), [
    ["VM_FAULT_OOM", 4, `a fault at 0x${(A + BigInt(ptes) * M).toString(16)}`],
  ]);
  // the touch stopped there: one page per PTE table, the counters as the ctors left them
  assertEquals(mm.rssPages, ptes);
  assertEquals(mm.pgtablesBytes, ptes * 2048 + pmds * 16384 + 16384); // pte, pmd, counted pud
  assertEquals(k.nrPagetable, ptes / 2 + pmds * 4); // a PTE page once, a CRST segment table 4
  assert(estimateTables(huge(), cfg) >= k.pool.created);
  // the simulator's arrays are sized to the tables, not beyond the machine's frames
  assert(k.frames.capacity <= frames);
  assert(k.pool.frameRefs.length <= frames);
});

Deno.test("the frame arrays grow with the tables, not with RAM: 4 TiB holds a few tables", () => {
  const cfg = configFor("x86_64-4level", { ram: "4T" });
  const run = new Run(cfg, findConfig("x86_64-4level")!.backend, 1);
  for (const op of huge(4n * G, 2n * M)) run.step(op);
  assertEquals(run.k.frames.total, 2 ** 30);
  assertEquals(run.k.mms.get("a")!.tables, [1, 0, 1, 4, 2048]);
  assert(run.k.frames.capacity < 2 ** 16, `capacity ${run.k.frames.capacity}`);
});

Deno.test("a step shorter than a table costs a table, and the estimate does not change", () => {
  // 4 GiB touched every 8 KiB on x86_64-4level: 2048 PTE tables with 256 pages each
  const cfg = configFor("x86_64-4level");
  const ops = huge(4n * G, 8n * K);
  const run = new Run(cfg, findConfig("x86_64-4level")!.backend, 1);
  for (const op of ops) run.step(op);
  const mm = run.k.mms.get("a")!;
  assertEquals(mm.tables, [1, 0, 1, 4, 2048]);
  assertEquals(mm.rssPages, 2048 * 256);
  assertEquals(estimateTables(ops, cfg), MM_TABLES + 2048 + 4 + 1);
  assertEquals(estimateTables(huge(4n * G, 2n * M), cfg), MM_TABLES + 2048 + 4 + 1);
  // one page per 4 MiB: every other PTE table
  assertEquals(estimateTables(huge(4n * G, 4n * M), cfg), MM_TABLES + 1024 + 4 + 1);
});

Deno.test("the estimate counts only mapped pages, forks by the parent's tables, maps nothing", () => {
  const cfg = configFor("x86_64-4level");
  const op = (o: Record<string, unknown>, line: number) => ({ line, col: 3, ...o }) as Op;
  const ops: Op[] = [
    op({ op: "mm", name: "a" }, 1),
    op({ op: "map", mm: "a", addr: A, size: 4n * M }, 2),
    // 1 TiB touched, 4 MiB of it mapped: 2 PTE tables, 1 PMD, 1 PUD
    op({ op: "touch", mm: "a", addr: A, size: T, step: 4n * K }, 3),
    op({ op: "fork", mm: "a", child: "b" }, 4),
    op({ op: "unmap", mm: "a", addr: A, size: 4n * M }, 5),
    op({ op: "touch", mm: "a", addr: A, size: 4n * M, step: 4n * K }, 6), // unmapped now
    op({ op: "exit", mm: "b" }, 7),
  ];
  const parent = MM_TABLES + 4;
  assertEquals(estimateTables(ops, cfg), parent + (MM_TABLES + parent));
  // a limit of 16 tables: the first mm's bytes (its tables at the pgd's price) cross it already
  assertEquals(checkTableLimit(ops, cfg, parent)!.line, 1);
  // bytes: PUD and PMD tables hold a 512-entry directory, the mm's tables are taken at the
  // dearest (the pgd's); the fork copies the parent's bytes, bounded by what covers its mappings
  const upper = BYTES_PER_TABLE + 4 * 512;
  const parentBytes = MM_TABLES * upper + 2 * BYTES_PER_TABLE + 2 * upper;
  // alive at once: the child's tables, like the parent's, are at most those covering its
  // mappings and its own MM_TABLES (the fork's bound above also counts a pgd_alloc's extras)
  const bytes = 2 * parentBytes;
  assertEquals(checkTableLimit(ops, cfg, 300), {
    limit: 300,
    estimate: 2 * parent,
    bytes,
    kind: "bytes",
    visits: parent + MM_TABLES + parent,
    line: 4,
    col: 3,
    op: "fork",
  });
  assertEquals(checkTableLimit(ops, cfg, Math.ceil(bytes / BYTES_PER_TABLE)), null);
});

Deno.test("the estimate bounds the tables every configuration creates (fuzzed scenarios)", () => {
  for (const spec of CONFIGS) {
    const resolve = (o: Record<string, string>) => configFor(spec.name, o);
    const sites = ["pagetable_alloc"];
    for (let seed = 1; seed <= 12; seed++) {
      const sc = generate(seed * 7919, { resolve, thpAvailable: spec.thpAvailable, sites });
      const cfg = resolve(sc.options);
      const ops: Op[] = [];
      sc.actions.forEach((a, i) => {
        const at = { line: i + 1, col: 1 };
        if (a.k === "dontneed") {
          ops.push({
            ...at,
            op: "madvise",
            mm: a.mm,
            advice: "dontneed",
            addr: a.addr,
            size: a.size,
          });
        } else if (a.k === "advise") {
          ops.push(
            { ...at, op: "madvise", mm: a.mm, advice: a.advice, addr: a.addr, size: a.size } as Op,
          );
        } else if (a.k === "mremap") {
          ops.push({
            ...at,
            op: "mremap",
            mm: a.mm,
            addr: a.addr,
            size: a.size,
            newAddr: a.to,
            newSize: a.size,
          });
        } else if (a.k !== "check") {
          const { k: kind, ...rest } = a;
          ops.push({ ...at, op: kind, ...rest } as unknown as Op);
        }
      });
      const run = new Run(cfg, spec.backend, sc.cpus);
      for (const o of ops) run.step(o);
      const est = estimateTables(ops, cfg);
      assert(
        est >= run.k.pool.created,
        `${spec.name} seed ${seed * 7919}: estimate ${est} < ${run.k.pool.created} created`,
      );
    }
  }
});

Deno.test("the default limit keeps the worst case near 1 GB of simulator memory", () => {
  assertEquals(DEFAULT_MAX_TABLES, 8 * 2 ** 20);
  assert(DEFAULT_MAX_TABLES * BYTES_PER_TABLE < 1.2e9);
});

Deno.test("a page touched again and again: the tables alive stay 3, the walks' work grows", () => {
  // 5,000,000 touches of one page were refused as "15 million page tables, 21 GiB"; the tables
  // alive are bounded by what covers the mappings, the visits by WORK_FACTOR x --max-tables
  const cfg = configFor("x86_64-4level");
  const ops: Op[] = [
    { op: "mm", name: "a", line: 1, col: 1 },
    { op: "map", mm: "a", addr: A, size: 4n * K, line: 2, col: 1 },
  ];
  for (let i = 1; i <= 1000; i++) {
    ops.push({ op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K, line: 2 + i, col: 1 });
  }
  // every touch walks a PUD, a PMD and a PTE table
  assertEquals(estimateTables(ops, cfg), MM_TABLES + 3000);
  assertEquals(checkTableLimit(ops, cfg, 1100), null);
  // alive at once: MM_TABLES + 3 = 15, within 300; the 397th touch takes the visits (12 + 3 x
  // 397 = 1203) past 4 x 300
  const over = checkTableLimit(ops, cfg, 300)!;
  assertEquals([over.kind, over.estimate, over.visits, over.line], ["work", 15, 3012, 399]);
  assertEquals(
    tableLimitMessage(over),
    "scenario walks about 3,012 page tables (a table touched again counts again), more than 4 x " +
      "--max-tables 300 (this touch crosses it; raise --max-tables, lower the machine's ram, or " +
      "touch fewer tables)",
  );
});
