// Exact figures of the s390 configurations, each worked out from the kernel rule cited.
//
// Sizes used throughout: a CRST table (region-1/2/3 or segment) is 2048 x 8 bytes = 16 KiB, an
// order-2 allocation (CRST_ALLOC_ORDER, arch/s390/include/asm/pgalloc.h); a page table is
// 256 x 8 = 2 KiB. mm_inc_nr_pmds/puds add 16384 and mm_inc_nr_ptes 2048 (include/linux/mm.h).
// A segment entry maps 1 MiB, a region-3 entry 2 GiB, a region-2 entry 4 TiB, a region-1 entry
// 8 PiB. From 6.6 a ctor on an order-2 folio adds 4 to NR_PAGETABLE (lruvec_stat_add_folio);
// 6.1 adds 1 per table (inc_lruvec_page_state).
import { assert, assertEquals } from "../testing/assert.ts";
import {
  type Machine,
  memFrame,
  memSlot,
  type Mm,
  MmuGather,
  pmdFreeTlb,
  pteFreeTlb,
  tlbFlushMmu,
} from "../engine/api.ts";
import { assertClean, G, K, M, Sim, T } from "./_testing.ts";
import { configFor, findConfig } from "./registry.ts";
import { fragmentBits, pgtableListFrames, s390Backend } from "./s390.ts";

const P = 1024n * T;
const A = 0x100_0000_0000n; // 1 TiB: below the 4 TiB of a 3-level mm, 1 MiB and 2 GiB aligned

function mmOf(s: Sim, name: string): [Machine, Mm] {
  const k = s.run.k;
  return [k, k.mms.get(name)!];
}

/** The memory (frame and half) of the PTE table of `addr` in `mm` (a walk of the model's tree). */
function pteMem(s: Sim, name: string, addr: bigint): number {
  const [k, mm] = mmOf(s, name);
  const vpn = Number(addr >> 12n);
  let node = mm.pgd;
  for (let l = mm.top; l < 4; l++) node = k.pool.dir(node)[k.geo.index(l, vpn)];
  return k.pool.mem[node];
}

/** The frame holding the PTE table of `addr` in `mm`. */
function pteFrame(s: Sim, name: string, addr: bigint): number {
  return memFrame(pteMem(s, name, addr));
}

Deno.test("6.6 s390-3level: one page costs a segment table and half a page-table page", () => {
  // pgd_alloc = crst_table_alloc: the region-3 table is mm->pgd of a 3-level mm, 4 frames, no
  // ctor, never counted (arch/s390/include/asm/pgalloc.h, mmu_context.h init_new_context)
  const s = new Sim("s390-3level").mm("a").map("a", A, 4n * M);
  assertEquals(s.fig("a"), {
    vmpte: 0,
    tables: { pgd: 0, p4d: 0, pud: 1, pmd: 0, pte: 0 },
    rss: 0,
  });
  assertEquals(s.sys.pagetable_frames, 4);
  assertEquals(s.sys.nr_page_table_pages, 0);
  s.touch("a", A);
  // pmd_alloc_one: crst_table_alloc + pagetable_pmd_ctor (NR +4, an order-2 folio), VmPTE
  // +16384; page_table_alloc: a fresh page, pte ctor once (NR +1), the first 2 KiB half (AA
  // 0x01), the page put on mm->context.pgtable_list; VmPTE +2048 (arch/s390/mm/pgalloc.c)
  assertEquals(s.fig("a"), {
    vmpte: 16384 + 2048,
    tables: { pgd: 0, p4d: 0, pud: 1, pmd: 1, pte: 1 },
    rss: 4096,
  });
  assertEquals(s.sys.nr_page_table_pages, 5);
  assertEquals(s.sys.pagetable_frames, 4 + 4 + 1);
  assertEquals(s.sys.ptlocks, 2); // split PTE and PMD ptlocks (ARCH_ENABLE_SPLIT_PMD_PTLOCK)
  const [k, mm] = mmOf(s, "a");
  const f = pteFrame(s, "a", A);
  assertEquals(fragmentBits(k, f), 0x01);
  assertEquals(pgtableListFrames(mm), [f]);
  // exit: free_pgtables -> pte_free_tlb (page_table_free_rcu, tag 1) and pmd_free_tlb; one
  // tlb_flush = __tlb_flush_mm_lazy (flush_mm was set), an IDTE broadcast: no IPI
  s.exit("a");
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  assertClean(s);
});

