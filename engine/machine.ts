/**
 * The simulated machine: frames, the table pool, processes, CPUs, RCU, slab caches, counters,
 * violations and the trace. Everything else in the engine is functions over a Machine, the way
 * kernel code is functions over global state.
 *
 * @module
 */

import type { PmdShare } from "./hugetlb.ts";
import type { Backend } from "./backend.ts";
import { MmuGather } from "./gather.ts";
import { Frames, GFP, Use } from "./frames.ts";
import { Mm, type PageCacheObject } from "./mm.ts";
import { type Mem, memFrame, memOf, TablePool } from "./tables.ts";
import type { ArchConfig, Level, RunEvent, SyncIpiRule, TraceEvent, Violation } from "./types.ts";
import { spell } from "./spelling.ts";
import { tablesPerFrame } from "./limits.ts";

/**
 * A failure-injection rule: counting the calls of `site` from the moment the rule is added,
 * fail the n-th call (`at`), every n-th call (`every`), or every call after the n-th (`after`).
 */
export interface InjectRule {
  /** Allocation site (a kernel function: `pagetable_alloc`, `ptlock_alloc` ...). */
  site: string;
  /** How `n` is read. */
  mode: "at" | "every" | "after";
  /** The count. */
  n: number;
  /** Calls of the site seen since the rule was added. */
  calls: number;
}

/**
 * Allocation sites every configuration has (kernel function names): the ptdesc allocator, the
 * split ptlock cache, the mmu_gather's batch pages, slab caches and plain page allocations.
 */
export const ENGINE_INJECT_SITES: readonly string[] = [
  "pagetable_alloc",
  "ptlock_alloc",
  "tlb_next_batch",
  "tlb_remove_table",
  "kmem_cache_alloc",
  "__get_free_pages",
];

/** A recorded event the scenario can count (an injected failure, an OOM ...). */
export type MachineEvent = RunEvent;

/** Events a run lists; more are counted (an `inject fail ... every 1` over a huge unmap). */
export const MAX_EVENTS = 1000;

/**
 * Kernel calls a trace records; then tracing stops (`traceTruncated`), so that `--trace` over a
 * terabyte (millions of calls) costs no more than this many.
 */
export const MAX_TRACE = 20_000;

/** A kmem_cache for page-table objects smaller than a page (or page-sized with a ctor). */
export class KmemCache {
  /** Cache name as in the kernel. */
  readonly name: string;
  /** Object size in bytes. */
  readonly size: number;
  /** Objects per slab page. */
  readonly perSlab: number;
  /** Order of a slab. */
  readonly order: number;
  /** Objects in use per slab frame. */
  readonly inUse: Map<number, number> = new Map();
  /** Slabs with a free object. */
  readonly partial: Set<number> = new Set();
  /** Objects in use per frame, as a bitmask of slots. */
  readonly slots: Map<number, Uint8Array> = new Map();

  /**
   * A cache of `size`-byte objects.
   *
   * @param name cache name
   * @param size object size
   * @param pageSize PAGE_SIZE
   */
  constructor(name: string, size: number, pageSize: number) {
    this.name = name;
    this.size = size;
    this.order = size > pageSize ? Math.ceil(Math.log2(size / pageSize)) : 0;
    this.perSlab = Math.max(1, Math.floor((pageSize << this.order) / size));
  }
}

