// Exact figures of the alpha configuration, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import { Run } from "../engine/run.ts";
import type { Op } from "../engine/types.ts";
import { G, K, M, Sim } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";

const A = 0x10_0000_0000n; // 64 GiB: an 8 GiB pgd slot of its own
const P = 8n * K; // PAGE_SIZE 8K

Deno.test("alpha: one page costs an 8 KiB PMD and an 8 KiB PTE table, both counted", () => {
  // pmd_alloc_one + pagetable_pmd_ctor, __pte_alloc_one + pagetable_pte_ctor: each VmPTE +=
  // 1024 * 8 and NR_PAGETABLE +1 (include/asm-generic/pgalloc.h); the pgd page is not counted
  const s = new Sim("alpha").mm("a").map("a", A, P).touch("a", A, P, P);
  assertEquals(s.fig("a"), {
    vmpte: 16384,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
    rss: 8192,
  });
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.pagetable_frames, 3);
  assertEquals(s.sys.ptlocks, 1); // split PTE locks only: no ARCH_ENABLE_SPLIT_PMD_PTLOCK
  // pgd_alloc writes the VPTB self-map into entry PTRS_PER_PGD - 1 (arch/alpha/mm/init.c)
  assertEquals(s.run.k.mms.get("a")!.context.vptbSelfMap, 1023);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 0);
  assertEquals(s.sys.leaks, 0);
  assertEquals(s.violations, []);
});

Deno.test("alpha: 8 MiB per PTE table, 8 GiB per PMD table", () => {
  // PMD_SHIFT = 13 + 10 = 23, PGDIR_SHIFT = 13 + 20 = 33 (asm/pgtable.h)
  const s = new Sim("alpha").mm("a").map("a", A, 8n * M).touch("a", A, 8n * M, P);
  assertEquals(s.fig("a").vmpte, 16384);
  assertEquals(s.fig("a").rss, 8 * 2 ** 20);
  const t = new Sim("alpha").mm("a").map("a", A, G).touch("a", A, G, 8n * M);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 128 });
  assertEquals(t.fig("a").vmpte, (128 + 1) * 8192);
  assertEquals(t.sys.nr_page_table_pages, 129);
  t.map("a", A + 8n * G, P).touch("a", A + 8n * G, P, P); // the next pgd slot
  assertEquals(t.fig("a").tables.pmd, 2);
  assertEquals(t.fig("a").vmpte, (129 + 2) * 8192);
  t.fork("a", "b");
  assertEquals(t.fig("b").vmpte, (129 + 2) * 8192);
  assertEquals(t.sys.nr_page_table_pages, 2 * 131);
  t.exit("b");
  t.unmap("a", A, 9n * G);
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  t.exit("a");
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("alpha: munmap of every other one-page region", () => {
  const s = new Sim("alpha").mm("a");
  for (let i = 0n; i < 8n; i++) s.map("a", A + i * 8n * M, P).touch("a", A + i * 8n * M, P, P);
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A + i * 8n * M, P);
  assertEquals(s.fig("a").vmpte, (4 + 1) * 8192);
  assertEquals(s.sys.nr_page_table_pages, 5);
  const u = new Sim("alpha").mm("a");
  for (let i = 0n; i < 8n; i++) u.map("a", A + 2n * i * P, P).touch("a", A + 2n * i * P, P, P);
  for (let i = 1n; i < 8n; i += 2n) u.unmap("a", A + 2n * i * P, P);
  assertEquals(u.fig("a").vmpte, 16384);
  assertEquals(u.fig("a").rss, 4 * 8192);
  for (const x of [s, u]) {
    x.exit("a");
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("alpha: pte_free and pmd_free both run before the one flush_tlb_mm", () => {
  // __pte_free_tlb = pte_free, __pmd_free_tlb = pmd_free (asm/tlb.h); NO_RANGE (with
  // MERGE_VMAS): no flush at tlb_end_vma, one flush_tlb_mm at tlb_finish_mmu
  const run = new Run(configFor("alpha"), findConfig("alpha")!.backend, 4, { trace: true });
  const ops = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "map", mm: "a", addr: A + 16n * G, size: P },
    { op: "touch", mm: "a", addr: A + 16n * G, size: P, step: P },
    { op: "unmap", mm: "a", addr: A + 16n * G, size: P },
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  const ev = run.k.trace!.filter((e) => e.line === 5).map((e) => e.fn);
  assertEquals(ev.filter((f) => f.startsWith("flush_tlb")), ["flush_tlb_mm"]);
  const flush = ev.indexOf("flush_tlb_mm");
  const frees = ev.flatMap((f, i) => f === "pagetable_free" ? [i] : []);
  assertEquals(frees.length, 2);
  assertEquals(frees[1] < flush, true);
  assertEquals(run.k.nrPagetable, 0);
});

Deno.test("alpha: flush_tlb_mm IPIs all other CPUs only for an mm with several users", () => {
  // arch/alpha/kernel/smp.c flush_tlb_mm: mm_users <= 1 -> local flush and zeroed contexts;
  // otherwise smp_call_function(ipi_flush_tlb_mm); exit_mmap runs with mm_users 0
  const s = new Sim("alpha", {}, 4).mm("a").map("a", A, P).touch("a", A, P, P).unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  s.on("a", 0, 1).map("a", A, P).touch("a", A, P, P).unmap("a", A, P);
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 3);
  s.map("a", A, P).touch("a", A, P, P).exit("a");
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 3);
});

Deno.test("alpha by version: the pgd counts from 6.14 (__pgd_alloc)", () => {
  const want: Record<string, number> = { "6.1": 2, "6.6": 2, "6.12": 2, "6.18": 3 };
  for (const [kernel, nr] of Object.entries(want)) {
    const s = new Sim("alpha", { kernel }).mm("a").map("a", A, P).touch("a", A, P, P);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    assertEquals(s.fig("a").vmpte, 16384, kernel);
    s.exit("a");
    assertEquals(s.sys.nr_page_table_pages, 0, kernel);
    assertEquals(s.sys.leaks, 0, kernel);
    assertEquals(s.violations, [], kernel);
  }
});
