// Shared, file-backed and read faults (mm/memory.c do_read_fault / do_shared_fault /
// do_cow_fault / do_anonymous_page, mm/filemap.c filemap_map_pages, mm/shmem.c), the RSS
// counters they move, and what fork copies of them (vma_needs_copy). Figures for x86_64-4level,
// 4 KiB pages: fault_around_pages = 64 KiB / 4 KiB = 16.
import { configFor, findConfig } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { Run } from "./run.ts";
import type { MmFigures, Op } from "./types.ts";

const K = 1024n, M = 1024n * K;
const A = 0x7f00_0000_0000n;

function play(ops: Record<string, unknown>[], opts: Record<string, string> = {}, kernel = "6.6") {
  const cfg = configFor("x86_64-4level", { kernel, ...opts });
  const run = new Run(cfg, findConfig("x86_64-4level")!.backend, 1);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

/** The figures of `mm` at the end, in pages (rss) and tables. */
function figures(m: MmFigures): Record<string, number> {
  return {
    pte: m.tables.pte,
    anon: m.rss_anon / 4096,
    shmem: m.rss_shmem / 4096,
    rss: m.rss / 4096,
    vmas: m.vmas,
  };
}

const snap = { op: "snapshot", label: "s" };

Deno.test("anonymous read: the zero page, a PTE table, no RSS; the write after it COWs", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 4n * K, read: true },
    snap,
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals(figures(r.snapshots[0].mms.a), { pte: 1, anon: 0, shmem: 0, rss: 0, vmas: 1 });
  // wp_page_copy of 16 zero-page entries: 16 anonymous pages
  assertEquals(figures(r.snapshots[1].mms.a), { pte: 1, anon: 16, shmem: 0, rss: 16, vmas: 1 });
  assertEquals(r.violations, []);
});

Deno.test("shared anonymous memory: writes count as RssShmem; fork does not copy its tables", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M, shared: true },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 4n * K },
    { op: "fork", mm: "a", child: "b" },
    snap,
    // the child's first touch: its own PTE table; the pages are the shmem object's already
    { op: "touch", mm: "b", addr: A, size: 2n * M, step: 4n * K, read: true },
    snap,
    { op: "exit", mm: "b" },
    { op: "exit", mm: "a" },
  ]);
  assertEquals(figures(r.snapshots[0].mms.a), { pte: 1, anon: 0, shmem: 512, rss: 512, vmas: 1 });
  // vma_needs_copy: no anon_vma, nothing copied
  assertEquals(figures(r.snapshots[0].mms.b), { pte: 0, anon: 0, shmem: 0, rss: 0, vmas: 1 });
  assertEquals(figures(r.snapshots[1].mms.b), { pte: 1, anon: 0, shmem: 512, rss: 512, vmas: 1 });
  assertEquals(r.violations, []);
});

Deno.test("fault-around: a read of one page of a cached file maps its 16-page block", () => {
  const r = play([
    { op: "file", name: "f", size: 4n * M },
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M, backing: "f" },
    // one page in the middle of a block: the block [16, 32) is mapped
    { op: "touch", mm: "a", addr: A + 20n * 4n * K, size: 4n * K, step: 4n * K, read: true },
    snap,
    // pages 0 and 600 (another table): 2 more blocks
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K, read: true },
    { op: "touch", mm: "a", addr: A + 600n * 4n * K, size: 4n * K, step: 4n * K, read: true },
    snap,
    // a write to a read page of the private mapping: do_wp_page copies it (RssShmem to RssAnon)
    { op: "touch", mm: "a", addr: A + 20n * 4n * K, size: 4n * K, step: 4n * K },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals(figures(r.snapshots[0].mms.a), { pte: 1, anon: 0, shmem: 16, rss: 16, vmas: 1 });
  assertEquals(figures(r.snapshots[1].mms.a), { pte: 2, anon: 0, shmem: 48, rss: 48, vmas: 1 });
  assertEquals(figures(r.snapshots[2].mms.a), { pte: 2, anon: 1, shmem: 47, rss: 48, vmas: 1 });
  assertEquals(r.violations, []);
});

Deno.test("fault-around stops at the VMA: a file mapped from page 4 maps 12 pages of block 0", () => {
  const r = play([
    { op: "file", name: "f", size: 4n * M },
    { op: "mm", name: "a" },
    // a VMA starting at virtual page 4 of the table: the window is clamped to it
    { op: "map", mm: "a", addr: A + 16n * K, size: 1n * M, backing: "f", offset: 16n * K },
    { op: "touch", mm: "a", addr: A + 16n * K, size: 4n * K, step: 4n * K, read: true },
    snap,
    { op: "exit", mm: "a" },
  ]);
  assertEquals(figures(r.snapshots[0].mms.a).shmem, 12);
});

Deno.test("fresh shared anonymous memory: a read maps only the faulting page (nothing cached)", () => {
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M, shared: true },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 64n * K, read: true },
    snap,
    // now 32 pages are cached, one per block: a second process's read of the whole range maps
    // them all, fault-around or not
    { op: "mm", name: "b" },
    { op: "exit", mm: "a" },
  ]);
  assertEquals(figures(r.snapshots[0].mms.a), { pte: 1, anon: 0, shmem: 32, rss: 32, vmas: 1 });
});