/** The machine one run simulates. */
export class Machine {
  /** The configuration. */
  readonly cfg: ArchConfig;
  /** The arch backend. */
  readonly be: Backend;
  /** Physical frames. */
  readonly frames: Frames;
  /** Every table of every mm. */
  readonly pool: TablePool;
  /** Processes by name (dead ones removed). */
  readonly mms: Map<string, Mm> = new Map();
  /** Names of processes whose creation (mm or fork) failed: operations on them are skipped. */
  readonly failedMms: Set<string> = new Set();
  /** Processes by id (dead ones removed). */
  readonly mmById: Map<number, Mm> = new Map();
  /** Online CPUs. */
  ncpus: number;
  /** Kernel version as a number (6.6 -> 606). */
  readonly kv: number;
  /** NR_PAGETABLE (nr_page_table_pages). */
  nrPagetable = 0;
  /** Split ptlocks alive. */
  ptlocks = 0;
  /** Allocated ptlocks alive (ALLOC_SPLIT_PTLOCKS), by id. */
  readonly ptlockObjs: Set<number> = new Set();
  #ptlockSeq = 0;
  /** TLB flushes (arch tlb_flush and flush_tlb_mm calls). */
  tlbFlushes = 0;
  /** IPIs sent. */
  ipis = 0;
  /** IPIs each CPU received. */
  readonly cpuIpis: Float64Array;
  /** tlb_remove_table_sync_one IPIs each CPU was spared by the `sync_ipi` rule. */
  readonly cpuSaved: Float64Array;
  /** The tlb_remove_table_sync_one IPIs each rule would send each CPU, whichever one runs. */
  readonly cpuSync: Record<SyncIpiRule, Float64Array>;
  /** Per /proc/interrupts line, per CPU. */
  readonly cpuLines: Map<string, Float64Array> = new Map();
  /** Faults that returned VM_FAULT_OOM. */
  ooms = 0;
  /** Allocations failed by injection. */
  injected = 0;
  /** Operations that failed with -ENOMEM (a process, fork or mmap that could not be made). */
  enomems = 0;
  /** Violations. */
  readonly violations: Violation[] = [];
  /** Events a scenario can count. */
  readonly events: MachineEvent[] = [];
  /** Events past MAX_EVENTS. */
  eventsDropped = 0;
  /**
   * The trace while it records (null when not asked for, or once full): callers test it before
   * they format a call's details.
   */
  trace: TraceEvent[] | null;
  /** Every call traced (the trace stays here when it is full). */
  readonly traceLog: TraceEvent[] | null;
  /** Scenario line of the operation running. */
  line = 0;
  /** Pending RCU callbacks (run at the next grace period), with the table memory they free. */
  rcuQueue: { mems: readonly Mem[]; fn: () => void }[] = [];
  /** Frames waiting for an RCU grace period. */
  rcuFrames = 0;
  /** Arch slab caches by name. */
  readonly caches: Map<string, KmemCache> = new Map();
  /** Failure-injection rules. */
  readonly inject: InjectRule[] = [];
  /** A pXd_free_tlb is running (frees now unlink tables whose entries may still be cached). */
  inFreeTlb = false;
  /** Table frames freed before the TLB flush that must precede their reuse, by mm id. */
  readonly unflushed: Map<number, Set<number>> = new Map();
  /** The mm whose gather is running a pXd_free_tlb. */
  freeTlbMm = 0;
  /** TLB flushes counted when that pXd_free_tlb began (the table had just been unlinked). */
  flushesAtUnlink = 0;

  /**
   * How tables of each level were freed at munmap/exit (`page-batch`, `table-batch`, `direct`),
   * as observed inside the pXd_free_tlb wrappers; for checking a configuration's story.
   */
  readonly freeVia: Set<string>[] = [new Set(), new Set(), new Set(), new Set(), new Set()];
  /** Batched page-table pages and table-batch entries so far (see {@link Machine.freeVia}). */
  batched = { page: 0, table: 0 };
  /** Deposited PTE tables (pgtable_trans_huge_deposit), keyed by deposit list owner. */
  readonly deposits: Map<number, Mem[]> = new Map();
  /** Per-level geometry derived from the configuration. */
  readonly geo: Geometry;
  /** The most tables of any level one frame holds (fragments, slab objects; 1 otherwise). */
  readonly tablesPerFrame: number;
  #mmSeq = 0;
  #anonVmaSeq = 0;

