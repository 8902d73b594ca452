// The rules checks_test.ts does not reach through a broken backend of its own: fragment
// refcounts and s390 fragment bits gone wrong on the real powerpc and s390 code (one hook
// broken), the BUG()s of powerpc's pgtable_free and of a folded level, ptlock_free's check, and
// the THP deposit rules the engine itself must keep. Each broken case has its clean twin, and a
// last test makes sure every rule id the checker can raise is asserted by some test.
import { genericBackend } from "../archs/generic.ts";
import { powerpcBackend } from "../archs/powerpc.ts";
import { configFor, findConfig } from "../archs/registry.ts";
import { s390Backend } from "../archs/s390.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import type { Backend } from "./backend.ts";
import { tlbFinishMmu, tlbGatherMmu, tlbRemoveTable } from "./gather.ts";
import { freePgtables, walkAllocToPmd, withdrawPgtable } from "./memory.ts";
import { pagetablePmdDtor, pagetablePteDtor } from "./ptdesc.ts";
import { Run } from "./run.ts";
import { memFrame, memOf } from "./tables.ts";
import type { Op } from "./types.ts";

const K = 1024n, M = 1024n * K;

/** Steps `ops` (scenario lines 1, 2 ...) and finishes the run; returns its rule ids, sorted. */
function play(
  name: string,
  be: Backend,
  opts: Record<string, string>,
  ops: Record<string, unknown>[],
): string[] {
  const run = new Run(configFor(name, opts), be, 2);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return rules(run.finish(ops.length).violations);
}

function rules(vs: readonly { rule: string }[]): string[] {
  return [...new Set(vs.map((v) => v.rule))].sort();
}

Deno.test("frag-refcount: powerpc's pte_fragment_free BUG_ON when a fragment is freed twice", () => {
  // BUG_ON(atomic_read(&ptdesc->pt_frag_refcount) <= 0) (arch/powerpc/mm/pgtable-frag.c): the
  // broken __pte_free_tlb hands the same 4 KiB fragment of a 64 KiB page to the gather twice
  const twice: Backend = {
    ...powerpcBackend,
    pteFreeTlb: (k, tlb, mem, vpn) => {
      powerpcBackend.pteFreeTlb(k, tlb, mem, vpn);
      powerpcBackend.pteFreeTlb(k, tlb, mem, vpn);
    },
  };
  // one fragment in use: the first free drops the refcount to 0 (after the cached tail is
  // given back at exit), the second finds it at 0
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: 0x10_0000_0000n, size: 64n * K },
    { op: "touch", mm: "a", addr: 0x10_0000_0000n, size: 64n * K, step: 64n * K },
    { op: "exit", mm: "a" },
  ];
  assertEquals(play("ppc64-radix-64k", powerpcBackend, {}, ops), []);
  assertEquals(play("ppc64-radix-64k", twice, {}, ops), ["frag-refcount"]);
});

/** One page mapped, touched and unmapped, then exit: one 2 KiB PTE table on s390 6.6. */
const ONE_PAGE: Record<string, unknown>[] = [
  { op: "mm", name: "a" },
  { op: "map", mm: "a", addr: 0x10_0000_0000n, size: 4n * K },
  { op: "touch", mm: "a", addr: 0x10_0000_0000n, size: 4n * K, step: 4n * K },
  { op: "unmap", mm: "a", addr: 0x10_0000_0000n, size: 4n * K },
  { op: "exit", mm: "a" },
];

Deno.test("s390-frag-bits: a 2 KiB-table page freed with its AA bit still set", () => {
  // s390 6.6 keeps which 2 KiB halves are allocated (AA) and pending (PP) in _refcount's upper
  // byte (arch/s390/mm/pgalloc.c); the broken __pte_free_tlb runs the dtor and hands the page
  // to the table batch as if it were a CRST table (tag 0), skipping page_table_free_rcu's bit
  // work, so free_pages_prepare sees "nonzero _refcount"
  const whole: Backend = {
    ...s390Backend,
    pteFreeTlb: (k, tlb, mem) => {
      pagetablePteDtor(k, memFrame(mem));
      tlbRemoveTable(k, tlb, memOf(memFrame(mem)), 0);
    },
  };
  const ops = ONE_PAGE;
  const opts = { kernel: "6.6" };
  assertEquals(play("s390-4level", s390Backend, opts, ops), []);
  assertEquals(play("s390-4level", whole, opts, ops), ["s390-frag-bits"]);
});

