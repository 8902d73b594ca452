/**
 * Random valid scenarios: a deterministic generator (a seeded PRNG), the actions it draws
 * (maps at an address or where mmap puts them, shared and hugetlb ones among them, touches,
 * unmaps, MADV_DONTNEED, forks, exits, CPU placement, injected failures) at the edges of the
 * address space and of table spans, and an oracle that states, independently of the engine, what
 * must hold: where a map without an address lands (get_unmapped_area, worked out here again from
 * the kernel's rules), resident memory and HugetlbPages per process, VmPTE as the sum of the tables
 * counted, no PTE table for hugetlb memory, and nothing left after every process exited.
 *
 * @module
 */

import { execImage } from "../engine/exec.ts";
import type { ArchConfig } from "../engine/types.ts";

/** A 32-bit PRNG (mulberry32): the same seed gives the same scenario. */
export class Rng {
  #s: number;
  /** @param seed any integer */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** A bigint in [0, n). */
  big(n: bigint): bigint {
    if (n <= 0n) return 0n;
    const hi = BigInt(this.int(2 ** 30)) << 30n | BigInt(this.int(2 ** 30));
    return (hi * n) >> 60n;
  }
  /** One of the items. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * An address written relative to the one a `map ... as NAME` bound: `NAME + off`. It follows the
 * mapping when a shrink drops an earlier map and mmap puts this one elsewhere.
 */
export interface AddrRef {
  /** The name `as` bound. */
  name: string;
  /** Bytes from it. */
  off: bigint;
}

/**
 * One generated action (a statement, or a point where the oracle's expectations go). `addr` is
 * always the address as generated (for a map without one, where the generator's own
 * get_unmapped_area put it); `ref` says it is written relative to a bound name.
 */
export type Action =
  | { k: "mm"; name: string; exec?: boolean }
  | {
    k: "map";
    mm: string;
    addr: bigint;
    size: bigint;
    shared?: boolean;
    /** MAP_HUGETLB of this page size. */
    hugetlb?: bigint;
    /** No address written: mmap chooses it. */
    auto?: boolean;
    /** `as NAME`. */
    as?: string;
  }
  | {
    k: "touch";
    mm: string;
    addr: bigint;
    size: bigint;
    step: bigint;
    read?: boolean;
    ref?: AddrRef;
  }
  | {
    k: "mprotect";
    mm: string;
    addr: bigint;
    size: bigint;
    prot: "none" | "read" | "write";
    ref?: AddrRef;
  }
  | { k: "advise"; mm: string; advice: string; addr: bigint; size: bigint; ref?: AddrRef }
  | { k: "mremap"; mm: string; addr: bigint; size: bigint; to: bigint }
  | { k: "unmap"; mm: string; addr: bigint; size: bigint; ref?: AddrRef }
  | { k: "dontneed"; mm: string; addr: bigint; size: bigint; ref?: AddrRef }
  | { k: "fork"; mm: string; child: string }
  | { k: "exit"; mm: string }
  | { k: "run"; mm: string; cpus: number[] }
  | { k: "idle"; cpus: number[] }
  | { k: "inject"; site: string; mode: "at" | "every" | "after"; n: number }
  | { k: "check" };

/** A generated scenario: its configuration, options and actions. */
export interface GenScenario {
  /** Configuration name. */
  arch: string;
  /** Options of the `arch` statement. */
  options: Record<string, string>;
  /** Online CPUs. */
  cpus: number;
  /** The actions in order. */
  actions: Action[];
  /** The seed that made it. */
  seed: number;
}

type Range = [bigint, bigint];

/** A hugetlb mapping: its range, page size and whether it is shared. */
interface HugeRange {
  s: bigint;
  e: bigint;
  h: bigint;
  shared: boolean;
}

/** A range `as NAME` bound (the map's own range), while the mapping has not moved. */
interface Named {
  name: string;
  s: bigint;
  e: bigint;
}

/** The generator's view of one process: its VMAs (and which one is the stack) and present pages. */
interface Proc {
  vmas: Range[];
  pages: Set<bigint>;
  stack: Range | null;
  /** The hugetlb mappings among `vmas`. */
  huge: HugeRange[];
  /** What exec made (never touched, unmapped or moved by the generator); `growsDown`: the stack. */
  image: { s: bigint; e: bigint; growsDown?: boolean }[];
  /** The mappings an `as NAME` bound, for addresses written relative to them. */
  named: Named[];
  /**
   * An mprotect or advice split its ranges (or its parent's) at some point: the generator's ranges
   * no longer say where one mapping ends, so it makes no mremap (which needs one mapping).
   */
  split?: boolean;
}

function overlaps(vmas: readonly Range[], a: bigint, b: bigint): boolean {
  return vmas.some(([s, e]) => s < b && a < e);
}

function removeRange(vmas: Range[], a: bigint, b: bigint): Range[] {
  const out: Range[] = [];
  for (const [s, e] of vmas) {
    if (e <= a || b <= s) out.push([s, e]);
    else {
      if (s < a) out.push([s, a]);
      if (b < e) out.push([b, e]);
    }
  }
  return out;
}

/** Whether every page a, a+step, ... below a+size lies inside some VMA (checked per gap). */
function touchInside(vmas: readonly Range[], a: bigint, size: bigint, step: bigint): boolean {
  const end = a + size;
  const sorted = [...vmas].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  let cur = a;
  for (const [s, e] of sorted) {
    if (e <= cur) continue;
    if (s > cur) {
      // a touched page in the gap [cur, s)?
      const k = (cur - a + step - 1n) / step;
      const first = a + k * step;
      if (first < s && first < end) return false;
    }
    cur = e > cur ? e : cur;
    if (cur >= end) return true;
  }
  const k = (cur - a + step - 1n) / step;
  return a + k * step >= end;
}

function removeHuge(huge: readonly HugeRange[], a: bigint, b: bigint): HugeRange[] {
  const out: HugeRange[] = [];
  for (const r of huge) {
    if (r.e <= a || b <= r.s) out.push(r);
    else {
      if (r.s < a) out.push({ ...r, e: a });
      if (b < r.e) out.push({ ...r, s: b });
    }
  }
  return out;
}

/**
 * Whether [a, b) cuts no hugetlb mapping inside one of its huge pages (hugetlb_vm_op_split,
 * madvise_dontneed_free_valid_vma: EINVAL otherwise).
 */
function hugeSafe(huge: readonly HugeRange[], a: bigint, b: bigint): boolean {
  const inside = (r: HugeRange, x: bigint) => r.s < x && x < r.e && x % r.h !== 0n;
  return huge.every((r) => !inside(r, a) && !inside(r, b));
}

function kernelNumber(cfg: ArchConfig): number {
  const [maj, min] = cfg.kernel.split(".").map(Number);
  return maj * 100 + min;
}

/**
 * mmap_base with ASLR off (mm/util.c mmap_base, arch/x86/mm/mmap.c): PAGE_ALIGN(STACK_TOP - gap),
 * gap = RLIMIT_STACK (8 MiB) + stack_guard_gap (256 pages), clamped to [128 MiB, STACK_TOP / 6
 * * 5]; below the stack's reserve where the stack grows up; on a legacy layout (no MMF_TOPDOWN)
 * TASK_UNMAPPED_BASE.
 */
export function oracleMmapBase(cfg: ArchConfig): bigint {
  if (cfg.mmapLegacyBase !== undefined) return cfg.mmapLegacyBase;
  const page = 1n << BigInt(cfg.pageShift);
  // CONFIG_STACK_GROWSUP (parisc): directly below the stack's whole reserve at the top of the
  // task, PAGE_ALIGN_DOWN(mmap_upper_limit())
  if (cfg.mmapStackReserve !== undefined) {
    return (cfg.stackTop - cfg.mmapStackReserve) / page * page;
  }
  let gap = (8n << 20n) + 256n * page;
  const min = 128n << 20n, max = cfg.stackTop / 6n * 5n;
  if (gap < min) gap = min;
  if (gap > max) gap = max;
  const base = cfg.stackTop - gap;
  return (base + page - 1n) / page * page;
}

/**
 * The generator's own get_unmapped_area (ASLR off, no hint), written from the kernel's rules apart
 * from engine/mmap.ts so that the scenario can check the compiler's choice:
 *
 * - vm_unmapped_area (mm/mmap.c, mm/vma.c unmapped_area[_topdown]) asks for a gap of at least
 *   length + align_mask (the worst case of aligning inside it), below the stack guard gap of a
 *   VM_GROWSDOWN mapping above it; top-down it takes the top of the highest such gap below
 *   mmap_base, rounded down to the alignment, and falls back to bottom-up from
 *   TASK_UNMAPPED_BASE; bottom-up it takes the start of the lowest, rounded up;
 * - hugetlb memory aligns to its page size (hugetlb_get_unmapped_area);
 * - private anonymous memory with CONFIG_TRANSPARENT_HUGEPAGE (__get_unmapped_area ->
 *   thp_get_unmapped_area, 6.7+): on 64-bit from 6.8, and from 6.12 only for lengths that are
 *   whole PMDs (else from 6.7 for lengths of at least one PMD), the search is for length +
 *   PMD_SIZE, page-aligned, and the result is moved up to the next PMD boundary; top-down, one
 *   already on a boundary moves up a whole PMD from 6.8 (so it ends at the padded area's top).
 *
 * Undefined: no room (ENOMEM). `mapped` is every range of the process, any order.
 */
export function oracleUnmappedArea(
  cfg: ArchConfig,
  mapped: readonly { s: bigint; e: bigint; growsDown?: boolean }[],
  len: bigint,
  kind: { shared?: boolean; hugetlb?: bigint } = {},
): bigint | undefined {
  const page = 1n << BigInt(cfg.pageShift);
  const guard = 256n * page;
  const topdown = cfg.mmapLegacyBase === undefined;
  const low = cfg.mmapMinAddr > page ? cfg.mmapMinAddr : page;
  // the free ranges [start, end) of the address space: below each mapping down to the one
  // before it, less the guard gap below a stack
  const sorted = [...mapped].sort((x, y) => (x.s < y.s ? -1 : x.s > y.s ? 1 : 0));
  const gaps: Range[] = [];
  let prev = 0n;
  for (const m of sorted) {
    const top = m.growsDown ? m.s - guard : m.s;
    if (top > prev) gaps.push([prev, top]);
    if (m.e > prev) prev = m.e;
  }
  if (cfg.taskSize > prev) gaps.push([prev, cfg.taskSize]);
  const fit = (length: bigint, align: bigint, from: bigint, to: bigint, down: boolean) => {
    const need = length + align - page;
    const list = down ? [...gaps].reverse() : gaps;
    for (const [g0, g1] of list) {
      const s0 = g0 > from ? g0 : from, e0 = g1 < to ? g1 : to;
      if (e0 <= s0 || e0 - s0 < need) continue;
      return down ? (e0 - length) / align * align : (s0 + align - 1n) / align * align;
    }
    return undefined;
  };
  const search = (length: bigint, align: bigint) =>
    topdown
      ? fit(length, align, low, oracleMmapBase(cfg), true) ??
        fit(length, align, cfg.taskUnmappedBase, cfg.taskSize, false)
      : fit(length, align, cfg.mmapLegacyBase!, cfg.taskSize, false);
  if (len <= 0n || len > cfg.taskSize) return undefined;
  if (kind.hugetlb !== undefined) return search(len, kind.hugetlb);
  const pmd = 1n << BigInt(cfg.levels[3].shift);
  const kv = kernelNumber(cfg);
  const thp = !kind.shared && cfg.thpAvailable && kv >= 607 && (kv < 608 || cfg.bits === 64) &&
    (kv >= 612 ? len % pmd === 0n : len >= pmd);
  if (thp) {
    const ret = search(len + pmd, page);
    if (ret !== undefined) {
      const sub = (pmd - ret % pmd) % pmd;
      return topdown && sub === 0n && kv >= 608 ? ret + pmd : ret + sub;
    }
  }
  return search(len, page);
}

/** Sizes of the table spans of a configuration, in bytes. */
function spans(cfg: ArchConfig): { page: bigint; pte: bigint; upper: bigint; top: bigint } {
  const page = 1n << BigInt(cfg.pageShift);
  const pte = 1n << BigInt(cfg.levels[3].shift);
  const present = cfg.levels.filter((l) => l.folded === "none");
  const upperLevel = present.length > 2 ? present[present.length - 3] : present[0];
  const upper = 1n << BigInt(upperLevel.shift);
  const top = 1n << BigInt(cfg.levels[0].shift);
  return { page, pte, upper, top };
}

/** Options the fuzzer varies per scenario. */
export interface GenOptions {
  /** The kernel version to use (random when undefined). */
  kernel?: string;
  /** Allocation sites `inject fail` may name on this configuration. */
  sites: readonly string[];
  /** The configuration resolved with the options drawn (geometry and address space follow the
   * kernel version on some arches, um's 4 levels from 6.13 for one). */
  resolve(options: Record<string, string>): ArchConfig;
  /** THP exists on this configuration. */
  thpAvailable: boolean;
}

/** Generates a random valid scenario for one configuration. */
export function generate(seed: number, opts: GenOptions): GenScenario {
  const rng = new Rng(seed);
  const options: Record<string, string> = {
    kernel: opts.kernel ?? rng.pick(["6.1", "6.6", "6.12", "6.18"]),
  };
  if (opts.thpAvailable && rng.chance(0.25)) options.thp = "on";
  const cfg = opts.resolve(options);
  // the what-if rules of tlb_remove_table_sync_one change no table, only whom it interrupts
  if (rng.chance(0.3)) {
    options.sync_ipi = rng.pick(["all", "mm_cpus", "skip_if_flushed"]);
  }
  const { page, pte, upper, top } = spans(cfg);
  const task = cfg.taskSize;
  const align = (v: bigint, a: bigint) => v / a * a;
  const cpus = 1 + rng.int(4);
  // a window where most actions land, so that their tables share slots; its base is an edge of
  // some table span, near the bottom, the middle or the top of user space, or just below
  // mmap_base, where the maps without an address go
  const windowSize = upper * 4n > task / 4n ? task / 4n : upper * 4n;
  const base0 = oracleMmapBase(cfg) - windowSize;
  const anchors = [
    page * 16n,
    align(task / 2n, top),
    align(task / 2n, upper),
    align(task - windowSize - page, pte),
    align(task / 3n, upper) + upper - 2n * pte,
    align(rng.big(task - windowSize), upper),
    ...(base0 > page * 16n && base0 + windowSize <= task ? [align(base0, pte)] : []),
  ];
  const base = align(rng.pick(anchors), page);
  // hugetlb page sizes small enough for the address space
  const hsizes = cfg.hugetlb.map((h) => h.bytes).filter((h) => h * 8n <= task);
  const procs = new Map<string, Proc>();
  const actions: Action[] = [];
  let names = 0, bound = 0;
  // an address: in the window mostly, sometimes at an edge of the address space
  const addr = (): bigint => {
    if (rng.chance(0.08)) {
      const edges = [page, task - 4n * page, align(task / 2n, top) - page].filter((e) =>
        e > 0n && e < task
      );
      return align(rng.pick(edges), page);
    }
    const unit = rng.pick([page, pte, upper]);
    const off = rng.big(windowSize / unit) * unit + (rng.chance(0.5) ? 0n : rng.big(8n) * page);
    return align(base + off, page);
  };
  const size = (): bigint =>
    rng.pick([
      page,
      page * BigInt(1 + rng.int(16)),
      pte,
      pte + page,
      pte * BigInt(1 + rng.int(4)),
      upper,
    ])
      .valueOf();
  const stackFor = (): Range | null => {
    // s390: a real process keeps its stack below 4 TiB (STACK_TOP_MAX < _REGION2_SIZE); without
    // any VMA there an upgraded mm keeps its first region-3 table at exit (a kernel behaviour)
    if (cfg.family !== "s390") return null;
    const s = (1n << 42n) - 1n * 1024n * 1024n;
    return [s, s + page];
  };
  // every range of a process (what a new mapping must not overlap, and where mmap looks)
  const all = (p: Proc) => [...p.vmas.map(([s, e]) => ({ s, e })), ...p.image];
  const clash = (p: Proc, a: bigint, b: bigint) =>
    all(p).some((r) => r.s < b && a < r.e) || (p.stack !== null && overlaps([p.stack], a, b));
  // an address inside a mapping an `as NAME` bound, written relative to that name
  const refFor = (p: Proc, a: bigint, b: bigint): { ref: AddrRef } | Record<never, never> => {
    const n = p.named.find((x) => x.s <= a && b <= x.e);
    return n && rng.chance(0.85) ? { ref: { name: n.name, off: a - n.s } } : {};
  };
  const hugeAt = (p: Proc, a: bigint) => p.huge.find((r) => r.s <= a && a < r.e);
  const newMm = (name: string) => {
    // `mm NAME exec`: the VMAs of a static binary as execve leaves them (none while the engine
    // has no exec image: then it is a plain `mm`)
    const exec = rng.chance(0.3);
    actions.push({ k: "mm", name, ...(exec ? { exec: true } : {}) });
    const image = exec
      ? execImage(cfg).map((v) => ({
        s: v.start,
        e: v.end,
        ...(v.growsDown ? { growsDown: true } : {}),
      }))
      : [];
    const stack = image.length ? null : stackFor();
    const p: Proc = { vmas: [], pages: new Set(), stack, huge: [], image, named: [] };
    procs.set(name, p);
    if (stack) {
      actions.push({ k: "map", mm: name, addr: stack[0], size: stack[1] - stack[0] });
      p.vmas.push(stack);
    }
  };
  newMm(`p${names++}`);
  const steps = 10 + rng.int(40);
  for (let i = 0; i < steps; i++) {
    const live = [...procs.keys()];
    if (live.length === 0) {
      newMm(`p${names++}`);
      continue;
    }
    const mm = rng.pick(live);
    const p = procs.get(mm)!;
    const r = rng.next();
    if (r < 0.22) {
      // a map: at an address or where mmap puts it; anonymous, shared anonymous (fork does not
      // copy its tables) or hugetlb memory (MAP_HUGETLB)
      const h = hsizes.length && rng.chance(0.25) ? rng.pick(hsizes) : undefined;
      const shared = rng.chance(0.2);
      const auto = rng.chance(0.45);
      const s = h !== undefined ? h * BigInt(1 + rng.int(3)) : size();
      let a: bigint | undefined;
      if (auto) {
        a = oracleUnmappedArea(cfg, all(p), s, { shared, ...(h ? { hugetlb: h } : {}) });
      } else {
        a = h !== undefined ? align(addr(), h) : addr();
        if (a < page || a + s > task || clash(p, a, a + s)) a = undefined;
      }
      if (a !== undefined) {
        const as = auto
          ? (rng.chance(0.8) ? `a${bound++}` : undefined)
          : rng.chance(0.2)
          ? `a${bound++}`
          : undefined;
        actions.push({
          k: "map",
          mm,
          addr: a,
          size: s,
          ...(shared ? { shared: true } : {}),
          ...(h !== undefined ? { hugetlb: h } : {}),
          ...(auto ? { auto: true } : {}),
          ...(as ? { as } : {}),
        });
        p.vmas.push([a, a + s]);
        if (h !== undefined) p.huge.push({ s: a, e: a + s, h, shared });
        if (as) p.named.push({ name: as, s: a, e: a + s });
      }
    } else if (r < 0.55 && p.vmas.length) {
      // a touch: a few pages, a table's worth, or one page per table over many tables
      const [s, e] = rng.pick(p.vmas);
      const a = s + rng.big((e - s) / page) * page;
      const step = page * BigInt(rng.pick([1, 1, 2, 3, 16, 512, 4096]));
      const count = BigInt(1 + rng.int(step === page ? 600 : 64));
      const len = step * count;
      const sz = a + len > e ? e - a : len;
      if (sz > 0n && touchInside(p.vmas, a, sz, step)) {
        actions.push({
          k: "touch",
          mm,
          addr: a,
          size: sz,
          step,
          ...(rng.chance(0.15) ? { read: true } : {}),
          ...refFor(p, a, a + sz),
        });
      }
    } else if (r < 0.6 && p.vmas.length) {
      // within one VMA: mprotect there and back (split, merge, THP split, flushes), or advice;
      // in hugetlb memory whole huge pages only
      const [s, e] = rng.pick(p.vmas);
      let a = s + rng.big((e - s) / page) * page;
      const len = page * BigInt(1 + rng.int(1024));
      let size = a + len > e ? e - a : len;
      const hr = hugeAt(p, a);
      if (hr) {
        a = a / hr.h * hr.h;
        size = (size + hr.h - 1n) / hr.h * hr.h;
        if (a + size > e) size = e - a;
      }
      const to = addr();
      if (rng.chance(0.2) && !p.split && (!p.stack || s !== p.stack[0])) {
        // move a whole mapping somewhere free (move_page_tables: aligned or not, as it falls);
        // mremap of hugetlb memory is not modelled
        if (
          !hugeAt(p, s) && to >= page && to + (e - s) <= task && !clash(p, to, to + (e - s))
        ) {
          actions.push({ k: "mremap", mm, addr: s, size: e - s, to });
          p.vmas = [...removeRange(p.vmas, s, e), [to, to + (e - s)]];
          // the name no longer says where the mapping is
          p.named = p.named.filter((n) => n.e <= s || e <= n.s);
        }
      } else if (size > 0n && hugeSafe(p.huge, a, a + size) && rng.chance(0.5)) {
        p.split = true;
        const prot = rng.pick(["none", "read"] as const);
        const ref = refFor(p, a, a + size);
        actions.push({ k: "mprotect", mm, addr: a, size, prot, ...ref });
        actions.push({ k: "mprotect", mm, addr: a, size, prot: "write", ...ref });
      } else if (size > 0n && hugeSafe(p.huge, a, a + size)) {
        // MADV_FREE and MADV_COLLAPSE of hugetlb memory are EINVAL
        const advice = rng.pick(
          hr ? ["hugepage", "nohugepage"] : [
            "free",
            "hugepage",
            "nohugepage",
            "populate_write",
            ...(opts.thpAvailable ? ["collapse"] : []),
          ],
        );
        actions.push({ k: "advise", mm, advice, addr: a, size, ...refFor(p, a, a + size) });
        p.split = true;
      }
    } else if (r < 0.7 && p.vmas.length) {
      const [s, e] = rng.pick(p.vmas);
      if (p.stack && s === p.stack[0]) continue;
      let a = rng.chance(0.5) ? s : s + rng.big((e - s) / page) * page;
      let len = rng.chance(0.3) ? e - a : page * BigInt(1 + rng.int(600));
      const hr = hugeAt(p, a);
      if (hr) {
        a = a / hr.h * hr.h;
        len = (len + hr.h - 1n) / hr.h * hr.h;
      }
      const b = a + len > task ? task : a + len;
      if (p.stack && overlaps([p.stack], a, b)) continue;
      if (p.image.some((x) => x.s < b && a < x.e) || !hugeSafe(p.huge, a, b)) continue;
      const k = rng.chance(0.6) ? "unmap" : "dontneed";
      actions.push({ k, mm, addr: a, size: b - a, ...refFor(p, a, b) });
      if (k === "unmap") {
        p.vmas = removeRange(p.vmas, a, b);
        p.huge = removeHuge(p.huge, a, b);
      }
    } else if (r < 0.76 && procs.size < 3) {
      const child = `p${names++}`;
      actions.push({ k: "fork", mm, child });
      procs.set(child, {
        vmas: [...p.vmas],
        pages: new Set(),
        stack: p.stack,
        split: p.split,
        huge: [...p.huge],
        image: [...p.image],
        named: [...p.named],
      });
    } else if (r < 0.8) {
      actions.push({ k: "exit", mm });
      procs.delete(mm);
    } else if (r < 0.84 && cpus > 1) {
      const set = [...new Set([rng.int(cpus), rng.int(cpus)])];
      actions.push({ k: "run", mm, cpus: set });
    } else if (r < 0.85 && cpus > 1) {
      actions.push({ k: "idle", cpus: [rng.int(cpus)] });
    } else if (r < 0.87 && opts.sites.length) {
      const mode = rng.pick(["at", "at", "at", "every", "after"] as const);
      actions.push({ k: "inject", site: rng.pick(opts.sites), mode, n: 1 + rng.int(12) });
    } else if (r < 0.96) {
      actions.push({ k: "check" });
    } else if (procs.size < 3) {
      newMm(`p${names++}`);
    }
  }
  for (const name of procs.keys()) actions.push({ k: "exit", mm: name });
  actions.push({ k: "check" });
  return { arch: cfg.name, options, cpus, actions, seed };
}

/** The oracle's model of one process. */
interface OracleProc {
  /** Present base pages (page numbers). */
  pages: Set<bigint>;
  /** Present hugetlb pages: their address, their size. */
  hpages: Map<bigint, bigint>;
  vmas: Range[];
  huge: HugeRange[];
  image: { s: bigint; e: bigint; growsDown?: boolean }[];
  /** It may have PTE tables beyond those of a new mm (it touched memory that is not hugetlb). */
  pte: boolean;
  /** exec faulted pages in (the binary's text and data): its RSS is the engine's business. */
  exec: boolean;
}

/**
 * The oracle's lines after each action (the expectations at each `check`, where each `as NAME`
 * must be, the PTE tables of a new process), replaying the actions on its own model.
 */
function oracleLines(sc: GenScenario, pageSize: bigint, cfg: ArchConfig): Map<number, string[]> {
  const procs = new Map<string, OracleProc>();
  const out = new Map<number, string[]>();
  const bound = new Map<string, bigint>();
  // after an injected failure, or with THP, which pages are present is the engine's business
  let exact = sc.options.thp !== "on";
  // HugetlbPages: exact but after an injected failure, or a fork of shared hugetlb memory (the
  // child shares the PMD tables, huge_pmd_share, and takes no fault where it does)
  let hexact = true;
  const bytes = cfg.levels.map((l) => l.pgtablesBytes);
  const image = execImage(cfg);
  const at = (a: { addr: bigint; ref?: AddrRef }): bigint | undefined =>
    a.ref ? (bound.has(a.ref.name) ? bound.get(a.ref.name)! + a.ref.off : undefined) : a.addr;
  const ptes = (name: string) => [`let pte0_${name} = ${name}.tables.pte`];
  sc.actions.forEach((a, i) => {
    switch (a.k) {
      case "mm": {
        const img = a.exec ? image : [];
        procs.set(a.name, {
          pages: new Set(),
          hpages: new Map(),
          vmas: [],
          huge: [],
          image: img.map((v) => ({
            s: v.start,
            e: v.end,
            ...(v.growsDown ? { growsDown: true } : {}),
          })),
          pte: img.length > 0,
          exec: img.length > 0,
        });
        out.set(i, ptes(a.name));
        break;
      }
      case "map": {
        const p = procs.get(a.mm);
        if (!p) break;
        const addr = a.auto
          ? oracleUnmappedArea(
            cfg,
            [...p.vmas.map(([s, e]) => ({ s, e })), ...p.image],
            a.size,
            { shared: a.shared, ...(a.hugetlb ? { hugetlb: a.hugetlb } : {}) },
          )
          : a.addr;
        if (addr === undefined) break; // no room: the compiler says so
        p.vmas.push([addr, addr + a.size]);
        if (a.hugetlb !== undefined) {
          p.huge.push({ s: addr, e: addr + a.size, h: a.hugetlb, shared: !!a.shared });
        } else if (a.shared) {
          // shared memory is not copied at fork: which pages a child has is the engine's business
          exact = false;
        }
        if (a.as) {
          bound.set(a.as, addr);
          out.set(i, [`expect ${a.as} == ${hex(addr)}`]);
        }
        break;
      }
      case "mprotect":
        break;
      case "mremap": {
        // the pages move with the mapping
        const p = procs.get(a.mm);
        if (!p) break;
        const delta = a.to - a.addr;
        const moved = [...p.pages].filter((pg) =>
          pg * pageSize >= a.addr && pg * pageSize < a.addr + a.size
        );
        for (const pg of moved) p.pages.delete(pg);
        for (const pg of moved) p.pages.add(pg + delta / pageSize);
        p.vmas = [...removeRange(p.vmas, a.addr, a.addr + a.size), [a.to, a.to + a.size]];
        break;
      }
      case "advise": {
        // populate_write, collapse and the THP advice change what is present
        if (a.advice !== "free") exact = false;
        const p = procs.get(a.mm);
        const s = at(a);
        if (p && s !== undefined && !p.huge.some((r) => r.s <= s && s < r.e)) {
          if (a.advice === "populate_write" || a.advice === "collapse") p.pte = true;
        }
        break;
      }
      case "touch": {
        const p = procs.get(a.mm);
        const s = at(a);
        if (!p || s === undefined) break;
        if (a.read) exact = false; // the zero page, fault-around
        for (let x = s; x < s + a.size; x += a.step) {
          // a hugetlb fault maps the whole huge page (read or write: there is no zero page)
          const hr = p.huge.find((r) => r.s <= x && x < r.e);
          if (hr) p.hpages.set(x / hr.h * hr.h, hr.h);
          else {
            p.pages.add(x / pageSize);
            p.pte = true;
          }
        }
        break;
      }
      case "unmap":
      case "dontneed": {
        const p = procs.get(a.mm);
        const s = at(a);
        if (!p || s === undefined) break;
        const e = s + a.size;
        for (const pg of [...p.pages]) {
          if (pg * pageSize >= s && pg * pageSize < e) p.pages.delete(pg);
        }
        for (const hp of [...p.hpages.keys()]) if (hp >= s && hp < e) p.hpages.delete(hp);
        if (a.k === "unmap") {
          p.vmas = removeRange(p.vmas, s, e);
          p.huge = removeHuge(p.huge, s, e);
        }
        break;
      }
      case "fork": {
        const p = procs.get(a.mm);
        if (!p) break;
        if (p.huge.some((r) => r.shared)) hexact = false;
        // copy_hugetlb_page_range copies the private huge pages (hugetlb_count_add)
        const hpages = new Map(
          [...p.hpages].filter(([hp]) => p.huge.some((r) => !r.shared && r.s <= hp && hp < r.e)),
        );
        procs.set(a.child, {
          pages: new Set(p.pages),
          hpages,
          vmas: [...p.vmas],
          huge: [...p.huge],
          image: [...p.image],
          pte: p.pte,
          exec: p.exec,
        });
        out.set(i, ptes(a.child));
        break;
      }
      case "exit":
        procs.delete(a.mm);
        break;
      case "inject":
        exact = false;
        hexact = false;
        break;
      case "check": {
        const lines: string[] = [];
        for (const [name, p] of procs) {
          if (exact && !p.exec) {
            lines.push(`expect ${name}.rss == ${BigInt(p.pages.size) * pageSize}`);
          }
          if (hexact && cfg.hugetlb.length) {
            const total = [...p.hpages.values()].reduce((x, y) => x + y, 0n);
            lines.push(`expect ${name}.hugetlb == ${total}`);
          }
          // hugetlb memory is mapped at the PMD or PUD level: it adds no PTE table
          if (!p.pte) lines.push(`expect ${name}.tables.pte <= pte0_${name}`);
          // VmPTE is the sum of what each live table below the root adds (mm_inc_nr_*): a
          // cross-check of the per-level table counts against pgtables_bytes; s390's root
          // moves between levels, so there the root level is not known here
          if (cfg.family !== "s390") {
            const terms = [2, 3, 4].filter((l) => bytes[l] > 0)
              .map((l) => `${name}.tables.${["pgd", "p4d", "pud", "pmd", "pte"][l]} * ${bytes[l]}`);
            lines.push(`expect ${name}.vmpte == ${terms.length ? terms.join(" + ") : "0"}`);
          }
        }
        if (procs.size === 0) {
          lines.push("expect nr_page_table_pages == 0", "expect leaks == 0", "expect ptlocks == 0");
        }
        // every IPI is received by one CPU; each rule's sync IPIs are at most the kernel's, and
        // what a CPU was spared is what the kernel's rule sent it and this rule did not
        const each = Array.from({ length: sc.cpus }, (_, c) => c);
        lines.push(`expect ipis == ${each.map((c) => `cpu[${c}].ipis`).join(" + ")}`);
        lines.push(
          "expect sync_ipis_mm_cpus <= sync_ipis_all and sync_ipis_skip_if_flushed <= sync_ipis_all",
        );
        const rule = sc.options.sync_ipi ?? "all";
        for (const c of each) {
          lines.push(`expect cpu[${c}].saved == cpu[${c}].sync_all - cpu[${c}].sync_${rule}`);
        }
        lines.push("expect violations == 0");
        out.set(i, lines);
        break;
      }
    }
  });
  return out;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/** An address as written: hex, or relative to the name an `as` bound. */
function where(a: { addr: bigint; ref?: AddrRef }): string {
  if (!a.ref) return hex(a.addr);
  return a.ref.off === 0n ? a.ref.name : `${a.ref.name} + ${hex(a.ref.off)}`;
}

/** Renders a scenario as a .ptlab file (with the oracle's expectations at each check). */
export function render(
  sc: GenScenario,
  resolve: (options: Record<string, string>) => ArchConfig,
  header: string[] = [],
): string {
  const cfg = resolve(sc.options);
  const page = 1n << BigInt(cfg.pageShift);
  const oracle = oracleLines(sc, page, cfg);
  const opts = Object.entries(sc.options).map(([k, v]) => `  ${k} = ${v}`).join("\n");
  const out = [...header.map((h) => `# ${h}`), `arch ${sc.arch} {`, opts, "}", `cpus ${sc.cpus}`];
  // the configuration's default hugetlb size is written without its size now and then
  const hdefault = cfg.hugetlb[0]?.bytes;
  sc.actions.forEach((a, i) => {
    switch (a.k) {
      case "mm":
        out.push(`mm ${a.name}${a.exec ? " exec" : ""}`);
        break;
      case "map": {
        const h = a.hugetlb === undefined
          ? ""
          : a.hugetlb === hdefault && i % 2 === 0
          ? " hugetlb"
          : ` hugetlb ${hex(a.hugetlb)}`;
        out.push(
          `map ${a.mm}${a.auto ? "" : ` ${hex(a.addr)}`} size ${hex(a.size)}${
            a.shared ? " shared" : ""
          }${h}${a.as ? ` as ${a.as}` : ""}`,
        );
        break;
      }
      case "touch":
        out.push(
          `touch ${a.mm} ${where(a)} size ${hex(a.size)} every ${hex(a.step)}${
            a.read ? " read" : ""
          }`,
        );
        break;
      case "mprotect":
        out.push(`mprotect ${a.mm} ${where(a)} size ${hex(a.size)} ${a.prot}`);
        break;
      case "mremap":
        out.push(`mremap ${a.mm} ${hex(a.addr)} size ${hex(a.size)} to ${hex(a.to)}`);
        break;
      case "advise":
        out.push(`madvise ${a.mm} ${a.advice} ${where(a)} size ${hex(a.size)}`);
        break;
      case "unmap":
        out.push(`unmap ${a.mm} ${where(a)} size ${hex(a.size)}`);
        break;
      case "dontneed":
        out.push(`madvise ${a.mm} dontneed ${where(a)} size ${hex(a.size)}`);
        break;
      case "fork":
        out.push(`fork ${a.mm} as ${a.child}`);
        break;
      case "exit":
        out.push(`exit ${a.mm}`);
        break;
      case "run":
        out.push(`run ${a.mm} on ${a.cpus.join(",")}`);
        break;
      case "idle":
        out.push(`idle ${a.cpus.join(",")}`);
        break;
      case "inject":
        out.push(`inject fail ${a.site} ${a.mode} ${a.n}`);
        break;
      case "check":
        break;
    }
    out.push(...oracle.get(i) ?? []);
  });
  return out.join("\n") + "\n";
}