  /**
   * A machine with no process yet.
   *
   * @param cfg resolved configuration
   * @param be the arch backend
   * @param opts CPUs and tracing
   */
  constructor(cfg: ArchConfig, be: Backend, opts: { cpus?: number; trace?: boolean } = {}) {
    this.cfg = cfg;
    this.be = be;
    const [maj, min] = cfg.kernel.split(".").map(Number);
    this.kv = maj * 100 + min;
    const page = 2 ** cfg.pageShift;
    const low = Math.floor(cfg.lowmemBytes / page);
    const high = Math.floor((cfg.ramBytes - cfg.lowmemBytes) / page);
    const dma = Math.min(low, Math.floor(cfg.dmaBytes / page));
    this.frames = new Frames(low - dma, high, dma);
    this.geo = new Geometry(cfg);
    this.pool = new TablePool(cfg.levels[4].entries, this.frames.total);
    this.tablesPerFrame = tablesPerFrame(cfg);
    this.ncpus = Math.min(opts.cpus ?? 1, cfg.maxCpus);
    this.cpuIpis = new Float64Array(this.ncpus);
    this.cpuSaved = new Float64Array(this.ncpus);
    this.cpuSync = {
      all: new Float64Array(this.ncpus),
      mm_cpus: new Float64Array(this.ncpus),
      skip_if_flushed: new Float64Array(this.ncpus),
    };
    const lines = be.interrupts ?? DEFAULT_INTERRUPTS;
    for (const l of [...lines.flush, ...lines.call]) {
      if (!this.cpuLines.has(l)) this.cpuLines.set(l, new Float64Array(this.ncpus));
    }
    if (cfg.walkerCaches) this.frames.onAlloc = (pfn) => this.#checkReuse(pfn);
    this.trace = this.traceLog = opts.trace ? [] : null;
  }

  /** Records a kernel call in the trace (spelled as the modelled version spells it). */
  call(fn: string, detail?: string): void {
    if (!this.trace) return;
    const name = spell(fn, this.kv, this.be.spelling);
    if (name) this.trace.push({ line: this.line, fn: name, detail });
    if (this.trace.length >= MAX_TRACE) this.trace = null;
  }

  /**
   * A table frame freed by a pXd_free_tlb before the flush (a direct free): on an MMU whose walker
   * caches upper entries, the memory must not be handed out again until the TLB is flushed.
   */
  noteUnflushedFree(frame: number, order: number): void {
    // a flush since the unlink (tlb_remove_table_one's tlb_table_invalidate) makes it safe
    if (!this.inFreeTlb || !this.cfg.walkerCaches || this.tlbFlushes > this.flushesAtUnlink) {
      return;
    }
    let set = this.unflushed.get(this.freeTlbMm);
    if (!set) this.unflushed.set(this.freeTlbMm, set = new Set());
    for (let i = 0; i < 1 << order; i++) set.add(frame + i);
  }

