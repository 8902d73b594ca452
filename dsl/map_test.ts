// `map MM [ADDR] size SIZE [shared] [file NAME [offset OFF]] [hugetlb [SIZE]] [prot P] [as NAME]`
// and `mm NAME exec`: where a map without an address lands (get_unmapped_area with ASLR off,
// worked out from the kernel's rules below), what `as NAME` binds, and the EINVAL checks of
// hugetlb memory.
//
// x86_64-4level: STACK_TOP = TASK_SIZE = 0x7ffffffff000, mmap_base = STACK_TOP - 128 MiB (the
// minimum gap: 8 MiB of stack rlimit + 256 guard pages is less) = 0x7ffff7fff000; top-down.
import assert from "node:assert/strict";
import { execImage } from "../engine/exec.ts";
import { getUnmappedArea } from "../engine/mmap.ts";
import { configFor } from "../archs/registry.ts";
import { compile, messages, ops } from "./_testing.ts";

const K = 1024n, M = 1024n * K, G = 1024n * M;
const BASE = 0x7fff_f7ff_f000n;

type MapOp = { op: "map"; addr: bigint; size: bigint; hugetlb?: bigint; shared?: boolean };

/** The addresses of the scenario's maps, in order. */
function addrs(src: string, arch?: string): bigint[] {
  return (ops(src, arch) as MapOp[]).filter((o) => o.op === "map").map((o) => o.addr);
}

/** `src` on x86_64-4level with `kernel = V`. */
function on(kernel: string, src: string): string {
  return `arch x86_64-4level { kernel = ${kernel} }\nmm p\n${src}`;
}

Deno.test("map without an address: 6.6 below mmap_base; 6.12 and 6.18 PMD-aligned (THP)", () => {
  // 6.6: mmap_base - 4M
  assert.deepEqual(addrs(on("6.6", "map p size 4M")), [0x7fff_f7bf_f000n]);
  assert.deepEqual(addrs(on("6.1", "map p size 4M")), [BASE - 4n * M]);
  for (const kernel of ["6.12", "6.18"]) {
    // thp_get_unmapped_area: a search for 4M + 2M gives mmap_base - 6M = 0x7ffff79ff000, moved up
    // to the next PMD boundary
    assert.deepEqual(addrs(on(kernel, "map p size 4M")), [0x7fff_f7a0_0000n], kernel);
  }
});

Deno.test("map without an address: a second map goes below the first", () => {
  assert.deepEqual(addrs(on("6.6", "map p size 4M\nmap p size 4M\nmap p size 4K")), [
    0x7fff_f7bf_f000n,
    0x7fff_f77f_f000n,
    0x7fff_f77f_e000n,
  ]);
  // 6.12: the padded search below the first ends at 0x7ffff7a00000 - 6M = 0x7ffff7400000, on a
  // PMD boundary already: top-down takes the padded area's top (ret + PMD_SIZE, 96204e15310c),
  // so the second ends where the first starts; a page goes into the 2M - 4K left at the top
  assert.deepEqual(addrs(on("6.12", "map p size 4M\nmap p size 4M\nmap p size 4K")), [
    0x7fff_f7a0_0000n,
    0x7fff_f760_0000n,
    0x7fff_f7ff_e000n,
  ]);
  // an address given is kept, and the next map without one goes below it
  assert.deepEqual(addrs(on("6.6", "map p 0x7ffff7000000 size 0xfff000\nmap p size 8K")), [
    0x7fff_f700_0000n,
    0x7fff_f6ff_e000n,
  ]);
});

