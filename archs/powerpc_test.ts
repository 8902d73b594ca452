// Exact figures of the powerpc configurations, each worked out from the kernel rule cited.
// Kernel files are under arch/powerpc/ unless named otherwise.
import { assertEquals } from "../testing/assert.ts";
import { assertClean, G, K, M, Sim, traced } from "./_testing.ts";
import { detachTable, memFrame, memOf, mmIncNr, PG } from "../engine/api.ts";
import { doMunmap } from "../engine/memory.ts";
import { pteFreeDefer } from "./powerpc.ts";
import { configFor, findConfig } from "./registry.ts";

const A = 0x1000_0000_0000n; // 16 TiB: a pgd slot of its own on every ppc64 configuration
const B = 0x1000_0000n; // 256 MiB, for the 32-bit configurations
const KERNELS = ["6.1", "6.6", "6.12", "6.18"] as const;

/** PAGE_SIZE of a configuration. */
function pageOf(name: string): bigint {
  return 1n << BigInt(configFor(name).pageShift);
}

/** The frame of the mm's only PTE table (a node of level 4 in the table pool). */
function pteNode(s: Sim): number {
  const p = s.run.k.pool;
  for (let id = 1; id < p.top; id++) if (p.level[id] === 4) return id;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// One page, one table's worth, many tables

Deno.test("one page in a fresh region: PUD, PMD and PTE, counted per table and per page", () => {
  // mm_inc_nr_puds/pmds/ptes add PTRS_PER_X * 8 (include/linux/mm.h) with the runtime index
  // sizes (mm/book3s64/radix_pgtable.c, hash_utils.c): radix 9/9/9 or 9/9/5, hash-4k 9/7/9,
  // hash-64k 10/10/8. The PUD is a PGT_CACHE object (no ctor); the PMD and PTE pages run their
  // ctor once each (pmd_fragment_alloc, pte_fragment_alloc): NR_PAGETABLE 2, two split ptlocks.
  // pagetable_frames: the pgd (radix-4k: order 4, 16 frames), the PUD slab page, the PMD page and
  // the PTE page (hash-4k: pgd and PUD are both "pgtable-2^9" objects of a page each).
  const want: Record<string, [number, number]> = {
    "ppc64-radix-4k": [4096 + 4096 + 4096, 16 + 1 + 1 + 1],
    "ppc64-radix-64k": [4096 + 4096 + 32 * 8, 1 + 1 + 1 + 1],
    "ppc64-hash-4k": [4096 + 128 * 8 + 4096, 1 + 1 + 1 + 1],
    "ppc64-hash-64k": [8192 + 8192 + 256 * 8, 1 + 1 + 1 + 1],
  };
  for (const [name, [vmpte, frames]] of Object.entries(want)) {
    const P = pageOf(name);
    const s = new Sim(name).mm("a").map("a", A, P);
    assertEquals(s.fig("a").vmpte, 0, name); // mmap allocates no table
    s.touch("a", A, P, P);
    assertEquals(s.fig("a").vmpte, vmpte, name);
    assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 }, name);
    assertEquals(s.sys.nr_page_table_pages, 2, name);
    assertEquals(s.sys.pagetable_frames, frames, name);
    assertEquals(s.sys.ptlocks, 2, name); // SPLIT_PTE and SPLIT_PMD (PPC_BOOK3S_64) ptlocks
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("32-bit: one 4 KiB PTE table, one pgd slab object", () => {
  // 603/604: 1024 x 4-byte PTEs, PTE_FRAG_NR 1, PGDIR_SHIFT 22 (book3s/32/pgtable.h); the pgd is
  // a 4096-byte PGT_CACHE(10) object (book3s/32/pgalloc.h). 8xx 16K: pte_t is 16 bytes
  // (asm/pgtable-types.h), 256 a table = 4096 bytes, a quarter page (PTE_FRAG_NR 4,
  // nohash/32/mmu-8xx.h); the pgd a 4096-byte PGT_CACHE(10) object in a 16K slab page. The 8xx
  // is UP: no split ptlocks.
  for (const [name, locks] of [["ppc32-book3s32", 1], ["ppc32-8xx-16k", 0]] as const) {
    const P = pageOf(name);
    const s = new Sim(name).mm("a").map("a", B, P).touch("a", B, P, P);
    assertEquals(s.fig("a").vmpte, 4096, name);
    assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 1 }, name);
    assertEquals(s.sys.nr_page_table_pages, 1, name);
    assertEquals(s.sys.pagetable_frames, 2, name);
    assertEquals(s.sys.ptlocks, locks, name);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("a region the size of one PTE table fills exactly one table", () => {
  // PMD_SIZE = PAGE_SIZE << PTE_INDEX_SIZE: 2M on radix (4K x 512, 64K x 32), 16M on hash-64k
  // (64K x 256), 4M on 603/604 (4K x 1024) and on the 8xx (16K x 256)
  const want: [string, bigint, bigint, number][] = [
    ["ppc64-radix-4k", A, 2n * M, 12288],
    ["ppc64-radix-64k", A, 2n * M, 8448],
    ["ppc64-hash-4k", A, 2n * M, 9216],
    ["ppc64-hash-64k", A, 16n * M, 18432],
    ["ppc32-book3s32", B, 4n * M, 4096],
    ["ppc32-8xx-16k", B, 4n * M, 4096],
  ];
  for (const [name, base, size, vmpte] of want) {
    const page = BigInt(2 ** configFor(name).pageShift);
    const s = new Sim(name).mm("a").map("a", base, size).touch("a", base, size, page);
    assertEquals(s.fig("a").tables.pte, 1, name);
    assertEquals(s.fig("a").vmpte, vmpte, name);
    assertEquals(s.fig("a").rss, Number(size), name);
    s.touch("a", base, size, page); // already present: nothing more
    assertEquals(s.fig("a").vmpte, vmpte, name);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("radix-64k: 512 PTE tables are 2 pages; munmap returns the bytes, the PMD page stays cached", () => {
  // 1 GiB at one page per 2 MiB: 512 PTE fragments of 256 bytes, 256 a page (RADIX_PTE_FRAG_NR,
  // book3s/64/radix-64k.h): the 256th empties the cache, the 257th takes a fresh page, the 512th
  // empties it again. One PMD fragment (pmd_fragment_alloc), one PUD object.
  const s = new Sim("ppc64-radix-64k").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 512 });
  assertEquals(s.fig("a").vmpte, 512 * 256 + 4096 + 4096);
  assertEquals(s.sys.nr_page_table_pages, 2 + 1);
  assertEquals(s.sys.ptlocks, 3); // one ptlock per page, shared by its fragments
  assertEquals(s.sys.pagetable_frames, 1 + 1 + 1 + 2); // pgd, PUD slab, PMD page, PTE pages
  s.unmap("a", A, G);
  // every fragment of both PTE pages is freed after the grace period (pte_fragment_free drops
  // pt_frag_refcount to 0 twice); the PMD fragment is freed too, but pmd_frag still holds the
  // other 15 (pt_frag_refcount 16 - 1), so that page and its NR_PAGETABLE count stay
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 0 });
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.pagetable_frames, 2);
  assertEquals(s.sys.leaks, 0); // cachedFrames: the cached PMD page is the mm's
  // 514 tables fit one table batch (MAX_TABLE_BATCH 8189 with 64K pages): one flush
  assertEquals(s.sys.tlb_flushes, 1);
  s.exit("a"); // arch_exit_mmap -> pmd_frag_destroy drops the 15 unused references
  assertClean(s);
});

Deno.test("radix-4k and hash-4k: 1 GiB at one page per 2 MiB; tlb_needs_table_invalidate", () => {
  // radix-4k: 512 PTE pages, one PMD page (a 512-entry PMD covers 1 GiB), one PUD: 514 tables.
  // hash-4k: a PMD table is 128 entries, 256 MiB: 4 PMD fragments, exactly one page
  // (H_PMD_FRAG_NR 4), so pmd_frag is NULL again after the 4th; 517 tables.
  // The table batch is full at MAX_TABLE_BATCH = (4096 - 24) / 8 = 509 (mm/mmu_gather.c):
  // tlb_table_flush -> tlb_table_invalidate flushes first on radix (radix_enabled(),
  // asm/tlb.h), not on hash; then tlb_finish_mmu flushes once.
  const r = new Sim("ppc64-radix-4k").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(r.fig("a").vmpte, (512 + 1 + 1) * 4096);
  assertEquals(r.sys.nr_page_table_pages, 513);
  r.unmap("a", A, G);
  assertEquals(r.sys.tlb_flushes, 2);
  assertEquals(r.sys.nr_page_table_pages, 0);
  assertEquals(r.fig("a").vmpte, 0);
  const h = new Sim("ppc64-hash-4k").mm("a").map("a", A, G).touch("a", A, G, 2n * M);
  assertEquals(h.fig("a").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 4, pte: 512 });
  assertEquals(h.fig("a").vmpte, 512 * 4096 + 4 * 1024 + 4096);
  assertEquals(h.sys.nr_page_table_pages, 512 + 1);
  h.unmap("a", A, G);
  assertEquals(h.sys.tlb_flushes, 1);
  assertEquals(h.sys.nr_page_table_pages, 0); // the full PMD page had no cached tail
  assertEquals(h.fig("a").vmpte, 0);
  r.exit("a");
  h.exit("a");
  assertClean(r);
  assertClean(h);
});

