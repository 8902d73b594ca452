/**
 * How many page tables a compiled program may make the machine create, worked out before it
 * runs, so a scenario that would need more simulator memory or time than allowed is refused
 * with a diagnostic instead of running for minutes (`--max-tables`).
 *
 * The estimate is an upper bound, op by op, from address ranges and the geometry alone:
 *
 * - `mm`: pgd_alloc and what an arch preallocates (x86 PAE PMDs, ARM vectors PTE and LPAE modules
 *   PMD) and, on s390, the region tables crst_table_upgrade may add on a later `map`:
 *   {@link MM_TABLES}.
 * - `touch`: for every present level below the pgd, the number of distinct tables of that level
 *   the touched pages fall into (pages `addr`, `addr + step`, ... that lie in a mapped range of
 *   the process). A step shorter than a table's span hits every table between the first and the
 *   last page; a longer one hits one table per page. A THP fault deposits one PTE table per PMD
 *   entry, the same count.
 * - `fork`: copy_page_range gives the child a table wherever the parent has one, so at most the
 *   parent's live tables (bounded both by what it created and by what covers its mappings).
 * - `map`, `unmap`, `madvise`, `exit` and the rest create no table.
 *
 * Each op's bound is capped by what fits in the machine's RAM ({@link ramTableCapacity}): the
 * frame allocator cannot hand out more, and the fault that finds it exhausted ends the touch
 * with VM_FAULT_OOM (mm/memory.c __pte_alloc -> handle_mm_fault). A touch over tables that
 * already exist counts them again: the walk visits each one, so the figure also bounds the
 * engine's work, which is per table, never per page.
 *
 * @module
 */

import { addRange, type Ranges, removeRange } from "./ranges.ts";
import type { ArchConfig, Op } from "./types.ts";

/**
 * Simulator memory one live page table costs, bytes (heap and typed arrays: its node in the
 * table pool with the present bitmap of a 512-entry PTE table, its frame's struct page fields,
 * a share of its parent's directory). Measured by `bench/limits_bench.ts` (Deno 2.9.6, after a
 * collection): 107 bytes per live table on s390-5level (4 TiB touched at one page per MiB:
 * 4,196,355 tables; 2 KiB PTE tables, two per frame), 135 on x86_64-4level (1 TiB at one page
 * per 2 MiB: 525,315 tables, 4 KiB PTE tables with 512-bit bitmaps). Rounded up.
 */
export const BYTES_PER_TABLE = 136;

/**
 * Default `--max-tables`: 8 Mi tables, about 1.1 GB of simulator memory at
 * {@link BYTES_PER_TABLE} in the worst case (every table alive at once), and a few seconds of
 * work on the 2-core machine the README's figures come from. A scenario may ask for more on the
 * command line.
 */
export const DEFAULT_MAX_TABLES = 8 * 2 ** 20;

/**
 * Tables one process can have before its first fault, and tables crst_table_upgrade can put
 * above an s390 process's root later, at most: the pgd with x86 PAE's 4 preallocated PMDs and
 * PTI's 4 user PMDs (arch/x86/mm/pgtable.c pgd_alloc), ARM's pgd with the modules PMD and the
 * vectors PTE (arch/arm/mm/pgd.c), an s390 root and two region tables (arch/s390/mm/pgalloc.c
 * crst_table_upgrade). 12 covers each.
 */
export const MM_TABLES = 12;

/** The geometry facts the estimate needs (a resolved configuration has them all). */
export type LimitGeometry = Pick<ArchConfig, "levels" | "pageShift" | "ramBytes">;

/**
 * The most tables of any present level one frame can hold: PAGE_SIZE / table size for fragments
 * (s390 2 KiB halves, powerpc fragments, m68k pointer tables, slab objects), 1 otherwise.
 */
export function tablesPerFrame(g: Pick<ArchConfig, "levels" | "pageShift">): number {
  const page = 2 ** g.pageShift;
  let perFrame = 1;
  g.levels.forEach((l, i) => {
    const present = i === 0 || l.folded === "none";
    if (present && l.tableBytes > 0) perFrame = Math.max(perFrame, Math.floor(page / l.tableBytes));
  });
  return perFrame;
}

