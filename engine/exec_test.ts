// `mm NAME exec`: the address space execve of a small static binary leaves (engine/exec.ts,
// archs/exec.ts), its tables made by the normal fault path. The figures are worked out from the
// kernel's rules below each test; the x86_64 6.18 layout and VmPTE are the host's
// (/proc/PID/maps and status of a `cc -static` binary run under `setarch -R`).
import { configFor, CONFIGS, findConfig } from "../archs/registry.ts";
import { resolveConfig } from "../archs/config.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { execImage } from "./exec.ts";
import { getUnmappedArea } from "./mmap.ts";
import { Run } from "./run.ts";
import { KERNEL_VERSIONS, type Op, type RunResult } from "./types.ts";

const K = 1024;

function play(name: string, kernel: string, ops: Record<string, unknown>[]): RunResult {
  const run = new Run(configFor(name, { kernel }), findConfig(name)!.backend, 1);
  ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
  return run.finish(ops.length);
}

const exec = [{ op: "mm", name: "p", exec: true }, { op: "snapshot", label: "exec" }];
const forked = [
  ...exec,
  { op: "fork", mm: "p", child: "c" },
  { op: "snapshot", label: "fork" },
  { op: "exit", mm: "c" },
  { op: "exit", mm: "p" },
];

/** VmPTE and the live tables (pgd/p4d/pud/pmd/pte) of `mm` in snapshot `i`. */
function fig(r: RunResult, i: number, mm = "p") {
  const m = r.snapshots[i].mms[mm];
  return { vmpte: m.vmpte / K, tables: Object.values(m.tables).join("/") };
}

const layout = (name: string, kernel: string) =>
  execImage(configFor(name, { kernel })).map((v) =>
    `${v.start.toString(16)}-${v.end.toString(16)} ${v.name}`
  );

Deno.test("x86_64 6.18: the host's eleven VMAs, VmPTE 28 kB, RssAnon 40 kB, RssFile 652 kB", () => {
  assertEquals(layout("x86_64-4level", "6.18"), [
    "400000-401000 headers",
    "401000-479000 text",
    "479000-4a0000 rodata",
    "4a0000-4a4000 relro",
    "4a4000-4a7000 data",
    "4a7000-4ac000 bss",
    "4ac000-4ce000 heap",
    // get_unmapped_area of 2 + 6 pages below mmap_base 0x7ffff7fff000
    "7ffff7ff7000-7ffff7ffb000 [vvar]",
    "7ffff7ffb000-7ffff7ffd000 [vvar_vclock]",
    "7ffff7ffd000-7ffff7fff000 [vdso]",
    // the argument page and stack_expand's 128 KiB below STACK_TOP
    "7ffffffde000-7ffffffff000 stack",
  ]);
  const r = play("x86_64-4level", "6.18", exec);
  // 0x400000..0x4ce000: one PUD, PMD and PTE table; the vdso (PMD entry 447) and the stack
  // (PMD entry 511) of PUD entry 511 of PGD entry 255: one PUD, one PMD, two PTE tables
  assertEquals(fig(r, 0), { vmpte: 28, tables: "1/0/2/2/3" });
  const m = r.snapshots[0].mms.p;
  // RELRO 2 + data 3 + bss 1 (the other maps the zero page) + heap 2 + stack 2 anonymous pages;
  // headers 1 + text 120 + rodata 39 + RELRO 2 + vdso 1 page-cache and kernel pages
  assertEquals([m.rss_anon / K, m.rss_file / K, m.rss_shmem, m.vmas], [40, 652, 0, 11]);
  assertEquals(r.violations, []);
});

Deno.test("x86_64 6.1: vvar is 4 pages, the vdso's 6 pages below mmap_base; VmPTE 28 kB", () => {
  // vdso_addr(start_stack) is STACK_TOP itself, a hint mmap_address_hint_valid refuses
  assertEquals(layout("x86_64-4level", "6.1").slice(7, 9), [
    "7ffff7ff9000-7ffff7ffd000 [vvar]",
    "7ffff7ffd000-7ffff7fff000 [vdso]",
  ]);
  for (const kernel of ["6.1", "6.6", "6.12"]) {
    const r = play("x86_64-4level", kernel, exec);
    assertEquals(fig(r, 0), { vmpte: 28, tables: "1/0/2/2/3" }, kernel);
    assertEquals(r.snapshots[0].mms.p.vmas, 10);
  }
});