// ---------------------------------------------------------------------------------------------
// Fragments: bytes back at once, pages only when the whole page is free

Deno.test("ACCEPTANCE: fragments return VmPTE at once, nr_page_table_pages only with the whole page", () => {
  // Eight one-page regions 2 MiB apart: eight PTE fragments of one page (pte_frag cached at
  // fragment 8, pt_frag_refcount 256), one PMD fragment. munmap of a region whose neighbours
  // lie in other PMD slots frees its PTE table (free_pgd_range: slot >= floor, slot + PMD_SIZE
  // <= ceiling & PMD_MASK, mm/memory.c); the PMD stays (the neighbours share its PUD slot).
  const s = new Sim("ppc64-radix-64k").mm("a");
  const P = 64n * K;
  for (let i = 0n; i < 8n; i++) s.map("a", A + i * 2n * M, P).touch("a", A + i * 2n * M, P, P);
  assertEquals(s.fig("a").vmpte, 4096 + 4096 + 8 * 256);
  assertEquals(s.sys.nr_page_table_pages, 2);
  const k = s.run.k;
  const ptePage = memFrame(k.pool.mem[pteNode(s)]);
  assertEquals(k.frames.fragRefcount[ptePage], 256); // set to PTE_FRAG_NR on the fresh page
  assertEquals(s.run.k.mms.get("a")!.context.pteFrag, memOf(ptePage, 8));
  for (let i = 0n; i < 8n; i += 2n) s.unmap("a", A + i * 2n * M, 64n * K); // every other one
  assertEquals(s.fig("a").tables.pte, 4);
  assertEquals(s.fig("a").vmpte, 4096 + 4096 + 4 * 256); // mm_dec_nr_ptes per table
  assertEquals(s.sys.nr_page_table_pages, 2); // the page is not free: no dtor
  assertEquals(k.frames.fragRefcount[ptePage], 252);
  for (let i = 1n; i < 8n; i += 2n) s.unmap("a", A + i * 2n * M, 64n * K); // the rest
  assertEquals(s.fig("a").vmpte, 0); // the last munmap has no neighbour: PMD and PUD go too
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 0, pmd: 0, pte: 0 });
  // still no dtor: the 248 cached PTE fragments and 15 cached PMD fragments hold their pages
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(k.frames.fragRefcount[ptePage], 248);
  assertEquals(s.sys.leaks, 0);
  // a new table comes from the cache: fragment 8 of the same page, no new page, no ctor
  s.map("a", A, P).touch("a", A, P, P);
  assertEquals(memFrame(k.pool.mem[pteNode(s)]), ptePage);
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.fig("a").vmpte, 4096 + 4096 + 256);
  s.exit("a"); // arch_exit_mmap: pte_frag_destroy drops 256 - 9, pmd_frag_destroy 16 - 1
  assertClean(s);
});

