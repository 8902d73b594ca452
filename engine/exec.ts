/**
 * The address space execve leaves for a small static binary (fs/binfmt_elf.c load_elf_binary,
 * fs/exec.c setup_arg_pages, the arch's vdso setup), ASLR off.
 *
 * @module
 */

import type { ArchConfig, Prot } from "./types.ts";

/** One VMA of the exec'd image, in bytes. */
export interface ExecVma {
  /** What /proc/PID/maps calls it (`text`, `data`, `heap`, `vvar`, `vdso`, `stack`). */
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
}

/** The VMAs of a freshly exec'd small static binary on `cfg` (sorted by address). */
export function execImage(cfg: ArchConfig): ExecVma[] {
  void cfg;
  return [];
}
