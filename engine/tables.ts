/**
 * The page-table tree of every process, one node per table, kept as struct-of-arrays.
 *
 * A node is a table at one level. Non-leaf nodes own a directory (`Int32Array` of their entries:
 * 0 = none, n > 0 = child node n, {@link HUGE} = a huge (leaf) mapping at this level). PTE nodes
 * own a present-bitmap of their entries in a pooled `Uint32Array`, so touching and zapping cost a
 * few word operations per table, whatever the number of pages.
 *
 * @module
 */

/** Directory value of an entry that maps a huge page (a THP pmd). */
export const HUGE = -1;

/** A table's memory: frame number * 256 + slot within the frame (fragments, slab objects). */
export type Mem = number;
/** Builds a {@link Mem} handle. */
export function memOf(frame: number, slot = 0): Mem {
  return frame * 256 + slot;
}
/** Frame of a {@link Mem} handle. */
export function memFrame(mem: Mem): number {
  return Math.floor(mem / 256);
}
/** Slot of a {@link Mem} handle within its frame. */
export function memSlot(mem: Mem): number {
  return mem % 256;
}

/** Pool of table nodes shared by every mm of a machine. */
export class TablePool {
  /** Level of the node (0 = pgd ... 4 = pte); 255 = free. */
  level: Uint8Array;
  /** Memory of the table ({@link Mem}). */
  mem: Float64Array;
  /** Parent node (0 for a pgd). */
  parent: Int32Array;
  /** Index of this table's entry in the parent. */
  slot: Int32Array;
  /** First virtual page number the table covers. */
  base: Float64Array;
  /** Entries in use (present PTEs, or non-none directory entries). */
  count: Int32Array;
  /** Index of a non-leaf node's directory in {@link TablePool.dirs} (-1 for a leaf). */
  dirIdx: Int32Array;
  /** Directories of the non-leaf nodes (dense; see dirIdx). */
  readonly dirs: Int32Array[] = [];
  /** Present bitmaps of PTE nodes, `words` Uint32 per node id. */
  bitmap: Uint32Array;
  /** Uint32 words per PTE bitmap. */
  readonly words: number;
  /** Nodes alive. */
  live = 0;
  /**
   * Tables created so far (nodes made, plus THP deposits, minus the nodes a huge pmd split makes
   * of its deposit): what engine/limits.ts bounds before a run.
   */
  created = 0;
  /** Live nodes whose memory lies in each frame (a frame freed while > 0 is still in use). */
  frameRefs: Int32Array = new Int32Array(1024);
  #cap: number;
  readonly #frameLimit: number;
  #top = 1;
  #freeNodes: number[] = [];
  #freeDirs: number[] = [];