Deno.test("s390-pgtable-release: a 2 KiB table tagged as a 4 KiB pgste table", () => {
  // __tlb_remove_table case 0x03 xors 0x03 into the bits and page_table_release_check dumps the
  // page when any bit is left: "Invalid pgtable ... release half 0x3 mask ..." (6.6 pgalloc.c)
  const mistagged: Backend = {
    ...s390Backend,
    pteFreeTlb: (k, tlb, mem) => tlbRemoveTable(k, tlb, mem, 0x03),
  };
  const ops = ONE_PAGE;
  assertEquals(play("s390-4level", s390Backend, { kernel: "6.6" }, ops), []);
  // the kernel frees the page after the dump, with the bits still set: free_pages_prepare's
  // "nonzero _refcount" follows
  assertEquals(play("s390-4level", mistagged, { kernel: "6.6" }, ops), [
    "s390-frag-bits",
    "s390-pgtable-release",
  ]);
});

Deno.test("pgtable-free-index: powerpc's pgtable_free BUG() on an index it does not free", () => {
  // book3s64 pgtable_free: PTE, PMD and PUD indexes only; "We don't free pgd table via RCU
  // callback" (arch/powerpc/mm/book3s64/pgtable.c). The broken __pmd_free_tlb tags its table 3.
  const badIndex: Backend = {
    ...powerpcBackend,
    pmdFreeTlb: (k, tlb, mem) => tlbRemoveTable(k, tlb, mem, 3),
  };
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: 0x10_0000_0000n, size: 4n * K },
    { op: "touch", mm: "a", addr: 0x10_0000_0000n, size: 4n * K, step: 4n * K },
    { op: "unmap", mm: "a", addr: 0x10_0000_0000n, size: 4n * K },
  ];
  assertEquals(play("ppc64-radix-4k", powerpcBackend, {}, ops), []);
  assertEquals(play("ppc64-radix-4k", badIndex, {}, ops), ["pgtable-free-index"]);
});

Deno.test("folded-level: pmd_alloc_one on a powerpc configuration without a PMD level", () => {
  // 32-bit powerpc folds the PMD (asm-generic/pgtable-nopmd.h): nothing may ask for one
  const run = new Run(configFor("ppc32-book3s32"), powerpcBackend, 1);
  run.step({ line: 1, col: 1, op: "mm", name: "a" } as unknown as Op);
  assertEquals(rules(run.k.violations), []);
  const mm = run.k.mms.get("a")!;
  assertEquals(powerpcBackend.pmdAllocOne(run.k, mm, 0), -1);
  assertEquals(rules(run.k.violations), ["folded-level"]);
  // a configuration with a PMD level allocates one
  const radix = new Run(configFor("ppc64-radix-4k"), powerpcBackend, 1);
  radix.step({ line: 1, col: 1, op: "mm", name: "a" } as unknown as Op);
  assert(powerpcBackend.pmdAllocOne(radix.k, radix.k.mms.get("a")!, 0) >= 0);
  assertEquals(rules(radix.k.violations), []);
});

Deno.test("ptlock-double-free: ptlock_free of a lock that is not allocated", () => {
  // kmem_cache_free(page_ptl_cachep, ...) of an object the cache does not hold (mm/memory.c)
  const run = new Run(configFor("generic", { alloc_split_ptlocks: "on" }), genericBackend, 1);
  const id = run.k.ptlockAlloc();
  run.k.ptlockObjFree(id);
  assertEquals(rules(run.k.violations), []);
  run.k.ptlockObjFree(id);
  assertEquals(rules(run.k.violations), ["ptlock-double-free"]);
});

