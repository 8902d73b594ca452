// get_unmapped_area with ASLR off (mm/mmap.c, mm/util.c mmap_base, mm/huge_memory.c
// __thp_get_unmapped_area, mm/hugetlb.c hugetlb_get_unmapped_area).
import { configFor } from "../archs/registry.ts";
import { assertEquals } from "../testing/assert.ts";
import { getUnmappedArea, mmapBase } from "./mmap.ts";

const M = 1n << 20n, G = 1n << 30n;

Deno.test("mmap_base is STACK_TOP less the 128 MiB minimum gap (8 MiB stack + guard is less)", () => {
  assertEquals(mmapBase(configFor("x86_64-4level")), 0x7fff_f7ff_f000n);
  // LA57: STACK_TOP stays the 47-bit DEFAULT_MAP_WINDOW
  assertEquals(mmapBase(configFor("x86_64-5level")), 0x7fff_f7ff_f000n);
  assertEquals(mmapBase(configFor("arm64-4k-48")), 0xffff_f800_0000n);
  assertEquals(mmapBase(configFor("arm64-64k-52")), 0xffff_f800_0000n);
  assertEquals(mmapBase(configFor("i386-pae")), 0xb800_0000n);
  // riscv sv57: the sv48 window from 6.6 ("riscv: mm: Default to sv48 window")
  assertEquals(mmapBase(configFor("riscv64-sv57", { kernel: "6.1" })), (1n << 56n) - 128n * M);
  assertEquals(mmapBase(configFor("riscv64-sv57", { kernel: "6.6" })), (1n << 47n) - 128n * M);
  // the legacy layout: TASK_UNMAPPED_BASE
  assertEquals(mmapBase(configFor("m68k-motorola")), 0xc000_0000n);
});

Deno.test("top-down: the highest fit below mmap_base; THP alignment of anonymous memory by version", () => {
  const base = 0x7fff_f7ff_f000n;
  for (const kernel of ["6.1", "6.6"]) {
    const cfg = configFor("x86_64-4level", { kernel });
    assertEquals(getUnmappedArea(cfg, [], { len: 4n * M }), base - 4n * M);
  }
  for (const kernel of ["6.12", "6.18"]) {
    const cfg = configFor("x86_64-4level", { kernel });
    // a multiple of PMD_SIZE: search 6M, round up to 2M: 0x7ffff79ff000 + 0x1000
    assertEquals(getUnmappedArea(cfg, [], { len: 4n * M }), 0x7fff_f7a0_0000n);
    // 3M is not a multiple of PMD_SIZE (d4148aeab412): no alignment
    assertEquals(getUnmappedArea(cfg, [], { len: 3n * M }), base - 3n * M);
    // shared anonymous memory and tmpfs files: shmem_get_unmapped_area, huge=never
    assertEquals(getUnmappedArea(cfg, [], { len: 4n * M, shared: true }), base - 4n * M);
    assertEquals(getUnmappedArea(cfg, [], { len: 4n * M, file: true }), base - 4n * M);
  }
  const cfg = configFor("x86_64-4level", { kernel: "6.6" });
  // below what is mapped, in the highest gap that fits
  const mapped = [{ start: base - 4n * M, end: base }, {
    start: base - 10n * M,
    end: base - 5n * M,
  }];
  assertEquals(getUnmappedArea(cfg, mapped, { len: M }), base - 5n * M);
  assertEquals(getUnmappedArea(cfg, mapped, { len: 2n * M }), base - 12n * M);
  // hugetlb: aligned to the huge page size
  assertEquals(getUnmappedArea(cfg, [], { len: 4n * M, hugetlb: 2n * M }), 0x7fff_f7a0_0000n);
  assertEquals(getUnmappedArea(cfg, [], { len: G, hugetlb: G }), 0x7fff_8000_0000n);
  // 32-bit: no THP alignment from 6.8 (4ef9ad19e176)
  const pae = configFor("i386-pae", { kernel: "6.18" });
  assertEquals(getUnmappedArea(pae, [], { len: 4n * M }), 0xb800_0000n - 4n * M);
});

Deno.test("the legacy layout searches upwards from TASK_UNMAPPED_BASE; no room is ENOMEM", () => {
  const cfg = configFor("m68k-motorola");
  assertEquals(getUnmappedArea(cfg, [], { len: M }), 0xc000_0000n);
  assertEquals(
    getUnmappedArea(cfg, [{ start: 0xc000_0000n, end: 0xc010_0000n }], { len: M }),
    0xc010_0000n,
  );
  assertEquals(getUnmappedArea(cfg, [], { len: 2n * G }), undefined);
});

Deno.test("vm_unmapped_area wants a gap of length + align_mask: an aligned fit by luck is not taken", () => {
  // found by ptlab fuzz (x86_64-4level 6.12, seed 2221421358): 2 GiB of 1 GiB hugetlb pages;
  // the top gap 0x7fff40000000..mmap_base holds an aligned 2 GiB, but is less than 3 GiB - 4 KiB
  const cfg = configFor("x86_64-4level", { kernel: "6.12" });
  const mapped = [
    { start: 0x1000n, end: 0x20_1000n },
    { start: 0x7fff_2800_1000n, end: 0x7fff_2800_8000n },
    { start: 0x7fff_3fe0_0000n, end: 0x7fff_4000_0000n },
  ];
  assertEquals(getUnmappedArea(cfg, mapped, { len: 2n * G, hugetlb: G }), 0x7ffe_8000_0000n);
  // a gap of exactly one aligned 2 MiB page below mmap_base: skipped for the next one down
  const base = 0x7fff_f7ff_f000n;
  const holes = [
    { start: 0x7fff_f7c0_0000n, end: base },
    { start: 0x7fff_f780_0000n, end: 0x7fff_f7a0_0000n },
  ];
  assertEquals(getUnmappedArea(cfg, holes, { len: 2n * M, hugetlb: 2n * M }), 0x7fff_f760_0000n);
  // page alignment needs no more than the length: the same hole takes 2 MiB of base pages (6.12:
  // a whole PMD, so the THP search for 4 MiB, which skips it too: below, on the boundary + 2 MiB)
  assertEquals(getUnmappedArea(cfg, holes, { len: 2n * M, shared: true }), 0x7fff_f7a0_0000n);
  assertEquals(getUnmappedArea(cfg, holes, { len: 2n * M }), 0x7fff_f760_0000n);
});