Deno.test("a region the size of one PTE table: 1 MiB, 256 pages", () => {
  // PTRS_PER_PTE 256: one page table maps one segment (1 MiB)
  const s = new Sim("s390-3level").mm("a").map("a", A, 2n * M).touch("a", A, M);
  assertEquals(s.fig("a").tables.pte, 1);
  assertEquals(s.fig("a").vmpte, 16384 + 2048);
  assertEquals(s.fig("a").rss, 1024 * 1024);
  // one more page crosses into the next segment: a second table, the free half of the same page
  s.touch("a", A + M);
  assertEquals(s.fig("a").tables.pte, 2);
  assertEquals(s.fig("a").vmpte, 16384 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 5);
  assertEquals(pteFrame(s, "a", A), pteFrame(s, "a", A + M));
  s.exit("a");
  assertClean(s);
});

Deno.test("6.6: 64 page tables fill 32 pages; 8 GiB sparse needs 4 segment tables", () => {
  // page_table_alloc takes the second half of the page at the head of pgtable_list: tables
  // 2n and 2n+1 share a page, so 64 tables cost 32 pages (NR +32) and VmPTE 64 x 2048
  const s = new Sim("s390-3level").mm("a").map("a", A, 64n * M).touch("a", A, 64n * M, M);
  assertEquals(s.fig("a").vmpte, 16384 + 64 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 + 32);
  assertEquals(s.sys.pagetable_frames, 4 + 4 + 32);
  assertEquals(pgtableListFrames(s.run.k.mms.get("a")!), []); // every page full
  s.unmap("a", A, 64n * M); // no neighbour: floor 0, ceiling 0 -> the segment table goes too
  assertEquals(s.fig("a").vmpte, 0);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(s.sys.pagetable_frames, 4);
  // a segment table maps 2 GiB (one region-3 entry): one page per GiB over 8 GiB touches 4
  // segment tables and 8 page tables (4 pages)
  s.map("a", A, 8n * G).touch("a", A, 8n * G, G);
  assertEquals(s.fig("a").tables, { pgd: 0, p4d: 0, pud: 1, pmd: 4, pte: 8 });
  assertEquals(s.fig("a").vmpte, 4 * 16384 + 8 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 * 4 + 4);
  s.exit("a");
  assertClean(s);
});

Deno.test("2 KiB halves give their bytes back at once, their page only when both are gone", () => {
  // eight one-page regions, one per segment: 8 page tables in 4 pages (halves 0/1 each)
  const s = new Sim("s390-3level").mm("a");
  for (let i = 0n; i < 8n; i++) s.map("a", A + i * M, 4n * K).touch("a", A + i * M);
  const [k, mm] = mmOf(s, "a");
  const pages = [0n, 2n, 4n, 6n].map((i) => pteFrame(s, "a", A + i * M));
  assertEquals([1n, 3n, 5n, 7n].map((i) => pteFrame(s, "a", A + i * M)), pages);
  assertEquals(s.fig("a").vmpte, 16384 + 8 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 + 4);
  // munmap of every other region: the neighbours' VMAs lie in other segments, so each region's
  // page table is freed (free_pgd_range, ceiling = next->vm_start rounded to PMD_MASK) but the
  // segment table stays (mm/memory.c). page_table_free_rcu: AA off, PP on (0x03 ^ 0x11 = 0x12),
  // the other half is in use, so the page goes to the TAIL of pgtable_list; after the grace
  // period __tlb_remove_table clears PP (0x02) and keeps the page (arch/s390/mm/pgalloc.c)
  for (const i of [0n, 2n, 4n, 6n]) s.unmap("a", A + i * M, 4n * K);
  assertEquals(s.fig("a").vmpte, 16384 + 4 * 2048); // mm_dec_nr_ptes for each table
  assertEquals(s.fig("a").tables.pte, 4);
  assertEquals(s.sys.nr_page_table_pages, 4 + 4); // no page freed
  assertEquals(s.sys.pagetable_frames, 4 + 4 + 4);
  assertEquals(pages.map((f) => fragmentBits(k, f)), [0x02, 0x02, 0x02, 0x02]);
  assertEquals(pgtableListFrames(mm), pages); // list_add_tail, in the order they were freed
  // a new page table takes the free half of the first listed page: no new page
  s.map("a", A + 8n * M, 4n * K).touch("a", A + 8n * M);
  assertEquals(pteFrame(s, "a", A + 8n * M), pages[0]);
  assertEquals(memSlot(pteMem(s, "a", A + 8n * M)), 0); // mask 0x02 -> bit 0, the first half
  assertEquals(fragmentBits(k, pages[0]), 0x03);
  assertEquals(pgtableListFrames(mm), pages.slice(1));
  assertEquals(s.sys.nr_page_table_pages, 4 + 4);
  assertEquals(s.fig("a").vmpte, 16384 + 5 * 2048);
  // the last half of a page: 0x02 ^ 0x22 = 0x20, off the list; __tlb_remove_table clears PP,
  // nothing is left, so pagetable_pte_dtor and pagetable_free (NR -1, one frame less)
  s.unmap("a", A + 3n * M, 4n * K);
  assertEquals(s.fig("a").vmpte, 16384 + 4 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 + 3);
  assertEquals(s.sys.pagetable_frames, 4 + 4 + 3);
  assertEquals(pgtableListFrames(mm), [pages[2], pages[3]]);
  s.exit("a");
  assertClean(s);
});