Deno.test("map without an address: shared memory, files, lengths that are not whole PMDs", () => {
  // shared anonymous memory and tmpfs files: shmem_get_unmapped_area (huge=never), no THP
  const file = "file f size 8M\n";
  for (const kernel of ["6.6", "6.12"]) {
    assert.deepEqual(addrs(on(kernel, "map p size 4M shared")), [BASE - 4n * M], kernel);
    assert.deepEqual(addrs(on(kernel, file + "map p size 4M file f")), [BASE - 4n * M], kernel);
    assert.deepEqual(
      addrs(on(kernel, file + "map p size 4M shared file f offset 4M")),
      [BASE - 4n * M],
      kernel,
    );
  }
  // 6.12: only whole PMDs are THP-aligned (d4148aeab412); 3M is not, nor is 1M
  assert.deepEqual(addrs(on("6.12", "map p size 3M")), [0x7fff_f7cf_f000n]);
  assert.deepEqual(addrs(on("6.12", "map p size 1M")), [0x7fff_f7ef_f000n]);
  // 32-bit: no THP alignment from 6.8 (4ef9ad19e176); mmap_base = 0xc0000000 - 128M
  assert.deepEqual(
    addrs("arch i386-pae { kernel = 6.18 }\nmm p\nmap p size 4M", "i386-pae"),
    [0xb7c0_0000n],
  );
  // the legacy layout (m68k): bottom-up from TASK_UNMAPPED_BASE
  assert.deepEqual(
    addrs("arch m68k-motorola\nmm p\nmap p size 1M\nmap p size 8K", "m68k-motorola"),
    [0xc000_0000n, 0xc010_0000n],
  );
});

Deno.test("map without an address: hugetlb memory is aligned to its page size", () => {
  for (const kernel of ["6.6", "6.12"]) {
    // the default size (2M, the first x86 has): mmap_base - 4M = 0x7ffff7bff000 rounded down
    assert.deepEqual(addrs(on(kernel, "map p size 4M hugetlb")), [0x7fff_f7a0_0000n], kernel);
    assert.deepEqual(addrs(on(kernel, "map p size 1G hugetlb 1G")), [0x7fff_8000_0000n], kernel);
  }
  const src = on("6.6", "map p size 4K\nmap p size 2M hugetlb\nmap p size 4K");
  assert.deepEqual(addrs(src), [BASE - 4n * K, 0x7fff_f7c0_0000n, BASE - 8n * K]);
  assert.deepEqual(
    (ops(on("6.6", "map p size 4M shared hugetlb 2M")) as MapOp[]).filter((o) => o.op === "map"),
    [{
      op: "map",
      mm: "p",
      addr: 0x7fff_f7a0_0000n,
      size: 4n * M,
      shared: true,
      hugetlb: 2n * M,
      chosen: true,
    }],
  );
  // a gap of exactly one aligned huge page is not taken: vm_unmapped_area wants length +
  // align_mask (the fixed maps leave 0x7ffff7a00000..0x7ffff7c00000 free)
  const hole = "map p 0x7ffff7c00000 size 0x3ff000\nmap p 0x7ffff7800000 size 2M\n";
  assert.deepEqual(addrs(on("6.6", hole + "map p size 2M hugetlb")).slice(2), [
    0x7fff_f760_0000n,
  ]);
  assert.deepEqual(addrs(on("6.6", hole + "map p size 2M shared")).slice(2), [0x7fff_f7a0_0000n]);
});

Deno.test("map without an address: the layout after unmap, mremap and fork", () => {
  // unmapped, the range is free again: the next map lands where the first did
  assert.deepEqual(addrs(on("6.6", "map p size 4M as a\nunmap p a size 4M\nmap p size 4M")), [
    BASE - 4n * M,
    BASE - 4n * M,
  ]);
  // mremap moves the range away: its old place is free
  const moved = "map p size 4M as a\nmremap p a size 4M to 0x100000000\nmap p size 4M";
  assert.deepEqual(addrs(on("6.6", moved)), [BASE - 4n * M, BASE - 4n * M]);
  // the child of a fork has its parent's layout; the parent keeps its own
  const fork = "map p size 4M\nfork p as c\nmap c size 4M\nmap p size 8K";
  assert.deepEqual(addrs(on("6.6", fork)), [BASE - 4n * M, BASE - 8n * M, BASE - 4n * M - 8n * K]);
  // each process has its own address space
  assert.deepEqual(addrs(on("6.6", "mm q\nmap p size 4M\nmap q size 4M")), [
    BASE - 4n * M,
    BASE - 4n * M,
  ]);
});

