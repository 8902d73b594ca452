// The asm-generic defaults (include/asm-generic/pgalloc.h, include/asm-generic/tlb.h).
import { assertEquals } from "../testing/assert.ts";
import { byVersion, CLEAN, everyKernel, K, M, Sim } from "./_testing.ts";

const A = 0x10_0000_0000n;

Deno.test("generic: pte and pmd ctors count, the pud only from 6.7, the pgd from 6.14", () => {
  // __pte_alloc_one + pagetable_pte_ctor, pmd_alloc_one + pagetable_pmd_ctor, __pud_alloc_one
  // (+ pagetable_pud_ctor from 6.7), __pgd_alloc + pagetable_pgd_ctor (6.14)
  assertEquals(byVersion("generic", { page: 4n * K, addr: A }), {
    nrPagetable: { "6.1": 2, "6.6": 2, "6.12": 3, "6.18": 4 },
    vmpte: everyKernel(12288),
    exit: everyKernel(CLEAN),
  });
});

Deno.test("generic: no MMU_GATHER_MERGE_VMAS, so tlb_end_vma flushes at each VMA", () => {
  // tlb_end_vma: tlb_flush_mmu_tlbonly unless fullmm or MERGE_VMAS (asm-generic/tlb.h)
  const s = new Sim("generic").mm("a").map("a", A, 2n * M).map("a", A + 4n * M, 2n * M);
  s.touch("a", A, 2n * M).touch("a", A + 4n * M, 2n * M);
  s.unmap("a", A, 6n * M);
  assertEquals(s.sys.tlb_flushes, 3);
  // exit_mmap's gather is fullmm: one flush however many VMAs
  const t = new Sim("generic").mm("a").map("a", A, 2n * M).map("a", A + 4n * M, 2n * M);
  t.touch("a", A, 2n * M).touch("a", A + 4n * M, 2n * M).exit("a");
  assertEquals(t.sys.tlb_flushes, 1);
});

Deno.test("generic: a one-page VMA merged with its neighbour is one VMA", () => {
  // vma_merge_new_range: an adjacent anonymous mapping with a compatible anon_vma merges
  const s = new Sim("generic").mm("a").map("a", A, 4n * K).map("a", A + 4n * K, 4n * K);
  assertEquals(s.run.k.mms.get("a")!.vmas.length, 1);
});
