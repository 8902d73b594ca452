/**
 * What execve of a small static binary leaves on each configuration, as data: the binary's link
 * address (binutils' default linker script for the arch's Linux target), STACK_TOP and
 * STACK_TOP_MAX, and the special mappings arch_setup_additional_pages installs by kernel
 * version. {@link execLayout} is called by `resolveConfig`; the engine's `execImage` lays the
 * VMAs out from it.
 *
 * Link addresses: `ld --verbose` of binutils 2.40 (Debian's cross binutils) for the x86_64, i386,
 * aarch64, arm (EABI), powerpc, powerpc64, s390x, riscv64, mips, mips64 (n64), m68k, sparc,
 * sparc64, sh4, hppa, hppa64, alpha and arc Linux targets, whose `ld --help` also names
 * `-z separate-code` the default on x86 only; binutils' ld/emulparams for loongarch64
 * (elf64loongarch-defs.sh), csky (cskyelf_linux.sh), microblaze (elf32mb_linux.sh), nios2
 * (nios2linux.sh) and xtensa (elf32xtensa.sh).
 *
 * The vdso text is one page except on x86_64, whose [vdso] is two pages on this host (6.18) and
 * was built from the same sources in 6.1 to 6.12: an assumption where no host was measured
 * (the image's size is a build product, not in the sources).
 *
 * @module
 */

import type { ArchConfig, ExecLayout, SpecialMapping } from "../engine/types.ts";

/** The configuration as far as resolved before its exec layout (everything but `exec`). */
export type ExecInput = Omit<ArchConfig, "exec">;

/** The exec facts of one configuration, and the STACK_TOP they imply. */
export interface ExecFacts {
  /** The layout. */
  exec: ExecLayout;
  /** STACK_TOP of a native process (ASLR off), where it is not the configuration's own. */
  stackTop?: bigint;
}

const vvar = (name: string, pages: number, more: Partial<SpecialMapping> = {}): SpecialMapping => ({
  name,
  pages,
  kind: "data",
  pfnmap: true,
  ...more,
});

const text = (pages = 1, name = "[vdso]"): SpecialMapping => ({
  name,
  pages,
  kind: "text",
  touched: name === "[vdso]",
});

/**
 * The generic vdso data store from 6.15 (lib/vdso/datastore.c vdso_install_vvar_mapping):
 * VDSO_NR_PAGES = time, timens, rng and the arch's data page, 4 on every arch modelled here
 * (the __VDSO_PAGES static_asserts of arch/{arm,arm64,mips,powerpc,riscv,s390}/include/asm/vdso.h
 * in 6.18), VM_PFNMAP (the host's 6.18 smaps shows `pf` for [vvar]).
 */
const DATASTORE = 4;

function pagesOf(cfg: ExecInput, bytes: number): number {
  return Math.ceil(bytes / 2 ** cfg.pageShift);
}

/** The [vvar] + [vdso] pair most arches map below mmap_base, data first. */
function vvarVdso(kv: number, before615: number, textPages = 1): SpecialMapping[] {
  return [vvar("[vvar]", kv >= 615 ? DATASTORE : before615), text(textPages)];
}

