/**
 * s390: arch/s390/mm/pgalloc.c, arch/s390/mm/mmap.c and arch/s390/include/asm/{pgalloc,tlb,
 * tlbflush,mmu_context,pgtable}.h over the asm-generic defaults.
 *
 * Every level is present in the geometry: region-1 (pgd), region-2 (p4d), region-3 (pud) and
 * segment (pmd) tables are CRST tables of 2048 8-byte entries (16 KiB, order 2); page tables have
 * 256 entries (2 KiB). Which levels an mm uses depends on its asce_limit: a new mm starts with a
 * region-3 table as mm->pgd (3 levels, 4 TiB), and crst_table_upgrade puts a region-2 (8 PiB) and
 * a region-1 table (the maximum) above it when a higher address is mapped. The three
 * configurations differ only in the depth an mm starts with (a fork inherits its parent's).
 *
 * What differs by version (kv = 606 for 6.6 ...):
 * - 6.1 and 6.6: two 2 KiB page tables share a 4 KiB page (AA/PP bits in the upper byte of
 *   _refcount, mm->context.pgtable_list); the pte ctor runs once per page and the dtor when both
 *   halves are gone. 6.1 uses the struct page API and counts NR_PAGETABLE +1 per table.
 * - 6.7 ("s390/mm: use full 4KB page for 2KB PTE", d08d4e7cd6bf): one 4 KiB page per page table,
 *   __tlb_remove_table tells CRST tables from page tables by compound order (0031f1c7cf26).
 * - 6.12.y (Debian 6.12.117) and 6.18: GFP_KERNEL_ACCOUNT (5671ce2a1fc6, v6.18, backported).
 * - 6.14: pud/p4d ctors (Qi Zheng, 78966b550289), the pgd ctor (68c601de75d8, with the
 *   crst_table_upgrade fix), every dtor in the generic __tlb_remove_table: NR_PAGETABLE counts
 *   every CRST table, 4 pages each.
 *
 * @module
 */

import {
  type ArchConfig,
  type Backend,
  GFP,
  GFP_KERNEL_ACCOUNT,
  type Machine,
  type Mem,
  memFrame,
  memOf,
  memSlot,
  type Mm,
  mmIncNr,
  type MmuGather,
  P4D,
  pagetableAlloc,
  pagetableDtor,
  pagetableDtorFree,
  pagetableFree,
  pagetableP4dCtor,
  pagetablePgdCtor,
  pagetablePmdCtor,
  pagetablePteCtor,
  pagetablePteDtor,
  pagetablePudCtor,
  PG,
  PGD,
  PMD,
  PTE,
  PUD,
  pushRoot,
  tlbRemovePtdesc,
  tlbRemoveTable,
} from "../engine/api.ts";
import type { ConfigSpec, ConfigStory, LevelStory, OptionSpec } from "./config.ts";
import { genericBackend, genericTlbRemoveTable, pgdFrom } from "./generic.ts";

// ---------------------------------------------------------------------------------------------
// Limits and per-mm state

/** _REGION2_SIZE (4 TiB) in 4 KiB pages: the asce_limit of a 3-level mm. */
const REGION2_PAGES = 2 ** 30;
/** _REGION1_SIZE (8 PiB) in pages: the asce_limit of a 4-level mm. */
const REGION1_PAGES = 2 ** 41;
/** TASK_SIZE_MAX (-PAGE_SIZE) in pages: the asce_limit of a 5-level mm. */
const TASK_SIZE_MAX_PAGES = 2 ** 52 - 1;
/** CRST_ALLOC_ORDER (arch/s390/include/asm/pgalloc.h). */
const CRST_ALLOC_ORDER = 2;

/** The asce_limit a configuration starts an mm with (pages). */
function startLimit(k: Machine): number {
  const levels = k.cfg.archData.startLevels;
  return levels === 5 ? TASK_SIZE_MAX_PAGES : levels === 4 ? REGION1_PAGES : REGION2_PAGES;
}

/** mm->context.asce_limit, in pages. */
function asceLimit(mm: Mm): number {
  return mm.context.asceLimit as number;
}

/** The level of the top table for an asce_limit: region-3 (pud), region-2 (p4d) or region-1. */
function rootLevel(limit: number): number {
  return limit <= REGION2_PAGES ? PUD : limit <= REGION1_PAGES ? P4D : PGD;
}

/**
 * The list links of every pgtable_list of a machine (page->lru of each page-table page), as
 * typed arrays indexed by frame: a page is on one mm's list at most, `owner` says whose.
 */
class ListLinks {
  next: Int32Array = new Int32Array(0);
  prev: Int32Array = new Int32Array(0);
  owner: Int32Array = new Int32Array(0);
  seq = 0;

  /** Makes room for frame `f`. */
  room(f: number): void {
    if (f < this.owner.length) return;
    const n = Math.max(f + 1, 1024, Math.ceil(this.owner.length * 1.5));
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.next = g(this.next);
    this.prev = g(this.prev);
    this.owner = g(this.owner);
  }
}

const links = new WeakMap<Machine, ListLinks>();

/** mm->context.pgtable_list: pages with a free 2 KiB half, as a doubly linked list of frames. */
class PgtableList {
  head = -1;
  tail = -1;
  readonly #l: ListLinks;
  readonly #id: number;

  constructor(l: ListLinks) {
    this.#l = l;
    this.#id = ++l.seq;
  }

