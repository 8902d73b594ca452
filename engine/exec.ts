/**
 * The address space execve leaves for a small static binary, ASLR off (fs/exec.c bprm_mm_init
 * and setup_arg_pages, mm/vma_exec.c relocate_vma_down, fs/binfmt_elf.c load_elf_binary, the
 * arch's arch_setup_additional_pages), and the faults exec and the binary's start-up take.
 *
 * The binary is a representative static glibc one, the same on every arch: the segment sizes of
 * `int main(){pause();}` linked by gcc 12 / glibc 2.36 / binutils 2.40 on x86_64 (headers 4 KiB,
 * text 480 KiB, rodata 156 KiB, RELRO 16 KiB, data 12 KiB, bss 20 KiB, a 136 KiB brk heap), each
 * rounded up to the arch's page size and laid out from its link address (ArchConfig.exec). The
 * pages touched are those /proc/PID/pagemap shows present for it on the host (x86_64, 6.18):
 * headers, text and rodata read in full (fault-around maps the cached file), the first half of
 * RELRO read and its second half written (IRELATIVE relocations and the TLS block before
 * mprotect(PROT_READ)), data written, the first bss page read (it maps the zero page: /proc/kpageflags) and the last
 * written, the first 8 KiB of
 * the heap written (the TLS block _dl_early_allocate takes by sbrk), the top 8 KiB of the stack
 * written (exec's argument strings and tables, then the start-up's frames) and the first page of
 * the vdso read (glibc's setup_vdso reads its ELF header); the vdso data pages are not touched.
 *
 * @module
 */

import { getUnmappedArea, type MappedRange } from "./mmap.ts";
import type { Machine } from "./machine.ts";
import { faultRange } from "./memory.ts";
import type { Mm, Vma, VmaKind } from "./mm.ts";
import { doMprotect } from "./mprotect.ts";
import { doMremap } from "./mremap.ts";
import type { ArchConfig, Prot } from "./types.ts";

/** One VMA of the exec'd image, in bytes. */
export interface ExecVma {
  /** What it is (`headers`, `text`, `rodata`, `relro`, `data`, `bss`, `heap`, `stack`, `[vdso]` ...). */
  name: string;
  /** First byte. */
  start: bigint;
  /** First byte after. */
  end: bigint;
  /** Its protection as the model knows them (text and vdso are read-only). */
  prot: Prot;
  /** VM_GROWSDOWN (the stack). */
  growsDown?: boolean;
  /** Ranges faulted in by exec and the binary's start-up: [start, end) and write or read. */
  touched: readonly { start: bigint; end: bigint; write: boolean }[];
  /** VM_EXEC (text, the vdso, mips' delay slot page). */
  exec?: boolean;
  /** What backs it: a page of the binary (its file offset), of the kernel's vdso pages, or none. */
  backing?: { object: "binary" | "special"; offset: bigint };
  /** Made by _install_special_mapping (VM_DONTEXPAND: never merged). */
  special?: boolean;
  /** VM_PFNMAP. */
  pfnmap?: boolean;
  /** Mapped writable and private at exec (VM_ACCOUNT, kept when RELRO is made read-only). */
  account?: boolean;
  /** Made read-only after its writes (glibc's _dl_protect_relro: mprotect(PROT_READ)). */
  protectAfter?: boolean;
}

/** Bytes of each part of the representative binary (the x86_64 build, see the module doc). */
const IMAGE = {
  headers: 0x1000n,
  text: 0x78000n,
  rodata: 0x27000n,
  relro: 0x4000n,
  data: 0x3000n,
  bss: 0x5000n,
  heap: 0x22000n,
} as const;

/** setup_arg_pages: stack_expand, "randomly 32*4k (or 2*64k) pages" (fs/exec.c). */
const STACK_EXPAND = 0x20000n;
/** The top of the stack exec and the start-up write (arguments, auxv, the first frames). */
const STACK_TOUCHED = 0x2000n;

function roundUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

function overlaps(m: readonly MappedRange[], s: bigint, e: bigint): boolean {
  return m.some((r) => r.start < e && s < r.end);
}

/**
 * The generic check of an address hint (generic_get_unmapped_area and the arch versions): in the
 * user range, free, and clear of the guard gap below a stack above it.
 */