Deno.test("hash-4k: a full page of PMD fragments is freed with its last fragment", () => {
  // Regions in four 256 MiB slots: four 1 KiB PMD fragments, exactly one page (H_PMD_FRAG_NR 4,
  // book3s/64/hash-4k.h), so no cached tail; one page each for the PTE tables (H_PTE_FRAG_NR 1).
  // Each munmap frees its PTE table and its PMD (the neighbours are in other PUD entries, the
  // PUD is kept while they share its 128 GiB slot).
  const s = new Sim("ppc64-hash-4k").mm("a");
  for (let i = 0n; i < 4n; i++) s.map("a", A + i * 256n * M, 4n * K).touch("a", A + i * 256n * M);
  assertEquals(s.fig("a").vmpte, 4096 + 4 * (1024 + 4096));
  assertEquals(s.sys.nr_page_table_pages, 4 + 1);
  assertEquals(s.run.k.mms.get("a")!.context.pmdFrag, -1); // the 4th took the last fragment
  for (let i = 0n; i < 3n; i++) s.unmap("a", A + i * 256n * M, 4n * K);
  assertEquals(s.fig("a").vmpte, 4096 + 1024 + 4096);
  assertEquals(s.sys.nr_page_table_pages, 1 + 1); // 3 PTE pages gone, the PMD page stays
  s.unmap("a", A + 3n * 256n * M, 4n * K); // the last fragment: pmd_fragment_free -> dtor
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("munmap of every other one-page region of a sequence inside one PTE table frees nothing", () => {
  // Eight one-page regions two pages apart all lie in one PMD slot: floor (prev->vm_end) and
  // ceiling (next->vm_start) keep the shared PTE table (free_pgd_range, mm/memory.c)
  for (const name of ["ppc64-radix-64k", "ppc64-hash-64k", "ppc32-8xx-16k"]) {
    const page = BigInt(2 ** configFor(name).pageShift);
    const base = name.startsWith("ppc32") ? B : A;
    const s = new Sim(name).mm("a");
    for (let i = 0n; i < 8n; i++) {
      s.map("a", base + 2n * i * page, page).touch("a", base + 2n * i * page, page, page);
    }
    const vmpte = s.fig("a").vmpte;
    for (let i = 0n; i < 8n; i += 2n) s.unmap("a", base + 2n * i * page, page);
    assertEquals(s.fig("a").vmpte, vmpte, name);
    assertEquals(s.fig("a").tables.pte, 1, name);
    assertEquals(s.fig("a").rss, 4 * Number(page), name);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("8xx 16K: four PTE tables a page; the cached tail goes at exit", () => {
  // PTE_FRAG_NR 4, 4 KiB fragments (nohash/32/mmu-8xx.h); a table maps 256 x 16K = 4 MiB
  const s = new Sim("ppc32-8xx-16k").mm("a").map("a", B, 20n * M).touch("a", B, 20n * M, 4n * M);
  // five tables: four fill the first page (pte_frag NULL again), the fifth takes a new page
  assertEquals(s.fig("a").vmpte, 5 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.unmap("a", B, 16n * M); // the first page's four tables: pt_frag_refcount 4 -> 0
  assertEquals(s.fig("a").vmpte, 4096);
  assertEquals(s.sys.nr_page_table_pages, 1);
  s.unmap("a", B + 16n * M, 4n * M); // the fifth: 3 fragments of its page are still cached
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 1);
  assertEquals(s.sys.leaks, 0);
  s.exit("a"); // arch_exit_mmap (mm/mmu_context.c, !PPC_BOOK3S_64): pte_frag_destroy
  assertClean(s);
});

Deno.test("603/604: munmap of every other region, one table each, frees a page each", () => {
  // PTE_FRAG_NR 1: every table is a page of its own with its own ctor and dtor
  const s = new Sim("ppc32-book3s32").mm("a");
  for (let i = 0n; i < 8n; i++) s.map("a", B + i * 4n * M, 4n * K).touch("a", B + i * 4n * M);
  assertEquals(s.fig("a").vmpte, 8 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 8);
  for (let i = 0n; i < 8n; i += 2n) s.unmap("a", B + i * 4n * M, 4n * K);
  assertEquals(s.fig("a").vmpte, 4 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 4);
  s.exit("a");
  assertClean(s);
});

// ---------------------------------------------------------------------------------------------
// Fork, upper levels

Deno.test("fork: the child has fragment caches of its own", () => {
  // init_new_context: pte_frag = pmd_frag = NULL (book3s64/mmu_context.c) though dup_mm copied
  // the parent; copy_pud_range .. copy_pte_range allocate the child's tables (mm/memory.c). The
  // child's PUD is another object of the same PGT_CACHE slab page (16 of 4 KiB in a 64K page).
  const P = 64n * K;
  const s = new Sim("ppc64-radix-64k").mm("a").map("a", A, P).touch("a", A, P, P);
  assertEquals(s.sys.pagetable_frames, 4);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 8448);
  assertEquals(s.fig("b").tables, { pgd: 1, p4d: 0, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.sys.nr_page_table_pages, 4); // a PMD page and a PTE page for each mm
  assertEquals(s.sys.pagetable_frames, 4 + 1 + 1 + 1); // child: pgd, PMD page, PTE page
  const [pa, pb] = ["a", "b"].map((n) => s.run.k.mms.get(n)!.context.pteFrag as number);
  assertEquals(memFrame(pa) !== memFrame(pb), true);
  s.exit("a");
  assertEquals(s.sys.nr_page_table_pages, 2);
  assertEquals(s.sys.leaks, 0);
  s.exit("b");
  assertClean(s);
});

Deno.test("fork copies every table of the parent's anonymous VMAs (hash-64k)", () => {
  // three PTE tables in one PMD (16 MiB each), one emptied by MADV_DONTNEED (never freed before
  // 6.14, and never on powerpc: PT_RECLAIM is x86_64-only through 6.18)
  const s = new Sim("ppc64-hash-64k").mm("a").map("a", A, 48n * M).touch("a", A, 48n * M, 16n * M);
  s.dontneed("a", A, 16n * M);
  assertEquals(s.fig("a").vmpte, 8192 + 8192 + 3 * 2048);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 8192 + 8192 + 3 * 2048);
  assertEquals(s.fig("b").rss, 2 * 64 * 1024);
  assertEquals(s.sys.nr_page_table_pages, 4); // 3 PTE fragments of one page per mm
  s.exit("b").exit("a");
  assertClean(s);
});

Deno.test("a page in the next pgd slot: a whole new chain, and on radix-64k no new page", () => {
  // radix: a pgd entry maps 512 GiB; the next slot needs a PUD (PGT_CACHE object), a PMD and a
  // PTE; on radix-64k both come from the cached fragments, so NR_PAGETABLE stays 2
  const P = 64n * K;
  const s = new Sim("ppc64-radix-64k").mm("a").map("a", A, P).touch("a", A, P, P);
  s.map("a", A + 512n * G, P).touch("a", A + 512n * G, P, P);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 2 * 8448);
  assertEquals(s.sys.nr_page_table_pages, 2);
  // the top of the 4 PiB TASK_SIZE (asm/task_size_64.h): pgd entry 8191
  s.map("a", (1n << 52n) - P, P).touch("a", (1n << 52n) - P, P, P);
  assertEquals(s.fig("a").tables.pud, 3);
  assertEquals(s.sys.nr_page_table_pages, 2);
  // radix-4k: one page per table, a slab page per PUD object
  const t = new Sim("ppc64-radix-4k").mm("a").map("a", A, 4n * K).touch("a", A);
  t.map("a", A + 512n * G, 4n * K).touch("a", A + 512n * G);
  assertEquals(t.fig("a").vmpte, 2 * 12288);
  assertEquals(t.sys.nr_page_table_pages, 4);
  // hash-4k: a pgd entry maps 128 GiB (H_PGD_INDEX_SIZE 9 over 37 bits)
  const h = new Sim("ppc64-hash-4k").mm("a").map("a", A, 4n * K).touch("a", A);
  h.map("a", A + 128n * G, 4n * K).touch("a", A + 128n * G);
  assertEquals(h.fig("a").tables, { pgd: 1, p4d: 0, pud: 2, pmd: 2, pte: 2 });
  assertEquals(h.sys.nr_page_table_pages, 3); // 2 PTE pages, 2 PMD fragments of one page
  for (const x of [s, t, h]) {
    x.exit("a");
    assertClean(x);
  }
});

// ---------------------------------------------------------------------------------------------
// The free path: index tags, RCU, dtor at the real free

Deno.test("every level goes through pgtable_free_tlb with its index and comes back tagged", () => {
  // __pte/__pmd/__pud_free_tlb -> pgtable_free_tlb(tlb, table, PTE_INDEX 0 / PMD_INDEX 1 /
  // PUD_INDEX 2) -> tlb_remove_table; after the grace period __tlb_remove_table -> pgtable_free
  // switches on the index (book3s64/pgtable.c)
  const run = traced("ppc64-hash-64k", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: A, size: 64n * K },
    { op: "touch", mm: "a", addr: A, size: 64n * K, step: 64n * K },
    { op: "unmap", mm: "a", addr: A, size: 64n * K },
  ]);
  const t = run.k.trace!.filter((e) => e.line === 4);
  const seq = t.filter((e) =>
    ["pgtable_free_tlb", "__tlb_remove_table", "pte_fragment_free", "pmd_fragment_free"]
      .includes(e.fn) || e.fn === "__pud_free"
  ).map((e) => `${e.fn} ${e.detail!.replace(/frame \d+ ?/, "")}`);
  assertEquals(seq, [
    "pgtable_free_tlb PTE_INDEX",
    "pgtable_free_tlb PMD_INDEX",
    "pgtable_free_tlb PUD_INDEX",
    "__tlb_remove_table index 0",
    "pte_fragment_free fragment 0",
    "__tlb_remove_table index 1",
    "pmd_fragment_free fragment 0",
    "__tlb_remove_table index 2",
    "__pud_free ",
  ]);
  // the ppc32 "index" is the PGT_CACHE shift, 0 for a PTE fragment (book3s/32/pgalloc.h)
  const r32 = traced("ppc32-book3s32", {}, [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: B, size: 4n * K },
    { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: B, size: 4n * K },
  ]);
  assertEquals(
    r32.k.trace!.filter((e) => e.fn === "pgtable_free_tlb").map((e) => e.detail!.split(" ")[2]),
    ["shift"],
  );
  assertEquals(r32.k.violations, []);
});