Deno.test("pgtable_list rules: tail and pending after an RCU free, head after a direct free", () => {
  // Driving the backend by hand: page_table_alloc, page_table_free (pte_free) and
  // page_table_free_rcu (pte_free_tlb) on one mm (arch/s390/mm/pgalloc.c, 6.6)
  const s = new Sim("s390-3level").mm("a");
  const [k, mm] = mmOf(s, "a");
  const be = s390Backend;
  const p0 = be.pteAllocOne(k, mm, 0), p1 = be.pteAllocOne(k, mm, 0);
  const q0 = be.pteAllocOne(k, mm, 0), q1 = be.pteAllocOne(k, mm, 0);
  const P0 = memFrame(p0), Q0 = memFrame(q0);
  assertEquals([memFrame(p1), memSlot(p0), memSlot(p1)], [P0, 0, 1]);
  assertEquals([memFrame(q1), memSlot(q0), memSlot(q1)], [Q0, 0, 1]);
  assertEquals(s.sys.nr_page_table_pages, 2); // the pte ctor once per 4 KiB page
  assertEquals(pgtableListFrames(mm), []);
  // pte_free_tlb of P's first half: PP pending (0x12), P at the tail
  const tlb = new MmuGather(mm, false, 8);
  pteFreeTlb(k, tlb, p0, 0);
  assertEquals(fragmentBits(k, P0), 0x12);
  assertEquals(pgtableListFrames(mm), [P0]);
  // pte_free of Q's second half: AA off and PP on, then PP off at once (0x01); Q at the head
  be.pteFree(k, mm, q1);
  assertEquals(fragmentBits(k, Q0), 0x01);
  assertEquals(pgtableListFrames(mm), [Q0, P0]);
  // the head is reused at once
  const r = be.pteAllocOne(k, mm, 0);
  assertEquals([memFrame(r), memSlot(r)], [Q0, 1]);
  assertEquals(pgtableListFrames(mm), [P0]);
  // P's free half is still pending: (0x12 | 0x12 >> 4) & 3 = 3, so a fresh page, at the head
  const n0 = be.pteAllocOne(k, mm, 0);
  const N0 = memFrame(n0);
  assert(N0 !== P0 && N0 !== Q0);
  assertEquals(pgtableListFrames(mm), [N0, P0]);
  assertEquals(s.sys.nr_page_table_pages, 3);
  // the flush and the grace period: __tlb_remove_table clears PP (0x02); the page stays
  tlbFlushMmu(k, tlb);
  assertEquals(s.sys.rcu_pending, 1);
  k.rcuGracePeriod();
  assertEquals(fragmentBits(k, P0), 0x02);
  assertEquals(s.sys.nr_page_table_pages, 3);
  // P's last half through the gather: the dtor waits for the grace period
  const tlb2 = new MmuGather(mm, false, 8);
  pteFreeTlb(k, tlb2, p1, 0);
  assertEquals(fragmentBits(k, P0), 0x20);
  assertEquals(pgtableListFrames(mm), [N0]);
  tlbFlushMmu(k, tlb2);
  assertEquals(s.sys.nr_page_table_pages, 3);
  k.rcuGracePeriod();
  assertEquals(s.sys.nr_page_table_pages, 2);
  for (const m of [q0, r, n0]) be.pteFree(k, mm, m);
  assertEquals(s.sys.nr_page_table_pages, 0);
  assertEquals(pgtableListFrames(mm), []);
  assertEquals(s.violations, []);
});