/** A THP-enabled x86_64 run with one huge PMD mapped at `B`: its run, mm and PMD table node. */
function hugeMapped() {
  const x86 = findConfig("x86_64-4level")!.backend;
  const run = new Run(configFor("x86_64-4level", { thp: "on" }), x86, 1);
  const B = 0x7f00_0000_0000n;
  const ops: Record<string, unknown>[] = [
    { op: "mm", name: "a" },
    { op: "map", mm: "a", addr: B, size: 2n * M },
    { op: "touch", mm: "a", addr: B, size: 4n * K, step: 4n * K },
  ];
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  const mm = run.k.mms.get("a")!;
  const vpn = Number(B >> 12n);
  return { run, mm, vpn, pmd: walkAllocToPmd(run.k, mm, vpn) };
}

Deno.test("withdraw-empty: a huge PMD's table withdrawn twice", () => {
  // pgtable_trans_huge_withdraw takes the deposit zap_huge_pmd needs (mm/pgtable-generic.c);
  // with none left it would hand back a NULL table
  const { run, mm, pmd } = hugeMapped();
  assertEquals(run.k.mms.get("a")!.tables[4], 1, "the deposited PTE table counts");
  const mem = withdrawPgtable(run.k, mm, pmd);
  assert(mem >= 0);
  assertEquals(rules(run.k.violations), []);
  withdrawPgtable(run.k, mm, pmd);
  assertEquals(rules(run.k.violations), ["withdraw-empty"]);
});

Deno.test("pmd-huge-pte-left: a PMD table freed with a deposit still in it", () => {
  // pmd_ptlock_free: VM_BUG_ON_PAGE(ptdesc->pmd_huge_pte, ...) (include/linux/mm.h)
  const { run, pmd } = hugeMapped();
  const frame = memFrame(run.k.pool.mem[pmd]);
  pagetablePmdDtor(run.k, frame);
  assertEquals(rules(run.k.violations), ["pmd-huge-pte-left"]);
  // the clean order: withdraw first, then the dtor finds nothing
  const clean = hugeMapped();
  withdrawPgtable(clean.run.k, clean.mm, clean.pmd);
  pagetablePmdDtor(clean.run.k, memFrame(clean.run.k.pool.mem[clean.pmd]));
  assertEquals(rules(clean.run.k.violations), []);
});

Deno.test("bad-pmd: free_pgtables meets a huge PMD the zap did not clear", () => {
  // free_pte_range expects pmd_none_or_clear_bad: a leaf entry where a table should be
  // (mm/memory.c, pmd_clear_bad)
  const { run } = hugeMapped();
  const B = 0x7f00_0000_0000n;
  // the real munmap zaps the huge PMD first: clean
  run.step({ line: 4, col: 1, op: "unmap", mm: "a", addr: B, size: 2n * M } as unknown as Op);
  assertEquals(rules(run.k.violations), []);
  // an unmap that skips the zap: free_pgtables straight over the mapped huge PMD
  const { run: r2, mm } = hugeMapped();
  const tlb = tlbGatherMmu(r2.k, mm, false);
  freePgtables(r2.k, tlb, mm, [...mm.vmas], 0, 0);
  tlbFinishMmu(r2.k, tlb);
  // and the PMD table then goes with its deposit still in it
  assertEquals(rules(r2.k.violations), ["bad-pmd", "pmd-huge-pte-left"]);
});

Deno.test("every rule id the checker can raise is asserted by a test", async () => {
  const ids = new Set<string>();
  const tests: string[] = [];
  for (const dir of ["engine", "archs"]) {
    for await (const e of Deno.readDir(new URL(`../${dir}/`, import.meta.url))) {
      if (!e.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(new URL(`../${dir}/${e.name}`, import.meta.url));
      if (e.name.endsWith("_test.ts")) tests.push(text);
      else for (const m of text.matchAll(/violate\(\s*"([a-z0-9-]+)"/g)) ids.add(m[1]);
    }
  }
  assert(ids.size >= 20, `found ${ids.size} rule ids`);
  const untested = [...ids].filter((id) => !tests.some((t) => t.includes(`"${id}"`)));
  assertEquals(untested, []);
});
