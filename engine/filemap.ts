/**
 * The page cache of the model's page-cache objects (tmpfs files, shared anonymous memory), as
 * mm/filemap.c and mm/shmem.c keep it for the faults that read it: which pages are cached, a
 * table's worth (one PTE table's pages) at a time, 32 pages per word.
 *
 * @module
 */

import type { PageCacheObject } from "./mm.ts";

/** Pages per bitmap chunk of an object (512 words). */
const CHUNK_PAGES = 16384;
const CHUNK_WORDS = CHUNK_PAGES / 32;

function wordAt(o: PageCacheObject, gw: number): number {
  if (o.full) {
    const lo = gw * 32;
    if (lo + 32 <= o.pages) return 0xffffffff;
    return lo >= o.pages ? 0 : (2 ** (o.pages - lo) - 1) >>> 0;
  }
  const c = o.cached.get(Math.floor(gw / CHUNK_WORDS));
  return c ? c[gw % CHUNK_WORDS] : 0;
}

function orWord(o: PageCacheObject, gw: number, m: number): void {
  if (o.full || m === 0) return;
  const ci = Math.floor(gw / CHUNK_WORDS);
  let c = o.cached.get(ci);
  if (!c) o.cached.set(ci, c = new Uint32Array(CHUNK_WORDS));
  c[gw % CHUNK_WORDS] = (c[gw % CHUNK_WORDS] | m) >>> 0;
}

/** The 32 cache bits of pages `page` .. `page + 31` of the object (bit i: page + i). */
function bits32(o: PageCacheObject, page: number): number {
  const gw = Math.floor(page / 32), sh = page % 32;
  if (sh === 0) return wordAt(o, gw);
  return ((wordAt(o, gw) >>> sh) | (wordAt(o, gw + 1) << (32 - sh))) >>> 0;
}

/**
 * Which of `words` x 32 pages from object page `page` on are in the page cache, as a bitmap
 * (bit i of the result: page + i; negative pages are not).
 */
export function cachedBits(o: PageCacheObject, page: number, words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (let w = 0; w < words; w++) {
    const p = page + 32 * w;
    if (p >= 0) out[w] = bits32(o, p);
  }
  return out;
}

/**
 * Adds the pages whose bits are set in `bits` (bit i: object page `page` + i) to the cache:
 * shmem_get_folio allocating a page for a fault (mm/shmem.c).
 */
export function addToCache(o: PageCacheObject, page: number, bits: Uint32Array): void {
  if (o.full) return;
  for (let w = 0; w < bits.length; w++) {
    const m = bits[w];
    if (m === 0) continue;
    const p = page + 32 * w;
    const gw = Math.floor(p / 32), sh = p % 32;
    if (sh === 0) orWord(o, gw, m);
    else {
      orWord(o, gw, (m << sh) >>> 0);
      orWord(o, gw + 1, m >>> (32 - sh));
    }
  }
}