Deno.test("x86_64 LA57: the stack made at STACK_TOP_MAX is moved below 47 bits", () => {
  // bprm_mm_init puts the first page at TASK_SIZE_MAX (2^56 - 4K): a P4D, PUD, PMD and PTE
  // table there, which relocate_vma_down's free_pgd_range frees; the same 28 kB is left
  const r = play("x86_64-5level", "6.18", [...exec, { op: "exit", mm: "p" }]);
  assertEquals(fig(r, 0), { vmpte: 28, tables: "1/1/2/2/3" });
  assertEquals(r.final.metrics.leaks, 0);
  assertEquals(r.violations, []);
});

Deno.test("arm64, riscv64, ppc64 radix, s390: VmPTE after exec", () => {
  // arm64 4K/48: 0x400000 and the top of the 48-bit space ([vvar] 4 + [vdso] 1 page below
  // mmap_base 0xfffff8000000, the stack below 2^48): 2 PUD, 2 PMD, 3 PTE tables of 4 KiB
  assertEquals(fig(play("arm64-4k-48", "6.18", exec), 0), { vmpte: 28, tables: "1/0/2/2/3" });
  // arm64 64K/48, 3 levels: a PTE table spans 512 MiB, holding the vdso and the stack alike;
  // 2 PMD and 2 PTE tables of 64 KiB
  assertEquals(fig(play("arm64-64k-48", "6.1", exec), 0), { vmpte: 256, tables: "1/0/0/2/2" });
  // riscv64 sv39 (no PUD): the binary at 0x10000, vvar 2 + vdso 1 page below 0x3ff8000000, the
  // stack below 2^38: 2 PMD tables, 3 PTE tables
  assertEquals(fig(play("riscv64-sv39", "6.6", exec), 0), { vmpte: 20, tables: "1/0/0/2/3" });
  // ppc64 radix 4K: the vdso aligned to 64K (VDSO_ALIGNMENT) at 0x3ffff7ff0000
  assertEquals(layout("ppc64-radix-4k", "6.12").slice(5, 7), [
    "3ffff7ff0000-3ffff7ff2000 [vvar]",
    "3ffff7ff2000-3ffff7ff3000 [vdso]",
  ]);
  assertEquals(fig(play("ppc64-radix-4k", "6.12", exec), 0), { vmpte: 28, tables: "1/0/2/2/3" });
  // ppc64 radix 64K: 4 KiB PUD and PMD tables, 256-byte PTE fragments of 2 MiB each
  assertEquals(fig(play("ppc64-radix-64k", "6.18", exec), 0), {
    vmpte: 16.75,
    tables: "1/0/2/2/3",
  });
  // s390: STACK_TOP is 4 TiB less vdso_size() (4 data + 1 text pages) and a page; the vdso at
  // VDSO_BASE = STACK_TOP + 4K ends at 4 TiB. The region-3 root is not counted: 2 segment
  // tables (16 KiB) and 2 page tables (2 KiB: the binary's 1 MiB, the top 1 MiB)
  assertEquals(layout("s390-3level", "6.18").slice(5), [
    "3fffffd9000-3ffffffa000 stack",
    "3ffffffb000-3fffffff000 [vvar]",
    "3fffffff000-40000000000 [vdso]",
  ]);
  assertEquals(fig(play("s390-3level", "6.18", exec), 0), { vmpte: 36, tables: "0/0/1/2/2" });
});

Deno.test("32-bit: i386 2-level and arm 2-level after exec", () => {
  // i386: the binary at 0x08048000, vvar 4 + vdso 1 page below 0xb8000000, the stack below
  // 0xc0000000: three 4 MiB PTE tables of 4 KiB
  assertEquals(layout("i386-2level", "6.1").slice(7, 9), [
    "b7ffb000-b7fff000 [vvar]",
    "b7fff000-b8000000 [vdso]",
  ]);
  assertEquals(fig(play("i386-2level", "6.1", exec), 0), { vmpte: 12, tables: "1/0/0/0/3" });
  // arm: [sigpage], [vvar], [vdso] below 0xb7000000 (sigpage_addr finds no room above the
  // stack); three PTE tables of 2048 bytes counted
  assertEquals(layout("arm-2level", "6.1").slice(5, 8), [
    "b6ffd000-b6ffe000 [sigpage]",
    "b6ffe000-b6fff000 [vvar]",
    "b6fff000-b7000000 [vdso]",
  ]);
  assertEquals(fig(play("arm-2level", "6.1", exec), 0), { vmpte: 6, tables: "1/0/0/0/3" });
});