/**
 * Tables that fit in the machine's RAM at once: frames (ram / PAGE_SIZE) times
 * {@link tablesPerFrame}. No run can have more tables alive, nor create more in one op.
 */
export function ramTableCapacity(g: LimitGeometry): number {
  return Math.floor(g.ramBytes / 2 ** g.pageShift) * tablesPerFrame(g);
}

/** A set of page ranges [start, end), sorted and disjoint (one process's mappings). */
/** What the estimator knows of one process. */
interface MmBound {
  /** Mapped ranges (pages). */
  ranges: Ranges;
  /** Every range it ever had mapped: a table can only exist over a page touched while mapped. */
  ever: Ranges;
  /** Tables it may have created (an upper bound of its live tables). */
  created: number;
  /** Simulator bytes of those tables. */
  bytes: number;
  /** Its live tables at most: the lesser of `created` and the tables covering `ever`. */
  live: number;
  /** Their bytes. */
  liveBytes: number;
}

/**
 * The estimate, one op at a time. {@link TableEstimator.step} returns the bound of one op and
 * adds it to {@link TableEstimator.total}.
 */
export class TableEstimator {
  /** Tables the ops so far may create (the walks' work: a table touched again counts again). */
  total = 0;
  /** Tables alive at once, at most, at the worst point so far (what the memory holds). */
  peak = 0;
  /** Their simulator bytes. */
  peakBytes = 0;
  #live = 0;
  #liveBytes = 0;
  /**
   * Simulator memory of those tables, bytes: {@link BYTES_PER_TABLE} each, and the directory of
   * an upper-level table (4 bytes per entry: 8 KiB for an s390 CRST table, 32 KiB for a 64K
   * granule's), which a touch one page per PMD span pays once per PTE table.
   */
  bytes = 0;
  /** {@link ramTableCapacity} of the configuration. */
  readonly cap: number;
  /** The most simulator bytes the tables that fit in RAM can take. */
  readonly capBytes: number;
  readonly #shift: bigint;
  /** Pages per table of each present level below the pgd. */
  readonly #spans: number[] = [];
  /** Simulator bytes per table of the same levels. */
  readonly #costs: number[] = [];
  /** Simulator bytes of the {@link MM_TABLES} of a process. */
  readonly #mmBytes: number;
  readonly #mms: Map<string, MmBound> = new Map();

  /**
   * An estimator for one configuration.
   *
   * @param g the configuration's geometry and RAM
   */
  constructor(g: LimitGeometry) {
    this.cap = ramTableCapacity(g);
    this.#shift = BigInt(g.pageShift);
    let maxCost = BYTES_PER_TABLE, perRamByte = 0;
    g.levels.forEach((l, i) => {
      if (i > 0 && l.folded !== "none") return;
      // a directory of Int32 entries for every level above the PTEs (engine/tables.ts)
      const cost = BYTES_PER_TABLE + (i < 4 ? 4 * l.entries : 0);
      maxCost = Math.max(maxCost, cost);
      if (l.tableBytes > 0) perRamByte = Math.max(perRamByte, cost / l.tableBytes);
      if (i === 0) return;
      // entry span (2^(shift - PAGE_SHIFT)) times PTRS_PER_X
      this.#spans.push(2 ** (l.shift - g.pageShift) * l.entries);
      this.#costs.push(cost);
    });
    this.#mmBytes = MM_TABLES * maxCost;
    this.capBytes = Math.max(this.cap * BYTES_PER_TABLE, g.ramBytes * perRamByte);
  }

  #pages(bytes: bigint): number {
    return Number(bytes >> this.#shift);
  }