  has(f: number): boolean {
    return f < this.#l.owner.length && this.#l.owner[f] === this.#id;
  }
  /** list_add: at the head. */
  addHead(f: number): void {
    this.del(f);
    const l = this.#l;
    l.room(f);
    l.owner[f] = this.#id;
    l.next[f] = this.head;
    l.prev[f] = -1;
    if (this.head >= 0) l.prev[this.head] = f;
    else this.tail = f;
    this.head = f;
  }
  /** list_add_tail. */
  addTail(f: number): void {
    this.del(f);
    const l = this.#l;
    l.room(f);
    l.owner[f] = this.#id;
    l.prev[f] = this.tail;
    l.next[f] = -1;
    if (this.tail >= 0) l.next[this.tail] = f;
    else this.head = f;
    this.tail = f;
  }
  /** list_del / list_del_init (a no-op for a page not on the list). */
  del(f: number): void {
    if (!this.has(f)) return;
    const l = this.#l;
    const n = l.next[f], p = l.prev[f];
    if (p >= 0) l.next[p] = n;
    else this.head = n;
    if (n >= 0) l.prev[n] = p;
    else this.tail = p;
    l.owner[f] = 0;
  }
  /** The frames, head first. */
  frames(): number[] {
    const out: number[] = [];
    for (let f = this.head; f >= 0; f = this.#l.next[f]) out.push(f);
    return out;
  }
}

const lists = new WeakMap<Mm, PgtableList>();

/** mm->context.pgtable_list of `mm`. */
function pgtableList(mm: Mm): PgtableList {
  let l = lists.get(mm);
  if (!l) lists.set(mm, l = new PgtableList(new ListLinks()));
  return l;
}

/** The frames on mm->context.pgtable_list, head first (for tests and traces). */
export function pgtableListFrames(mm: Mm): number[] {
  return pgtableList(mm).frames();
}

/** The upper byte of a page's _refcount: AA bits 0x01/0x02, PP bits 0x10/0x20 (6.1, 6.6). */
export function fragmentBits(k: Machine, frame: number): number {
  return (k.frames.refcount[frame] >>> 24) & 0xff;
}

/** atomic_xor_bits(&ptdesc->_refcount, bits << 24), returning the new upper byte (pgalloc.c). */
function xorBits(k: Machine, frame: number, bits: number): number {
  k.frames.refcount[frame] ^= bits << 24;
  return fragmentBits(k, frame);
}

/** 2 KiB page tables share a 4 KiB page up to 6.6 (gone in 6.7, d08d4e7cd6bf). */
function fragments(k: Machine): boolean {
  return k.kv < 607;
}

/** mm_alloc_pgste: the mm hosts KVM guests (vm.allocate_pgste, a QEMU process). */
function pgste(k: Machine): boolean {
  return k.cfg.options.pgste === "on";
}

/** GFP of crst_table_alloc / page_table_alloc: GFP_KERNEL, GFP_KERNEL_ACCOUNT from 6.12.y/6.18. */
function pgtGfp(k: Machine): number {
  return k.kv >= 612 ? GFP_KERNEL_ACCOUNT : GFP.KERNEL;
}

// ---------------------------------------------------------------------------------------------
// CRST tables

/** crst_table_alloc: pagetable_alloc(gfp, CRST_ALLOC_ORDER), 16 KiB (arch/s390/mm/pgalloc.c). */
function crstTableAlloc(k: Machine): number {
  if (k.trace) k.call("crst_table_alloc");
  if (k.shouldFail("crst_table_alloc")) return -1;
  return pagetableAlloc(k, pgtGfp(k), CRST_ALLOC_ORDER);
}

/** crst_table_free: pagetable_free (free_pages(table, 2) in 6.1) (arch/s390/mm/pgalloc.c). */
function crstTableFree(k: Machine, frame: number): void {
  if (k.trace) k.call("crst_table_free", `frame ${frame}`);
  pagetableFree(k, frame);
}

/** The CRST dtor before crst_table_free where the version has a ctor for the level. */
function crstDtor(k: Machine, frame: number, level: number): void {
  // pmd always (pagetable_pmd_dtor); pgd/p4d/pud from 6.14 (pagetable_dtor) (asm/pgalloc.h)
  if (level === PMD || k.kv >= 614) pagetableDtor(k, frame, level);
}

/** A CRST table of `level` freed at once: its dtor (crstDtor), then crst_table_free. */
function crstRelease(k: Machine, frame: number, level: number): void {
  crstDtor(k, frame, level);
  crstTableFree(k, frame);
}

/**
 * crst_table_alloc and, from 6.14, the ctor of a region table (pagetable_pgd_ctor,
 * pagetable_p4d_ctor, pagetable_pud_ctor): s390's own pgd_alloc, p4d_alloc_one, pud_alloc_one
 * and crst_table_upgrade have none before, its pud_alloc_one not even in 6.7-6.13 when the
 * generic one had it (arch/s390/include/asm/pgalloc.h, arch/s390/mm/pgalloc.c). The frame or -1.
 */
function crstRegionAlloc(k: Machine, level: number): number {
  const f = crstTableAlloc(k);
  if (f >= 0 && k.kv >= 614) [pagetablePgdCtor, pagetableP4dCtor, pagetablePudCtor][level](k, f);
  return f;
}

/** init_new_context (arch/s390/include/asm/mmu_context.h); dup_mm copies the parent's limit. */
function s390InitNewContext(k: Machine, mm: Mm, parent: Mm | null): void {
  // exec: asce_limit 0 -> 3 levels; a fork keeps its parent's depth (forked 3/4/5-level task)
  mm.context.asceLimit = parent ? asceLimit(parent) : startLimit(k);
  mm.context.flushMm = 0;
  let l = links.get(k);
  if (!l) links.set(k, l = new ListLinks());
  lists.set(mm, new PgtableList(l)); // INIT_LIST_HEAD(&mm->context.pgtable_list)
}

/**
 * pgd_alloc: crst_table_alloc, + pagetable_pgd_ctor from 6.14; the top table's type follows
 * asce_limit (region-3, -2 or -1, init_new_context). pgd_free: (6.14+ pagetable_dtor +)
 * crst_table_free of the top table only (arch/s390/include/asm/pgalloc.h).
 */
const s390Pgd = pgdFrom({
  alloc(k: Machine): Mem {
    const f = crstRegionAlloc(k, PGD);
    return f < 0 ? -1 : memOf(f);
  },
  free: (k: Machine, mm: Mm, mem: Mem) => crstRelease(k, memFrame(mem), mm.top),
  level: (_k: Machine, mm: Mm) => rootLevel(asceLimit(mm)),
});

/** p4d_alloc_one: crst_table_alloc, + pagetable_p4d_ctor from 6.14 (asm/pgalloc.h). */
function s390P4dAllocOne(k: Machine): Mem {
  if (k.trace) k.call("p4d_alloc_one");
  const f = crstRegionAlloc(k, P4D);
  return f < 0 ? -1 : memOf(f);
}

/** pud_alloc_one: crst_table_alloc, + pagetable_pud_ctor from 6.14 only (asm/pgalloc.h). */
function s390PudAllocOne(k: Machine): Mem {
  if (k.trace) k.call("pud_alloc_one");
  const f = crstRegionAlloc(k, PUD);
  return f < 0 ? -1 : memOf(f);
}

/** pmd_alloc_one: crst_table_alloc + pagetable_pmd_ctor, freed if the ctor fails (asm/pgalloc.h). */
function s390PmdAllocOne(k: Machine): Mem {
  if (k.trace) k.call("pmd_alloc_one");
  const f = crstTableAlloc(k);
  if (f < 0) return -1;
  if (!pagetablePmdCtor(k, f)) {
    crstTableFree(k, f);
    return -1;
  }
  return memOf(f);
}

/** p4d_free / pud_free / pmd_free: dtor where the level has a ctor, crst_table_free (asm/pgalloc.h). */
function crstFreeOne(level: number, name: string) {
  return (k: Machine, _mm: Mm, mem: Mem): void => {
    if (k.trace) k.call(name);
    crstRelease(k, memFrame(mem), level);
  };
}

// ---------------------------------------------------------------------------------------------
// Page tables

/**
 * The pte dtor and pagetable_free: inline in 6.1, pte_free_now in 6.6, pagetable_pte_dtor_free
 * in 6.7-6.13 (arch/s390/mm/pgalloc.c).
 */
function pteFreeNow(k: Machine, frame: number): void {
  if (k.trace && k.kv >= 606) {
    k.call(k.kv >= 607 ? "pagetable_pte_dtor_free" : "pte_free_now", `frame ${frame}`);
  }
  pagetablePteDtor(k, frame);
  pagetableFree(k, frame);
}

/**
 * The tail of page_table_free and __tlb_remove_table for a page whose halves are all gone:
 * page_table_release_check, then pte_free_now, through call_rcu when pte_free_defer marked the
 * page PG_active (6.6) (arch/s390/mm/pgalloc.c).
 */
function releasePtePage(k: Machine, frame: number, half: number, mask: number): void {
  if (mask !== 0) {
    // page_table_release_check (CONFIG_DEBUG_VM): dump_page, and the free goes on regardless
    k.violate(
      "s390-pgtable-release",
      `Invalid pgtable release half 0x${half.toString(16)} mask 0x${mask.toString(16)}`,
      { frame },
    );
  }
  if (k.kv >= 606 && k.frames.flags[frame] & PG.active) {
    k.frames.flags[frame] &= ~PG.active; // folio_test_clear_active
    k.callRcu([memOf(frame)], () => pteFreeNow(k, frame));
    return;
  }
  pteFreeNow(k, frame);
}

/**
 * page_table_alloc with 2 KiB fragments (6.1, 6.6; arch/s390/mm/pgalloc.c): the first page on
 * pgtable_list gives its free half unless a half is still pending (PP); otherwise a new page,
 * pte ctor once, its first half returned and the page put at the head of the list.
 */
function pageTableAllocFragment(k: Machine, mm: Mm): Mem {
  if (k.trace) k.call("page_table_alloc", mm.name);
  const list = pgtableList(mm);
  if (!pgste(k) && list.head >= 0) {
    const f = list.head;
    let mask = fragmentBits(k, f);
    mask = (mask | (mask >> 4)) & 0x03; // a pending half is as good as allocated
    if (mask !== 0x03) {
      const bit = mask & 1; // =1 -> second 2K
      xorBits(k, f, 0x01 << bit);
      list.del(f);
      if (k.trace) k.call("page_table_alloc", `frame ${f} half ${bit} from pgtable_list`);
      return memOf(f, bit);
    }
  }
  // Allocate a fresh page: pagetable_alloc(GFP_KERNEL, 0) + pagetable_pte_ctor
  const f = pagetableAlloc(k, GFP.KERNEL, 0);
  if (f < 0) return -1;
  if (!pagetablePteCtor(k, f)) {
    pagetableFree(k, f);
    return -1;
  }
  if (pgste(k)) {
    xorBits(k, f, 0x03); // a 4 KiB table with PGSTEs: both AA bits, never on the list
    return memOf(f, 0);
  }
  xorBits(k, f, 0x01);
  list.addHead(f);
  return memOf(f, 0);
}

/**
 * page_table_free with fragments (6.1, 6.6): AA off and PP on under the lock, the page to the
 * HEAD of pgtable_list if the other half is in use (immediate reuse), PP off, and the page freed
 * when no bit is left (arch/s390/mm/pgalloc.c).
 */
function pageTableFreeFragment(k: Machine, mm: Mm, mem: Mem): void {
  if (k.trace) k.call("page_table_free", `frame ${memFrame(mem)} half ${memSlot(mem)}`);
  const f = memFrame(mem);
  if (pgste(k)) {
    releasePtePage(k, f, 0x03, xorBits(k, f, 0x03));
    return;
  }
  const bit = memSlot(mem);
  const list = pgtableList(mm);
  let mask = xorBits(k, f, 0x11 << bit);
  if ((mask & 0x03) && !(k.kv >= 606 && k.frames.flags[f] & PG.active)) list.addHead(f);
  else list.del(f);
  mask = xorBits(k, f, 0x10 << bit);
  if (mask !== 0) return;
  releasePtePage(k, f, 0x01 << bit, mask);
}

/**
 * page_table_free_rcu (6.1, 6.6): AA off and PP on, the page to the TAIL of pgtable_list if the
 * other half is in use (reusable once __tlb_remove_table clears PP), then tlb_remove_table with
 * the half in the pointer's low bits (arch/s390/mm/pgalloc.c).
 */
function pageTableFreeRcu(k: Machine, tlb: MmuGather, mem: Mem): void {
  if (k.trace) k.call("page_table_free_rcu", `frame ${memFrame(mem)} half ${memSlot(mem)}`);
  if (pgste(k)) {
    // gmap_unlink, then the 4 KiB table tagged 3
    tlbRemoveTable(k, tlb, mem, 0x03);
    return;
  }
  const f = memFrame(mem);
  const bit = memSlot(mem);
  const list = pgtableList(tlb.mm);
  const mask = xorBits(k, f, 0x11 << bit);
  if ((mask & 0x03) && !(k.kv >= 606 && k.frames.flags[f] & PG.active)) list.addTail(f);
  else list.del(f);
  tlbRemoveTable(k, tlb, mem, 0x01 << bit);
}

/** pte_alloc_one = page_table_alloc (arch/s390/include/asm/pgalloc.h, arch/s390/mm/pgalloc.c). */
function s390PteAllocOne(k: Machine, mm: Mm): Mem {
  if (k.shouldFail("page_table_alloc")) return -1;
  if (fragments(k)) return pageTableAllocFragment(k, mm);
  // 6.7+: a whole page per table, 256 PTEs (+ 256 PGSTEs for KVM) (pgalloc.c)
  if (k.trace) k.call("page_table_alloc", mm.name);
  const f = pagetableAlloc(k, pgtGfp(k), 0);
  if (f < 0) return -1;
  if (!pagetablePteCtor(k, f)) {
    pagetableFree(k, f);
    return -1;
  }
  return memOf(f);
}

/** pte_free = page_table_free (arch/s390/mm/pgalloc.c). */
function s390PteFree(k: Machine, mm: Mm, mem: Mem): void {
  if (fragments(k)) return pageTableFreeFragment(k, mm, mem);
  if (k.trace) k.call("page_table_free", `frame ${memFrame(mem)}`);
  // pagetable_pte_dtor_free (6.7-6.13), pagetable_dtor_free (6.14+)
  pagetableDtorFree(k, memFrame(mem), PTE);
}

// ---------------------------------------------------------------------------------------------
// Freeing through the mmu_gather

/**
 * pte_free_tlb (s390 overrides the whole wrapper, arch/s390/include/asm/tlb.h): range,
 * freed_tables and cleared_pmds as the generic wrapper sets them, and mm->context.flush_mm; then
 * page_table_free_rcu (6.1, 6.6) or tlb_remove_ptdesc (6.7+).
 */
/**
 * pte_free_defer (arch/s390/mm/pgalloc.c): with 2K fragments (6.6) SetPageActive and
 * page_table_free, so the page's last half goes through call_rcu; without them (6.7+,
 * 02e790ee3077) call_rcu of pte_free_now.
 */
function s390PteFreeDefer(k: Machine, mm: Mm, mem: Mem): void {
  if (fragments(k)) {
    k.frames.flags[memFrame(mem)] |= PG.active;
    return pageTableFreeFragment(k, mm, mem);
  }
  k.callRcu([mem], () => s390PteFree(k, mm, mem));
}

function s390PteFreeTlb(k: Machine, tlb: MmuGather, mem: Mem): void {
  tlb.mm.context.flushMm = 1;
  if (fragments(k)) return pageTableFreeRcu(k, tlb, mem);
  // 6.7+ (02e790ee3077): gmap_unlink for pgste mms, then tlb_remove_ptdesc
  tlbRemovePtdesc(k, tlb, mem, PTE);
}

/**
 * pmd_free_tlb (asm/tlb.h): mm_pmd_folded never holds for a 64-bit task; pagetable_pmd_dtor here,
 * before the flush, up to 6.13; range, flush_mm, freed_tables, cleared_puds; tlb_remove_ptdesc.
 */
function s390PmdFreeTlb(k: Machine, tlb: MmuGather, mem: Mem): void {
  if (k.kv < 614) pagetableDtor(k, memFrame(mem), PMD);
  tlb.mm.context.flushMm = 1;
  tlbRemovePtdesc(k, tlb, mem, PMD);
}

/**
 * pud_free_tlb / p4d_free_tlb (asm/tlb.h): they return at once when mm_pud_folded /
 * mm_p4d_folded (the level is the top table of a 3- or 4-level mm, which free_pgtables never
 * detaches here); flush_mm, freed_tables, cleared_p4ds (pud only); tlb_remove_table (6.1, 6.6),
 * tlb_remove_ptdesc (6.7+). pud_free_tlb adjusts no range in 6.1-6.12 (7.2's does; either way
 * unobservable: s390 flushes the whole mm). No dtor here: 6.14 added the ctors and put the dtor
 * in the generic __tlb_remove_table.
 */
function crstFreeTlb(level: number) {
  return (k: Machine, tlb: MmuGather, mem: Mem): void => {
    tlb.mm.context.flushMm = 1;
    if (k.kv >= 607) tlbRemovePtdesc(k, tlb, mem, level);
    else tlbRemoveTable(k, tlb, mem, 0);
  };
}

/**
 * __tlb_remove_table after the grace period (arch/s390/mm/pgalloc.c up to 6.13; the generic
 * pagetable_dtor_free from 6.14): 6.1/6.6 read the half from the pointer's low bits (0 = CRST,
 * 1/2 = a 2 KiB half: PP off, page freed with its dtor when no bit is left, 3 = pgste table);
 * 6.7-6.13 tell a CRST table (order 2, dtor already run) from a page table by compound order.
 */
function s390TlbRemoveTable(k: Machine, mem: Mem, tag: number): void {
  if (k.kv >= 614) return genericTlbRemoveTable(k, mem, tag);
  const f = memFrame(mem);
  if (k.trace) k.call("__tlb_remove_table", `frame ${f}${fragments(k) ? ` | ${tag}` : ""}`);
  if (!fragments(k)) {
    if (k.frames.order[f] === CRST_ALLOC_ORDER) pagetableFree(k, f);
    else pteFreeNow(k, f); // pagetable_pte_dtor_free
    return;
  }
  switch (tag) {
    case 0x00: // pmd, pud, or p4d
      pagetableFree(k, f);
      return;
    case 0x01: // 2K table at page offset 0
    case 0x02: { // 2K table at page offset 2048
      const mask = xorBits(k, f, tag << 4);
      if (mask !== 0) return;
      releasePtePage(k, f, tag, mask);
      return;
    }
    default: // 0x03: 4K page table with pgstes
      releasePtePage(k, f, 0x03, xorBits(k, f, 0x03));
  }
}

/** Whether cpu_attach_mask is this CPU alone (the mm runs nowhere else, lazily or not). */
function attachedHereOnly(k: Machine, mm: Mm): boolean {
  const self = mm.cpu;
  for (const c of mm.cpus) if (c !== self && c < k.ncpus) return false;
  for (const c of mm.lazy) if (c !== self && c < k.ncpus) return false;
  return true;
}

/**
 * tlb_flush = __tlb_flush_mm_lazy (asm/tlb.h, asm/tlbflush.h): one IDTE for the whole mm when
 * mm->context.flush_mm is set, a broadcast (no IPIs). flush_mm comes from the free_tlb wrappers,
 * and from ptep_get_and_clear_full / pmdp_huge_get_and_clear_full outside exit (ptep_flush_lazy,
 * arch/s390/mm/pgtable.c) when the mm is attached to this CPU only; otherwise each entry was
 * invalidated at once with IPTE/IDTE and there is nothing left to flush.
 */
function s390TlbFlush(k: Machine, tlb: MmuGather): void {
  const mm = tlb.mm;
  if (!tlb.fullmm && (tlb.clearedPtes || tlb.clearedPmds) && attachedHereOnly(k, mm)) {
    mm.context.flushMm = 1;
  }
  if (!mm.context.flushMm) return;
  mm.context.flushMm = 0;
  k.tlbFlushed(mm, "__tlb_flush_mm_lazy", "IDTE (the whole mm)", false, true);
}

/**
 * flush_tlb_mm = __tlb_flush_mm_lazy (arch/s390/include/asm/tlbflush.h), here dup_mmap's flush of
 * the parent: copy_page_range write-protected its present PTEs and huge PMDs
 * (ptep_set_wrprotect / pmdp_set_wrprotect -> ptep_xchg_lazy / pmdp_xchg_lazy), which set
 * flush_mm when the mm is attached to this CPU only and invalidated each entry with IPTE/IDTE
 * otherwise. The model has no per-PTE write bit: it takes every present page as writable.
 */
function s390FlushTlbMm(k: Machine, mm: Mm): void {
  if (mm.rssPages > 0 && attachedHereOnly(k, mm)) mm.context.flushMm = 1;
  if (!mm.context.flushMm) return;
  mm.context.flushMm = 0;
  k.tlbFlushed(mm, "__tlb_flush_mm_lazy", "IDTE (the whole mm)", false, true);
}

/**
 * __split_huge_pmd's pmdp_invalidate: s390 has its own, pmdp_xchg_direct, which invalidates the
 * one segment entry with IDTE at once (a broadcast): no flush_pmd_tlb_range, no IPI
 * (arch/s390/include/asm/pgtable.h, arch/s390/mm/pgtable.c).
 */
function s390FlushPmdTlbRange(k: Machine, mm: Mm, vpn: number): void {
  if (k.trace) k.call("pmdp_xchg_direct", `${mm.name} IDTE of the segment entry of page ${vpn}`);
  k.broadcastFlushed(mm);
}

// ---------------------------------------------------------------------------------------------
// Dynamic page-table levels

/**
 * crst_table_upgrade (arch/s390/mm/pgalloc.c): a region-2 table above a 3-level mm's region-3
 * table (mm_inc_nr_puds: the old top becomes a counted PUD), a region-1 table above that when
 * `end` is beyond 8 PiB; then on_each_cpu(__crst_table_upgrade) reloads the ASCE everywhere.
 * 6.14+ runs pagetable_p4d_ctor / pagetable_pgd_ctor on the new tables.
 */
function crstTableUpgrade(k: Machine, mm: Mm, end: number): boolean {
  const limit = asceLimit(mm);
  if (end <= limit) return true;
  if (k.trace) k.call("crst_table_upgrade", `${mm.name} to ${end > REGION1_PAGES ? 5 : 4} levels`);
  let p4d = -1, pgd = -1;
  if (limit === REGION2_PAGES) {
    p4d = crstRegionAlloc(k, P4D);
    if (p4d < 0) return false;
  }
  if (end > REGION1_PAGES) {
    pgd = crstRegionAlloc(k, PGD);
    if (pgd < 0) {
      if (p4d >= 0) crstRelease(k, p4d, P4D);
      return false;
    }
  }
  if (p4d >= 0) {
    // p4d_populate(mm, p4d, old pgd); asce_limit = _REGION1_SIZE; mm_inc_nr_puds(mm)
    pushRoot(k, mm, memOf(p4d));
    mm.context.asceLimit = REGION1_PAGES;
    mmIncNr(k, mm, PUD, 1);
  }
  if (pgd >= 0) {
    // pgd_populate(mm, pgd, old pgd); asce_limit = TASK_SIZE_MAX
    pushRoot(k, mm, memOf(pgd));
    mm.context.asceLimit = TASK_SIZE_MAX_PAGES;
  }
  k.ipiAllOthers("on_each_cpu __crst_table_upgrade");
  return true;
}

/**
 * arch_get_unmapped_area(_topdown) -> check_asce_limit (arch/s390/mm/mmap.c,
 * asm/pgalloc.h), MAP_FIXED included: an end above asce_limit and within TASK_SIZE upgrades;
 * a failed upgrade fails the mmap with -ENOMEM; beyond TASK_SIZE the mmap fails too.
 */
function s390ArchMmap(k: Machine, mm: Mm, _start: number, end: number): boolean {
  if (end > TASK_SIZE_MAX_PAGES) return false;
  if (end > asceLimit(mm)) {
    if (k.trace) k.call("check_asce_limit", mm.name);
    return crstTableUpgrade(k, mm, end);
  }
  return true;
}

/** The s390 backend. */
export const s390Backend: Backend = {
  injectSites: ["crst_table_alloc", "page_table_alloc"],
  ...genericBackend,
  // mm_cpumask is kept: switch_mm_irqs_off (arch/s390/include/asm/mmu_context.h) sets the CPU in it
  maintainsMmCpumask: true,
  name: "s390",
  initNewContext: s390InitNewContext,
  ...s390Pgd,
  archMmap: s390ArchMmap,
  p4dAllocOne: s390P4dAllocOne,
  pudAllocOne: s390PudAllocOne,
  pmdAllocOne: s390PmdAllocOne,
  pteAllocOne: s390PteAllocOne,
  p4dFree: crstFreeOne(P4D, "p4d_free"),
  pudFree: crstFreeOne(PUD, "pud_free"),
  pmdFree: crstFreeOne(PMD, "pmd_free"),
  pteFree: s390PteFree,
  pteFreeDefer: s390PteFreeDefer,
  p4dFreeTlb: crstFreeTlb(P4D),
  pudFreeTlb: crstFreeTlb(PUD),
  pmdFreeTlb: s390PmdFreeTlb,
  pteFreeTlb: s390PteFreeTlb,
  tlbFlush: s390TlbFlush,
  flushTlbMm: s390FlushTlbMm,
  flushPmdTlbRange: s390FlushPmdTlbRange,
  tlbRemoveTable: s390TlbRemoveTable,
};

// ---------------------------------------------------------------------------------------------
// Configurations

/** Version adjustments: a page table fills a page of its own from 6.7, or with PGSTEs. */
function s390Adjust(cfg: ArchConfig, kv: number): void {
  if (kv >= 607 || cfg.options.pgste === "on") {
    cfg.levels = cfg.levels.map((l, i) => i === PTE ? { ...l, tableBytes: 4096 } : l);
  }
}

const TABLE_NAMES = ["region-1", "region-2", "region-3", "segment", "page"];

/** How s390 allocates, counts and frees each level in kernel `kv` (`ptlab explain`). */
function s390Story(cfg: ArchConfig, kv: number): ConfigStory {
  const start = cfg.archData.startLevels as number;
  const startRoot = 5 - start; // level of the top table a new mm gets
  const gfp = kv >= 612 ? "GFP_KERNEL_ACCOUNT" : "GFP_KERNEL";
  const crst = `crst_table_alloc: pagetable_alloc(${gfp}, CRST_ALLOC_ORDER 2), 16 KiB ` +
    `(arch/s390/mm/pgalloc.c)`;
  const nr = (what: string) =>
    kv < 606 ? `NR_PAGETABLE +1 (${what}, one per table in 6.1)` : `NR_PAGETABLE +4 (${what})`;
  const crstBatch = (kv >= 607 ? "tlb_remove_ptdesc" : "tlb_remove_table") +
    " -> the RCU table batch; " +
    (kv >= 614
      ? "pagetable_dtor_free after the grace period (generic __tlb_remove_table, 6.14)"
      : "s390's __tlb_remove_table frees the pages after the grace period");
  const levels: ConfigStory["levels"] = {};
  const root = (l: number) =>
    `${TABLE_NAMES[l]} table; mm->pgd of a ${5 - l}-level mm (pgd_alloc: ${crst}` +
    (kv >= 614 && l !== PGD ? " + pagetable_pgd_ctor" : "") + ")";
  const story = (l: number, s: LevelStory) => {
    levels[(["pgd", "p4d", "pud", "pmd", "pte"] as const)[l]] = s;
  };
  story(PGD, {
    alloc: (startRoot === PGD ? root(PGD) : `${TABLE_NAMES[PGD]} table, put on top by ` +
      `crst_table_upgrade when an address above 8 PiB is mapped: ${crst}`) +
      (kv >= 614 ? " + pagetable_pgd_ctor" : ""),
    counted: "never VmPTE" + (kv >= 614 ? `; ${nr("pagetable_pgd_ctor, 6.14")}` : ""),
    free: "pgd_free at __mmdrop: " + (kv >= 614 ? "pagetable_dtor + " : "") +
      "crst_table_free of the top table only",
    via: "pgd_free",
  });
  story(P4D, {
    alloc: startRoot === P4D
      ? root(P4D)
      : `${TABLE_NAMES[P4D]} table: p4d_alloc_one in a 5-level mm, or the new top table of ` +
        `crst_table_upgrade above 4 TiB: ${crst}` + (kv >= 614 ? " + pagetable_p4d_ctor" : ""),
    counted: "never VmPTE (no mm counter)" +
      (kv >= 614 ? `; ${nr("pagetable_p4d_ctor, 6.14")}` : ""),
    free: "p4d_free_tlb (arch/s390/include/asm/tlb.h; a no-op while mm_p4d_folded): " +
      crstBatch,
    via: "table-batch",
  });
  story(PUD, {
    alloc: (startRoot === PUD ? root(PUD) + "; " : "") +
      `${TABLE_NAMES[PUD]} tables below: pud_alloc_one (arch/s390/include/asm/pgalloc.h): ` +
      crst + (kv >= 614 ? " + pagetable_pud_ctor (6.14; no s390 pud ctor in 6.7-6.13)" : ""),
    counted: "VmPTE +16384 (mm_inc_nr_puds, a no-op while mm_pud_folded: asce_limit <= 4 TiB); " +
      "crst_table_upgrade 3->4 counts the old top table" +
      (kv >= 614 ? `; ${nr("pagetable_pud_ctor, 6.14")}` : "; no ctor, not in NR_PAGETABLE"),
    free: "pud_free_tlb (asm/tlb.h; a no-op while mm_pud_folded): " + crstBatch,
    via: "table-batch",
  });
  story(PMD, {
    alloc: `${TABLE_NAMES[PMD]} table: pmd_alloc_one: ${crst} + pagetable_pmd_ctor ` +
      "(split PMD ptlock)",
    counted: `VmPTE +16384 (mm_inc_nr_pmds); ${nr("pagetable_pmd_ctor on the order-2 table")}`,
    free: "pmd_free_tlb (asm/tlb.h): " +
      (kv >= 614 ? "" : "pagetable_pmd_dtor now, before the flush; ") +
      (kv === 606 ? crstBatch.replace("tlb_remove_table", "tlb_remove_ptdesc") : crstBatch),
    via: "table-batch",
  });
  story(PTE, {
    alloc: kv < 607
      ? "page_table_alloc (arch/s390/mm/pgalloc.c): a 2 KiB half of a 4 KiB page; the first " +
        "page on mm->context.pgtable_list gives its free half, else pagetable_alloc(GFP_KERNEL, 0) " +
        "+ the pte ctor once per page (AA/PP bits in the upper byte of _refcount)" +
        (cfg.options.pgste === "on" ? "; with PGSTEs a whole 4 KiB table, never shared" : "")
      : `page_table_alloc (arch/s390/mm/pgalloc.c): pagetable_alloc(${gfp}, 0) + ` +
        "pagetable_pte_ctor, one 4 KiB page per 2 KiB table (d08d4e7cd6bf, 6.7)",
    counted: "VmPTE +2048 (mm_inc_nr_ptes: 256 x 8 bytes); NR_PAGETABLE +1 per " +
      (kv < 607 ? "4 KiB page (both halves share one ctor and one ptlock)" : "table"),
    free: kv < 607
      ? "pte_free_tlb -> page_table_free_rcu: AA off, PP on, the page to the tail of " +
        "pgtable_list if its other half is in use; tlb_remove_table(table | half); after the " +
        "grace period __tlb_remove_table clears PP and frees the page (pte dtor) once no bit is " +
        "left. pte_free (page_table_free) puts the page at the head for immediate reuse"
      : "pte_free_tlb -> tlb_remove_ptdesc -> the RCU table batch; " +
        (kv >= 614
          ? "pagetable_dtor_free after the grace period (generic __tlb_remove_table)"
          : "s390's __tlb_remove_table runs pagetable_pte_dtor_free after the grace period"),
    via: kv < 607 ? "fragment" : "table-batch",
  });
  const notes = [
    `a new mm starts with ${start} levels (asce_limit ${
      start === 3 ? "4 TiB" : start === 4 ? "8 PiB" : "TASK_SIZE_MAX"
    }); fork keeps the parent's depth (dup_mm copies asce_limit, init_new_context, ` +
    "arch/s390/include/asm/mmu_context.h)",
    "mmap above asce_limit (MAP_FIXED included) -> check_asce_limit -> crst_table_upgrade " +
    "(arch/s390/mm/mmap.c): a region-2 and/or region-1 table on top, mm_inc_nr_puds when going " +
    "3 -> 4, on_each_cpu IPIs to every other CPU",
    "an upgraded mm's first region-3 table is freed by free_pgtables only over [0, 4 TiB): a " +
    "process that never had a VMA there leaks it at exit (check_mm: non-zero pgtables_bytes); " +
    "real processes always have their stack below STACK_TOP_MAX < 4 TiB",
    "MMU_GATHER_NO_GATHER: no page batch, data pages are freed at once; tlb_flush = " +
    "__tlb_flush_mm_lazy: one IDTE for the whole mm when flush_mm is set (broadcast, no IPIs); " +
    "a zap outside exit (and fork's write protection) sets flush_mm only when the mm is " +
    "attached to this CPU alone, else IPTE/IDTE invalidate each entry at once " +
    "(arch/s390/mm/pgtable.c); those per-entry invalidations, and the IDTE of a split huge " +
    "pmd (pmdp_invalidate), are not counted as TLB flushes",
  ];
  if (kv >= 612) {
    notes.push(
      "GFP_KERNEL_ACCOUNT for user tables: 5671ce2a1fc6 (v6.18), in 6.12.y by backport",
    );
  }
  return { levels, notes };
}

const s390Options: OptionSpec[] = [{
  name: "pgste",
  values: ["on", "off"],
  default: "off",
  doc: "mm_alloc_pgste (vm.allocate_pgste or a KVM host process): whole 4 KiB page tables " +
    "with PGSTEs instead of 2 KiB halves (6.1, 6.6)",
}];

const s390Gather = {
  tableFree: true,
  rcuTableFree: true,
  noGather: true,
  mergeVmas: true,
  noRange: false,
  needsTableInvalidate: true,
};

function s390Config(start: 3 | 4 | 5): ConfigSpec {
  const limit = start === 3
    ? "4 TiB (_REGION2_SIZE)"
    : start === 4
    ? "8 PiB (_REGION1_SIZE)"
    : "TASK_SIZE_MAX";
  return {
    name: `s390-${start}level`,
    family: "s390",
    description: `s390x 64-bit task whose mm starts with ${start} levels (asce_limit ${limit})` +
      (start < 5 ? "; crst_table_upgrade grows it to 5 levels as higher addresses are mapped" : ""),
    bits: 64,
    pageShift: 12,
    levels: [
      { entries: 2048, entryBytes: 8 }, // region-1
      { entries: 2048, entryBytes: 8 }, // region-2
      { entries: 2048, entryBytes: 8 }, // region-3
      { entries: 2048, entryBytes: 8 }, // segment
      { entries: 256, entryBytes: 8 }, // page table, 2 KiB
    ],
    taskSize: (1n << 64n) - 4096n, // TASK_SIZE_MAX = -PAGE_SIZE (asm/processor.h)
    thpAvailable: true, // HAVE_ARCH_TRANSPARENT_HUGEPAGE (arch/s390/Kconfig), 1 MiB segments
    splitPmdPtlockArch: true, // ARCH_ENABLE_SPLIT_PMD_PTLOCK if PGTABLE_LEVELS > 2
    // hugetlb 1M segment and 2G region-3 pages (EDAT1, EDAT2; arch/s390/mm/hugetlbpage.c)
    hugetlb: ["pmd", "pud"],
    // STACK_TOP = 1 << 42 for a 64-bit task: its 3-level start (asm/processor.h)
    mmap: { stackTop: 1n << 42n },
    // the TLB holds region and segment (CRST) entries until IDTE/IPTE
    walkerCaches: true,
    gather: s390Gather, // MMU_GATHER_RCU_TABLE_FREE, _NO_GATHER, _MERGE_VMAS (arch/s390/Kconfig)
    ramBytes: 64 * 2 ** 30,
    options: s390Options,
    archData: { startLevels: start },
    backend: s390Backend,
    adjust: s390Adjust,
    story: s390Story,
  };
}

/** The s390 configurations. */
export const s390Configs: ConfigSpec[] = [s390Config(3), s390Config(4), s390Config(5)];
