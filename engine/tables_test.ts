// The table pool and its present bitmaps.
import { assertEquals } from "../testing/assert.ts";
import {
  clearRange,
  countRange,
  firstSet,
  lastSet,
  memFrame,
  memOf,
  memSlot,
  nthSet,
  orRange,
  popcount32,
  setRange,
  setStrided,
  TablePool,
} from "./tables.ts";

Deno.test("bitmap helpers work on word boundaries and within words", () => {
  const bm = new Uint32Array(16);
  assertEquals(setRange(bm, 0, 30, 70), 40);
  assertEquals(setRange(bm, 0, 0, 512), 472); // only the bits not set yet count
  assertEquals(countRange(bm, 0, 0, 512), 512);
  assertEquals(clearRange(bm, 0, 1, 511), 510);
  assertEquals([firstSet(bm, 0, 0, 512), lastSet(bm, 0, 0, 512)], [0, 511]);
  assertEquals(firstSet(bm, 0, 1, 511), -1);
  assertEquals(setStrided(bm, 0, 3, 512, 64), 8); // 3, 67, ..., 451
  assertEquals(nthSet(bm, 0, 0, 512, 3), 67);
  assertEquals(nthSet(bm, 0, 0, 512, 11), -1);
  assertEquals(popcount32(0xffffffff), 32);
  const two = new Uint32Array(32);
  setRange(two, 0, 100, 200);
  assertEquals(orRange(two, 0, 16, 150, 512), 50);
  assertEquals(countRange(two, 16, 0, 512), 50);
});

Deno.test("the pool reuses node ids and clears a reused leaf's bitmap", () => {
  const p = new TablePool(512);
  const a = p.create(4, memOf(7), 0, 0);
  setRange(p.bitmap, p.bits(a), 0, 512);
  p.destroy(a);
  const b = p.create(4, memOf(8), 512, 0);
  assertEquals(b, a);
  assertEquals(countRange(p.bitmap, p.bits(b), 0, 512), 0);
  const d = p.create(3, memOf(9), 0, 512);
  assertEquals(p.dir(d).length, 512);
  assertEquals(p.live, 2);
  assertEquals([memFrame(memOf(9, 3)), memSlot(memOf(9, 3))], [9, 3]);
});

Deno.test("setStrided sets the same bits as one at a time, word by word, for every stride", () => {
  for (let stride = 1; stride <= 70; stride++) {
    for (const [from, to] of [[0, 512], [3, 512], [31, 33], [5, 6], [37, 400], [100, 100]]) {
      const want = new Uint32Array(16);
      want[3] = 0x0f0f0f0f; // bits already set are not counted again
      const got = want.slice();
      let n = 0;
      for (let i = from; i < to; i += stride) {
        if (!(want[i >>> 5] & (1 << (i & 31)))) n++;
        want[i >>> 5] = (want[i >>> 5] | (1 << (i & 31))) >>> 0;
      }
      assertEquals(setStrided(got, 0, from, to, stride), n, `stride ${stride} ${from}..${to}`);
      assertEquals(got, want, `stride ${stride} ${from}..${to}`);
    }
  }
});
