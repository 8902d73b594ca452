// The zoned frame allocator.
import { assertEquals } from "../testing/assert.ts";
import { Frames, GFP, Use, ZONE_HIGHMEM, ZONE_NORMAL } from "./frames.ts";

Deno.test("orders are aligned, compound heads are marked, frees are reused", () => {
  const f = new Frames(64);
  const a = f.alloc(GFP.KERNEL, 0, Use.Table);
  const b = f.alloc(GFP.KERNEL | GFP.COMP, 2, Use.Table);
  assertEquals(b % 4, 0);
  assertEquals(f.order[b], 2);
  assertEquals(f.used, 5);
  assertEquals(f.tableFrames, 5);
  f.free(b, 2);
  assertEquals(f.alloc(GFP.KERNEL, 2, Use.Table), b); // the order-2 free list
  f.free(a, 0);
  assertEquals(f.alloc(GFP.KERNEL, 0, Use.Batch), a);
  assertEquals(f.tableFrames, 4);
});

Deno.test("__GFP_HIGHMEM prefers HIGHMEM; without it only low memory is used; -1 when out", () => {
  const f = new Frames(2, 2);
  assertEquals(f.zone[f.alloc(GFP.HIGHMEM, 0, Use.Table)], ZONE_HIGHMEM);
  assertEquals(f.zone[f.alloc(GFP.KERNEL, 0, Use.Table)], ZONE_NORMAL);
  assertEquals(f.zone[f.alloc(GFP.KERNEL, 0, Use.Table)], ZONE_NORMAL);
  assertEquals(f.alloc(GFP.KERNEL, 0, Use.Table), -1); // low memory is exhausted
  assertEquals(f.zone[f.alloc(GFP.HIGHMEM, 0, Use.Table)], ZONE_HIGHMEM);
});
