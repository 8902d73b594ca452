/**
 * Where mmap puts a mapping that names no address (mm/mmap.c __get_unmapped_area,
 * mm/vma.c vm_unmapped_area, mm/huge_memory.c __thp_get_unmapped_area, the arch's
 * arch_get_unmapped_area(_topdown)), with ASLR off: top-down below `mmap_base` (STACK_TOP less
 * the 128 MiB minimum gap, mm/util.c mmap_base) on most arches, bottom-up from
 * TASK_UNMAPPED_BASE on those with the legacy layout.
 *
 * It is a pure function of the configuration and the ranges already mapped, so the DSL can
 * resolve `map ... as NAME` when it compiles and the engine gets a plain address.
 *
 * @module
 */

import type { ArchConfig } from "./types.ts";

/** A mapped range, in bytes. */
export interface MappedRange {
  /** First byte. */
  start: bigint;
  /** First byte after. */
  end: bigint;
  /** VM_GROWSDOWN (a stack): a gap below it keeps stack_guard_gap free. */
  growsDown?: boolean;
}

/** What a mapping asks of get_unmapped_area. */
export interface MmapRequest {
  /** Length in bytes (a multiple of the page size). */
  len: bigint;
  /** MAP_SHARED. */
  shared?: boolean;
  /** A file is mapped (a tmpfs file: shmem_get_unmapped_area, no THP alignment). */
  file?: boolean;
  /** MAP_HUGETLB / hugetlbfs: the huge page size (hugetlb_get_unmapped_area aligns to it). */
  hugetlb?: bigint;
}

/** 128 MiB: MIN_GAP of mmap_base (mm/util.c; arch/x86/mm/mmap.c SIZE_128M). */
const MIN_GAP = 128n << 20n;

/**
 * mmap_base with ASLR off: PAGE_ALIGN(STACK_TOP - gap), the gap being RLIMIT_STACK (8 MiB) plus
 * stack_guard_gap (256 pages), raised to MIN_GAP: STACK_TOP - 128 MiB. With the legacy layout,
 * TASK_UNMAPPED_BASE.
 */
export function mmapBase(cfg: ArchConfig): bigint {
  if (cfg.mmapLegacyBase !== undefined) return cfg.mmapLegacyBase;
  const page = 1n << BigInt(cfg.pageShift);
  // mm/util.c mmap_base, CONFIG_STACK_GROWSUP: PAGE_ALIGN_DOWN(mmap_upper_limit()), the stack's
  // whole reserve below STACK_TOP (arch/parisc/kernel/sys_parisc.c calc_max_stack_size)
  if (cfg.mmapStackReserve !== undefined) {
    return alignDown(cfg.stackTop - cfg.mmapStackReserve, page);
  }
  const gap = (8n << 20n) + 256n * page;
  return cfg.stackTop - (gap > MIN_GAP ? gap : MIN_GAP);
}

function alignDown(v: bigint, a: bigint): bigint {
  return v - (((v % a) + a) % a);
}

function alignUp(v: bigint, a: bigint): bigint {
  return alignDown(v + a - 1n, a);
}

/** The gaps between `mapped` (sorted) below `high`, from the top, as [start, end) pairs. */
function* gapsDown(cfg: ArchConfig, mapped: readonly MappedRange[], high: bigint) {
  const guard = 256n << BigInt(cfg.pageShift); // stack_guard_gap
  let top = high;
  for (let i = mapped.length - 1; i >= -1; i--) {
    const m = mapped[i];
    const lo = m ? m.end : 0n;
    if (m && m.start >= top) {
      // a range at or above the limit: the gap below it ends at it (or its guard)
      const g = m.growsDown ? m.start - guard : m.start;
      if (g < top) top = g;
      continue;
    }
    if (lo < top) yield [lo, top] as const;
    if (m) top = m.growsDown ? m.start - guard : m.start;
    if (top <= 0n) return;
  }
}

/**
 * The length vm_unmapped_area looks for: `len` plus the worst case of aligning inside the gap,
 * info->length + info->align_mask (unmapped_area, unmapped_area_topdown). A gap that would hold
 * an aligned `len` only by luck of where it starts is not taken.
 */
function searchLength(cfg: ArchConfig, len: bigint, align: bigint): bigint {
  return len + align - (1n << BigInt(cfg.pageShift));
}