Deno.test("map without an address: no room is ENOMEM; the size is whole pages", () => {
  assert.deepEqual(messages(on("6.6", "map p size 128T")), [
    '3:12: no room for 128T in the address space of "p" on x86_64-4level: mmap would fail ' +
    "with ENOMEM",
  ]);
  // 100 TiB fits (top-down below mmap_base); 30 TiB more does not (28 TiB are left)
  assert.deepEqual(messages(on("6.6", "map p size 100T\nmap p size 30T")), [
    '4:12: no room for 30T in the address space of "p" on x86_64-4level: mmap would fail with ' +
    "ENOMEM",
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 3K")), [
    "3:12: size 3K is not a multiple of the page size of x86_64-4level (4K)",
  ]);
  // sparc64 searches from VA_EXCLUDE_END, above what ptlab models: not the kernel's ENOMEM
  assert.deepEqual(messages("arch sparc64\nmm p\nmap p size 8K", "sparc64"), [
    "3:12: mmap on sparc64 places a mapping from 0xfffff80100000000 up, above the user address " +
    "space ptlab models (0..0x7ffff00000000): give the map an address",
  ]);
  // a configuration chosen outside the scenario does not fit it
  const r = compile("mm p\nmap p size 128T");
  assert.deepEqual(r.diagnostics.map((d) => d.kind), ["fit"]);
});

Deno.test("as NAME: the address chosen, a constant for later statements", () => {
  const src = on(
    "6.12",
    "map p size 4M as buf\ntouch p buf size 4M every 2M\nunmap p buf + 2M size 2M\n" +
      "if buf == 0x7ffff7a00000 { touch p buf }\nprint buf\n",
  );
  const o = ops(src) as { op: string; addr?: bigint; size?: bigint; parts?: string[] }[];
  const at = 0x7fff_f7a0_0000n;
  assert.deepEqual(o.map((x) => [x.op, x.addr]), [
    ["mm", undefined],
    ["map", at],
    ["touch", at],
    ["unmap", at + 2n * M],
    ["touch", at],
    ["print", undefined],
  ]);
  assert.deepEqual(o[5].parts, [String(at)]);
  // an address given is bound too; the touch after the unmap sees the hole
  assert.deepEqual(addrs(on("6.6", "map p 0x10000 size 8K as x\ntouch p x + 4K")), [0x10000n]);
  assert.deepEqual(messages(on("6.6", "map p size 8K as x\nunmap p x size 4K\ntouch p x")), [
    '5:9: touch at 0x7ffff7ffd000 is outside any mapping of "p"',
  ]);
  // indexed inside a repeat: one name per iteration, each its own address
  const rep = on(
    "6.6",
    "repeat i in 0..3 { map p size 1M as b[i] }\ntouch p b[2]\nunmap p b[0] size 1M",
  );
  const r = ops(rep) as { op: string; addr?: bigint }[];
  assert.deepEqual(r.filter((x) => x.op !== "mm").map((x) => [x.op, x.addr]), [
    ["map", BASE - M],
    ["map", BASE - 2n * M],
    ["map", BASE - 3n * M],
    ["touch", BASE - 3n * M],
    ["unmap", BASE - M],
  ]);
  assert.deepEqual(messages(rep + "\ntouch p b[3]"), [
    '6:9: unknown name "b[3]" (did you mean "b[2]"?)',
  ]);
});

