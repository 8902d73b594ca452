/**
 * struct mm_struct as the model keeps it: VMAs, the root of the page-table tree, the
 * pgtables_bytes counter and the per-level table counts, RSS and mm_cpumask.
 *
 * @module
 */

/** A VMA: [start, end) in virtual page numbers, private anonymous. */
export interface Vma {
  /** First page. */
  start: number;
  /** Page after the last. */
  end: number;
  /** anon_vma id, 0 until the first write fault (anon_vma_prepare). */
  anonVma: number;
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
  /** CPUs currently running the mm. */
  cpus: number[] = [0];
  /** CPUs that ran it and now hold it as a lazy TLB mm. */
  lazy: number[] = [];
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

  /** CPU the mm's operations run on (the first CPU running it). */
  get cpu(): number {
    return this.cpus[0] ?? 0;
  }
}