Deno.test("a private file mapping with a written page is copied at fork, read pages stay file pages", () => {
  const r = play([
    { op: "file", name: "f", size: 4n * M },
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * M, backing: "f" },
    { op: "touch", mm: "a", addr: A, size: 4n * M, step: 4n * K, read: true },
    { op: "fork", mm: "a", child: "b" },
    snap,
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "fork", mm: "a", child: "c" },
    snap,
    { op: "exit", mm: "c" },
    { op: "exit", mm: "b" },
    { op: "exit", mm: "a" },
  ]);
  // read only: no anon_vma, fork copies nothing
  assertEquals(figures(r.snapshots[0].mms.b), { pte: 0, anon: 0, shmem: 0, rss: 0, vmas: 1 });
  // one page written: anon_vma, copy_pte_range copies all 1024 entries (1 anon, 1023 file)
  assertEquals(figures(r.snapshots[1].mms.c), {
    pte: 2,
    anon: 1,
    shmem: 1023,
    rss: 1024,
    vmas: 1,
  });
  assertEquals(r.violations, []);
});

Deno.test("THP read: the huge zero page with a deposited table; a write replaces it by version", () => {
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K, read: true },
    snap,
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    snap,
    { op: "exit", mm: "a" },
  ];
  const old = play(ops, { thp: "on" }, "6.12");
  // set_huge_zero_folio: a deposited PTE table (mm_inc_nr_ptes), no RSS
  assertEquals(figures(old.snapshots[0].mms.a), { pte: 1, anon: 0, shmem: 0, rss: 0, vmas: 1 });
  assertEquals(old.snapshots[0].mms.a.vmpte, 12288);
  // up to 6.12 the write splits the huge zero PMD and COWs one page
  assertEquals(figures(old.snapshots[1].mms.a), { pte: 1, anon: 1, shmem: 0, rss: 1, vmas: 1 });
  // from 6.13 do_huge_zero_wp_pmd maps a THP
  const now = play(ops, { thp: "on" }, "6.18");
  assertEquals(figures(now.snapshots[1].mms.a), { pte: 1, anon: 512, shmem: 0, rss: 512, vmas: 1 });
  assertEquals([old.violations, now.violations], [[], []]);
  assertEquals([old.final.metrics.leaks, now.final.metrics.leaks], [0, 0]);
});

Deno.test("wp_page_copy flushes each page it replaces, with IPIs to the mm's other CPUs", () => {
  // mm/memory.c wp_page_copy: ptep_clear_flush -> flush_tlb_page per replaced entry; on x86
  // flush_tlb_mm_range(freed_tables = false) interrupts the other CPUs in mm_cpumask
  const cfg = configFor("x86_64-4level", { kernel: "6.6" });
  const run = new Run(cfg, findConfig("x86_64-4level")!.backend, 2);
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "run", mm: "a", cpus: [0, 1] },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 2n * M, step: 4n * K, read: true },
    snap,
    // 16 zero-page entries replaced: 16 flushes, one IPI each to CPU 1
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
    snap,
    // the same pages again: already the mm's own, no COW, no flush
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
    snap,
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  const r = run.finish(ops.length);
  const s = r.snapshots.map((x) => [x.metrics.tlb_flushes, x.metrics.ipis]);
  assertEquals([s[1][0] - s[0][0], s[1][1] - s[0][1]], [16, 16]);
  assertEquals(s[2], s[1]);
});

Deno.test("after fork the first writer of a shared anonymous page copies it, the last reuses it", () => {
  // mm/memory.c: copy_present_pte write-protects each anonymous page in parent and child; a
  // write faults into do_wp_page: wp_page_copy (ptep_clear_flush -> flush_tlb_page) while
  // another process maps the page, wp_page_reuse (no flush) once it is the only mapping
  const r = play([
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 2n * M },
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
    { op: "fork", mm: "a", child: "b" },
    { op: "fork", mm: "a", child: "c" },
    snap,
    // the child writes 8 of the 16 pages (3 mappings each): 8 copies, 8 flushes
    { op: "touch", mm: "b", addr: A, size: 32n * K, step: 4n * K },
    snap,
    // the parent writes all 16: still shared with c, 16 copies
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 4n * K },
    snap,
    // c: pages 0..7 it maps alone now (reused, no flush), 8..15 it shares with b (8 copies)
    { op: "touch", mm: "c", addr: A, size: 64n * K, step: 4n * K },
    snap,
    // b: 0..7 are its own copies (no fault), 8..15 its last mappings of the originals (reused)
    { op: "touch", mm: "b", addr: A, size: 64n * K, step: 4n * K },
    snap,
    { op: "exit", mm: "b" },
    { op: "exit", mm: "c" },
    { op: "exit", mm: "a" },
  ]);
  const f = r.snapshots.map((x) => x.metrics.tlb_flushes);
  assertEquals([f[1] - f[0], f[2] - f[1], f[3] - f[2], f[4] - f[3]], [8, 16, 8, 0]);
  for (const m of ["a", "b", "c"]) {
    assertEquals(figures(r.snapshots[4].mms[m]), { pte: 1, anon: 16, shmem: 0, rss: 16, vmas: 1 });
  }
  assertEquals(r.violations, []);
  assertEquals(r.final.metrics.leaks, 0);
});