Deno.test("as NAME: a name already bound, a process, a file, a repeat's variable, a metric", () => {
  assert.deepEqual(messages(on("6.6", "let a = 1\nmap p size 4K as a")), [
    '4:18: "a" is already bound (by the let on line 3)',
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 4K as a\nmap p size 4K as a")), [
    '4:18: "a" is already bound (by the map on line 3)',
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 4K as p")), [
    '3:18: "p" is a process; choose another name for the address',
  ]);
  assert.deepEqual(messages(on("6.6", "file f size 4K\nmap p size 4K as f")), [
    '4:18: "f" is a file; choose another name for the address',
  ]);
  assert.deepEqual(messages(on("6.6", "repeat i in 0..2 { map p size 4K as a }")), [
    '3:37: "a" is bound again by each iteration of the repeat: use an indexed name that ' +
    "changes with it, such as a[i]",
  ]);
  // an index that does not change is the same name each time
  assert.deepEqual(messages(on("6.6", "repeat k in 0..2 { map p size 4K as a[0] }")), [
    '3:37: "a[0]" is bound again by each iteration of the repeat: use an indexed name that ' +
    "changes with it, such as a[k]",
  ]);
  assert.deepEqual(messages(on("6.6", "repeat i in 0..2 { map p size 4K as i }")), [
    '3:37: "i" is already bound (the variable of the repeat on line 3)',
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 4K as ipis\nmap p size 4K as PAGE_SIZE")), [
    '3:18: "ipis" is a metric name; choose another variable name',
    '4:18: "PAGE_SIZE" is a fact of the configuration; choose another variable name',
  ]);
  // a let may not change what `as` bound
  assert.deepEqual(messages(on("6.6", "map p size 4K as a\nlet a = 1")), [
    '4:5: "a" is the address the map on line 3 bound (as a); choose another variable name',
  ]);
  // a map that fails binds a name that reports nothing more
  assert.deepEqual(messages(on("6.6", "map q size 4K as a\ntouch p a")), [
    '3:5: unknown process "q" (did you mean "p"?)',
  ]);
});

Deno.test("hugetlb: the configuration's sizes, its default, none", () => {
  assert.deepEqual(messages(on("6.6", "map p size 4M hugetlb 4M")), [
    "3:23: x86_64-4level has no 4M hugetlb pages (did you mean 2M? it has 2M and 1G)",
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 2G hugetlb 2G")), [
    "3:23: x86_64-4level has no 2G hugetlb pages (did you mean 1G? it has 2M and 1G)",
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 4M hugetlb 0")), [
    "3:23: the hugetlb page size must be positive, not 0",
  ]);
  assert.deepEqual(messages("arch arm-2level\nmm p\nmap p size 4M hugetlb", "arm-2level"), [
    "3:15: arm-2level has no hugetlb pages ptlab models",
  ]);
  // arm64 with 4K pages: 2M (PMD), 32M (16 contiguous PMD entries), 1G (PUD)
  assert.deepEqual(
    messages("arch arm64-4k-48\nmm p\nmap p size 64M hugetlb 64M", "arm64-4k-48"),
    ["3:24: arm64-4k-48 has no 64M hugetlb pages (did you mean 32M? it has 2M, 32M and 1G)"],
  );
  assert.deepEqual(
    addrs("arch arm64-4k-48\nmm p\nmap p size 64M hugetlb 32M", "arm64-4k-48"),
    [0xffff_f400_0000n],
  );
});

Deno.test("hugetlb: address, length and offset are whole huge pages (EINVAL)", () => {
  assert.deepEqual(messages(on("6.6", "map p 0x201000 size 2M hugetlb")), [
    "3:7: address 0x201000 is not aligned to the hugetlb page size 2M (mmap gives EINVAL)",
  ]);
  assert.deepEqual(messages(on("6.6", "map p 0x200000 size 3M hugetlb")), [
    "3:21: size 3M is not a multiple of the hugetlb page size 2M (mmap would round it up to 4M)",
  ]);
  assert.deepEqual(messages(on("6.6", "map p size 3M hugetlb")), [
    "3:12: size 3M is not a multiple of the hugetlb page size 2M (mmap would round it up to 4M)",
  ]);
  const f = "file h size 8M\n";
  assert.deepEqual(messages(on("6.6", f + "map p size 4M file h offset 1M hugetlb")), [
    "4:29: offset 0x100000 is not aligned to the hugetlb page size 2M (mmap of a hugetlbfs " +
    "file gives EINVAL)",
  ]);
  assert.deepEqual(messages(on("6.6", "file h size 3M\nmap p size 2M file h hugetlb")), [
    '4:20: file "h" is 3M, not a multiple of the hugetlb page size 2M (ftruncate of a ' +
    "hugetlbfs file gives EINVAL)",
  ]);
  assert.deepEqual(messages(on("6.6", f + "map p size 4M file h offset 6M hugetlb")), [
    '4:29: the mapping goes past the end of file "h": offset 6M + size 4M is 10M, but the file ' +
    "is 8M",
  ]);
  // the file op says the file is a hugetlbfs one
  const o = ops(on("6.6", f + "map p size 4M shared file h offset 2M hugetlb")) as {
    op: string;
    hugetlb?: bigint;
    addr?: bigint;
  }[];
  assert.deepEqual(o.map((x) => [x.op, x.hugetlb, x.addr]), [
    ["mm", undefined, undefined],
    ["file", 2n * M, undefined],
    ["map", 2n * M, 0x7fff_f7a0_0000n],
  ]);
});