Deno.test("fork: the child builds its own tables from its own pgtable_list", () => {
  // copy_page_range allocates the child's tables (mm/memory.c); init_new_context starts the
  // child's pgtable_list empty, so the child's 3 page tables take 2 pages of its own
  const s = new Sim("s390-3level").mm("a");
  for (let i = 0n; i < 3n; i++) s.map("a", A + i * M, 4n * K).touch("a", A + i * M);
  s.fork("a", "b");
  assertEquals(s.fig("b").vmpte, 16384 + 3 * 2048);
  assertEquals(s.fig("b").tables, { pgd: 0, p4d: 0, pud: 1, pmd: 1, pte: 3 });
  assertEquals(s.fig("b").rss, 3 * 4096);
  assertEquals(s.sys.nr_page_table_pages, 2 * (4 + 2));
  const [, a] = mmOf(s, "a");
  const [, b] = mmOf(s, "b");
  assertEquals(pgtableListFrames(a), [pteFrame(s, "a", A + 2n * M)]);
  assertEquals(pgtableListFrames(b), [pteFrame(s, "b", A + 2n * M)]);
  assert(pteFrame(s, "a", A) !== pteFrame(s, "b", A));
  // dup_mmap ends with flush_tlb_mm(oldmm) = __tlb_flush_mm_lazy: the write-protected PTEs
  // set flush_mm (ptep_set_wrprotect -> ptep_xchg_lazy, the mm runs on this CPU only)
  assertEquals(s.sys.tlb_flushes, 1);
  assertEquals(s.sys.ipis, 0);
  s.exit("a").exit("b");
  assertClean(s);
  // the parent on two CPUs: each PTE is write-protected with IPTE (a broadcast), flush_mm stays
  // 0 and flush_tlb_mm flushes nothing; no IPI either way
  const t = new Sim("s390-3level", {}, 4).mm("a").on("a", 0, 1);
  t.map("a", A, 4n * K).touch("a", A).fork("a", "b");
  assertEquals([t.sys.tlb_flushes, t.sys.ipis], [0, 0]);
  t.exit("a").exit("b");
  assertClean(t);
});

Deno.test("3 -> 4 -> 5 levels as higher addresses are first mapped, counted as the kernel does", () => {
  const s = new Sim("s390-3level", {}, 4).mm("a");
  s.map("a", A, 4n * K).touch("a", A);
  assertEquals(s.fig("a").vmpte, 18432);
  // mmap at 5 TiB: arch_get_unmapped_area -> check_asce_limit -> crst_table_upgrade
  // (arch/s390/mm/mmap.c, pgalloc.c): a region-2 table on top; mm_inc_nr_puds counts the old
  // region-3 table (+16384) before anything is touched; on_each_cpu: 3 IPIs with 4 CPUs
  s.map("a", 5n * T, 4n * K);
  assertEquals(s.fig("a").tables, { pgd: 0, p4d: 1, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 18432 + 16384);
  assertEquals(s.sys.ipis, 3);
  assertEquals(s.sys.nr_page_table_pages, 5); // no p4d/pud ctor in 6.6
  assertEquals(s.sys.pagetable_frames, 4 + 4 + 1 + 4);
  // the fault: a region-3 table (+16384, no ctor), a segment table (+16384, NR +4) and the free
  // half of the first page-table page (+2048, no new page)
  s.touch("a", 5n * T);
  assertEquals(s.fig("a").vmpte, 18432 + 16384 + 16384 + 16384 + 2048);
  assertEquals(s.fig("a").tables, { pgd: 0, p4d: 1, pud: 2, pmd: 2, pte: 2 });
  assertEquals(s.sys.nr_page_table_pages, 9);
  // mmap at 16 PiB: a region-1 table on top, no counter; 3 more IPIs
  s.map("a", 16n * P, 4n * K);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 1, pud: 2, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 69632);
  assertEquals(s.sys.ipis, 6);
  // the fault: a region-2 table (no counter), region-3 +16384, segment +16384, a new page +2048
  s.touch("a", 16n * P);
  assertEquals(s.fig("a").vmpte, 69632 + 16384 + 16384 + 2048);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 2, pud: 3, pmd: 3, pte: 3 });
  assertEquals(s.sys.nr_page_table_pages, 9 + 4 + 1);
  // a second mapping below the limit upgrades nothing
  s.map("a", 6n * T, 4n * K);
  assertEquals(s.sys.ipis, 6);
  // exit: free_pgtables reaches the old region-3 table through region-2 entry 0 (the VMA at
  // 1 TiB), the old region-2 table through region-1 entry 0; pgd_free the region-1 table
  s.exit("a");
  assertClean(s);
});