  #checkReuse(pfn: number): void {
    for (const [mmId, set] of this.unflushed) {
      if (!set.has(pfn)) continue;
      set.delete(pfn);
      this.violate(
        "reused-before-flush",
        `pfn ${pfn}, a page table freed before the TLB flush, was allocated again before the ` +
          `flush (the MMU may still walk it through a cached entry)`,
        { frame: pfn, mm: this.mmById.get(mmId)?.name },
      );
    }
  }

  /** Records a violation of a kernel rule. */
  violate(rule: string, message: string, extra: { frame?: number; mm?: string } = {}): void {
    this.violations.push({ rule, message, line: this.line, ...extra });
    this.call("violation", `${rule}: ${message}`);
  }

  /** Records an event a scenario can count. */
  event(kind: string, detail: string): void {
    if (this.events.length < MAX_EVENTS) this.events.push({ kind, line: this.line, detail });
    else this.eventsDropped++;
    this.call(kind, detail);
  }

  /** Whether an allocation at `site` fails now (failure injection). */
  shouldFail(site: string): boolean {
    if (this.inject.length === 0) return false;
    let fail = false;
    for (const r of this.inject) {
      if (r.site !== site) continue;
      const n = ++r.calls;
      if (r.mode === "at" ? n === r.n : r.mode === "every" ? n % r.n === 0 : n > r.n) fail = true;
    }
    if (fail) {
      this.injected++;
      this.event("injected-failure", site);
    }
    return fail;
  }

  /** Adds a failure-injection rule (the `inject fail` statement). */
  addInject(site: string, mode: InjectRule["mode"], n: number): void {
    this.inject.push({ site, mode, n, calls: 0 });
  }

  /** Creates an mm object (no tables yet; see mmAlloc in memory.ts). */
  newMm(name: string): Mm {
    const mm = new Mm(++this.#mmSeq, name);
    this.mms.set(name, mm);
    this.mmById.set(mm.id, mm);
    return mm;
  }

  /** Forgets a torn-down mm. */
  dropMm(mm: Mm): void {
    mm.dead = true;
    this.mms.delete(mm.name);
    this.mmById.delete(mm.id);
  }

  /** A fresh anon_vma id. */
  newAnonVma(): number {
    return ++this.#anonVmaSeq;
  }

  /** Page-cache objects (files and shared anonymous memory), by id. */
  readonly objects: Map<number, PageCacheObject> = new Map();
  /** Scenario files by name, to their object ids. */
  readonly files: Map<string, number> = new Map();
  /** Operations run that may change the tables (countLeaks recounts only after one). */
  mutations = 0;
  /** Huge PMDs that map the huge zero page, by {@link hugeKey}. */
  readonly hugeZero: Set<number> = new Set();
  /** Huge PMDs that map a page-cache THP (do_set_pmd of a tmpfs file or shmem), by key. */
  readonly hugeFile: Set<number> = new Set();
  /** PMD tables shared by hugetlb mappings (huge_pmd_share): every attachment, by node. */
  readonly pmdShares: Map<number, PmdShare[]> = new Map();
  #objSeq = 0;

  /** A new page-cache object of `pages` pages (`full`: every page in the cache already). */
  newObject(name: string, pages: number, full: boolean): number {
    const id = ++this.#objSeq;
    this.objects.set(id, { name, pages, cached: new Map(), full });
    return id;
  }

  /** Allocates page(s) that are not a ptdesc (__get_free_pages, get_zeroed_page); -1 on failure. */
  getFreePages(gfp: number, order: number, use: Use, site = "__get_free_pages"): number {
    if (this.shouldFail(site)) return -1;
    const f = this.frames.alloc(gfp, order, use);
    this.call(order ? "__get_free_pages" : "__get_free_page", `order ${order} -> frame ${f}`);
    return f;
  }

  /** free_pages. */
  freePages(frame: number, order: number): void {
    this.call(order ? "free_pages" : "free_page", `frame ${frame}`);
    this.frames.free(frame, order);
  }

  /** Returns (creating it on first use) the kmem_cache `name` of `size`-byte objects. */
  cache(name: string, size: number): KmemCache {
    let c = this.caches.get(name);
    if (!c) {
      c = new KmemCache(name, size, 2 ** this.cfg.pageShift);
      this.caches.set(name, c);
    }
    return c;
  }

  /** kmem_cache_alloc: an object as a Mem handle, or -1. */
  kmemCacheAlloc(c: KmemCache, gfp: number): Mem {
    if (this.shouldFail("kmem_cache_alloc")) return -1;
    let frame = -1;
    for (const f of c.partial) {
      frame = f;
      break;
    }
    if (frame < 0) {
      frame = this.frames.alloc(gfp & ~GFP.COMP, c.order, Use.Slab);
      if (frame < 0) return -1;
      c.inUse.set(frame, 0);
      c.slots.set(frame, new Uint8Array(c.perSlab));
      c.partial.add(frame);
    }
    const slots = c.slots.get(frame)!;
    const slot = slots.indexOf(0);
    slots[slot] = 1;
    const used = c.inUse.get(frame)! + 1;
    c.inUse.set(frame, used);
    if (used === c.perSlab) c.partial.delete(frame);
    if (gfp & GFP.ACCOUNT) this.frames.memcg[frame] = 1;
    this.call("kmem_cache_alloc", `${c.name}`);
    return memOf(frame, slot);
  }

  /** kmem_cache_free. An empty slab is given back to the page allocator at once. */
  kmemCacheFree(c: KmemCache, mem: Mem): void {
    const frame = memFrame(mem);
    const slots = c.slots.get(frame);
    const slot = mem - frame * 256;
    if (!slots || !slots[slot]) {
      this.violate("double-free", `kmem_cache_free: object not allocated in ${c.name}`, {
        frame,
      });
      return;
    }
    slots[slot] = 0;
    const used = c.inUse.get(frame)! - 1;
    this.call("kmem_cache_free", `${c.name}`);
    if (used === 0) {
      c.inUse.delete(frame);
      c.slots.delete(frame);
      c.partial.delete(frame);
      this.frames.free(frame, c.order);
    } else {
      c.inUse.set(frame, used);
      c.partial.add(frame);
    }
  }

  /** Allocates a ptlock object from the "page->ptl" cache (ALLOC_SPLIT_PTLOCKS); 0 on failure. */
  ptlockAlloc(): number {
    if (this.shouldFail("ptlock_alloc")) return 0;
    const id = ++this.#ptlockSeq;
    this.ptlockObjs.add(id);
    return id;
  }

  /** Frees a ptlock object. */
  ptlockObjFree(id: number): void {
    if (!this.ptlockObjs.delete(id)) {
      this.violate("ptlock-double-free", `ptlock_free: ptlock ${id} is not allocated`);
    }
  }

  /** call_rcu: `fn` runs at the next grace period; `mems` count as pending until then. */
  callRcu(mems: readonly Mem[], fn: () => void): void {
    this.call("call_rcu", `${mems.length} table(s)`);
    this.rcuQueue.push({ mems, fn });
    this.rcuFrames += mems.length;
  }

  /** Ends a grace period: runs every pending RCU callback. */
  rcuGracePeriod(): void {
    while (this.rcuQueue.length > 0) {
      const q = this.rcuQueue;
      this.rcuQueue = [];
      for (const cb of q) {
        this.rcuFrames -= cb.mems.length;
        cb.fn();
      }
    }
  }

  /**
   * context_switch on each CPU of `cpus` (kernel/sched/core.c). To a thread of `next`: switch_mm
   * loads it and sets the CPU in its mm_cpumask; the mm the CPU had leaves it, or keeps it in
   * its mask as a stale CPU where the arch updates the mask lazily ({@link Backend.lazyMmCpumask}).
   * Without `next`, to the idle task: it has no mm and borrows the one the CPU ran
   * (enter_lazy_tlb, x86 cpu_tlbstate.is_lazy), so the CPU becomes a lazy TLB CPU of it.
   */
  contextSwitch(cpus: readonly number[], next?: Mm): void {
    const lazyMask = next !== undefined && (this.be.lazyMmCpumask?.(this) ?? false);
    for (const c of cpus) {
      for (const mm of this.mms.values()) {
        if (mm === next) continue;
        const ran = mm.cpus.includes(c);
        if (!ran && !mm.lazy.includes(c)) continue;
        mm.cpus = mm.cpus.filter((x) => x !== c);
        mm.lazy = mm.lazy.filter((x) => x !== c);
        if (!next) mm.lazy.push(c);
        else if (lazyMask) mm.stale.push(c);
      }
      if (!next) continue;
      if (!next.cpus.includes(c)) next.cpus.push(c);
      next.lazy = next.lazy.filter((x) => x !== c);
      next.stale = next.stale.filter((x) => x !== c);
    }
  }

  /**
   * Sends a TLB-flush IPI from the CPU running `mm` to every other CPU running it, and, when
   * `lazyToo` (x86 flush_tlb_mm_range with freed_tables), to every other CPU of its mm_cpumask:
   * its lazy ones and the stale ones. Returns the IPIs.
   */
  flushIpis(mm: Mm, lazyToo: boolean, times = 1): number {
    const self = mm.cpu;
    const to = new Set<number>();
    for (const c of mm.cpus) if (c !== self && c < this.ncpus) to.add(c);
    if (lazyToo) {
      for (const c of mm.lazy) if (c !== self && c < this.ncpus) to.add(c);
      for (const c of mm.stale) if (c !== self && c < this.ncpus) to.add(c);
    }
    this.deliverIpis(to, "flush", times);
    mm.flushCovered = this.#covers(mm, to);
    return to.size;
  }

  /** Counts `times` IPIs of `kind` to each CPU of `to`, in the /proc/interrupts lines of the arch. */
  deliverIpis(to: Iterable<number>, kind: "flush" | "call", times: number): void {
    const lines = (this.be.interrupts ?? DEFAULT_INTERRUPTS)[kind];
    for (const c of to) {
      this.ipis += times;
      this.cpuIpis[c] += times;
      for (const l of lines) this.cpuLines.get(l)![c] += times;
    }
  }

  /**
   * The CPUs other than the mm's own in its mm_cpumask (every other online CPU where the arch
   * keeps no mask): whom `on_each_cpu_mask(mm_cpumask(mm))` interrupts.
   */
  #walkers(mm: Mm): number[] {
    const self = mm.cpu;
    if (!this.be.maintainsMmCpumask) return this.#others(self);
    return [...new Set([...mm.cpus, ...mm.lazy, ...mm.stale])]
      .filter((c) => c !== self && c < this.ncpus);
  }

  #others(self: number): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.ncpus; c++) if (c !== self) out.push(c);
    return out;
  }

  /**
   * Whether `to` holds every CPU that could be walking the mm's tables: those that have it
   * loaded, running it or lazy (every other online CPU where the arch keeps no mask).
   */
  #covers(mm: Mm, to: ReadonlySet<number>): boolean {
    const self = mm.cpu;
    const loaded = this.be.maintainsMmCpumask ? [...mm.cpus, ...mm.lazy] : this.#others(self);
    return loaded.every((c) => c === self || c >= this.ncpus || to.has(c));
  }

  /**
   * A flush the hardware broadcasts (TLBI IS, tlbie, IDTE) interrupts no CPU: after it only an mm
   * no other CPU can be walking counts as covered for `sync_ipi = skip_if_flushed`.
   */
  broadcastFlushed(mm: Mm): void {
    mm.flushCovered = this.#covers(mm, new Set());
  }

  /**
   * tlb_remove_table_sync_one (mm/mmu_gather.c): an IPI to every other online CPU, waited for,
   * so no lockless walker (GUP-fast, IRQs off) still sees the table; whom it reaches is
   * {@link ArchConfig.syncIpi}. What the kernel's rule would have sent and this one did not
   * counts as saved on each CPU.
   */
  tlbRemoveTableSyncOne(mm: Mm): void {
    const all = this.#others(mm.cpu);
    const rule = this.cfg.syncIpi;
    const by: Record<SyncIpiRule, number[]> = {
      all,
      "mm_cpus": this.#walkers(mm),
      "skip_if_flushed": mm.flushCovered ? [] : all,
    };
    for (const r of ["all", "mm_cpus", "skip_if_flushed"] as const) {
      for (const c of by[r]) this.cpuSync[r][c]++;
    }
    const sent = new Set(by[rule]);
    for (const c of all) if (!sent.has(c)) this.cpuSaved[c]++;
    this.deliverIpis(sent, "call", 1);
    if (this.trace) {
      this.call(
        "tlb_remove_table_sync_one",
        `${mm.name}: ${sent.size} IPI(s)${rule === "all" ? "" : ` (sync_ipi = ${rule})`}`,
      );
    }
  }

  /**
   * Counts a TLB flush of `mm` and traces it. With `broadcast` the hardware invalidates on every
   * CPU (arm64 TLBI IS, powerpc tlbie, s390 IDTE): no IPI; otherwise IPIs go to the other CPUs
   * running the mm, and to its lazy ones too when `lazyToo`.
   */
  tlbFlushed(
    mm: Mm,
    fn: string,
    what: string,
    lazyToo: boolean,
    broadcast = false,
    times = 1,
  ): void {
    this.tlbFlushes += times;
    this.unflushed.delete(mm.id);
    if (broadcast) this.broadcastFlushed(mm);
    const n = broadcast ? 0 : this.flushIpis(mm, lazyToo, times);
    if (this.trace) {
      const x = times > 1 ? ` (x${times})` : "";
      this.call(fn, `${mm.name} ${what}${x}${n ? `, ${n * times} IPI(s)` : ""}`);
    }
  }

  /**
   * flush_tlb_page of `times` pages in the table at `vpn` (ptep_clear_flush after wp_page_copy
   * replaced them, mm/memory.c): the arch's page flush, or its range flush per page.
   */
  flushTlbPages(mm: Mm, vpn: number, times: number): void {
    if (this.be.flushTlbPage) this.be.flushTlbPage(this, mm, vpn, times);
    else if (this.be.flushPmdTlbRange) {
      for (let i = 0; i < times; i++) this.be.flushPmdTlbRange(this, mm, vpn);
    } else this.tlbFlushed(mm, "flush_tlb_page", `@${vpn.toString(16)}`, false, false, times);
  }

  /** flush_tlb_mm(mm): a whole-mm flush outside any mmu_gather (fork, PAE pud_populate). */
  flushTlbMm(mm: Mm): void {
    if (this.be.flushTlbMm) {
      this.be.flushTlbMm(this, mm);
      return;
    }
    // the arch's own whole-mm flush: its tlb_flush of a gather that wants everything flushed
    const tlb = new MmuGather(mm, false, this.cfg.gather.bundle);
    tlb.needFlushAll = true;
    tlb.clearedPtes = true;
    tlb.start = 0;
    tlb.end = 2 ** (this.cfg.bits - this.cfg.pageShift);
    this.be.tlbFlush(this, tlb);
  }

  /**
   * smp_call_function to every online CPU but the one running `mm` (CPU 0 without one), waited
   * for; an arch flush sent this way interrupted every CPU that could be walking the mm.
   */
  ipiAllOthers(why: string, mm?: Mm): void {
    const to = this.#others(mm?.cpu ?? 0);
    this.deliverIpis(to, "call", 1);
    if (mm) mm.flushCovered = true;
    this.call("smp_call_function", `${why}: ${to.length} IPI(s)`);
  }
}