Deno.test("hugetlb: a file is a tmpfs or a hugetlbfs file, of one page size", () => {
  const f = "file h size 1G\nmap p 0x40000000 size 2M file h hugetlb\n";
  assert.deepEqual(messages(on("6.6", f + "map p 0x80000000 size 2M file h")), [
    '5:31: file "h" is a hugetlbfs file (mapped with hugetlb 2M on line 4): map it with ' +
    "'hugetlb' too",
  ]);
  assert.deepEqual(messages(on("6.6", f + "map p 0x80000000 size 1G file h hugetlb 1G")), [
    '5:41: file "h" is a hugetlbfs file of 2M pages (mapped so on line 4), not of 1G pages',
  ]);
  const t = "file h size 1G\nmap p 0x40000000 size 2M file h\n";
  assert.deepEqual(messages(on("6.6", t + "map p 0x80000000 size 2M file h hugetlb")), [
    '5:33: file "h" is a tmpfs file (mapped without hugetlb on line 4): a file is a tmpfs or a ' +
    "hugetlbfs file, not both",
  ]);
  // the same kind again is fine
  assert.deepEqual(messages(on("6.6", f + "map p 0x80000000 size 4M file h hugetlb 2M")), []);
});

Deno.test("hugetlb: unmap, mprotect and madvise may not split a huge page (EINVAL)", () => {
  const m = "map p 0x200000 size 4M hugetlb\n";
  assert.deepEqual(messages(on("6.6", m + "unmap p 0x201000 size 1M")), [
    "4:9: unmap of 0x201000..0x301000 would fail with EINVAL: it splits the hugetlb mapping " +
    '0x200000..0x600000 of "p" made on line 3 at 0x201000, inside a 2M hugetlb page',
  ]);
  assert.deepEqual(messages(on("6.6", m + "unmap p 0x200000 size 1M")), [
    "4:23: unmap of 0x200000..0x300000 would fail with EINVAL: it splits the hugetlb mapping " +
    '0x200000..0x600000 of "p" made on line 3 at 0x300000, inside a 2M hugetlb page',
  ]);
  assert.deepEqual(messages(on("6.6", m + "mprotect p 0x200000 size 1M read")), [
    "4:26: mprotect of 0x200000..0x300000 would fail with EINVAL: it splits the hugetlb " +
    'mapping 0x200000..0x600000 of "p" made on line 3 at 0x300000, inside a 2M hugetlb page',
  ]);
  // mprotect_fixup leaves alone a VMA that keeps its protection: no split
  assert.deepEqual(messages(on("6.6", m + "mprotect p 0x200000 size 1M write")), []);
  assert.deepEqual(messages(on("6.6", m + "madvise p hugepage 0x200000 size 1M")), [
    "4:34: madvise hugepage of 0x200000..0x300000 would fail with EINVAL: it splits the hugetlb " +
    'mapping 0x200000..0x600000 of "p" made on line 3 at 0x300000, inside a 2M hugetlb page',
  ]);
  // at huge page boundaries it is fine, and the layout follows
  const ok = m + "unmap p 0x200000 size 2M\nmprotect p 0x400000 size 2M read\n";
  assert.deepEqual(messages(on("6.6", ok + "touch p 0x400000 read")), []);
  assert.deepEqual(messages(on("6.6", ok + "touch p 0x200000")), [
    '6:9: touch at 0x200000 is outside any mapping of "p"',
  ]);
});