Deno.test("3 -> 5 levels in one upgrade; a forked child keeps its parent's depth", () => {
  const s = new Sim("s390-3level", {}, 4).mm("a").map("a", A, 4n * K).touch("a", A);
  // end > _REGION1_SIZE with asce_limit _REGION2_SIZE: both tables, one on_each_cpu
  s.map("a", 16n * P, 4n * K).touch("a", 16n * P);
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 2, pud: 2, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 18432 + 16384 + 16384 + 16384 + 2048);
  assertEquals(s.sys.ipis, 3);
  // dup_mm copies asce_limit: init_new_context makes a region-1 top table for the child, whose
  // region-2/3 tables all come from copy_page_range (pud tables counted by __pud_alloc)
  s.fork("a", "b");
  assertEquals(s.fig("b").tables, s.fig("a").tables);
  assertEquals(s.fig("b").vmpte, s.fig("a").vmpte);
  assertEquals(s.sys.ipis, 3); // no upgrade in the child
  s.exit("b").exit("a");
  assertClean(s);
});

Deno.test("s390-4level and s390-5level: an mm that starts deeper", () => {
  // init_new_context for a forked 4-level task: a region-2 top table; a low page needs a
  // region-3 table through __pud_alloc (+16384, mm_pud_folded is false), a segment table and a
  // page table
  const s = new Sim("s390-4level").mm("a").map("a", A, 4n * K).touch("a", A);
  assertEquals(s.fig("a").tables, { pgd: 0, p4d: 1, pud: 1, pmd: 1, pte: 1 });
  assertEquals(s.fig("a").vmpte, 16384 + 16384 + 2048);
  assertEquals(s.sys.nr_page_table_pages, 5);
  s.map("a", 5n * P, 4n * K); // within 8 PiB: no upgrade
  assertEquals(s.sys.ipis, 0);
  s.map("a", 9n * P, 4n * K).touch("a", 9n * P); // 4 -> 5
  assertEquals(s.fig("a").tables, { pgd: 1, p4d: 2, pud: 2, pmd: 2, pte: 2 });
  assertEquals(s.fig("a").vmpte, 2 * (16384 + 16384 + 2048)); // no mm_inc_nr_puds for 4 -> 5
  s.exit("a");
  assertClean(s);
  const t = new Sim("s390-5level").mm("a").map("a", A, 4n * K).touch("a", A);
  assertEquals(t.fig("a").tables, { pgd: 1, p4d: 1, pud: 1, pmd: 1, pte: 1 });
  assertEquals(t.fig("a").vmpte, 16384 + 16384 + 2048); // the p4d has no mm counter
  t.exit("a");
  assertClean(t);
});

Deno.test("a failed upgrade fails the mmap; a failed region-1 table gives the region-2 back", () => {
  // crst_table_upgrade returns -ENOMEM, check_asce_limit returns it as the address
  // an injection rule counts the calls of its site from the moment it is added
  const s = new Sim("s390-3level").mm("a");
  s.run.k.addInject("pagetable_alloc", "at", 1);
  s.map("a", 5n * T, 4n * K);
  assertEquals(s.run.k.mms.get("a")!.vmas, []);
  assertEquals(s.fig("a").tables.p4d, 0);
  assertEquals(s.sys.ipis, 0);
  // 3 -> 5: the region-2 table (call 1 of this rule) is allocated, the region-1 table fails
  s.run.k.addInject("pagetable_alloc", "at", 2);
  s.map("a", 16n * P, 4n * K);
  assertEquals(s.run.k.mms.get("a")!.vmas, []);
  assertEquals(s.fig("a").tables, { pgd: 0, p4d: 0, pud: 1, pmd: 0, pte: 0 });
  assertEquals(s.sys.pagetable_frames, 4);
  s.exit("a");
  assertClean(s);
});

