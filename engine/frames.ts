/**
 * Physical memory: frames with the fields of struct page that struct ptdesc overlays, kept as
 * typed arrays indexed by frame number (struct-of-arrays), and a zoned allocator with orders.
 *
 * Only page-table memory (and the kernel memory that page-table code allocates for itself:
 * gather batch pages, slab pages, ptlocks) is materialised; user data pages are counted, never
 * allocated, so work scales with tables, not with bytes mapped.
 *
 * @module
 */

/** GFP flags (include/linux/gfp_types.h), the subset page-table code uses. */
export const GFP = {
  KERNEL: 1 << 0,
  ZERO: 1 << 1,
  ACCOUNT: 1 << 2,
  HIGHMEM: 1 << 3,
  DMA: 1 << 4,
  COMP: 1 << 5,
  NOWAIT: 1 << 6,
  NOWARN: 1 << 7,
  RETRY_MAYFAIL: 1 << 8,
} as const;

/** GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO (include/asm-generic/pgalloc.h). */
export const GFP_PGTABLE_KERNEL: number = GFP.KERNEL | GFP.ZERO;
/** GFP_PGTABLE_USER = GFP_PGTABLE_KERNEL | __GFP_ACCOUNT (include/asm-generic/pgalloc.h). */
export const GFP_PGTABLE_USER: number = GFP_PGTABLE_KERNEL | GFP.ACCOUNT;
/** GFP_KERNEL_ACCOUNT. */
export const GFP_KERNEL_ACCOUNT: number = GFP.KERNEL | GFP.ACCOUNT;

/** Zones. */
export const ZONE_NORMAL = 0, ZONE_HIGHMEM = 1, ZONE_DMA = 2;
/** Zone names by index. */
export const ZONE_NAMES = ["Normal", "HighMem", "DMA"] as const;

/** What a frame is used for (who owns it; not a kernel field, the model's bookkeeping). */
export const enum Use {
  Free = 0,
  /** A page-table page (ptdesc), or a page split into page-table fragments. */
  Table = 1,
  /** A slab page of a kmem_cache. */
  Slab = 2,
  /** An mmu_gather batch page (page batch or table batch). */
  Batch = 3,
  /** A page of an arch pool (sparc32 nocache pool, m68k pointer tables). */
  Pool = 4,
  /** A tail page of a compound allocation. */
  Tail = 5,
  /** Any other kernel allocation. */
  Other = 6,
}

/** page flags the model keeps. */
export const PG = {
  head: 1 << 0,
  active: 1 << 1,
  reserved: 1 << 2,
  slab: 1 << 3,
  /** Model bookkeeping: a dtor ran on this page since it was allocated (for "dtor twice"). */
  dtord: 1 << 4,
} as const;

/** Page type values (page->page_type). */
export const PAGE_TYPE_NONE = 0, PAGE_TYPE_TABLE = 1;

const INITIAL_CAPACITY = 1024;
const ZONES_DMA: readonly number[] = [ZONE_DMA];
const ZONES_NORMAL: readonly number[] = [ZONE_NORMAL, ZONE_DMA];
const ZONES_HIGH: readonly number[] = [ZONE_HIGHMEM, ZONE_NORMAL, ZONE_DMA];

/**
 * The frames of the simulated machine. Every per-frame field is a typed array; the arrays grow
 * with the highest frame ever handed out, so memory follows the tables alive, not the RAM size.
 */