Deno.test("fork of an exec'd process: vma_needs_copy copies VM_PFNMAP [vvar] with the anon_vma VMAs", () => {
  for (const kernel of ["6.1", "6.18"]) {
    const r = play("x86_64-4level", kernel, forked);
    // RELRO, data, bss, heap and stack have an anon_vma; [vvar] (and [vvar_vclock]) are
    // VM_PFNMAP, so the child gets the vdso's PTE table too, though no entry of it is present:
    // all 7 tables, 28 kB (24 kB if only anon_vma VMAs were copied)
    assertEquals(fig(r, 1, "c"), { vmpte: 28, tables: "1/0/2/2/3" }, kernel);
    const c = r.snapshots[1].mms.c;
    // the anonymous pages are shared for COW; RELRO's two page-cache pages come along, the
    // text's and the vdso's fault in again
    assertEquals([c.rss_anon / K, c.rss_file / K], [40, 8], kernel);
    assertEquals(r.final.metrics.leaks, 0);
    assertEquals(r.violations, []);
  }
  // arm's [vvar] is a plain page to 6.14 (install_vvar: VM_READ | VM_MAYREAD): not copied, and
  // the child has no table for the vdso; 6.18's data store is VM_PFNMAP
  assertEquals(fig(play("arm-2level", "6.1", forked), 1, "c").vmpte, 4);
  assertEquals(fig(play("arm-2level", "6.18", forked), 1, "c").vmpte, 6);
});

Deno.test("mmap of 4 MiB after exec goes below the vdso, aligned to 2 MiB from 6.12", () => {
  const at = (kernel: string) => {
    const cfg = configFor("x86_64-4level", { kernel });
    return getUnmappedArea(cfg, execImage(cfg), { len: 4n << 20n });
  };
  // 6.1, 6.6: no THP alignment of anonymous memory: just below [vvar] at 0x7ffff7ff9000
  assertEquals(at("6.1"), 0x7fff_f7bf_9000n);
  assertEquals(at("6.6"), 0x7fff_f7bf_9000n);
  // 6.12, 6.18: __thp_get_unmapped_area searches 6 MiB below the vdso (0x7ffff7ff9000 or
  // 0x7ffff7ff7000, so 0x7ffff79f9000 or 0x7ffff79f7000) and rounds up to 2 MiB
  assertEquals(at("6.12"), 0x7fff_f7a0_0000n);
  assertEquals(at("6.18"), 0x7fff_f7a0_0000n);
});

Deno.test("exec then exit leaves nothing behind on every configuration and kernel", () => {
  for (const spec of CONFIGS) {
    for (const kernel of KERNEL_VERSIONS) {
      const cfg = resolveConfig(spec, { kernel });
      const image = execImage(cfg);
      // sorted, disjoint, page aligned and inside the user address space
      const page = 1n << BigInt(cfg.pageShift);
      for (let i = 0; i < image.length; i++) {
        const v = image[i];
        const where = `${spec.name} ${kernel} ${v.name}`;
        assert(v.start < v.end && v.start % page === 0n && v.end % page === 0n, where);
        assert(v.start >= cfg.mmapMinAddr && v.end <= cfg.taskSize, where);
        if (i > 0) assert(image[i - 1].end <= v.start, where);
      }
      const run = new Run(cfg, spec.backend, 2);
      const ops = [...forked];
      ops.forEach((o, i) => run.step({ line: i + 1, col: 1, ...o } as unknown as Op));
      const r = run.finish(ops.length);
      const where = `${spec.name} ${kernel}`;
      assertEquals(r.violations, [], where);
      assertEquals(r.events, [], where);
      assertEquals(r.final.metrics.leaks, 0, where);
      assertEquals(r.final.metrics.nr_page_table_pages, 0, where);
      assert(r.snapshots[0].mms.p.vmpte > 0, where);
    }
  }
});