Deno.test("an upgraded mm with no VMA below 4 TiB keeps its first region-3 table", () => {
  // free_pgtables only walks the VMAs' ranges: with nothing in [0, 4 TiB) region-2 entry 0 is
  // never visited, and pgd_free frees the top table only; check_mm reports the 16384 bytes
  // mm_inc_nr_puds added at the upgrade (kernel/fork.c). A real process always has its stack
  // there (STACK_TOP_MAX < _REGION2_SIZE, asm/processor.h), which frees it at exit.
  const s = new Sim("s390-3level").mm("a").map("a", 5n * T, 4n * K).touch("a", 5n * T);
  s.exit("a");
  assertEquals(s.violations, ["pgtables-bytes-nonzero", "table-leak"]);
  assertEquals(s.sys.pagetable_frames, 4); // the region-3 table, still in the model's tree
  // with a VMA below 4 TiB the same process exits clean
  const t = new Sim("s390-3level").mm("a").map("a", A, 4n * K);
  t.map("a", 5n * T, 4n * K).touch("a", 5n * T).exit("a");
  assertClean(t);
});

Deno.test("THP: deposits are 2 KiB halves; pte_free puts the page at the head for reuse", () => {
  // do_huge_pmd_anonymous_page deposits pte_alloc_one's table and counts mm_inc_nr_ptes;
  // HPAGE_PMD_SIZE is a 1 MiB segment (mm/huge_memory.c, HAVE_ARCH_TRANSPARENT_HUGEPAGE)
  const s = new Sim("s390-3level", { thp: "on" }).mm("a").map("a", A, 2n * M);
  s.touch("a", A).touch("a", A + M);
  assertEquals(s.fig("a").rss, 2 * 1024 * 1024);
  assertEquals(s.fig("a").vmpte, 16384 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 + 1); // both deposits in one page
  const [k] = mmOf(s, "a");
  const f = memFrame(k.deposits.values().next().value![0]);
  assertEquals(fragmentBits(k, f), 0x03);
  // zap_huge_pmd -> zap_deposited_table -> pte_free = page_table_free: 0x03 ^ 0x22 = 0x21,
  // the page at the HEAD, PP off at once (0x01); VmPTE -2048; the page stays
  s.dontneed("a", A, M);
  assertEquals(fragmentBits(k, f), 0x01);
  assertEquals(s.fig("a").vmpte, 16384 + 2048);
  assertEquals(s.sys.nr_page_table_pages, 5);
  // the next deposit takes that half again at once
  s.touch("a", A);
  assertEquals(fragmentBits(k, f), 0x03);
  assertEquals(s.sys.nr_page_table_pages, 5);
  // unmapping part of a huge pmd splits it: s390's pmdp_invalidate is an IDTE of the entry
  // (pmdp_xchg_direct), no flush_pmd_tlb_range and no IPI; the deposit becomes the page table
  const flushes = s.sys.tlb_flushes;
  s.on("a", 0, 1).unmap("a", A, 4n * K);
  assertEquals(s.sys.ipis, 0);
  // the zap on two CPUs is IPTE'd, the gather flushes nothing (no table was freed)
  assertEquals(s.sys.tlb_flushes, flushes);
  assertEquals(s.fig("a").vmpte, 16384 + 2 * 2048);
  s.exit("a");
  assertClean(s);
});

Deno.test("tlb_flush: one IDTE when flush_mm is set, never an IPI", () => {
  const s = new Sim("s390-3level", {}, 4).mm("a").map("a", A, 2n * M).touch("a", A, 2n * M);
  // MADV_DONTNEED on an mm attached to this CPU only: ptep_get_and_clear_full ->
  // ptep_flush_lazy sets flush_mm; tlb_finish_mmu -> __tlb_flush_mm_lazy flushes once
  s.dontneed("a", A, M);
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [1, 0]);
  // attached to CPUs 0 and 1: every pte is invalidated at once with IPTE (a broadcast), flush_mm
  // stays 0 and the gather flushes nothing (arch/s390/mm/pgtable.c)
  s.on("a", 0, 1).touch("a", A, M).dontneed("a", A, M);
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [1, 0]);
  // munmap frees tables: pte_free_tlb and pmd_free_tlb set flush_mm -> one IDTE, no IPI
  s.unmap("a", A, 2n * M);
  assertEquals([s.sys.tlb_flushes, s.sys.ipis], [2, 0]);
  s.exit("a");
  assertClean(s);
});