/**
 * vm_unmapped_area, top-down: in the highest gap between `low` and `high` of at least
 * {@link searchLength}, its top less `len`, aligned down to `align`; undefined when none fits.
 */
function topdown(
  cfg: ArchConfig,
  mapped: readonly MappedRange[],
  len: bigint,
  align: bigint,
  low: bigint,
  high: bigint,
): bigint | undefined {
  const need = searchLength(cfg, len, align);
  for (const [gs, e] of gapsDown(cfg, mapped, high)) {
    const s = gs > low ? gs : low;
    if (e > s && e - s >= need) return alignDown(e - len, align);
  }
  return undefined;
}

/**
 * vm_unmapped_area, bottom-up: in the lowest gap between `low` and `high` of at least
 * {@link searchLength}, its start aligned up to `align`.
 */
function bottomup(
  cfg: ArchConfig,
  mapped: readonly MappedRange[],
  len: bigint,
  align: bigint,
  low: bigint,
  high: bigint,
): bigint | undefined {
  const need = searchLength(cfg, len, align);
  let start = low;
  for (let i = 0; i <= mapped.length; i++) {
    const m = mapped[i];
    if (m && m.end <= start) continue;
    const end = m ? (m.start < high ? m.start : high) : high;
    if (end > start && end - start >= need) return alignUp(start, align);
    if (!m || m.start >= high) break;
    if (m.end > start) start = m.end;
  }
  return undefined;
}

/**
 * get_unmapped_area for a mapping with no address hint (ASLR off): the address mmap returns, or
 * undefined for -ENOMEM. `mapped` are the process's ranges (any order).
 *
 * - hugetlb: hugetlb_get_unmapped_area aligns to the huge page size;
 * - private anonymous memory on a 64-bit kernel with CONFIG_TRANSPARENT_HUGEPAGE:
 *   thp_get_unmapped_area searches len + PMD_SIZE and aligns the result to PMD_SIZE, from 6.7
 *   (efa7df3e3bb5) when len >= PMD_SIZE; 6.8 left 32-bit alone (4ef9ad19e176) and took the top
 *   of the padded area when it was aligned already (96204e15310c); from 6.12 only lengths that
 *   are a multiple of PMD_SIZE (d4148aeab412);
 * - the rest (shared anonymous memory and tmpfs files, shmem_get_unmapped_area with huge=never):
 *   the plain search.
 */
export function getUnmappedArea(
  cfg: ArchConfig,
  mapped: readonly MappedRange[],
  req: MmapRequest,
): bigint | undefined {
  const page = 1n << BigInt(cfg.pageShift);
  const sorted = [...mapped].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const len = req.len;
  if (len <= 0n || len > cfg.taskSize) return undefined;
  const low = page > cfg.mmapMinAddr ? page : cfg.mmapMinAddr;
  const top = cfg.taskSize;
  const search = (l: bigint, align: bigint): bigint | undefined => {
    if (cfg.mmapLegacyBase !== undefined) {
      return bottomup(cfg, sorted, l, align, cfg.mmapLegacyBase, top);
    }
    // generic_get_unmapped_area_topdown: top-down below mmap_base, else bottom-up from
    // TASK_UNMAPPED_BASE up to TASK_SIZE (the fallback for a full top-down area)
    return topdown(cfg, sorted, l, align, low, mmapBase(cfg)) ??
      bottomup(cfg, sorted, l, align, cfg.taskUnmappedBase, top);
  };
  if (req.hugetlb !== undefined) return search(len, req.hugetlb);
  const kv = kernelNumber(cfg);
  const pmd = 1n << BigInt(cfg.levels[3].shift);
  const anon = !req.file && !req.shared;
  const thpAlign = anon && cfg.thpAvailable && kv >= 607 &&
    (kv < 608 || cfg.bits === 64) &&
    (kv >= 612 ? len % pmd === 0n : len >= pmd);
  if (thpAlign && cfg.mmapLegacyBase === undefined) {
    // __thp_get_unmapped_area: the padded search, then up to the next PMD boundary
    const ret = search(len + pmd, page);
    if (ret !== undefined) {
      const sub = ((0n - ret) % pmd + pmd) % pmd;
      if (sub === 0n && kv >= 608) return ret + pmd;
      return ret + sub;
    }
  }
  return search(len, page);
}

function kernelNumber(cfg: ArchConfig): number {
  const [maj, min] = cfg.kernel.split(".").map(Number);
  return maj * 100 + min;
}
