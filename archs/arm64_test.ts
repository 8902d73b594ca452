// Exact figures of the arm64 configurations, each worked out from the kernel rule cited.
import { assert, assertEquals } from "../testing/assert.ts";
import { assertClean, byVersion, CLEAN, everyKernel, G, K, M, Sim, T, traced } from "./_testing.ts";
import { configFor } from "./registry.ts";

const A = 0x4000_0000n; // 1 GiB: aligned for every table size, inside every VA size (36 bits up)

/** A traced run ({@link traced}) to its end; returns the kernel calls in order. */
function tracedCalls(
  name: string,
  options: Record<string, string>,
  ops: Record<string, unknown>[],
) {
  const r = traced(name, options, ops).finish(ops.length);
  return r.trace!.map((t) => `${t.fn} ${t.detail ?? ""}`);
}

/** PAGE_SIZE of a configuration. */
const page = (name: string) => 1n << BigInt(configFor(name).pageShift);

// Per configuration: PGDIR_SHIFT, PTRS_PER_PGD, levels present (pgd first), PGD_SIZE from a
// kmem_cache (0: a page), VmPTE of one page in a fresh region. Level shift n is
// (PAGE_SHIFT - 3) * (4 - n) + 3, PGDIR_SHIFT that of level 4 - CONFIG_PGTABLE_LEVELS, and
// PTRS_PER_PGD = 1 << (VA_BITS - PGDIR_SHIFT) (arch/arm64/include/asm/pgtable-hwdef.h); each
// table below the pgd is a page of PAGE_SIZE / 8 entries, counted PTRS_PER_X * 8 = PAGE_SIZE.
const GEOMETRY: Record<string, [number, number, string[], number, number]> = {
  "arm64-4k-39": [30, 512, ["pgd", "pmd", "pte"], 0, 2 * 4096],
  "arm64-4k-48": [39, 512, ["pgd", "pud", "pmd", "pte"], 0, 3 * 4096],
  "arm64-16k-36": [25, 2048, ["pgd", "pte"], 0, 16384],
  "arm64-16k-47": [36, 2048, ["pgd", "pmd", "pte"], 0, 2 * 16384],
  "arm64-16k-48": [47, 2, ["pgd", "pud", "pmd", "pte"], 16, 3 * 16384],
  "arm64-64k-42": [29, 8192, ["pgd", "pte"], 0, 65536],
  "arm64-64k-48": [42, 64, ["pgd", "pmd", "pte"], 512, 2 * 65536],
  "arm64-64k-52": [42, 1024, ["pgd", "pmd", "pte"], 8192, 2 * 65536],
};