export class Frames {
  /** Capacity of the arrays (frames). */
  capacity = 0;
  /** page->flags (PG bits). */
  flags: Uint8Array = new Uint8Array(0);
  /** page->page_type (PAGE_TYPE_TABLE = PG_table). */
  pageType: Uint8Array = new Uint8Array(0);
  /** page->_refcount (s390 keeps fragment bits in the upper byte). */
  refcount: Int32Array = new Int32Array(0);
  /** Compound order of a head page. */
  order: Uint8Array = new Uint8Array(0);
  /** ptdesc->pt_frag_refcount (powerpc fragments). */
  fragRefcount: Int32Array = new Int32Array(0);
  /** ptdesc->pt_mm: id of the mm (x86 pgd), 0 = none. */
  ptMm: Int32Array = new Int32Array(0);
  /** page->mapping / ptdesc->_pt_s390_gaddr: must be 0 when the page is freed. */
  mapping: Int32Array = new Int32Array(0);
  /** ptdesc->pmd_huge_pte: head of the deposited PTE tables (frame + 1, 0 = none). */
  pmdHugePte: Int32Array = new Int32Array(0);
  /** ptdesc->ptl: 0 = none, -1 = inline spinlock initialised, n > 0 = allocated ptlock n. */
  ptl: Int32Array = new Int32Array(0);
  /** Charged to a memcg (__GFP_ACCOUNT). */
  memcg: Uint8Array = new Uint8Array(0);
  /** Zone of the frame. */
  zone: Uint8Array = new Uint8Array(0);
  /** Model bookkeeping: what the frame is used for ({@link Use}). */
  use: Uint8Array = new Uint8Array(0);

  /** Frames per zone. */
  readonly zonePages: number[];
  /** First frame number of each zone. */
  readonly zoneBase: number[];
  readonly #bump: number[];
  /** Free lists per zone per order (frame numbers). */
  readonly #free: number[][][];
  /** Frames in use, per zone. */
  readonly inUse: number[] = [0, 0, 0];
  /** Frames in use that hold page tables (Use.Table, Use.Slab, Use.Pool, with their tails). */
  tableFrames = 0;

  /** Changes what an allocated frame is used for, keeping {@link Frames.tableFrames} right. */
  setUse(frame: number, use: Use): void {
    const holds = (u: number) => u === Use.Table || u === Use.Slab || u === Use.Pool;
    const n = 1 << this.order[frame];
    this.tableFrames += ((holds(use) ? 1 : 0) - (holds(this.use[frame]) ? 1 : 0)) * n;
    this.use[frame] = use;
  }

  /**
   * Frames of a machine with these zones.
   *
   * @param normalPages frames of ZONE_NORMAL (low memory)
   * @param highPages frames of ZONE_HIGHMEM
   * @param dmaPages frames of ZONE_DMA (placed first)
   */
  constructor(normalPages: number, highPages = 0, dmaPages = 0) {
    this.zonePages = [normalPages, highPages, dmaPages];
    this.zoneBase = [dmaPages, dmaPages + normalPages, 0];
    this.#bump = [...this.zoneBase];
    this.#free = [[], [], []];
    this.#grow(Math.min(INITIAL_CAPACITY, this.total));
  }

  /** Frames of the machine (every zone): the arrays never grow beyond this. */
  get total(): number {
    return this.zonePages[0] + this.zonePages[1] + this.zonePages[2];
  }

