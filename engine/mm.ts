/**
 * struct mm_struct as the model keeps it: VMAs, the root of the page-table tree, the
 * pgtables_bytes counter and the per-level table counts, RSS and mm_cpumask.
 *
 * @module
 */

import type { Prot } from "./types.ts";

/** A VMA: [start, end) in virtual page numbers. */
export interface Vma {
  /** First page. */
  start: number;
  /** Page after the last. */
  end: number;
  /** anon_vma id, 0 until the first write fault (anon_vma_prepare). */
  anonVma: number;
  /** VM_SHARED: writes go to the page cache object, fork shares it (no copy). */
  shared: boolean;
  /**
   * The page-cache object mapped ({@link PageCacheObject} id): a file, or the shmem object of
   * shared anonymous memory (shmem_zero_setup); 0 for private anonymous memory.
   */
  obj: number;
  /** vm_pgoff: the object's page at `start` (for anonymous memory, `start` itself). */
  pgoff: number;
  /** PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE. */
  prot: Prot;
  /** VM_HUGEPAGE (MADV_HUGEPAGE) or VM_NOHUGEPAGE (MADV_NOHUGEPAGE), when set. */
  huge?: "huge" | "nohuge";
  /** VM_HUGETLB: its hstate, an index into ArchConfig.hugetlb. */
  hugetlb?: number;
  /** VM_EXEC (the model's Prot has no execute bit: text and vdso differ from rodata by it). */
  exec?: boolean;
  /** VM_GROWSDOWN (the stack exec made). */
  growsDown?: boolean;
  /**
   * VM_ACCOUNT, when known (exec's writable segments keep it after glibc's mprotect of RELRO);
   * absent: a private writable mapping has it (mmap_region), others not.
   */
  account?: boolean;
  /** VM_DONTEXPAND of _install_special_mapping (vdso, vvar, sigpage): it never merges. */
  special?: boolean;
  /**
   * VM_PFNMAP (VM_IO): raw pfns with no struct page behind them in the accounting, as x86,
   * arm64, riscv, powerpc and s390 install [vvar]; fork's vma_needs_copy copies such a VMA's
   * tables (mm/memory.c), its entries count in no RSS counter.
   */
  pfnmap?: boolean;
}

/** A VMA's kind, what a new VMA copies from its template. */
export type VmaKind =
  & Pick<Vma, "shared" | "obj" | "pgoff" | "prot" | "huge" | "hugetlb">
  & Partial<Pick<Vma, "exec" | "growsDown" | "account" | "special" | "pfnmap">>;

/** Private anonymous read-write memory at `start`. */
export function anonKind(start: number): VmaKind {
  return { shared: false, obj: 0, pgoff: start, prot: "write" };
}

/** The part of `v` from `at` on, as a VMA of its own (the split's second half, __split_vma). */
export function vmaFrom(v: Vma, at: number): Vma {
  return { ...v, start: at, pgoff: v.pgoff + (at - v.start) };
}

/**
 * A page-cache object: a tmpfs file, or the shmem object behind shared anonymous memory. Which
 * of its pages are in the cache is a lazily made bitmap per 16,384 pages (its work follows the
 * tables touched, never the file's size).
 */
export interface PageCacheObject {
  /** The scenario's name (a file) or `shmem` for shared anonymous memory. */
  name: string;
  /** Size in pages. */
  pages: number;
  /** Bitmap chunks of the cached pages, by chunk index. */
  cached: Map<number, Uint32Array>;
  /** A scenario `file` (its pages are all in the cache, as after it was written). */
  full: boolean;
  /**
   * Not swap-backed (a regular file such as the exec'd binary, or the kernel's vdso pages):
   * its pages count in MM_FILEPAGES, not MM_SHMEMPAGES (mm_counter_file, include/linux/mm.h).
   */
  regular?: boolean;
  /**
   * No ->map_pages (a special mapping's pages): a read fault maps only its own page, no
   * fault-around (should_fault_around, mm/memory.c).
   */
  noFaultAround?: boolean;
  /**
   * The PMD-sized blocks (object page / pages per PMD) that are one THP in the cache, as
   * MADV_COLLAPSE's collapse_file left them (mm/khugepaged.c).
   */
  thp?: Set<number>;
}

/**
 * add_mm_counter(mm, mm_counter_file(folio), n): a page-cache page mapped (n > 0) or unmapped
 * (n < 0) counts in MM_FILEPAGES for a regular file, MM_SHMEMPAGES for tmpfs and shmem.
 */
export function addFileRss(mm: Mm, obj: PageCacheObject | undefined, n: number): void {
  if (obj?.regular) mm.rssFile += n;
  else mm.rssShmem += n;
}

/** A process address space. */
export class Mm {
  /** Unique id (never 0). */
  readonly id: number;
  /** Scenario name. */
  readonly name: string;
  /** Root table node (mm->pgd). */
  pgd = 0;
  /**
   * Level of the root table: 0 normally; s390 starts a task at the region-3 table (2) and
   * crst_table_upgrade raises it (1, then 0) when a higher address is mapped.
   */
  top = 0;
  /** VMAs sorted by start, not overlapping. */
  vmas: Vma[] = [];
  /** mm->pgtables_bytes (include/linux/mm.h mm_inc_nr_ptes and friends). */
  pgtablesBytes = 0;
  /** Live tables per level (pgd, p4d, pud, pmd, pte). */
  tables: number[] = [0, 0, 0, 0, 0];
  /** MM_ANONPAGES. */
  rssPages = 0;
  /** MM_FILEPAGES (page-cache pages of files that are not shmem). */
  rssFile = 0;
  /** MM_SHMEMPAGES (tmpfs and shared anonymous pages). */
  rssShmem = 0;
  /** mm->hugetlb_usage in base pages (HugetlbPages of /proc/PID/status). */
  hugetlbPages = 0;
  /** CPUs currently running the mm. */
  cpus: number[] = [0];
  /** CPUs that ran it and now hold it as a lazy TLB mm. */
  lazy: number[] = [];
  /**
   * CPUs still in mm_cpumask that no longer have the mm loaded: from 6.14 x86's switch_mm_irqs_off
   * leaves the CPU in the previous mm's mask and the next flush IPI to it clears it
   * (arch/x86/mm/tlb.c, 209954cbc7d0 "x86/mm/tlb: Update mm_cpumask lazily").
   */
  stale: number[] = [];
  /**
   * The IPIs of the mm's last TLB flush reached every other CPU that could be walking its
   * tables (what `sync_ipi = skip_if_flushed` asks before tlb_remove_table_sync_one).
   */
  flushCovered = false;
  /** Arch context (mm->context): fragment caches, asce limit, lists of frames ... */
  context: Record<string, number | number[]> = {};
  /** The mm was torn down. */
  dead = false;

  /** A process with no VMAs and no tables yet. */
  constructor(id: number, name: string) {
    this.id = id;
    this.name = name;
  }

  /** Index of the first VMA whose end is above `vpn`. */
  findIndex(vpn: number): number {
    let lo = 0, hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid].end <= vpn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The VMA containing `vpn` (find_vma + containment), or undefined. */
  findVma(vpn: number): Vma | undefined {
    const v = this.vmas[this.findIndex(vpn)];
    return v && v.start <= vpn ? v : undefined;
  }

  /**
   * CPU the mm's operations run on: the first CPU running it; with every thread idle, the CPU it
   * last ran on (its first lazy one) wakes it.
   */
  get cpu(): number {
    return this.cpus[0] ?? this.lazy[0] ?? 0;
  }
}
