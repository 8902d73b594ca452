// The checker can fail: deliberately broken backends (only here, in the tests) break one kernel
// rule each, and the run must report it under the right rule id; the same scenario on the
// real backend reports nothing.
import { genericBackend } from "../archs/generic.ts";
import { configFor } from "../archs/registry.ts";
import { x86Backend } from "../archs/x86.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import type { Backend } from "./backend.ts";
import { GFP, GFP_PGTABLE_USER, PAGE_TYPE_TABLE, Use } from "./frames.ts";
import { tlbRemovePage } from "./gather.ts";
import type { Machine } from "./machine.ts";
import { mmIncNr } from "./memory.ts";
import type { Mm } from "./mm.ts";
import {
  pagetableAlloc,
  pagetableFree,
  pagetablePteCtor,
  pagetablePteDtor,
  pagetablePudCtor,
} from "./ptdesc.ts";
import { Run } from "./run.ts";
import { memFrame, memOf } from "./tables.ts";
import type { Op } from "./types.ts";

const A = 0x1000_0000_0000n, K = 1024n, M = 1024n * K;

/** One page touched, fork, munmap, both exit: the lifecycle every check looks at. */
function lifecycle(name: string, be: Backend, opts: Record<string, string> = {}, addr = A) {
  const run = new Run(configFor(name, opts), be, 2);
  let line = 0;
  const step = (o: Record<string, unknown>) =>
    run.step({ line: ++line, col: 1, ...o } as unknown as Op);
  step({ op: "mm", name: "a" });
  step({ op: "map", mm: "a", addr, size: 4n * M });
  step({ op: "touch", mm: "a", addr, size: 4n * M, step: 4n * K });
  step({ op: "fork", mm: "a", child: "b" });
  step({ op: "unmap", mm: "a", addr, size: 4n * M });
  step({ op: "exit", mm: "a" });
  step({ op: "exit", mm: "b" });
  return run.finish(line);
}

function rules(r: { violations: { rule: string }[] }): string[] {
  return [...new Set(r.violations.map((v) => v.rule))].sort();
}

/** Asserts the broken backend trips exactly `expected` and the real one nothing. */
function caught(
  expected: string[],
  name: string,
  good: Backend,
  broken: Backend,
  opts: Record<string, string> = {},
  addr = A,
) {
  assertEquals(rules(lifecycle(name, good, opts, addr)), [], `${name}: the clean path`);
  assertEquals(rules(lifecycle(name, broken, opts, addr)), expected.sort(), `${name}: broken`);
}

Deno.test("a missing dtor: the page is freed still PG_table, NR_PAGETABLE drifts", () => {
  // free_pages_prepare -> page_bad_reason "nonzero mapcount" (page_type aliases _mapcount);
  // NR_PAGETABLE never goes back to its baseline
  const broken: Backend = {
    ...x86Backend,
    pteFreeTlb: (k, tlb, mem) => tlbRemovePage(k, tlb, memFrame(mem)),
  };
  caught(["bad-page-state", "nr-pagetable-drift"], "x86_64-4level", x86Backend, broken);
});

Deno.test("a missing dtor with allocated ptlocks: the ptlock leaks with the page", () => {
  const broken: Backend = {
    ...x86Backend,
    pteFreeTlb: (k, tlb, mem) => tlbRemovePage(k, tlb, memFrame(mem)),
  };
  const r = lifecycle("x86_64-4level", broken, { alloc_split_ptlocks: "on" });
  assert(rules(r).includes("ptlock-leak"), rules(r).join());
});