  /** Tables (and their bytes) covering every mapped page of `ranges`, levels below the pgd. */
  #coverage(ranges: Ranges): [number, number] {
    let n = 0, b = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      this.#spans.forEach((t, l) => {
        const c = Math.ceil(ranges[i + 1] / t) - Math.floor(ranges[i] / t);
        n += c;
        b += c * this.#costs[l];
      });
    }
    return [n, b];
  }

  /** Distinct tables (every level) the pages s, s+step, ... below e that lie in `ranges` hit. */
  #touched(ranges: Ranges, s: number, e: number, step: number): [number, number] {
    let n = 0, b = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const lo = Math.max(s, ranges[i]), hi = Math.min(e, ranges[i + 1]);
      if (lo >= hi) continue;
      // the touch's pages are s + j * step, whatever the mapping they fall in (run.ts touch)
      const first = s + Math.ceil((lo - s) / step) * step;
      if (first >= hi) continue;
      const pages = Math.ceil((hi - first) / step);
      const last = first + (pages - 1) * step;
      this.#spans.forEach((t, l) => {
        const c = step >= t ? pages : Math.floor(last / t) - Math.floor(first / t) + 1;
        n += c;
        b += c * this.#costs[l];
      });
    }
    return [n, b];
  }

  /** Recomputes the live bound of a process after its `created` or `ever` changed. */
  #settle(m: MmBound): void {
    const [cn, cb] = this.#coverage(m.ever);
    const live = Math.min(m.created, MM_TABLES + cn);
    const bytes = Math.min(m.bytes, this.#mmBytes + cb);
    this.#live += live - m.live;
    this.#liveBytes += bytes - m.liveBytes;
    m.live = live;
    m.liveBytes = bytes;
    this.peak = Math.max(this.peak, this.#live);
    this.peakBytes = Math.max(this.peakBytes, this.#liveBytes);
  }

  #newMm(name: string, ranges: Ranges, created: number, bytes: number): void {
    const m = { ranges, ever: [...ranges], created, bytes, live: 0, liveBytes: 0 };
    this.#drop(name);
    this.#mms.set(name, m);
    this.#settle(m);
  }

  #drop(name: string): void {
    const m = this.#mms.get(name);
    if (!m) return;
    this.#live -= m.live;
    this.#liveBytes -= m.liveBytes;
    this.#mms.delete(name);
  }

  /** The bound of one op (tables it may create), added to the total. */
  step(op: Op): number {
    let n = 0, b = 0;
    switch (op.op) {
      case "mm":
        n = MM_TABLES;
        b = this.#mmBytes;
        this.#newMm(op.name, [], n, b);
        break;
      case "map": {
        const m = this.#mms.get(op.mm);
        const s = this.#pages(op.addr);
        if (m) {
          m.ranges = addRange(m.ranges, s, s + this.#pages(op.size));
          m.ever = addRange(m.ever, s, s + this.#pages(op.size));
        }
        break;
      }
      case "unmap": {
        const m = this.#mms.get(op.mm);
        const s = this.#pages(op.addr);
        if (m) m.ranges = removeRange(m.ranges, s, s + this.#pages(op.size));
        break;
      }
      case "madvise":
      case "touch": {
        // MADV_POPULATE_WRITE faults every page in, as a touch does
        if (op.op === "madvise" && op.advice !== "populate_write") break;
        const m = this.#mms.get(op.mm);
        if (!m) break;
        const s = this.#pages(op.addr);
        const step = op.op === "touch" ? Math.max(1, this.#pages(op.step)) : 1;
        [n, b] = this.#touched(m.ranges, s, s + this.#pages(op.size), step);
        n = Math.min(n, this.cap);
        b = Math.min(b, this.capBytes);
        m.created = Math.min(m.created + n, this.cap);
        m.bytes = Math.min(m.bytes + b, this.capBytes);
        this.#settle(m);
        break;
      }
      case "mremap": {
        // move_page_tables: the new range may need tables of its own at every level (alloc_new_pud,
        // alloc_new_pmd, pte_alloc), at most those covering it
        const m = this.#mms.get(op.mm);
        if (!m) break;
        const s = this.#pages(op.addr), t = this.#pages(op.newAddr);
        const e = t + this.#pages(op.newSize);
        [n, b] = this.#coverage([t, e]);
        n = Math.min(n, this.cap);
        b = Math.min(b, this.capBytes);
        m.ranges = addRange(removeRange(m.ranges, s, s + this.#pages(op.size)), t, e);
        m.ever = addRange(m.ever, t, e);
        m.created = Math.min(m.created + n, this.cap);
        m.bytes = Math.min(m.bytes + b, this.capBytes);
        this.#settle(m);
        break;
      }
      case "fork": {
        const m = this.#mms.get(op.mm);
        if (!m) break;
        const [cn, cb] = this.#coverage(m.ranges);
        n = Math.min(MM_TABLES + Math.min(m.created, MM_TABLES + cn), this.cap);
        b = Math.min(this.#mmBytes + Math.min(m.bytes, this.#mmBytes + cb), this.capBytes);
        this.#newMm(op.child, [...m.ranges], n, b);
        break;
      }
      case "exit":
        this.#drop(op.mm);
        break;
    }
    this.total += n;
    this.bytes += b;
    return n;
  }
}

/** Upper bound of the page tables `ops` may create on a configuration (see the module doc). */
export function estimateTables(ops: readonly Op[], g: LimitGeometry): number {
  const e = new TableEstimator(g);
  for (const op of ops) e.step(op);
  return e.total;
}

/**
 * How many times `--max-tables` the table walks of a program may visit (a table touched again
 * counts again): 32 Mi visits by default, a few seconds of the engine's work.
 */
export const WORK_FACTOR = 4;

/** A program whose estimate crosses the limit, and the op at which it does. */
export interface TableLimitExceeded {
  /** The limit (`--max-tables`). */
  limit: number;
  /**
   * What crossed it: the tables alive at once (`tables`), their simulator memory (`bytes`), or
   * the walks' work (`work`: more than {@link WORK_FACTOR} times the limit in table visits).
   */
  kind: "tables" | "bytes" | "work";
  /** Tables alive at once, at most ({@link TableEstimator.peak}). */
  estimate: number;
  /** Simulator bytes of those tables ({@link TableEstimator.peakBytes}). */
  bytes: number;
  /** Table visits of the whole program ({@link TableEstimator.total}). */
  visits: number;
  /** Scenario line of the first op that takes the running estimate over the limit. */
  line: number;
  /** Its column. */
  col: number;
  /** Its file, when it is an included file's statement (OpSource.file). */
  file?: string;
  /** Its operation (`touch`, `fork`, `mm`). */
  op: string;
}

/**
 * Checks a program against a table limit before it runs: null when at most `limit` tables are
 * alive at once, taking at most `limit` * {@link BYTES_PER_TABLE} bytes of simulator memory
 * (upper-level tables cost more: their directories), and the walks visit at most
 * {@link WORK_FACTOR} * `limit` tables; otherwise what crossed, the estimates and the op at
 * which it was first crossed.
 */
export function checkTableLimit(
  ops: readonly Op[],
  g: LimitGeometry,
  limit: number = DEFAULT_MAX_TABLES,
): TableLimitExceeded | null {
  const e = new TableEstimator(g);
  let at: Op | null = null;
  const maxBytes = limit * BYTES_PER_TABLE;
  let kind: TableLimitExceeded["kind"] = "tables";
  for (const op of ops) {
    e.step(op);
    if (at) continue;
    if (e.peak > limit) kind = "tables";
    else if (e.peakBytes > maxBytes) kind = "bytes";
    else if (e.total > WORK_FACTOR * limit) kind = "work";
    else continue;
    at = op;
  }
  if (!at) return null;
  const src = at as { file?: string };
  return {
    limit,
    kind,
    estimate: e.peak,
    bytes: e.peakBytes,
    visits: e.total,
    line: at.line,
    col: at.col,
    ...(src.file !== undefined ? { file: src.file } : {}),
    op: at.op,
  };
}

/** The diagnostic's message: "scenario needs about N page tables, more than --max-tables M". */
export function tableLimitMessage(x: TableLimitExceeded): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const hint = `this ${x.op} crosses it; raise --max-tables, lower the machine's ram, or touch ` +
    `fewer tables`;
  if (x.kind === "tables") {
    return `scenario needs about ${n(x.estimate)} page tables at once, more than --max-tables ` +
      `${n(x.limit)} (${hint})`;
  }
  if (x.kind === "work") {
    return `scenario walks about ${n(x.visits)} page tables (a table touched again counts ` +
      `again), more than ${WORK_FACTOR} x --max-tables ${n(x.limit)} (${hint})`;
  }
  const mib = (v: number) => n(Math.ceil(v / 2 ** 20));
  return `scenario needs about ${n(x.estimate)} page tables at once, taking about ` +
    `${mib(x.bytes)} MiB of simulator memory (upper-level tables hold a directory each), more ` +
    `than --max-tables ${n(x.limit)} allows (${mib(x.limit * BYTES_PER_TABLE)} MiB; ${hint})`;
}
