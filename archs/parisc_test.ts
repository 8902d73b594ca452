// Exact figures of the parisc configurations, each worked out from the kernel rule cited.
import { assertEquals } from "../testing/assert.ts";
import {
  byVersion,
  CLEAN,
  everyKernel,
  everyOther,
  G,
  K,
  M,
  onePage,
  Sim,
  traced,
} from "./_testing.ts";

const A = 0x10_0000_0000n; // 64 GiB: a 4 GiB pgd slot of its own (parisc64)
const B = 0x1000_0000n; // a 4 MiB pgd slot of its own (parisc32)
const P = 4n * K;
// PMD_SHIFT = 12 + 9 = 21; PGDIR_SHIFT = 21 + 11 = 32 (asm/pgtable.h): a PTE table maps 2 MiB
const L64 = { page: P, slot: 2n * M, addr: A };

Deno.test("parisc64 6.6: the order-1 PMD counts 8 KiB in VmPTE but nothing in NR_PAGETABLE", () => {
  assertEquals(onePage("parisc64-4k-3level", L64), {
    mapped: { vmpte: 0, nrPagetable: 0, pagetableFrames: 1 }, // pgd_alloc: the pgd page alone
    // pmd_alloc_one = __get_free_pages(GFP_PGTABLE_KERNEL, PMD_TABLE_ORDER 1), no ctor
    // (asm/pgalloc.h); __pmd_alloc still runs mm_inc_nr_pmds: PTRS_PER_PMD (1 << (12 + 1 - 2))
    // = 2048 x 4 = 8192 (include/linux/mm.h); the PTE table is 512 x 8 = 4096 with the pte ctor
    first: {
      vmpte: 12288,
      tables: { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 1 },
      rss: 4096,
      nrPagetable: 1,
      pagetableFrames: 4, // pgd, 2 pmd pages, PTE page
      ptlocks: 1, // PA20: split PTE locks; no split PMD locks
    },
    slot: { vmpte: 12288, rss: 2 * 2 ** 20 }, // 2 MiB per PTE table
    exit: CLEAN,
  });
});

Deno.test("parisc64: 2 MiB per PTE table, 4 GiB per PMD table", () => {
  // 2 MiB per PTE table: the one-page case's `slot`; 1 GiB at one page per 2 MiB is 512 PTE
  // tables under one PMD table
  const t = new Sim("parisc64-4k-3level").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 1, pte: 512 });
  assertEquals(t.fig("a").vmpte, 8192 + 512 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 512);
  t.map("a", A + 4n * G, P).touch("a", A + 4n * G); // the next pgd slot: a second PMD
  assertEquals(t.fig("a").tables.pmd, 2);
  assertEquals(t.fig("a").vmpte, 2 * 8192 + 513 * 4096);
  t.fork("a", "b");
  assertEquals(t.fig("b").vmpte, 2 * 8192 + 513 * 4096);
  assertEquals(t.sys.nr_page_table_pages, 2 * 513);
  t.exit("b");
  t.unmap("a", A, 5n * G);
  assertEquals(t.fig("a").vmpte, 0);
  assertEquals(t.sys.nr_page_table_pages, 0);
  assertEquals(t.sys.pagetable_frames, 1);
  t.exit("a");
  assertEquals(t.sys.leaks, 0);
  assertEquals(t.violations, []);
});

Deno.test("parisc64: munmap of every other one-page region", () => {
  // one page per 2 MiB slot: each unmapped slot's PTE table goes, the PMD stays; two pages apart
  // in one slot: nothing goes (floor = prev->vm_end, ceiling = next->vm_start, mm/memory.c)
  assertEquals(everyOther("parisc64-4k-3level", L64), {
    perSlot: {
      before: { vmpte: 8192 + 8 * 4096, nrPagetable: 8 },
      after: { vmpte: 8192 + 4 * 4096, nrPagetable: 4, rss: 4 * 4096 },
      exit: CLEAN,
    },
    inSlot: {
      before: { vmpte: 12288, nrPagetable: 1 },
      after: { vmpte: 12288, nrPagetable: 1, rss: 4 * 4096 },
      exit: CLEAN,
    },
  });
});