Deno.test("kernel versions: what one and two page tables cost", () => {
  // 6.1: NR +1 per ctor call (pmd and the page-table page); 6.6: the pmd ctor counts the order-2
  // folio (4); 6.12: one page per page table (d08d4e7cd6bf, 6.7); 6.18: the pgd ctor too
  // (pagetable_pgd_ctor, 6.14) on the region-3 top table
  const fresh: Record<string, number> = { "6.1": 0, "6.6": 0, "6.12": 0, "6.18": 4 };
  const one: Record<string, number> = { "6.1": 2, "6.6": 5, "6.12": 5, "6.18": 9 };
  const two: Record<string, number> = { "6.1": 2, "6.6": 5, "6.12": 6, "6.18": 10 };
  const frames: Record<string, number> = { "6.1": 9, "6.6": 9, "6.12": 10, "6.18": 10 };
  for (const kernel of Object.keys(one)) {
    const s = new Sim("s390-3level", { kernel }).mm("a").map("a", A, 2n * M);
    assertEquals(s.sys.nr_page_table_pages, fresh[kernel], kernel);
    s.touch("a", A);
    assertEquals(s.sys.nr_page_table_pages, one[kernel], kernel);
    s.touch("a", A + M);
    assertEquals(s.sys.nr_page_table_pages, two[kernel], kernel);
    assertEquals(s.sys.pagetable_frames, frames[kernel], kernel);
    assertEquals(s.fig("a").vmpte, 16384 + 2 * 2048, kernel); // the counters never changed
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("kernel versions: unmapping one of two page tables", () => {
  // 6.6: the halves share a page, which stays; 6.12: the table's own page goes after the
  // grace period (s390 __tlb_remove_table: not order 2, so pagetable_pte_dtor_free)
  for (const [kernel, nr] of [["6.6", 5], ["6.12", 5], ["6.18", 9]] as const) {
    const s = new Sim("s390-3level", { kernel }).mm("a");
    s.map("a", A, 4n * K).map("a", A + M, 4n * K).touch("a", A).touch("a", A + M);
    s.unmap("a", A + M, 4n * K);
    assertEquals(s.fig("a").vmpte, 16384 + 2048, kernel);
    assertEquals(s.sys.nr_page_table_pages, nr, kernel);
    s.exit("a");
    assertClean(s);
  }
});

Deno.test("kernel versions: 6.18 counts every CRST table, the upgrade's too", () => {
  // crst_table_upgrade runs pagetable_p4d_ctor / pagetable_pgd_ctor (6.14, with the fix
  // "s390/mm: Add missing ctor/dtor on page table upgrade"); pud_alloc_one pagetable_pud_ctor
  const s = new Sim("s390-3level", { kernel: "6.18" }).mm("a").map("a", A, 4n * K).touch("a", A);
  assertEquals(s.sys.nr_page_table_pages, 4 + 4 + 1);
  s.map("a", 5n * T, 4n * K);
  assertEquals(s.sys.nr_page_table_pages, 9 + 4);
  s.touch("a", 5n * T); // region-3 +4, segment +4, page table +1
  assertEquals(s.sys.nr_page_table_pages, 13 + 9);
  assertEquals(s.fig("a").vmpte, 18432 + 16384 + 16384 + 16384 + 2048);
  s.exit("a");
  assertClean(s);
  // 6.12 has no s390 pud ctor (arch pud_alloc_one) although the generic one has it since 6.7
  const t = new Sim("s390-3level", { kernel: "6.12" }).mm("a").map("a", A, 4n * K).touch("a", A);
  t.map("a", 5n * T, 4n * K).touch("a", 5n * T);
  assertEquals(t.sys.nr_page_table_pages, 5 + 5);
  t.exit("a");
  assertClean(t);
});

Deno.test("kernel versions: the pmd dtor runs before the flush up to 6.13, after RCU in 6.18", () => {
  // pmd_free_tlb runs pagetable_pmd_dtor itself up to 6.13 (asm/tlb.h); from 6.14 the generic
  // __tlb_remove_table runs pagetable_dtor_free after the grace period
  for (const [kernel, during] of [["6.6", 1], ["6.12", 1], ["6.18", 5]] as const) {
    const s = new Sim("s390-3level", { kernel }).mm("a");
    const [k, mm] = mmOf(s, "a");
    const pmd = s390Backend.pmdAllocOne(k, mm, 0);
    const pte = s390Backend.pteAllocOne(k, mm, 0);
    const base = kernel === "6.18" ? 4 : 0;
    assertEquals(s.sys.nr_page_table_pages, base + 5, kernel);
    const tlb = new MmuGather(mm, false, 8);
    pteFreeTlb(k, tlb, pte, 0);
    pmdFreeTlb(k, tlb, pmd, 0);
    assertEquals(s.sys.nr_page_table_pages, base + during, kernel);
    tlbFlushMmu(k, tlb);
    assertEquals(s.sys.tlb_flushes, 1, kernel);
    k.rcuGracePeriod();
    assertEquals(s.sys.nr_page_table_pages, base, kernel);
    assertEquals(s.violations, [], kernel);
  }
});

Deno.test("kernel versions: memcg accounting and the page-table size", () => {
  // 5671ce2a1fc6 "s390/mm: Use __GFP_ACCOUNT for user page table allocations" (v6.18, in
  // 6.12.y): GFP_KERNEL_ACCOUNT in crst_table_alloc and page_table_alloc; GFP_KERNEL before
  for (const [kernel, memcg, pte] of [["6.6", 0, 2048], ["6.12", 1, 4096], ["6.18", 1, 4096]]) {
    const s = new Sim("s390-3level", { kernel: String(kernel) }).mm("a");
    const [k, mm] = mmOf(s, "a");
    assertEquals(k.frames.memcg[memFrame(k.pool.mem[mm.pgd])], memcg, String(kernel));
    assertEquals(k.cfg.levels[4].tableBytes, pte, String(kernel));
    const story = findConfig("s390-3level")!.story!(k.cfg, k.kv);
    assertEquals(story.levels.pte!.via, kernel === "6.6" ? "fragment" : "table-batch");
  }
});

Deno.test("pgste (a KVM host process) in 6.6: whole 4 KiB page tables, never shared", () => {
  // page_table_alloc with mm_alloc_pgste: AA 0x03, never on pgtable_list; page_table_free_rcu
  // tags the table 3 and __tlb_remove_table frees it after the grace period
  const s = new Sim("s390-3level", { pgste: "on" }).mm("a");
  s.map("a", A, 4n * K).map("a", A + M, 4n * K).touch("a", A).touch("a", A + M);
  assertEquals(s.fig("a").vmpte, 16384 + 2 * 2048);
  assertEquals(s.sys.nr_page_table_pages, 4 + 2);
  const [k, mm] = mmOf(s, "a");
  assertEquals(fragmentBits(k, pteFrame(s, "a", A)), 0x03);
  assertEquals(pgtableListFrames(mm), []);
  s.unmap("a", A + M, 4n * K);
  assertEquals(s.sys.nr_page_table_pages, 4 + 1);
  s.exit("a");
  assertClean(s);
});

Deno.test("the configurations: geometry, TASK_SIZE, gather", () => {
  const c = configFor("s390-3level");
  // shifts: page 12, segment 20, region-3 31, region-2 42, region-1 53 (asm/pgtable.h)
  assertEquals(c.levels.map((l) => l.shift), [53, 42, 31, 20, 12]);
  assertEquals(c.levels.map((l) => l.tableBytes), [16384, 16384, 16384, 16384, 2048]);
  assertEquals(c.levels.map((l) => l.pgtablesBytes), [0, 0, 16384, 16384, 2048]);
  assertEquals(c.taskSize, (1n << 64n) - 4096n);
  assertEquals(
    [c.gather.tableFree, c.gather.rcuTableFree, c.gather.noGather, c.gather.mergeVmas],
    [true, true, true, true],
  );
  assertEquals([c.splitPtePtlocks, c.splitPmdPtlocks], [true, true]);
  assertEquals(findConfig("s390-5level")!.archData, { startLevels: 5 });
});