Deno.test("a table freed before the flush and reused: reused-before-flush", () => {
  // a __pte_free_tlb that frees at once, on an MMU whose walker caches upper entries: the
  // page-batch page the gather allocates next gets the table's page while the TLB may still
  // walk it (the class of bug riscv's 6.8 "free page tables via tlb" fixed)
  const broken: Backend = {
    ...x86Backend,
    pteFreeTlb: (k, _tlb, mem) => {
      pagetablePteDtor(k, memFrame(mem));
      pagetableFree(k, memFrame(mem));
    },
  };
  // 6.18: the PMD tables go to the RCU table batch, whose page is allocated after the first
  // PTE tables were freed
  const cfg = configFor("x86_64-4level", { kernel: "6.18" });
  const run = new Run(cfg, broken, 1);
  const ops: Record<string, unknown>[] = [{ op: "mm", name: "a" }];
  // 16 one-page regions, each in its own 1 GiB slot: 16 PTE tables then 16 PMD tables to free
  for (let i = 0n; i < 16n; i++) {
    ops.push({ op: "map", mm: "a", addr: A + i * 1024n * M, size: 4n * K });
    ops.push({ op: "touch", mm: "a", addr: A + i * 1024n * M, size: 4n * K, step: 4n * K });
  }
  ops.push({ op: "unmap", mm: "a", addr: A, size: 16n * 1024n * M });
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  assert(run.k.violations.some((v) => v.rule === "reused-before-flush"));
  // the real backend batches the pages until after the flush
  const good = new Run(cfg, x86Backend, 1);
  ops.forEach((o, i) => good.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  assertEquals(good.k.violations, []);
});

Deno.test("a counter moved twice: non-zero pgtables_bytes at teardown", () => {
  // check_mm: "BUG: non-zero pgtables_bytes on freeing mm" (kernel/fork.c)
  const broken: Backend = {
    ...x86Backend,
    pteAllocOne: (k, mm, vpn) => {
      const mem = x86Backend.pteAllocOne(k, mm, vpn);
      if (mem >= 0) mmIncNr(k, mm, 4, 1);
      return mem;
    },
  };
  caught(["pgtables-bytes-nonzero"], "x86_64-4level", x86Backend, broken);
});

Deno.test("a PUD ctor in 6.6 with 6.6's dtor-less free: bad page state, drift", () => {
  // a pud ctor (pagetable_pud_ctor, 6.7) without the matching dtor in the free path
  const broken: Backend = {
    ...x86Backend,
    pudAllocOne: (k, mm, vpn) => {
      const mem = x86Backend.pudAllocOne(k, mm, vpn);
      if (mem >= 0) pagetablePudCtor(k, memFrame(mem));
      return mem;
    },
  };
  caught(["bad-page-state", "nr-pagetable-drift"], "x86_64-4level", x86Backend, broken);
});

Deno.test("a dtor twice, and a dtor without a ctor", () => {
  const twice: Backend = {
    ...genericBackend,
    pteFree: (k, mm, mem) => {
      pagetablePteDtor(k, memFrame(mem));
      genericBackend.pteFree(k, mm, mem);
    },
    pteFreeTlb: (k, tlb, mem) => {
      pagetablePteDtor(k, memFrame(mem));
      pagetablePteDtor(k, memFrame(mem));
      tlbRemovePage(k, tlb, memFrame(mem));
    },
  };
  assertEquals(rules(lifecycle("generic", twice, { kernel: "6.6" }, 0x10_0000_0000n)), [
    "double-dtor",
  ]);
  const noCtor: Backend = {
    ...genericBackend,
    pteAllocOne: (k) => {
      const f = pagetableAlloc(k, GFP_PGTABLE_USER, 0); // no pagetable_pte_ctor
      return f < 0 ? -1 : memOf(f);
    },
  };
  assertEquals(rules(lifecycle("generic", noCtor, {}, 0x10_0000_0000n)), ["dtor-without-ctor"]);
});

Deno.test("a ctor twice, a ctor on a slab page", () => {
  const twice: Backend = {
    ...genericBackend,
    pteAllocOne: (k, mm, vpn) => {
      const mem = genericBackend.pteAllocOne(k, mm, vpn);
      if (mem >= 0) pagetablePteCtor(k, memFrame(mem));
      return mem;
    },
  };
  const r = lifecycle("generic", twice, {}, 0x10_0000_0000n);
  assert(rules(r).includes("double-ctor"), rules(r).join());
  // with ALLOC_SPLIT_PTLOCKS the second ptlock_init finds the lock of the first:
  // VM_BUG_ON_PAGE(*(unsigned long *)&ptdesc->ptl, ...) (include/linux/mm.h)
  assertEquals(rules(lifecycle("generic", genericBackend, { "alloc_split_ptlocks": "on" })), []);
  const locked = lifecycle("generic", twice, { "alloc_split_ptlocks": "on" }, 0x10_0000_0000n);
  assert(rules(locked).includes("ptlock-reinit"), rules(locked).join());
  const slab: Backend = {
    ...genericBackend,
    pteAllocOne: (k) => {
      const mem = k.kmemCacheAlloc(k.cache("broken-pte-cache", 4096), GFP_PGTABLE_USER);
      if (mem >= 0) pagetablePteCtor(k, memFrame(mem));
      return mem;
    },
  };
  assert(rules(lifecycle("generic", slab, {}, 0x10_0000_0000n)).includes("ctor-on-slab"));
});

Deno.test("PG_table set without the count: NR_PAGETABLE goes negative at the dtor", () => {
  // an open-coded __folio_set_pgtable that skips lruvec_stat_add_folio
  const broken: Backend = {
    ...genericBackend,
    pteAllocOne: (k) => {
      const f = pagetableAlloc(k, GFP_PGTABLE_USER, 0);
      if (f < 0) return -1;
      k.frames.pageType[f] = PAGE_TYPE_TABLE;
      return memOf(f);
    },
  };
  const r = lifecycle("generic", broken, { split_ptlocks: "off" }, 0x10_0000_0000n);
  assert(rules(r).includes("nr-pagetable-negative"), rules(r).join());
});

Deno.test("a page table from HIGHMEM where the kernel needs its address", () => {
  // i386: PMD tables must be lowmem (preallocate_pmds clears __GFP_HIGHMEM); with CONFIG_HIGHPTE
  // only PTE tables may be HIGHMEM, mapped with kmap_local
  const broken: Backend = {
    ...x86Backend,
    pmdAllocOne: (k) => {
      const f = pagetableAlloc(k, GFP_PGTABLE_USER | GFP.HIGHMEM, 0);
      return f < 0 ? -1 : memOf(f);
    },
  };
  // unmapping the only VMA of a 1 GiB slot frees its preallocated PMD; the next fault there
  // allocates one with pmd_alloc_one
  for (const [be, want] of [[x86Backend, []], [broken, ["highmem-table"]]] as const) {
    const run = new Run(configFor("i386-pae", { highpte: "on" }), be, 1);
    const B = 0x4000_0000n;
    const ops: Record<string, unknown>[] = [
      { op: "mm", name: "a" },
      { op: "map", mm: "a", addr: B, size: 4n * K },
      { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
      { op: "unmap", mm: "a", addr: B, size: 4n * K },
      { op: "map", mm: "a", addr: B, size: 4n * K },
      { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
    ];
    ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
    assertEquals([...new Set(run.k.violations.map((v) => v.rule))], [...want]);
  }
});

/**
 * A fragment allocator in the manner of powerpc's pte_fragment_alloc: 2 tables per page. Broken
 * two ways: `countsOne` sets pt_frag_refcount to 1 where two fragments live, `freesAtOne` frees
 * the page when the last fragment goes without dropping that fragment's reference.
 */
function fragmentBackend(broken?: "countsOne" | "freesAtOne"): Backend {
  const cache = new WeakMap<Mm, number>();
  const free = (k: Machine, mem: number) => {
    const f = memFrame(mem);
    const fr = k.frames.fragRefcount;
    if (broken === "freesAtOne" && fr[f] === 1) {
      pagetablePteDtor(k, f);
      pagetableFree(k, f);
    } else if (--fr[f] === 0) {
      pagetablePteDtor(k, f);
      pagetableFree(k, f);
    }
  };
  return {
    ...genericBackend,
    pteAllocOne: (k, mm) => {
      const cached = cache.get(mm);
      if (cached !== undefined) {
        cache.delete(mm);
        return cached;
      }
      const f = pagetableAlloc(k, GFP_PGTABLE_USER, 0);
      if (f < 0 || !pagetablePteCtor(k, f)) return -1;
      // the second fragment is pre-counted when it is cached: set to 2 (FRAG_NR); the broken
      // one counts 1 and frees the page under the cached half's feet
      k.frames.fragRefcount[f] = broken === "countsOne" ? 1 : 2;
      cache.set(mm, memOf(f, 1));
      return memOf(f, 0);
    },
    pteFree: (k, _mm, mem) => free(k, mem),
    pteFreeTlb: (k, _tlb, mem) => free(k, mem),
    cachedFrames: (_k, mm) => {
      const c = cache.get(mm);
      return c === undefined ? [] : [memFrame(c)];
    },
  };
}

Deno.test("a fragment refcount off by one, both ways", () => {
  // two one-page regions 2 MiB apart: two PTE tables sharing one page, the first unmapped, then
  // exit. pte_fragment_free frees the page only when pt_frag_refcount drops to 0
  // (arch/powerpc/mm/pgtable-frag.c): counted one short, the page goes under the second table;
  // freed at 1, it goes with a count free_pages_prepare would see as a page still in use
  const B = 0x10_0000_0000n;
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: B, size: 4n * K },
    { op: "map", mm: "a", addr: B + 2n * M, size: 4n * K },
    { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
    { op: "touch", mm: "a", addr: B + 2n * M, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: B, size: 4n * K },
    { op: "exit", mm: "a" },
  ];
  const play = (broken?: "countsOne" | "freesAtOne") => {
    const run = new Run(
      configFor("generic", { "split_ptlocks": "off" }),
      fragmentBackend(broken),
      1,
    );
    ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
    return rules(run.finish(ops.length));
  };
  assertEquals(play(), []);
  assert(play("countsOne").includes("freed-while-referenced"), play("countsOne").join());
  assertEquals(play("freesAtOne"), ["frag-refcount"]);
});

Deno.test("a forgotten table at pgd_free: check_mm and the leak check", () => {
  // PAE pgd_mop_up_pmds skipped: the preallocated PMDs are never freed
  const broken: Backend = {
    ...x86Backend,
    pgdFree: (k, mm) => {
      const p = k.pool;
      p.destroy(mm.pgd);
      mm.tables[0]--;
      k.kmemCacheFree(k.cache("pgd_cache", 32), p.mem[mm.pgd]);
    },
  };
  const r = lifecycle("i386-pae", broken, {}, 0x4000_0000n);
  // the PMDs keep their split ptlocks too
  assertEquals(rules(r), [
    "leak",
    "nr-pagetable-drift",
    "pgtables-bytes-nonzero",
    "ptlock-leak",
    "table-leak",
  ]);
});

Deno.test("freed twice: double free", () => {
  const broken: Backend = {
    ...genericBackend,
    pgdFree: (k, mm) => {
      const f = memFrame(k.pool.mem[mm.pgd]);
      genericBackend.pgdFree(k, mm);
      k.freePages(f, 0);
      if (k.frames.use[f] === Use.Free) k.violate("double-free", `pgd ${f} freed twice`);
    },
  };
  assert(rules(lifecycle("generic", broken, {}, 0x10_0000_0000n)).includes("double-free"));
});

Deno.test("an rss counter left at teardown: Bad rss-counter state", () => {
  const run = new Run(configFor("generic"), genericBackend, 1);
  run.step({ op: "mm", name: "a", line: 1, col: 1 });
  run.k.mms.get("a")!.rssPages = 3;
  run.step({ op: "exit", mm: "a", line: 2, col: 1 });
  assertEquals(rules(run.finish(2)), ["bad-rss-counter"]);
});