function hintFits(cfg: ArchConfig, m: readonly MappedRange[], addr: bigint, len: bigint): boolean {
  if (addr < cfg.mmapMinAddr || addr + len > cfg.taskSize || overlaps(m, addr, addr + len)) {
    return false;
  }
  const guard = 256n << BigInt(cfg.pageShift); // stack_guard_gap
  return !m.some((r) => r.growsDown && r.start >= addr + len && r.start - guard < addr + len);
}

/** The range [start, end) with the pages of [a, b) (offsets in it), clamped. */
function part(start: bigint, end: bigint, a: bigint, b: bigint, page: bigint, write: boolean) {
  const s = start + a / page * page;
  const e = start + roundUp(b, page);
  return { start: s, end: e < end ? e : end, write };
}

/** The VMAs of a freshly exec'd small static binary on `cfg` (sorted by address). */
export function execImage(cfg: ArchConfig): ExecVma[] {
  const x = cfg.exec;
  const page = 1n << BigInt(cfg.pageShift);
  const out: ExecVma[] = [];
  // load_elf_binary: the PT_LOADs at their link addresses (elf_map, MAP_PRIVATE of the file)
  let at = x.linkAddress;
  const segment = (name: string, bytes: bigint, prot: Prot, more: Partial<ExecVma> = {}) => {
    const len = roundUp(bytes, page);
    const v: ExecVma = {
      name,
      start: at,
      end: at + len,
      prot,
      touched: [],
      backing: { object: "binary", offset: at - x.linkAddress },
      ...more,
    };
    if (!v.backing) delete v.backing;
    at += len;
    out.push(v);
    return v;
  };
  const readAll = (v: ExecVma) => (v.touched = [{ start: v.start, end: v.end, write: false }]);
  if (x.separateCode) {
    readAll(segment("headers", IMAGE.headers, "read"));
    readAll(segment("text", IMAGE.text, "read", { exec: true }));
    readAll(segment("rodata", IMAGE.rodata, "read"));
  } else {
    readAll(segment("text", IMAGE.headers + IMAGE.text + IMAGE.rodata, "read", { exec: true }));
  }
  const relro = segment("relro", IMAGE.relro, "read", { account: true, protectAfter: true });
  relro.touched = [
    part(relro.start, relro.end, IMAGE.relro / 2n, IMAGE.relro, page, true),
    part(relro.start, relro.end, 0n, IMAGE.relro / 2n, page, false),
  ];
  const data = segment("data", IMAGE.data, "write", { account: true });
  data.touched = [{ start: data.start, end: data.end, write: true }];
  // the bss beyond the file's last page: an anonymous mapping (vm_brk_flags)
  const bss = segment("bss", IMAGE.bss, "write", { backing: undefined, account: true });
  bss.touched = [
    part(bss.start, bss.end, 0n, 0x1000n, page, false),
    part(bss.start, bss.end, IMAGE.bss - 0x1000n, IMAGE.bss, page, true),
  ];
  // brk from mm->start_brk = PAGE_ALIGN(end of bss): a VMA of its own (brk's do_brk_flags gets
  // no previous VMA: vma_prev_limit stops at start_brk)
  const heap = segment("heap", IMAGE.heap, "write", { backing: undefined, account: true });
  heap.touched = [part(heap.start, heap.end, 0n, 0x2000n, page, true)];
  // setup_arg_pages: the argument page (the strings fit in one) and stack_expand below it
  const stackLen = page + STACK_EXPAND;
  const touchedLen = STACK_TOUCHED < page ? page : STACK_TOUCHED;
  if (x.stackGrowsUp) {
    const s = x.stackGrowsUp.stackBase;
    out.push({
      name: "stack",
      start: s,
      end: s + stackLen,
      prot: "write",
      account: true,
      touched: [{ start: s, end: s + touchedLen, write: true }],
    });
  } else {
    const t = cfg.stackTop;
    out.push({
      name: "stack",
      start: t - stackLen,
      end: t,
      prot: "write",
      growsDown: true,
      account: true,
      touched: [{ start: t - touchedLen, end: t, write: true }],
    });
  }
  // arch_setup_additional_pages
  if (x.delaySlotPage !== undefined) {
    out.push({
      name: "delay slot page",
      start: x.delaySlotPage,
      end: x.delaySlotPage + page,
      prot: "read",
      exec: true,
      touched: [],
    });
  }
  if (x.special.length > 0) {
    const len = BigInt(x.special.reduce((n, m) => n + m.pages, 0)) * page;
    const mapped: MappedRange[] = out.map((v) => ({
      start: v.start,
      end: v.end,
      ...(v.growsDown ? { growsDown: true } : {}),
    }));
    let addr: bigint | undefined;
    const p = x.placement;
    if (p.kind === "fixed") addr = p.addr;
    else {
      if (p.kind === "hint" && hintFits(cfg, mapped, p.addr, len)) addr = p.addr;
      else {
        // get_unmapped_area(NULL, ...): flags 0, so neither MAP_SHARED nor a file
        const pad = x.align !== undefined ? (x.align - 1n) & ~(page - 1n) : 0n;
        addr = getUnmappedArea(cfg, mapped, { len: len + pad });
        if (addr !== undefined && x.align !== undefined) addr = roundUp(addr, x.align);
      }
    }
    if (addr !== undefined) {
      let off = 0n;
      for (const m of x.special) {
        const s = addr + off;
        const e = s + BigInt(m.pages) * page;
        const v: ExecVma = {
          name: m.name,
          start: s,
          end: e,
          prot: "read",
          special: true,
          touched: [],
        };
        if (m.kind === "text") v.exec = true;
        if (m.pfnmap) v.pfnmap = true;
        else v.backing = { object: "special", offset: off };
        if (m.prefault) v.touched = [{ start: s, end: e, write: false }];
        else if (m.touched) v.touched = [{ start: s, end: s + page, write: false }];
        out.push(v);
        off += e - s;
      }
    }
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** The page-cache objects exec maps on a machine: the binary's file and the vdso pages. */
const objectsOf = new WeakMap<Machine, { binary: number; special: number }>();

function execObjects(k: Machine, image: readonly ExecVma[]): { binary: number; special: number } {
  let o = objectsOf.get(k);
  if (o) return o;
  const page = 1n << BigInt(k.cfg.pageShift);
  let binaryEnd = 0n, specialEnd = 0n;
  for (const v of image) {
    if (!v.backing) continue;
    const end = v.backing.offset + (v.end - v.start);
    if (v.backing.object === "binary" && end > binaryEnd) binaryEnd = end;
    if (v.backing.object === "special" && end > specialEnd) specialEnd = end;
  }
  // the binary was just written: all its pages are in the page cache; a regular file, so its
  // pages count in MM_FILEPAGES; the vdso's pages are kernel pages, MM_FILEPAGES too, and a
  // special mapping has no ->map_pages (no fault-around)
  const binary = k.newObject("exec binary", Number(binaryEnd / page), true);
  const special = k.newObject("vdso pages", Math.max(1, Number(specialEnd / page)), true);
  k.objects.get(binary)!.regular = true;
  Object.assign(k.objects.get(special)!, { regular: true, noFaultAround: true });
  o = { binary, special };
  objectsOf.set(k, o);
  return o;
}

/** Faults [s, e) (pages) of the VMA at `s`, as a touch does; false on VM_FAULT_OOM. */
function touch(k: Machine, mm: Mm, s: number, e: number, write: boolean): boolean {
  for (let i = mm.findIndex(s); i < mm.vmas.length && mm.vmas[i].start < e; i++) {
    const v = mm.vmas[i];
    const lo = Math.max(s, v.start), hi = Math.min(e, v.end);
    if (lo < hi && !faultRange(k, mm, v, lo, hi, 1, !write)) return false;
  }
  return true;
}

/** Inserts a VMA as its own (no merge with a neighbour: brk's, or a special mapping). */
function addVma(mm: Mm, v: Vma): void {
  mm.vmas.splice(mm.findIndex(v.start), 0, v);
}

/**
 * load_elf_binary of the representative static binary into the new `mm` (its pgd made): the
 * stack (made at STACK_TOP_MAX and moved down by relocate_vma_down where STACK_TOP is lower),
 * the PT_LOADs, bss and brk, the special mappings (remap_pfn_range'd data at once), then the
 * faults of exec and of the start-up through the normal fault path, and glibc's mprotect of
 * RELRO. Returns false when a fault returned VM_FAULT_OOM.
 */
export function loadElfBinary(k: Machine, mm: Mm): boolean {
  const cfg = k.cfg;
  const image = execImage(cfg);
  const shift = BigInt(cfg.pageShift);
  const pg = (b: bigint) => Number(b >> shift);
  const objs = execObjects(k, image);
  if (k.trace) k.call("load_elf_binary", mm.name);
  const kindOf = (v: ExecVma): VmaKind => {
    const obj = v.backing ? (v.backing.object === "binary" ? objs.binary : objs.special) : 0;
    return {
      shared: false,
      obj,
      pgoff: v.backing ? pg(v.backing.offset) : pg(v.start),
      // RELRO is mapped writable; its mprotect comes after the writes
      prot: v.protectAfter ? "write" : v.prot,
      ...(v.exec ? { exec: true } : {}),
      ...(v.growsDown ? { growsDown: true } : {}),
      ...(v.account ? { account: true } : {}),
      ...(v.special ? { special: true } : {}),
      ...(v.pfnmap ? { pfnmap: true } : {}),
    };
  };
  const install = (v: ExecVma) => {
    const s = pg(v.start), e = pg(v.end);
    k.be.archMmap?.(k, mm, s, e);
    addVma(mm, { start: s, end: e, anonVma: 0, ...kindOf(v) });
  };
  const stack = image.find((v) => v.name === "stack")!;
  const argLen = 1n << shift; // the argument page
  // bprm_mm_init: the stack's first page at STACK_TOP_MAX; copy_strings writes the strings there
  const max = cfg.exec.stackTopMax;
  const argAt = stack.growsDown ? stack.end - argLen : stack.start;
  const first = max - argLen;
  install({ ...stack, start: first, end: first + argLen });
  if (!touch(k, mm, pg(first), pg(first + argLen), true)) return false;
  if (first !== argAt) {
    // setup_arg_pages -> relocate_vma_down: move_page_tables to the new place, free_pgd_range
    // of the old; the VMA keeps its flags
    if (k.trace) k.call("relocate_vma_down", `${mm.name} ${first - argAt} bytes`);
    doMremap(k, mm, pg(first), pg(argLen), pg(argAt), pg(argLen));
    const moved = mm.findVma(pg(argAt));
    if (moved) Object.assign(moved, kindOf(stack), { start: moved.start, end: moved.end });
  }
  // expand_stack_locked by stack_expand (down, or up with CONFIG_STACK_GROWSUP)
  const sv = mm.findVma(pg(argAt));
  if (sv) {
    sv.start = pg(stack.start);
    sv.end = pg(stack.end);
    sv.pgoff = sv.start;
  }
  // the PT_LOADs, bss, brk and the special mappings
  for (const v of image) {
    if (v.name === "stack") continue;
    install(v);
  }
  // remap_pfn_range'd data pages, then what exec writes and the start-up touches: writes first
  // (the page a write and a read share with 16K and 64K pages is then the written one)
  const faults: { s: number; e: number; write: boolean }[] = [];
  for (const v of image) {
    for (const t of v.touched) {
      if (v.name === "stack" && t.write) continue;
      faults.push({ s: pg(t.start), e: pg(t.end), write: t.write });
    }
  }
  faults.sort((a, b) => Number(b.write) - Number(a.write));
  for (const f of faults) if (!touch(k, mm, f.s, f.e, f.write)) return false;
  // the stack below the argument page: create_elf_tables and the first frames
  for (const t of stack.touched) {
    const s = pg(t.start), e = pg(t.end);
    const [a, b] = stack.growsDown
      ? [s, Math.min(e, pg(argAt))]
      : [Math.max(s, pg(argAt + argLen)), e];
    if (a < b && !touch(k, mm, a, b, true)) return false;
  }
  // _dl_protect_relro: mprotect(PROT_READ) of RELRO after the relocations
  for (const v of image) if (v.protectAfter) doMprotect(k, mm, pg(v.start), pg(v.end), "read");
  return true;
}