  /**
   * An empty pool.
   *
   * @param pteEntries PTRS_PER_PTE (sizes the leaf bitmaps)
   * @param frameLimit frames of the machine ({@link TablePool.frameRefs} never grows past it)
   */
  constructor(pteEntries: number, frameLimit = Infinity) {
    this.#frameLimit = frameLimit;
    this.words = Math.max(1, Math.ceil(pteEntries / 32));
    this.#cap = 256;
    this.level = new Uint8Array(this.#cap);
    this.mem = new Float64Array(this.#cap);
    this.parent = new Int32Array(this.#cap);
    this.slot = new Int32Array(this.#cap);
    this.base = new Float64Array(this.#cap);
    this.count = new Int32Array(this.#cap);
    this.dirIdx = new Int32Array(this.#cap);
    this.bitmap = new Uint32Array(this.#cap * this.words);
  }

  /**
   * Nodes the caller expects to create soon: when the arrays must grow, they grow to hold that
   * many more at once instead of by a quarter (a large touch sets it, so no capacity is wasted).
   */
  hint = 0;

  #grow(min: number): void {
    const cap = Math.max(min, Math.ceil(this.#cap * 1.25));
    const g = <T extends Uint8Array | Int32Array | Float64Array | Uint32Array>(
      a: T,
      n: T,
    ): T => {
      n.set(a);
      return n;
    };
    this.level = g(this.level, new Uint8Array(cap));
    this.mem = g(this.mem, new Float64Array(cap));
    this.parent = g(this.parent, new Int32Array(cap));
    this.slot = g(this.slot, new Int32Array(cap));
    this.base = g(this.base, new Float64Array(cap));
    this.count = g(this.count, new Int32Array(cap));
    this.dirIdx = g(this.dirIdx, new Int32Array(cap));
    this.bitmap = g(this.bitmap, new Uint32Array(cap * this.words));
    this.#cap = cap;
  }

  /**
   * Creates a node. `entries` > 0 gives it a directory of that many entries; `entries` = 0 makes
   * it a leaf (PTE) node with a present bitmap.
   */
  create(level: number, mem: Mem, base: number, entries: number): number {
    let id = this.#freeNodes.pop();
    const fresh = id === undefined;
    if (id === undefined) {
      if (this.#top >= this.#cap) this.#grow(this.#top + 1 + this.hint);
      id = this.#top++;
    }
    this.level[id] = level;
    this.mem[id] = mem;
    const fr = memFrame(mem);
    if (fr >= this.frameRefs.length) {
      const want = Math.max(fr + 1 + this.hint, Math.ceil(this.frameRefs.length * 1.25));
      const n = new Int32Array(Math.max(fr + 1, Math.min(want, this.#frameLimit)));
      n.set(this.frameRefs);
      this.frameRefs = n;
    }
    this.frameRefs[fr]++;
    this.base[id] = base;
    this.count[id] = 0;
    this.parent[id] = 0;
    this.slot[id] = 0;
    if (entries > 0) {
      const d = this.#freeDirs.pop() ?? this.dirs.length;
      this.dirs[d] = new Int32Array(entries);
      this.dirIdx[id] = d;
    } else {
      this.dirIdx[id] = -1;
      // a node never used before has a zeroed bitmap already
      if (!fresh) this.bitmap.fill(0, id * this.words, (id + 1) * this.words);
    }
    this.live++;
    this.created++;
    return id;
  }

  /** The directory of a non-leaf node. */
  dir(id: number): Int32Array {
    return this.dirs[this.dirIdx[id]];
  }

  /** Word offset of a PTE node's bitmap in {@link TablePool.bitmap}. */
  bits(id: number): number {
    return id * this.words;
  }

  /**
   * PTE nodes some of whose present entries map a page that is not the process's own anonymous
   * page: the zero page, or a page-cache page a private mapping read (a bitmap like
   * {@link TablePool.bitmap}, made only for the tables that have such entries).
   */
  readonly nonAnon: Map<number, Uint32Array> = new Map();

  /** The {@link TablePool.nonAnon} bitmap of a PTE node, made empty when it has none. */
  nonAnonOf(id: number): Uint32Array {
    let b = this.nonAnon.get(id);
    if (!b) this.nonAnon.set(id, b = new Uint32Array(this.words));
    return b;
  }

  /**
   * Anonymous pages that fork left mapped by more than one process: copy_present_pte
   * write-protects the entry in parent and child alike (mm/memory.c), so the next write to
   * either faults. Per PTE node with such entries, the page each maps (an id; 0: an entry of the
   * process's own). Made only for the tables fork copied.
   */
  readonly cowIds: Map<number, Uint32Array> = new Map();
  /** Entries mapping each shared anonymous page, by id: the folio's mapcount. */
  #cowRefs = new Uint32Array(64);
  #cowFree: number[] = [];
  #cowNext = 1;

  /**
   * fork shares the present anonymous pages of entries [lo, hi) of node `s` (their bits in
   * `anon`, a bitmap of the node's entries) with node `d` (same entries).
   */
  cowShare(s: number, d: number, anon: Uint32Array, lo: number, hi: number): void {
    let S = this.cowIds.get(s);
    let D = this.cowIds.get(d);
    for (let w = lo >>> 5; w < Math.ceil(hi / 32); w++) {
      let m = anon[w] & wordMask(Math.max(lo - w * 32, 0), Math.min(hi - w * 32, 32));
      if (m === 0) continue;
      if (!S) this.cowIds.set(s, S = new Uint32Array(this.words * 32));
      if (!D) this.cowIds.set(d, D = new Uint32Array(this.words * 32));
      while (m !== 0) {
        const b = 31 - Math.clz32(m);
        m = (m & ~(1 << b)) >>> 0;
        const slot = w * 32 + b;
        let id = S[slot];
        if (id === 0) {
          id = S[slot] = this.#cowFree.pop() ?? this.#cowNext++;
          if (id >= this.#cowRefs.length) {
            const n = new Uint32Array(this.#cowRefs.length * 2);
            n.set(this.#cowRefs);
            this.#cowRefs = n;
          }
          this.#cowRefs[id] = 1;
        }
        if (D[slot] !== 0) this.#cowUnref(D[slot]);
        D[slot] = id;
        this.#cowRefs[id]++;
      }
    }
  }

  #cowUnref(id: number): number {
    const left = --this.#cowRefs[id];
    if (left === 0) this.#cowFree.push(id);
    return left;
  }

  /**
   * A write to the entries of node `id` whose bits are set in `write` (a bitmap of its entries):
   * do_wp_page for each that maps a shared page. Returns how many were copied (wp_page_copy: the
   * page is mapped elsewhere too); the others are reused (wp_can_reuse_anon_folio: this was the
   * last mapping). Either way the entry maps a page of its own afterwards.
   */
  cowWrite(id: number, write: Uint32Array): number {
    const I = this.cowIds.get(id);
    if (!I) return 0;
    let copied = 0;
    for (let w = 0; w < this.words; w++) {
      let m = write[w];
      while (m !== 0) {
        const b = 31 - Math.clz32(m);
        m = (m & ~(1 << b)) >>> 0;
        const slot = w * 32 + b;
        const page = I[slot];
        if (page === 0) continue;
        I[slot] = 0;
        // the other mappings keep the page: this one gets a copy
        if (this.#cowUnref(page) > 0) copied++;
      }
    }
    return copied;
  }

  /** Entries [lo, hi) of node `id` no longer map their pages (zapped or moved away). */
  cowDrop(id: number, lo: number, hi: number): void {
    const I = this.cowIds.get(id);
    if (!I) return;
    for (let slot = lo; slot < hi; slot++) {
      if (I[slot] !== 0) this.#cowUnref(I[slot]), I[slot] = 0;
    }
  }

  /** mremap's move_ptes: entry `from` of node `s` is now entry `to` of node `d`. */
  cowMove(s: number, from: number, d: number, to: number): void {
    const S = this.cowIds.get(s);
    if (!S || S[from] === 0) return;
    let D = this.cowIds.get(d);
    if (!D) this.cowIds.set(d, D = new Uint32Array(this.words * 32));
    D[to] = S[from];
    S[from] = 0;
  }

  /** Releases a node (its table memory is the caller's business). */
  destroy(id: number): void {
    this.nonAnon.delete(id);
    if (this.cowIds.has(id)) {
      this.cowDrop(id, 0, this.words * 32);
      this.cowIds.delete(id);
    }
    this.frameRefs[memFrame(this.mem[id])]--;
    const d = this.dirIdx[id];
    if (d >= 0) {
      this.dirs[d] = EMPTY_DIR;
      this.#freeDirs.push(d);
    }
    this.level[id] = 255;
    this.dirIdx[id] = -1;
    this.live--;
    this.#freeNodes.push(id);
  }

  /** Highest node id ever used + 1 (for scans). */
  get top(): number {
    return this.#top;
  }
}

const EMPTY_DIR = new Int32Array(0);

/** Number of set bits in a 32-bit word. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Mask of bits [lo, hi) within one word (0 <= lo < hi <= 32). */
function wordMask(lo: number, hi: number): number {
  const upper = hi >= 32 ? 0xffffffff : ((1 << hi) - 1) >>> 0;
  const lower = ((1 << lo) - 1) >>> 0;
  return (upper & ~lower) >>> 0;
}

/** Sets bits [from, to) of the bitmap at word offset `off`; returns how many were newly set. */
export function setRange(bm: Uint32Array, off: number, from: number, to: number): number {
  let added = 0;
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    const m = wordMask(lo, hi);
    const old = bm[off + w];
    added += popcount32(m & ~old);
    bm[off + w] = (old | m) >>> 0;
    from += hi - lo;
  }
  return added;
}

/** Masks of the bits b of a word with b % stride === phase, per phase (strides 2..31). */
const STRIDE_MASKS: Uint32Array[] = [];

function strideMasks(stride: number): Uint32Array {
  let m = STRIDE_MASKS[stride];
  if (!m) {
    m = new Uint32Array(stride);
    for (let b = 0; b < 32; b++) m[b % stride] = (m[b % stride] | (1 << b)) >>> 0;
    STRIDE_MASKS[stride] = m;
  }
  return m;
}

/**
 * Sets every `stride`-th bit from `from` below `to`; returns how many were newly set. Word by
 * word: a stride below 32 sets a precomputed pattern per word, so the cost follows the table's
 * words, never its pages.
 */
export function setStrided(
  bm: Uint32Array,
  off: number,
  from: number,
  to: number,
  stride: number,
): number {
  if (stride === 1) return setRange(bm, off, from, to);
  if (from >= to) return 0;
  let added = 0;
  if (stride >= 32) {
    // at most one bit per word
    for (let i = from; i < to; i += stride) {
      const w = off + (i >>> 5);
      const b = 1 << (i & 31);
      if (!(bm[w] & b)) {
        bm[w] = (bm[w] | b) >>> 0;
        added++;
      }
    }
    return added;
  }
  const masks = strideMasks(stride);
  const w0 = from >>> 5, w1 = (to - 1) >>> 5;
  // bit b of word w is set when (32 w + b - from) % stride === 0: b % stride === phase; the
  // next word's phase is (phase - 32) mod stride
  let phase = (from & 31) % stride;
  const delta = (stride - (32 % stride)) % stride;
  for (let w = w0; w <= w1; w++) {
    let m = masks[phase];
    if (w === w0) m &= wordMask(from & 31, 32);
    if (w === w1) m &= wordMask(0, to - (w << 5));
    const old = bm[off + w];
    const add = m & ~old;
    if (add !== 0) {
      added += popcount32(add);
      bm[off + w] = (old | m) >>> 0;
    }
    phase += delta;
    if (phase >= stride) phase -= stride;
  }
  return added;
}

/** Counts set bits in [from, to). */
export function countRange(bm: Uint32Array, off: number, from: number, to: number): number {
  let n = 0;
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    n += popcount32(bm[off + w] & wordMask(lo, hi));
    from += hi - lo;
  }
  return n;
}

/** Clears bits [from, to); returns how many were set. */
export function clearRange(bm: Uint32Array, off: number, from: number, to: number): number {
  let n = 0;
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    const m = wordMask(lo, hi);
    n += popcount32(bm[off + w] & m);
    bm[off + w] = (bm[off + w] & ~m) >>> 0;
    from += hi - lo;
  }
  return n;
}

/** First set bit in [from, to), or -1. */
export function firstSet(bm: Uint32Array, off: number, from: number, to: number): number {
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    const v = bm[off + w] & wordMask(lo, hi);
    if (v) return (w << 5) + 31 - Math.clz32(v & -v);
    from += hi - lo;
  }
  return -1;
}

/** Last set bit in [from, to), or -1. */
export function lastSet(bm: Uint32Array, off: number, from: number, to: number): number {
  while (to > from) {
    const w = (to - 1) >>> 5;
    const hi = to - (w << 5);
    const lo = Math.max(0, from - (w << 5));
    const v = bm[off + w] & wordMask(lo, hi);
    if (v) return (w << 5) + 31 - Math.clz32(v);
    to = (w << 5) + lo;
  }
  return -1;
}

/** Position of the n-th (1-based) set bit in [from, to), or -1 if there are fewer. */
export function nthSet(bm: Uint32Array, off: number, from: number, to: number, n: number): number {
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    let v = bm[off + w] & wordMask(lo, hi);
    const c = popcount32(v);
    if (c >= n) {
      while (--n > 0) v &= v - 1;
      return (w << 5) + 31 - Math.clz32(v & -v);
    }
    n -= c;
    from += hi - lo;
  }
  return -1;
}

/** ORs bits [from, to) of bitmap `src` (at word `so`) into bitmap `dst` (at word `dof`). */
export function orBetween(
  src: Uint32Array,
  so: number,
  dst: Uint32Array,
  dof: number,
  from: number,
  to: number,
): void {
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    dst[dof + w] = (dst[dof + w] | (src[so + w] & wordMask(lo, hi))) >>> 0;
    from += hi - lo;
  }
}

/** ORs bits [from, to) of the bitmap at `src` into the one at `dst`; returns how many were newly set. */
export function orRange(
  bm: Uint32Array,
  src: number,
  dst: number,
  from: number,
  to: number,
): number {
  let n = 0;
  while (from < to) {
    const w = from >>> 5;
    const lo = from & 31;
    const hi = Math.min(32, lo + (to - from));
    const m = bm[src + w] & wordMask(lo, hi);
    const old = bm[dst + w];
    n += popcount32(m & ~old);
    bm[dst + w] = (old | m) >>> 0;
    from += hi - lo;
  }
  return n;
}