Deno.test("the dtor runs at the real free, after the RCU grace period; VmPTE drops at once", () => {
  // free_pte_range: mm_dec_nr_ptes at once (mm/memory.c); the table waits in the RCU table batch
  // (MMU_GATHER_RCU_TABLE_FREE) and pte_fragment_free / pmd_fragment_free run the dtor after it
  const s = new Sim("ppc64-radix-4k").mm("a").map("a", A, 4n * K).touch("a", A);
  const k = s.run.k;
  const mm = k.mms.get("a")!;
  doMunmap(k, mm, Number(A >> 12n), Number(A >> 12n) + 1);
  assertEquals(mm.pgtablesBytes, 0);
  assertEquals(k.nrPagetable, 2); // PMD and PTE pages still PG_table
  assertEquals(k.rcuFrames, 3); // PTE, PMD, PUD in the batch
  k.rcuGracePeriod();
  assertEquals(k.nrPagetable, 0);
  assertEquals(k.rcuFrames, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("pte_free_defer (6.6+): the last fragment's page goes through call_rcu", () => {
  // khugepaged retract: pmd cleared, mm_dec_nr_ptes, pte_free_defer -> folio_set_active +
  // pte_fragment_free; at pt_frag_refcount 0, folio_test_clear_active -> call_rcu(pte_free_now)
  // (pgtable-frag.c). 6.1 has no pte_free_defer: the table was freed at once.
  for (const [kernel, pending] of [["6.6", 1], ["6.18", 1], ["6.1", 0]] as const) {
    const s = new Sim("ppc64-radix-4k", { kernel }).mm("a").map("a", A, 4n * K).touch("a", A);
    const k = s.run.k;
    const mm = k.mms.get("a")!;
    const node = pteNode(s);
    const mem = k.pool.mem[node];
    mm.rssPages -= 1; // the page was collapsed away
    detachTable(k, mm, node);
    mmIncNr(k, mm, 4, -1);
    pteFreeDefer(k, mm, mem);
    assertEquals(k.rcuFrames, pending, kernel);
    assertEquals(k.nrPagetable, 1 + pending, kernel);
    k.rcuGracePeriod();
    assertEquals(k.nrPagetable, 1, kernel);
    assertEquals(k.frames.flags[memFrame(mem)] & PG.active, 0, kernel);
    s.exit("a");
    assertClean(s);
  }
});

// ---------------------------------------------------------------------------------------------
// THP

Deno.test("THP on hash-64k: the deposit is a PTE fragment, counted in VmPTE", () => {
  // __do_huge_pmd_anonymous_page: pte_alloc_one (a 4 KiB fragment) + deposit + mm_inc_nr_ptes
  // (mm/huge_memory.c); hash__pgtable_trans_huge_deposit stores the pointer in the second half of
  // the PMD fragment (book3s64/hash_pgtable.c), which is why that fragment is 16 KiB: 4 a page
  const P = 64n * K;
  const s = new Sim("ppc64-hash-64k", { thp: "on" }).mm("a").map("a", A, 32n * M);
  s.touch("a", A, P, P);
  assertEquals(s.fig("a").rss, 16 * 1024 * 1024); // PMD_SIZE 16M
  assertEquals(s.fig("a").vmpte, 8192 + 8192 + 2048);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.touch("a", A + 16n * M, P, P); // a second THP: its deposit is the cached fragment 1
  assertEquals(s.fig("a").vmpte, 8192 + 8192 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 2);
  s.fork("a", "b"); // copy_huge_pmd: a deposit for each of the child's huge pmds
  assertEquals(s.fig("b").vmpte, 8192 + 8192 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4);
  // zap_huge_pmd -> zap_deposited_table -> pte_free: pte_fragment_free at once, no RCU; the
  // page is still referenced by the other deposit and the cache
  s.dontneed("a", A, 16n * M);
  assertEquals(s.fig("a").vmpte, 8192 + 8192 + 2048);
  assertEquals(s.sys.nr_page_table_pages, 4);
  s.exit("a").exit("b");
  assertClean(s);
});

Deno.test("THP on radix-64k: a 2 MiB huge pmd; hash-4k has no THP", () => {
  const P = 64n * K;
  const s = new Sim("ppc64-radix-64k", { thp: "on" }).mm("a").map("a", A, 2n * M);
  s.touch("a", A, P, P);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  assertEquals(s.fig("a").vmpte, 8448);
  s.unmap("a", A, 64n * K); // a partial zap splits it: the deposit becomes the PTE table
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024 - 64 * 1024);
  assertEquals(s.fig("a").vmpte, 8448);
  s.exit("a");
  assertClean(s);
  // hash__has_transparent_hugepage: PMD_SHIFT must be 24 (16M) (book3s64/hash_pgtable.c)
  assertEquals(findConfig("ppc64-hash-4k")!.thpAvailable, false);
});

// ---------------------------------------------------------------------------------------------
// Flushes and IPIs

Deno.test("radix flushes: tlbie for threads, IPIs only to trim mm_cpumask", () => {
  // flush_type_needed (book3s64/radix_tlb.c): only this CPU in mm_cpumask -> tlbiel; several
  // threads -> tlbie, no IPI; a single thread with other CPUs left in the mask ->
  // exit_flush_lazy_tlbs IPIs them (they leave the mask), then tlbiel
  const s = new Sim("ppc64-radix-4k", {}, 4).mm("a").on("a", 0, 1, 2);
  s.map("a", A, 8n * M).touch("a", A, 8n * M);
  s.unmap("a", A, 2n * M);
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [1, 0]);
  s.on("a", 0); // CPUs 1 and 2 ran it and stay in mm_cpumask
  s.unmap("a", A + 2n * M, 2n * M);
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [2, 2]);
  s.unmap("a", A + 4n * M, 2n * M); // the mask is trimmed: a local flush
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [3, 2]);
  s.exit("a");
  assertEquals(s.sys.ipis, 2);
  assertClean(s);
  // hash never IPIs for a flush: hash__tlb_flush drains the hash batch (book3s64/hash_tlb.c)
  const h = new Sim("ppc64-hash-4k", {}, 4).mm("a").on("a", 0, 1, 2);
  h.map("a", A, 8n * M).touch("a", A, 8n * M).on("a", 0).unmap("a", A, 2n * M);
  assertEquals([h.sys.tlb_flushes, h.sys.ipis], [1, 0]);
});