Deno.test("hugetlb: madvise free and collapse fail; dontneed starts and ends at huge pages", () => {
  const m = "map p 0x200000 size 4M hugetlb\n";
  assert.deepEqual(messages(on("6.6", m + "madvise p free 0x200000 size 2M")), [
    "4:16: madvise free of 0x200000..0x400000 would fail with EINVAL: the mapping " +
    '0x200000..0x600000 of "p" made on line 3 is hugetlb memory, not anonymous memory',
  ]);
  assert.deepEqual(messages(on("6.6", m + "madvise p collapse 0x200000 size 2M")), [
    "4:20: madvise collapse of 0x200000..0x400000 would fail with EINVAL: the mapping " +
    '0x200000..0x600000 of "p" made on line 3 is hugetlb memory, which THP cannot collapse',
  ]);
  assert.deepEqual(messages(on("6.6", m + "madvise p dontneed 0x201000 size 1M")), [
    "4:20: madvise dontneed of 0x201000..0x301000 would fail with EINVAL: it starts at " +
    '0x201000, inside a 2M hugetlb page of the mapping 0x200000..0x600000 of "p" made on line 3',
  ]);
  assert.deepEqual(messages(on("6.6", m + "madvise p dontneed 0x200000 size 1M")), [
    "4:34: madvise dontneed of 0x200000..0x300000 ends at 0x300000, inside a 2M hugetlb page of " +
    'the mapping 0x200000..0x600000 of "p" made on line 3: the kernel rounds the end to a whole ' +
    "huge page, which ptlab does not model (end it at 0x200000 or 0x400000)",
  ]);
  assert.deepEqual(messages(on("6.6", m + "madvise p dontneed 0x200000 size 2M")), []);
  // free beside the hugetlb mapping, not in it, is fine
  assert.deepEqual(
    messages(on("6.6", m + "map p 0x600000 size 4K\nmadvise p free 0x600000 size 4K")),
    [],
  );
});

Deno.test("hugetlb: mremap is not modelled; the map op carries the page size", () => {
  assert.deepEqual(
    messages(on("6.6", "map p 0x200000 size 2M hugetlb\nmremap p 0x200000 size 2M to 0x400000")),
    [
      '4:10: mremap of hugetlb memory is not modelled (the mapping 0x200000..0x400000 of "p" ' +
      "made on line 3 has 2M hugetlb pages)",
    ],
  );
  assert.deepEqual(
    (ops(on("6.6", "map p 0x40000000 size 1G hugetlb 1G prot read")) as MapOp[])[1],
    { op: "map", mm: "p", addr: 0x4000_0000n, size: G, prot: "read", hugetlb: G },
  );
});

Deno.test("map: a clause before the size reads as the address", () => {
  assert.deepEqual(messages(on("6.6", "map p hugetlb size 2M")), [
    "3:7: 'hugetlb' comes after the size: map MM [ADDR] size SIZE hugetlb ...",
  ]);
  assert.deepEqual(messages(on("6.6", "map p shared size 2M")), [
    "3:7: 'shared' comes after the size: map MM [ADDR] size SIZE shared ...",
  ]);
  // a variable of that name is an address
  assert.deepEqual(addrs(on("6.6", "let hugetlb = 0x200000\nmap p hugetlb size 2M hugetlb")), [
    0x20_0000n,
  ]);
});

Deno.test("mm NAME exec: the op says so; maps without an address go below what exec made", () => {
  const o = ops(on("6.6", "mm q exec")) as { op: string; exec?: boolean }[];
  assert.deepEqual(o.map((x) => [x.op, x.exec]), [["mm", undefined], ["mm", true]]);
  // the exec image is the engine's (engine/exec.ts); the compiler places maps around it
  const cfg = configFor("x86_64-4level", { kernel: "6.6" });
  const image = execImage(cfg).map((v) => ({ ...v }));
  const want = getUnmappedArea(cfg, image, { len: 4n * M });
  assert.deepEqual(addrs(on("6.6", "mm q exec\nmap q size 4M")), [want]);
  // while exec makes no VMA (engine/exec.ts has no image yet), it is a plain process
  if (image.length === 0) assert.equal(want, BASE - 4n * M);
});