/** The /proc/interrupts line of an arch that names none ({@link Backend.interrupts}). */
const DEFAULT_INTERRUPTS = { flush: ["IPI"], call: ["IPI"] } as const;

/** Per-level geometry in virtual page numbers, derived once per configuration. */
export class Geometry {
  /** Entry span of each level, in pages (2^(shift - PAGE_SHIFT)). */
  readonly span: number[];
  /** PTRS_PER_X of each level. */
  readonly entries: number[];
  /** Whether the level exists (not folded). */
  readonly present: boolean[];
  /** Next present level below each level (-1 below pte). */
  readonly below: number[];
  /** Present levels, top first. */
  readonly chain: Level[];
  /** Pages per table of each level (entries * span). */
  readonly tableSpan: number[];
  /** Pages per PMD entry (PMD_SIZE >> PAGE_SHIFT). */
  readonly pmdPages: number;
  /** PAGE_SIZE. */
  readonly pageSize: number;

  /**
   * The geometry of a configuration.
   *
   * @param cfg the configuration
   */
  constructor(cfg: ArchConfig) {
    this.pageSize = 2 ** cfg.pageShift;
    this.span = cfg.levels.map((l) => 2 ** (l.shift - cfg.pageShift));
    this.entries = cfg.levels.map((l) => l.entries);
    this.present = cfg.levels.map((l, i) => i === 0 || l.folded === "none");
    this.chain = [0, 1, 2, 3, 4].filter((i) => this.present[i]) as Level[];
    this.below = [0, 1, 2, 3, 4].map((i) => {
      for (let j = i + 1; j < 5; j++) if (this.present[j]) return j;
      return -1;
    });
    this.tableSpan = this.span.map((s, i) => s * this.entries[i]);
    this.pmdPages = this.span[3];
  }

  /** Index of `vpn` in a table of level `l`. */
  index(l: number, vpn: number): number {
    // floor and a multiply rather than %: page numbers above 2^31 are doubles, and a double
    // modulo is several times slower (spans and entries are powers of two: exact)
    const q = Math.floor(vpn / this.span[l]);
    const n = this.entries[l];
    return q - Math.floor(q / n) * n;
  }
}