Deno.test("exit IPIs by version: 6.6 shoots the lazy CPUs, 6.1 does not", () => {
  // 6.6+: radix__tlb_flush(fullmm) does exit_flush_lazy_tlbs ("combine final TLB flush and lazy
  // tlb mm shootdown IPIs", powerpc 6.6); hash: __mmdrop -> cleanup_lazy_tlbs IPIs mm_cpumask
  // (MMU_LAZY_TLB_SHOOTDOWN, selected for PPC_BOOK3S_64 from 6.4, kernel/fork.c). 6.1: neither,
  // the exit flush is a tlbie. 32-bit never selects MMU_LAZY_TLB_SHOOTDOWN.
  const want: [string, string, number][] = [
    ["ppc64-radix-64k", "6.1", 0],
    ["ppc64-radix-64k", "6.6", 2],
    ["ppc64-radix-64k", "6.18", 2],
    ["ppc64-hash-64k", "6.1", 0],
    ["ppc64-hash-64k", "6.6", 2],
    ["ppc64-hash-64k", "6.12", 2],
    ["ppc32-book3s32", "6.18", 0],
  ];
  for (const [name, kernel, ipis] of want) {
    const base = name.startsWith("ppc32") ? B : A;
    const s = new Sim(name, { kernel }, 4).mm("a").on("a", 0, 1, 2);
    const P = pageOf(name);
    s.map("a", base, P).touch("a", base, P, P);
    assertEquals(s.sys.ipis, 0);
    s.exit("a");
    assertEquals(s.sys.ipis, ipis, `${name} ${kernel}`);
    assertClean(s);
  }
});