Deno.test("parisc64: pte_free and pmd_free run inside free_pgtables, before the flush", () => {
  // #define __pmd_free_tlb(tlb, pmd, addr) pmd_free((tlb)->mm, pmd) and __pte_free_tlb =
  // pte_free (asm/tlb.h): free_pages(pmd, 1) and the PTE page go before tlb_finish_mmu's flush;
  // both flushes cover one page, under the 16 KiB threshold: broadcast pdtlb, no IPI
  const run = traced("parisc64-4k-3level", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: P },
    { op: "map", mm: "a", addr: A + 8n * G, size: P },
    { op: "touch", mm: "a", addr: A + 8n * G, size: P, step: P },
    { op: "unmap", mm: "a", addr: A + 8n * G, size: P },
  ]);
  const ev = run.k.trace!.filter((e) => e.line === 5).map((e) => e.fn);
  const flushes = ev.flatMap((f, i) => f === "__flush_tlb_range" ? [i] : []);
  assertEquals(flushes.length, 2);
  const pmd = ev.indexOf("free_pages");
  const pte = ev.indexOf("pagetable_free");
  assertEquals(pte > flushes[0] && pmd > pte && pmd < flushes[1], true);
  assertEquals(run.k.ipis, 0);
});

Deno.test("parisc: flush_tlb_mm and large ranges are flush_tlb_all, IPIs to every other CPU", () => {
  // flush_tlb_mm -> flush_tlb_all -> on_each_cpu(flush_tlb_all_local) (asm/tlbflush.h,
  // arch/parisc/mm/init.c); __flush_tlb_range falls back to it at the threshold
  // (arch/parisc/kernel/cache.c)
  const s = new Sim("parisc64-4k-3level", {}, 4).mm("a").map("a", A, 64n * K);
  s.touch("a", A, 64n * K).unmap("a", A, 64n * K);
  // tlb_end_vma: 64 KiB -> flush_tlb_all (3 IPIs); tlb_finish_mmu: PTE + PMD slot, one page
  // each at A -> pdtlb, no IPI
  assertEquals(s.sys.tlb_flushes, 2);
  assertEquals(s.sys.ipis, 3);
  s.map("a", A, P).touch("a", A).exit("a"); // fullmm: flush_tlb_mm
  assertEquals(s.sys.tlb_flushes, 3);
  assertEquals(s.sys.ipis, 6);
});

Deno.test("parisc32: an 8 KiB pgd, 4 KiB PTE tables, no split ptlocks", () => {
  // PGD_TABLE_ORDER 1 but BITS_PER_PGD clipped to 32 - 22 = 10 (asm/pgtable.h); SPLIT_PTLOCK_CPUS
  // is 999999 for PARISC && !PA20 (mm/Kconfig)
  const s = new Sim("parisc32").mm("a").map("a", B, 4n * M).touch("a", B);
  assertEquals(s.fig("a"), {
    vmpte: 4096,
    tables: { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 3);
  assertEquals(s.sys.ptlocks, 0);
  s.touch("a", B, 4n * M);
  assertEquals(s.fig("a").vmpte, 4096);
  s.map("a", B + 8n * M, 56n * M).touch("a", B + 8n * M, 56n * M, 4n * M);
  assertEquals(s.fig("a").tables.pte, 15);
  s.map("a", 0xffe0_0000n, P).touch("a", 0xffe0_0000n); // pgd entry 1023 (TASK_SIZE)
  assertEquals(s.fig("a").vmpte, 16 * 4096);
  s.fork("a", "b");
  assertEquals(s.sys.nr_page_table_pages, 32);
  s.exit("b").exit("a");
  const t = new Sim("parisc32").mm("a");
  for (let i = 0n; i < 8n; i++) t.map("a", B + i * 4n * M, P).touch("a", B + i * 4n * M);
  for (let i = 1n; i < 8n; i += 2n) t.unmap("a", B + i * 4n * M, P);
  assertEquals(t.fig("a").vmpte, 4 * 4096);
  t.exit("a");
  for (const x of [s, t]) {
    assertEquals(x.sys.nr_page_table_pages, 0);
    assertEquals(x.sys.pagetable_frames, 0);
    assertEquals(x.sys.leaks, 0);
    assertEquals(x.violations, []);
  }
});

Deno.test("parisc by version: pgd and pmd counted from 6.14", () => {
  // 6.14: __pgd_alloc(mm, PGD_TABLE_ORDER) + pagetable_pgd_ctor; the pmd from pagetable_alloc
  // + pagetable_pmd_ctor, an order-1 folio counting 2 (asm/pgalloc.h, include/linux/mm.h)
  assertEquals(byVersion("parisc64-4k-3level", L64), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 1 + 2 + 1 },
    vmpte: everyKernel(12288),
    exit: everyKernel(CLEAN),
  });
  assertEquals(byVersion("parisc32", { page: P, addr: B }), {
    nrPagetable: { "6.1": 1, "6.6": 1, "6.12": 1, "6.18": 2 + 1 },
    vmpte: everyKernel(4096),
    exit: everyKernel(CLEAN),
  });
});