Deno.test("arm64: the geometry of every granule and VA size", () => {
  for (const [name, [pgdirShift, ptrsPerPgd, present, cache]] of Object.entries(GEOMETRY)) {
    const c = configFor(name);
    assertEquals(c.levels[0].shift, pgdirShift, name);
    assertEquals(c.levels[0].entries, ptrsPerPgd, name);
    assertEquals(
      c.levels.filter((l, i) => i === 0 || l.folded === "none").map((l) => l.name),
      present,
      name,
    );
    assertEquals(c.levels[0].tableBytes, ptrsPerPgd * 8, name);
    assertEquals(c.taskSize, 1n << BigInt(Number(name.split("-")[2])), name); // TASK_SIZE_64
    for (const l of c.levels.slice(1)) {
      if (l.folded === "none") assertEquals(l.pgtablesBytes, 2 ** c.pageShift, name);
      else assertEquals(l.folded, "compile", name); // no LPA2: CONFIG_PGTABLE_LEVELS folds
    }
    // pgd_alloc: a page when PGD_SIZE == PAGE_SIZE, else kmem_cache "pgd_cache" (size = align
    // = PGD_SIZE), GFP_PGTABLE_USER (memcg-accounted) either way (arch/arm64/mm/pgd.c)
    const s = new Sim(name).mm("a");
    assertEquals(s.run.k.caches.has("pgd_cache"), cache > 0, name);
    if (cache) assertEquals(s.run.k.caches.get("pgd_cache")!.size, cache, name);
    const pgd = Math.floor(s.run.k.pool.mem[s.run.k.mms.get("a")!.pgd] / 256);
    assertEquals(s.run.k.frames.memcg[pgd], 1, name);
    assertEquals(s.sys.pagetable_frames, 1, name); // the pgd page, or the slab page
    assertEquals(s.fig("a").vmpte, 0, name); // no preallocation; the pgd is never counted
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64 6.6: one page in a fresh region costs one table per level", () => {
  // __pud_alloc / __pmd_alloc / __pte_alloc each add PAGE_SIZE (mm_inc_nr_*); in 6.6 only the
  // pte and pmd ctors count in NR_PAGETABLE (pagetable_pud_ctor arrived in 6.7); split PTE and
  // (PGTABLE_LEVELS > 2) PMD ptlocks
  for (const [name, [, , present, , vmpte]] of Object.entries(GEOMETRY)) {
    const s = new Sim(name).mm("a").map("a", A, 2n * page(name)).touch(
      "a",
      A,
      page(name),
      page(name),
    );
    assertEquals(s.fig("a").vmpte, vmpte, name);
    const has = (l: string) => present.includes(l) ? 1 : 0;
    assertEquals(
      s.fig("a").tables,
      { pgd: 1, p4d: 0, pud: has("pud"), pmd: has("pmd"), pte: 1 },
      name,
    );
    assertEquals(s.sys.nr_page_table_pages, 1 + has("pmd"), name);
    assertEquals(s.sys.ptlocks, 1 + has("pmd"), name);
    assertEquals(s.sys.pagetable_frames, 1 + present.length - 1, name);
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64: a region the size of one PTE table", () => {
  // a PTE table maps PAGE_SIZE / 8 pages: 2 MiB (4K), 32 MiB (16K), 512 MiB (64K)
  for (
    const [name, span] of [["arm64-4k-48", 2n * M], ["arm64-16k-36", 32n * M], [
      "arm64-64k-48",
      512n * M,
    ]] as const
  ) {
    const s = new Sim(name).mm("a").map("a", A, span).touch("a", A, span, page(name));
    assertEquals(s.fig("a").tables.pte, 1, name);
    assertEquals(s.fig("a").vmpte, GEOMETRY[name][4], name);
    assertEquals(BigInt(s.fig("a").rss), span, name);
    s.unmap("a", A, span);
    assertEquals(s.fig("a").vmpte, 0, name);
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64-4k-48: 1 GiB at one page per 2 MiB; the table batch fills at 509", () => {
  // 512 PTE tables + 1 PMD + 1 PUD, 4096 each; NR_PAGETABLE 6.6: PTEs and the PMD
  const s = new Sim("arm64-4k-48").mm("a").on("a", 0, 1, 2, 3);
  s.map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").vmpte, (512 + 1 + 1) * 4096);
  assertEquals(s.sys.nr_page_table_pages, 513);
  assertEquals(s.sys.pagetable_frames, 1 + 514);
  // munmap: tlb_end_vma flushes (no MMU_GATHER_MERGE_VMAS); free_pgtables hands 514 tables to
  // tlb_remove_table, MAX_TABLE_BATCH = (4096 - 16 - 8) / 8 = 509: the 509th flushes at once
  // (tlb_table_invalidate: tlb_needs_table_invalidate() is true) and goes to call_rcu; the
  // last 5 go at tlb_finish_mmu's flush. TLBI ...IS broadcasts: no IPI to CPUs 1-3
  s.unmap("a", A, G);
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm64: munmap of every other page frees nothing", () => {
  // each munmap leaves neighbours in the same PMD slot: floor and ceiling keep the tables
  for (const name of ["arm64-4k-39", "arm64-64k-48"]) {
    const p = page(name);
    const s = new Sim(name).mm("a").map("a", A, 16n * p).touch("a", A, 16n * p, p);
    for (let i = 0n; i < 16n; i += 2n) s.unmap("a", A + i * p, p);
    assertEquals(s.fig("a").vmpte, GEOMETRY[name][4], name);
    assertEquals(BigInt(s.fig("a").rss), 8n * p, name);
    for (let i = 1n; i < 16n; i += 2n) s.unmap("a", A + i * p, p);
    assertEquals(s.fig("a").vmpte, 0, name); // the last one had no neighbour left
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64-16k-47: fork copies every table, and flush_tlb_mm(oldmm) sends no IPI", () => {
  // 64 MiB at one page per 32 MiB: 2 PTE tables + 1 PMD of 16 KiB each; the child gets the
  // same (copy_page_range); dup_mmap's flush_tlb_mm is a TLBI ASIDE1IS broadcast
  const s = new Sim("arm64-16k-47").mm("a").on("a", 0, 1, 2);
  s.map("a", A, 64n * M).touch("a", A, 64n * M, 32n * M);
  assertEquals(s.fig("a").vmpte, 3 * 16384);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 3 * 16384);
  assertEquals(s.fig("b").rss, 2 * 16384);
  assertEquals(s.sys.nr_page_table_pages, 6);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("arm64: pages in two pgd entries need two upper-level tables", () => {
  // 4k-48: PGDIR_SHIFT 39, a PUD per 512 GiB; 16k-48: PGDIR_SHIFT 47, a 2-entry pgd (16 bytes
  // from pgd_cache) and a PUD per 128 TiB
  for (const [name, B] of [["arm64-4k-48", A + 512n * G], ["arm64-16k-48", 128n * T]] as const) {
    const p = page(name);
    const s = new Sim(name).mm("a").map("a", A, p).map("a", B, p).touch("a", A, p, p);
    s.touch("a", B, p, p);
    assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 2, pte: 2 }, name);
    assertEquals(BigInt(s.fig("a").vmpte), 6n * p, name);
    s.unmap("a", B, p); // the PUD of the other pgd entry goes too (floor = A's VMA end)
    assertEquals(BigInt(s.fig("a").vmpte), 3n * p, name);
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64: tlb_flush at exit invalidates only when tables were freed", () => {
  // fullmm: "we only care about invalidating the walk-cache", so flush_tlb_mm if freed_tables,
  // else nothing (arch/arm64/include/asm/tlb.h). 80 MiB = 20480 pages overflow the page batch
  // (8 + 19 x 510 = 9698) twice: those forced tlb_flush_mmu calls invalidate nothing at exit,
  // but do at munmap, where tlb_end_vma and tlb_finish_mmu flush as well
  const e = new Sim("arm64-4k-48").mm("a").map("a", A, 80n * M).touch("a", A, 80n * M);
  e.exit("a");
  assertEquals(e.sys.tlb_flushes, 1);
  assertClean(e);
  const u = new Sim("arm64-4k-48").mm("a").map("a", A, 80n * M).touch("a", A, 80n * M);
  u.unmap("a", A, 80n * M);
  assertEquals(u.sys.tlb_flushes, 4);
  // an mm whose VMAs were never written frees nothing and invalidates nothing at exit
  const n = new Sim("arm64-4k-48").mm("a").map("a", A, 80n * M).exit("a");
  assertEquals(n.sys.tlb_flushes, 0);
});

Deno.test("arm64: without a table batch page, tlb_remove_table_sync_one IPIs every CPU", () => {
  // tlb_remove_table: __get_free_page(GFP_NOWAIT) failed -> tlb_table_invalidate (a TLBI) +
  // tlb_remove_table_one: smp_call_function to all other online CPUs (3), waited, then
  // __tlb_remove_table at once (mm/mmu_gather.c); PTE, PMD and PUD tables: 3 x (1 flush + 3 IPIs)
  const s = new Sim("arm64-4k-48").mm("a").map("a", A, 4n * K).touch("a", A);
  s.run.k.addInject("tlb_remove_table", "every", 1);
  s.unmap("a", A, 4n * K);
  assertEquals(s.sys.tlb_flushes, 1 + 3); // tlb_end_vma + one tlb_table_invalidate per table
  assertEquals(s.sys.ipis, 9);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("arm64: pgd_cache objects share slab pages", () => {
  // 16k-48: PGD_SIZE 16 bytes, 1024 per 16 KiB slab page: two mms, one frame
  const s = new Sim("arm64-16k-48").mm("a").mm("b");
  assertEquals(s.sys.pagetable_frames, 1);
  assertEquals(s.run.k.caches.get("pgd_cache")!.inUse.size, 1);
  s.exit("a");
  assertEquals(s.sys.pagetable_frames, 1);
  s.exit("b");
  assertClean(s);
});

Deno.test("arm64: THP deposits a PTE table per PMD mapping", () => {
  // HAVE_ARCH_TRANSPARENT_HUGEPAGE, HPAGE_PMD_SIZE = PMD_SIZE: 2 MiB (4K), 512 MiB (64K);
  // __do_huge_pmd_anonymous_page: pte_alloc_one + deposit + mm_inc_nr_ptes (mm/huge_memory.c)
  for (const [name, hpage] of [["arm64-4k-48", 2n * M], ["arm64-64k-48", 512n * M]] as const) {
    const s = new Sim(name, { thp: "on" }).mm("a").map("a", A, 2n * hpage).touch(
      "a",
      A,
      page(name),
      page(name),
    );
    assertEquals(s.fig("a").vmpte, GEOMETRY[name][4], name);
    assertEquals(BigInt(s.fig("a").rss), hpage, name);
    s.exit("a");
    assertClean(s, name);
  }
  // 2 levels: the PMD is folded into the pgd, HPAGE_PMD_SIZE = PGDIR_SIZE (1 << 29 with 64K
  // pages, 1 << 25 with 16K): a block mapping in the pgd, and the same deposit
  for (const [name, hpage] of [["arm64-64k-42", 512n * M], ["arm64-16k-36", 32n * M]] as const) {
    const s = new Sim(name, { thp: "on" }).mm("a").map("a", A, 2n * hpage);
    s.touch("a", A, page(name), page(name));
    assertEquals(s.fig("a").vmpte, GEOMETRY[name][4], name);
    assertEquals(s.fig("a").tables.pte, 1, name); // the deposit
    assertEquals(BigInt(s.fig("a").rss), hpage, name);
    s.exit("a");
    assertClean(s, name);
  }
});

Deno.test("arm64: NR_PAGETABLE of one page per kernel version", () => {
  // 6.1/6.6: pte + pmd (6.1 counts +1 per table, the same here); 6.12: + pud
  // (pagetable_pud_ctor, 6.7); 6.18: + the pgd when it is a page (__pgd_alloc with
  // pagetable_pgd_ctor, 6.14), never a pgd_cache object
  const want: Record<string, Record<string, number>> = {
    "arm64-4k-39": { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 },
    "arm64-4k-48": { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 },
    "arm64-16k-36": { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    "arm64-16k-47": { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 },
    "arm64-16k-48": { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 3 },
    "arm64-64k-42": { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 },
    "arm64-64k-48": { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 2 },
    "arm64-64k-52": { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 2 },
  };
  for (const [name, nrPagetable] of Object.entries(want)) {
    assertEquals(byVersion(name, { page: page(name), addr: A }), {
      nrPagetable,
      vmpte: everyKernel(GEOMETRY[name][4]), // never changed
      exit: everyKernel(CLEAN),
    }, name);
  }
});

Deno.test("arm64: the dtor runs at __pte_free_tlb up to 6.13, after the grace period from 6.14", () => {
  // 6.6: __pte_free_tlb = pagetable_pte_dtor + tlb_remove_ptdesc; __tlb_remove_table =
  // free_page_and_swap_cache. 6.14 ("arm64: pgtable: move pagetable_dtor() to
  // __tlb_remove_table()"): tlb_remove_ptdesc only, the generic __tlb_remove_table runs
  // pagetable_dtor_free after call_rcu
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 4n * K },
    { op: "touch", mm: "a", addr: A, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: A, size: 4n * K },
  ];
  const at = (calls: string[], fn: string) => calls.findIndex((c) => c.split(" ")[0] === fn);
  const v66 = tracedCalls("arm64-4k-48", {}, ops);
  assert(at(v66, "pagetable_pte_dtor") < at(v66, "call_rcu"));
  assert(at(v66, "pagetable_pud_dtor") < 0); // no pud dtor in 6.6
  const v612 = tracedCalls("arm64-4k-48", { kernel: "6.12" }, ops);
  assert(at(v612, "pagetable_pud_dtor") < at(v612, "call_rcu")); // 6.7 pud dtor, still early
  const v618 = tracedCalls("arm64-4k-48", { kernel: "6.18" }, ops);
  assert(at(v618, "call_rcu") < at(v618, "pagetable_dtor"));
  // 6.1 spells it the struct page way
  const v61 = tracedCalls("arm64-4k-48", { kernel: "6.1" }, ops);
  assert(at(v61, "pgtable_pte_page_dtor") >= 0 && at(v61, "tlb_remove_table") >= 0);
  for (const c of [v61, v66, v612, v618]) assert(at(c, "violation") < 0);
});