// ---------------------------------------------------------------------------------------------
// Kernel versions

Deno.test("kernel versions: the same figures; pgd and PUD never counted, even in 6.18", () => {
  // 6.1 counts +1 NR_PAGETABLE per table (inc_lruvec_page_state), 6.6+ folio_nr_pages: the
  // same for order-0 pages. powerpc's pud_alloc_one is a PGT_CACHE object (no 6.7 pud ctor) and
  // its pgd_alloc never became __pgd_alloc (no 6.14 pgd ctor) (book3s/64/pgalloc.h, 6.1 = 6.12
  // = 7.2).
  for (const kernel of KERNELS) {
    for (const name of ["ppc64-radix-4k", "ppc64-radix-64k", "ppc64-hash-64k"]) {
      const s = new Sim(name, { kernel }).mm("a").map("a", A, 2n * M).touch("a", A, 2n * M, 2n * M);
      assertEquals(s.sys.nr_page_table_pages, 2, `${name} ${kernel}`);
      s.exit("a");
      assertClean(s);
    }
  }
});

Deno.test("kernel versions: trace spelling of the fragment page's ctor, alloc and dtor", () => {
  // 6.1 alloc_page + pgtable_pte_page_ctor / dtor (struct page); 6.6 pagetable_alloc +
  // pagetable_pte_ctor / dtor (ptdesc); 6.12 pagetable_alloc_noprof (6.10); 6.18 one
  // pagetable_dtor (6.14) (pgtable-frag.c in the Debian 6.1 / 6.12 / 7.2 trees)
  const want: Record<string, string[]> = {
    "6.1": ["alloc_pages", "pgtable_pte_page_ctor", "pgtable_pte_page_dtor"],
    "6.6": ["pagetable_alloc", "pagetable_pte_ctor", "pagetable_pte_dtor"],
    "6.12": ["pagetable_alloc_noprof", "pagetable_pte_ctor", "pagetable_pte_dtor"],
    "6.18": ["pagetable_alloc_noprof", "pagetable_pte_ctor", "pagetable_dtor"],
  };
  for (const kernel of KERNELS) {
    const run = traced("ppc32-book3s32", { kernel }, [
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: B, size: 4n * K },
      { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
      { op: "exit", mm: "a" },
    ]);
    const fns = run.k.trace!.map((e) => e.fn);
    const [alloc, ctor, dtor] = want[kernel];
    assertEquals(fns.includes(alloc) && fns.includes(ctor) && fns.includes(dtor), true, kernel);
    assertEquals(run.k.nrPagetable, 0, kernel);
  }
});