  #grow(min: number): void {
    if (min <= this.capacity) return;
    // never past the machine's last frame: a 4 TiB machine that holds a few tables keeps a few
    // arrays' worth of them, not 1 Gi entries
    const cap = Math.max(
      min,
      Math.min(this.total, Math.max(INITIAL_CAPACITY, Math.ceil(this.capacity * 1.25))),
    );
    const g8 = (a: Uint8Array) => {
      const n = new Uint8Array(cap);
      n.set(a);
      return n;
    };
    const g32 = (a: Int32Array) => {
      const n = new Int32Array(cap);
      n.set(a);
      return n;
    };
    this.flags = g8(this.flags);
    this.pageType = g8(this.pageType);
    this.refcount = g32(this.refcount);
    this.order = g8(this.order);
    this.fragRefcount = g32(this.fragRefcount);
    this.ptMm = g32(this.ptMm);
    this.mapping = g32(this.mapping);
    this.pmdHugePte = g32(this.pmdHugePte);
    this.ptl = g32(this.ptl);
    this.memcg = g8(this.memcg);
    this.zone = g8(this.zone);
    this.use = g8(this.use);
    this.capacity = cap;
  }

  /** Called with every frame handed out (the machine checks reuse before a TLB flush). */
  onAlloc: ((pfn: number) => void) | null = null;

  /**
   * Frames the caller expects to need soon: when the arrays must grow, they grow to hold that
   * many more at once instead of by a quarter (a large touch sets it, so no capacity is wasted).
   */
  hint = 0;

  /** Zone order tried for an allocation with these gfp flags (the zonelist, highest first). */
  zonesFor(gfp: number): readonly number[] {
    if (gfp & GFP.DMA) return ZONES_DMA;
    return gfp & GFP.HIGHMEM && this.zonePages[ZONE_HIGHMEM] > 0 ? ZONES_HIGH : ZONES_NORMAL;
  }

  /**
   * Allocates 2^order contiguous frames (alloc_pages). Returns the first frame, or -1 when the
   * zones allowed by gfp are exhausted. The frames come back zeroed (all fields 0).
   */
  alloc(gfp: number, order: number, use: Use): number {
    for (const z of this.zonesFor(gfp)) {
      const pfn = this.#allocZone(z, order);
      if (pfn >= 0) {
        const n = 1 << order;
        this.inUse[z] += n;
        if (use === Use.Table || use === Use.Slab || use === Use.Pool) this.tableFrames += n;
        this.use[pfn] = use;
        this.refcount[pfn] = 1;
        this.zone[pfn] = z;
        if (gfp & GFP.ACCOUNT) this.memcg[pfn] = 1;
        if (this.onAlloc) this.onAlloc(pfn);
        if (order > 0) {
          this.order[pfn] = order;
          if (gfp & GFP.COMP) this.flags[pfn] |= PG.head;
          for (let i = 1; i < n; i++) {
            this.use[pfn + i] = Use.Tail;
            this.zone[pfn + i] = z;
          }
        }
        return pfn;
      }
    }
    return -1;
  }

  #allocZone(z: number, order: number): number {
    const lists = this.#free[z];
    const list = lists[order];
    if (list && list.length > 0) return list.pop()!;
    const n = 1 << order;
    let b = this.#bump[z];
    const aligned = Math.ceil((b - this.zoneBase[z]) / n) * n + this.zoneBase[z];
    if (aligned + n > this.zoneBase[z] + this.zonePages[z]) {
      // Split a larger free block if one exists.
      for (let o = order + 1; o < lists.length; o++) {
        const l = lists[o];
        if (l && l.length > 0) {
          const big = l.pop()!;
          for (let k = o - 1; k >= order; k--) this.#pushFree(z, k, big + (1 << k));
          return big;
        }
      }
      return -1;
    }
    while (b < aligned) this.#pushFree(z, 0, b++);
    this.#bump[z] = aligned + n;
    if (this.#bump[z] > this.capacity) {
      this.#grow(Math.min(this.#bump[z] + this.hint, this.total));
    }
    return aligned;
  }

  #pushFree(z: number, order: number, pfn: number): void {
    (this.#free[z][order] ??= []).push(pfn);
  }

  /** Frees 2^order frames starting at pfn (__free_pages). Fields are reset to zero. */
  free(pfn: number, order: number): void {
    const z = this.zone[pfn];
    const n = 1 << order;
    const u = this.use[pfn];
    if (u === Use.Table || u === Use.Slab || u === Use.Pool) this.tableFrames -= n;
    for (let i = 0; i < n; i++) this.#clear(pfn + i);
    this.inUse[z] -= n;
    this.#pushFree(z, order, pfn);
  }

  #clear(p: number): void {
    this.flags[p] = 0;
    this.pageType[p] = 0;
    this.refcount[p] = 0;
    this.order[p] = 0;
    this.fragRefcount[p] = 0;
    this.ptMm[p] = 0;
    this.mapping[p] = 0;
    this.pmdHugePte[p] = 0;
    this.ptl[p] = 0;
    this.memcg[p] = 0;
    this.use[p] = Use.Free;
  }

  /** Frames in use in every zone. */
  get used(): number {
    return this.inUse[0] + this.inUse[1] + this.inUse[2];
  }

  /** Frames handed out at least once (the high-water mark of every zone). */
  get touched(): number {
    let n = 0;
    for (let z = 0; z < 3; z++) n += this.#bump[z] - this.zoneBase[z];
    return n;
  }
}