/** The exec facts of `cfg` in kernel `kv` (6.6 -> 606). */
export function execLayout(cfg: ExecInput, kv: number): ExecFacts {
  const page = 1n << BigInt(cfg.pageShift);
  const top = cfg.stackTop;
  const base = (linkAddress: bigint, separateCode = false): ExecLayout => ({
    linkAddress,
    separateCode,
    stackTopMax: top,
    special: [],
    placement: { kind: "mmap" },
  });
  const variant = String(cfg.archData.variant ?? "");
  switch (cfg.family) {
    case "x86": {
      const x64 = variant === "x86_64" || variant === "la57";
      const e = base(x64 ? 0x400000n : 0x08048000n, true);
      // arch/x86/entry/vdso/vma.c map_vdso: get_unmapped_area of the data pages and the text,
      // data below. 6.1 and 6.6 pass vdso_addr(start_stack), which with the arguments in the
      // top page is STACK_TOP itself: mmap_address_hint_valid refuses it (TASK_SIZE - len <
      // addr), so the search below mmap_base decides as with 6.12's hint 0. vvar is 4 pages
      // (vdso-layout.lds.S: vvar, pvclock, hvclock, timens) to 6.14; 6.15's data store makes
      // it [vvar] (VDSO_NR_PAGES) + [vvar_vclock] (VDSO_NR_VCLOCK_PAGES 2), __VDSO_PAGES 6
      // (asm/vdso/vsyscall.h). x86_64's text is 2 pages (host), the 32-bit image assumed 1.
      const t = x64 ? 2 : 1;
      e.special = kv >= 615
        ? [vvar("[vvar]", DATASTORE), vvar("[vvar_vclock]", 2), text(t)]
        : [vvar("[vvar]", 4), text(t)];
      // STACK_TOP_MAX is TASK_SIZE_MAX (page_64_types.h): with 5-level paging the first stack
      // page is made at the top of the 56-bit space and relocate_vma_down moves it below 47 bits
      if (variant === "la57") e.stackTopMax = cfg.taskSize;
      return { exec: e };
    }
    case "arm": {
      // arch/arm/kernel/process.c arch_setup_additional_pages: [sigpage], then arm_install_vdso
      // (arch/arm/kernel/vdso.c) [vvar] and [vdso], one get_unmapped_area for all. sigpage_addr
      // returns 0 when the stack reaches TASK_SIZE (no room after it), so the search decides.
      // vvar is one plain page to 6.14 (install_vvar: VM_READ | VM_MAYREAD), the data store in
      // 6.15+. CONFIG_VDSO (ARMv7 with the architected timer) assumed.
      const e = base(0x10000n);
      e.special = [
        text(1, "[sigpage]"),
        kv >= 615 ? vvar("[vvar]", DATASTORE) : { name: "[vvar]", pages: 1, kind: "data" },
        text(1),
      ];
      return { exec: e };
    }
    case "arm64": {
      // arch/arm64/kernel/vdso.c __setup_additional_pages: get_unmapped_area(NULL, 0, ...),
      // [vvar] VM_PFNMAP (VVAR_NR_PAGES 2: data, timens) then [vdso]; STACK_TOP_MAX is
      // DEFAULT_MAP_WINDOW_64 unless ARM64_FORCE_52BIT (asm/processor.h)
      const e = base(0x400000n);
      e.special = vvarVdso(kv, 2);
      return { exec: e };
    }
    case "powerpc": {
      // arch/powerpc/kernel/vdso.c __arch_setup_additional_pages: VDSO_ALIGNMENT 64K (the length
      // asked grows by (64K - 1) & PAGE_MASK, the base is aligned up), [vvar] VM_PFNMAP
      // (VVAR_NR_PAGES 2) then [vdso]
      const e = base(0x10000000n);
      e.special = vvarVdso(kv, 2);
      e.align = 0x10000n;
      // task_size_64.h: STACK_TOP_MAX is TASK_SIZE_USER64 (4 PB with 64K pages, 64 TB with 4K)
      if (cfg.bits === 64) e.stackTopMax = cfg.taskSize;
      return { exec: e };
    }
    case "s390": {
      // arch/s390/kernel/vdso.c: VDSO_BASE = STACK_TOP + PAGE_SIZE without PF_RANDOMIZE, taken
      // by arch_get_unmapped_area_topdown (the range is free); STACK_TOP is VDSO_LIMIT
      // (_REGION2_SIZE) - vdso_size() - PAGE_SIZE (asm/processor.h), vdso_size the data pages
      // (VVAR_NR_PAGES 2) and the text
      const special = vvarVdso(kv, 2);
      const vdsoSize = BigInt(special.reduce((n, m) => n + m.pages, 0)) * page;
      const stackTop = (1n << 42n) - vdsoSize - page;
      const e = base(0x1000000n);
      e.special = special;
      e.stackTopMax = stackTop;
      e.placement = { kind: "hint", addr: stackTop + page };
      return { exec: e, stackTop };
    }
    case "riscv": {
      // arch/riscv/kernel/vdso.c __setup_additional_pages: like arm64 (VVAR_NR_PAGES 2)
      const e = base(0x10000n);
      e.special = vvarVdso(kv, 2);
      // asm/processor.h: STACK_TOP_MAX is TASK_SIZE from 6.6 (STACK_TOP DEFAULT_MAP_WINDOW)
      if (cfg.taskSize > top) e.stackTopMax = cfg.taskSize;
      return { exec: e };
    }
    case "loongarch": {
      // arch/loongarch/kernel/vdso.c: get_unmapped_area(NULL, STACK_TOP, data + text), data
      // below; stack_top() (kernel/process.c) leaves TASK_SIZE - STACK_TOP for them
      const t = 1;
      let data: SpecialMapping, reserved: number;
      if (kv >= 615) {
        data = vvar("[vvar]", DATASTORE);
        reserved = DATASTORE;
      } else if (kv >= 606) {
        // VVAR_NR_PAGES: generic, timens and LOONGARCH_VDSO_DATA_PAGES (the per-CPU data of
        // NR_CPUS 64 x 64 bytes: one page), VM_PFNMAP faulted by vvar_fault
        data = vvar("[vvar]", 3);
        reserved = 3;
      } else {
        // 6.1: VDSO_DATA_SIZE = PAGE_ALIGN(NR_CPUS 64 x 64 bytes + 2 x 240 bytes of vdso_data),
        // remap_pfn_range'd at once; stack_top reserves a single page for it, so with 4K pages
        // (2 data pages) the hint does not fit below TASK_SIZE and the search takes over
        data = vvar("[vvar]", pagesOf(cfg, 64 * 64 + 2 * 240), { prefault: true });
        reserved = 1;
      }
      const stackTop = (cfg.taskSize & ~(page - 1n)) - BigInt(t + reserved) * page;
      const e = base(0x120000000n);
      e.special = [data, text(t)];
      e.stackTopMax = cfg.taskSize; // asm/processor.h: STACK_TOP_MAX is TASK_SIZE
      e.placement = { kind: "hint", addr: stackTop };
      return { exec: e, stackTop };
    }
    case "mips": {
      // arch/mips/kernel/vdso.c (CONFIG_MIPS_FP_SUPPORT, no GIC and no dcache aliases assumed):
      // the delay slot emulation page at STACK_TOP, then get_unmapped_area(NULL, STACK_TOP +
      // PAGE_SIZE, data + text). To 6.14 the data page is remap_pfn_range'd at once; 6.15 has
      // the data store. mips_stack_top() (kernel/process.c) leaves room for all of it.
      const t = 1;
      const data = kv >= 615 ? vvar("[vvar]", DATASTORE) : vvar("[vvar]", 1, { prefault: true });
      const stackTop = (cfg.taskSize & ~(page - 1n)) - BigInt(1 + t + data.pages) * page;
      const e = base(cfg.bits === 64 ? 0x120000000n : 0x400000n);
      e.special = [data, text(t)];
      e.delaySlotPage = stackTop;
      e.stackTopMax = cfg.taskSize; // STACK_TOP_MAX: TASK_SIZE64 / TASK_SIZE
      e.placement = { kind: "hint", addr: stackTop + page };
      return { exec: e, stackTop };
    }
    case "m68k":
      // m68kelf: 0x80000000; sun3's TASK_SIZE (224 MiB) is below it: linked at 0x2000 (assumed)
      return { exec: base(cfg.taskSize > 0x80000000n ? 0x80000000n : 0x2000n) };
    case "sparc": {
      if (cfg.bits === 32) {
        // processor_32.h: STACK_TOP is PAGE_OFFSET - PAGE_SIZE; no vdso on sparc32
        const stackTop = 0xf0000000n - page;
        return { exec: { ...base(0x10000n), stackTopMax: stackTop }, stackTop };
      }
      // processor_64.h STACK_TOP64 = 0x80000000000 - 4 GiB. arch/sparc/vdso/vma.c map_vdso asks
      // get_unmapped_area(NULL, 0, ...), which for a 64-bit task searches up from
      // TASK_UNMAPPED_BASE = VA_EXCLUDE_END, above the VA hole (arch_pick_mmap_layout,
      // kernel/sys_sparc_64.c): beyond this configuration's TASK_SIZE (the low half), so its
      // [vvar] and [vdso] are not modelled
      const stackTop = 0x80000000000n - (1n << 32n);
      return { exec: { ...base(0x100000n), stackTopMax: stackTop }, stackTop };
    }
    case "sh": {
      // arch/sh/kernel/vsyscall/vsyscall.c: one page from get_unmapped_area (CONFIG_VSYSCALL)
      const e = base(0x400000n);
      e.special = [text(1)];
      return { exec: e };
    }
    case "um": {
      // processor-generic.h: STACK_TOP = TASK_SIZE - 2 * PAGE_SIZE; the host's toolchain links
      // the binary. x86_64 only (arch/x86/um/Makefile builds vdso/ for 64-bit): [vdso] at
      // um_vdso_addr, TASK_SIZE - PAGE_SIZE (arch/x86/um/vdso/vma.c, not in the trees read)
      const stackTop = cfg.taskSize - 2n * page;
      const x64 = cfg.bits === 64;
      const e = { ...base(x64 ? 0x400000n : 0x08048000n, true), stackTopMax: stackTop };
      if (x64) {
        e.special = [text(1)];
        e.placement = { kind: "fixed", addr: cfg.taskSize - page };
      }
      return { exec: e, stackTop };
    }
    case "nios2": {
      // arch/nios2/mm/init.c: the kuser helpers page at KUSER_BASE (0x1000, asm/processor.h)
      const e = base(0x2000n);
      e.special = [{ name: "[kuser]", pages: 1, kind: "text" }];
      e.placement = { kind: "fixed", addr: 0x1000n };
      return { exec: e };
    }
    case "csky": {
      // arch/csky/kernel/vdso.c: get_unmapped_area(NULL, 0, ...): the text, then to 6.12 one
      // data page after it (VM_READ, a normal page)
      const e = base(0x8000n);
      e.special = kv >= 615 ? [text(1)] : [text(1), { name: "[vvar]", pages: 1, kind: "data" }];
      return { exec: e };
    }
    case "hexagon": {
      // arch/hexagon/kernel/vdso.c: get_unmapped_area(NULL, STACK_TOP, PAGE_SIZE): the hint
      // does not fit below TASK_SIZE, the search decides; lld's default image base (assumed)
      const e = base(0x10000n);
      e.special = [text(1)];
      e.placement = { kind: "hint", addr: top };
      return { exec: e };
    }
    case "parisc": {
      // CONFIG_STACK_GROWSUP: setup_arg_pages puts the stack at PAGE_ALIGN(STACK_TOP -
      // calc_max_stack_size(RLIM_INFINITY)): 1 GiB for 64-bit tasks, STACK_MAX_DEFAULT_SIZE_MB
      // (100) for 32-bit (arch/parisc/kernel/sys_parisc.c); mmap_upper_limit is the same
      // address and arch/parisc/kernel/vdso.c asks get_unmapped_area for it as a hint, which
      // the stack occupies: the search down from there takes the pages just below
      const max = cfg.bits === 64 ? 1n << 30n : 100n << 20n;
      const stackBase = top - max;
      const special = [text(1)];
      const len = BigInt(special[0].pages) * page;
      const e = { ...base(0x10000n), stackGrowsUp: { stackBase }, special };
      e.stackTopMax = top; // STACK_TOP_MAX is DEFAULT_TASK_SIZE, STACK_TOP TASK_SIZE
      e.placement = { kind: "fixed", addr: stackBase - len };
      return { exec: e };
    }
    case "alpha": {
      // asm/processor.h: STACK_TOP (and STACK_TOP_MAX) 0x120000000, the link address itself:
      // the stack grows down below the binary
      const stackTop = 0x120000000n;
      return { exec: { ...base(0x120000000n), stackTopMax: stackTop }, stackTop };
    }
    case "openrisc":
      // elf32or1k.sh's TEXT_START_ADDR is 0, below mmap_min_addr: or1k Linux binaries start at
      // 0x2000 (TARGET_PAGE_SIZE, assumed)
      return { exec: base(0x2000n) };
    case "microblaze":
      return { exec: base(0x10000000n) };
    case "xtensa":
      return { exec: base(0x400000n) };
    case "arc":
      return { exec: base(0x10000n) };
    default:
      // asm-generic: no vdso; the aarch64 link address (assumed)
      return { exec: base(0x400000n) };
  }
}