Deno.test("failure of a fresh fragment page: VM_FAULT_OOM, nothing leaked", () => {
  // __alloc_for_ptecache: pagetable_alloc fails -> NULL -> __pte_alloc returns -ENOMEM
  const P = 64n * K;
  const s = new Sim("ppc64-radix-64k").mm("a").map("a", A, P);
  s.run.k.addInject("pagetable_alloc", "at", 2); // the PTE page
  s.touch("a", A, P, P);
  assertEquals(s.sys.ooms, 1);
  assertEquals(s.fig("a").tables.pte, 0);
  assertEquals(s.sys.nr_page_table_pages, 1); // the PMD page
  s.exit("a");
  assertClean(s);
});

Deno.test("MMU_GATHER_MERGE_VMAS: one flush for a munmap over several VMAs", () => {
  // tlb_end_vma does not flush at each VMA with MMU_GATHER_MERGE_VMAS (asm-generic/tlb.h,
  // selected by arch/powerpc/Kconfig)
  const s = new Sim("ppc64-radix-4k").mm("a");
  for (let i = 0n; i < 4n; i++) s.map("a", A + i * 8n * K, 4n * K).touch("a", A + i * 8n * K);
  s.unmap("a", A, 32n * K);
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.fig("a").vmpte, 0);
  s.exit("a");
  assertClean(s);
});

Deno.test("no table batch page: tlb_remove_table_one, invalidating first only on radix", () => {
  // tlb_remove_table: __get_free_page(GFP_NOWAIT) failed -> tlb_table_invalidate (a flush when
  // tlb_needs_table_invalidate(), i.e. radix) -> tlb_remove_table_one:
  // tlb_remove_table_sync_one (an IPI to every other online CPU) + __tlb_remove_table at once
  // (mm/mmu_gather.c; PT_RECLAIM's call_rcu variant is x86_64-only through 6.18). One page:
  // three tables (PTE, PMD, PUD), each freed before the grace period (on hash-4k the PMD page
  // keeps its 3 cached fragments, so its dtor waits for exit).
  for (
    const [name, flushes, left] of [["ppc64-radix-4k", 3, 0], ["ppc64-hash-4k", 1, 1]] as const
  ) {
    const s = new Sim(name, {}, 4).mm("a").map("a", A, 4n * K).touch("a", A);
    s.run.k.addInject("tlb_remove_table", "after", 0);
    const k = s.run.k;
    doMunmap(k, k.mms.get("a")!, Number(A >> 12n), Number(A >> 12n) + 1);
    assertEquals(k.nrPagetable, left, name); // freed now, not after RCU
    assertEquals(k.rcuFrames, 0, name);
    assertEquals([s.sys.tlb_flushes, s.sys.ipis], [flushes, 3 * 3], name);
    s.exit("a");
    assertClean(s);
  }
});
