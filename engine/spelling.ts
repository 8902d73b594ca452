/**
 * Kernel function names as each modelled version spells them, so a trace of `--kernel 6.1`
 * reads like 6.1 source and one of `--kernel 6.6` like the ptdesc series' result.
 *
 * The engine calls `Machine.call` with the 6.6 (ptdesc) spelling; this table maps it to the
 * version's own name.
 *
 * @module
 */

/** [first version (as 601, 606, 612 ...), spelling from that version on], oldest first. */
const NAMES: Record<string, [number, string][]> = {
  // include/linux/mm.h: the struct page API of 6.1 became the ptdesc API in 6.6 (Vishal Moola's
  // "Split ptdesc from struct page"); the _noprof allocation-profiling wrappers arrived in 6.10;
  // one pagetable_dtor for every level replaced the per-level dtors in 6.14 (Qi Zheng).
  "pagetable_alloc": [[601, "alloc_pages"], [606, "pagetable_alloc"], [
    610,
    "pagetable_alloc_noprof",
  ]],
  "pagetable_free": [[601, "__free_pages"], [606, "pagetable_free"]],
  "pagetable_pte_ctor": [[601, "pgtable_pte_page_ctor"], [606, "pagetable_pte_ctor"]],
  "pagetable_pte_dtor": [[601, "pgtable_pte_page_dtor"], [606, "pagetable_pte_dtor"], [
    614,
    "pagetable_dtor",
  ]],
  "pagetable_pmd_ctor": [[601, "pgtable_pmd_page_ctor"], [606, "pagetable_pmd_ctor"]],
  "pagetable_pmd_dtor": [[601, "pgtable_pmd_page_dtor"], [606, "pagetable_pmd_dtor"], [
    614,
    "pagetable_dtor",
  ]],
  "pagetable_pud_dtor": [[607, "pagetable_pud_dtor"], [614, "pagetable_dtor"]],
  "pagetable_p4d_dtor": [[614, "pagetable_dtor"]],
  "pagetable_pgd_dtor": [[614, "pagetable_dtor"]],
  // include/asm-generic/tlb.h: page-table pages entered the gather as struct page in 6.1 (the
  // arch called tlb_remove_page / tlb_remove_table itself: no wrapper to trace); 6.15 removed
  // tlb_remove_page_ptdesc.
  "tlb_remove_page_ptdesc": [[601, ""], [606, "tlb_remove_page_ptdesc"]],
  "tlb_remove_ptdesc": [[601, ""], [606, "tlb_remove_ptdesc"]],
  "__pte_alloc_one": [[601, "__pte_alloc_one"], [610, "__pte_alloc_one_noprof"]],
  "pte_alloc_one": [[601, "pte_alloc_one"], [610, "pte_alloc_one_noprof"]],
  "pmd_alloc_one": [[601, "pmd_alloc_one"], [610, "pmd_alloc_one_noprof"]],
  "__pud_alloc_one": [[601, "__pud_alloc_one"], [610, "__pud_alloc_one_noprof"]],
  "p4d_alloc_one": [[601, "p4d_alloc_one"], [610, "p4d_alloc_one_noprof"]],
};

/**
 * The name of kernel function `fn` (6.6 spelling) in kernel version `kv` (e.g. 601); "" when the
 * function does not exist in that version (the call is not traced).
 */
export function spell(
  fn: string,
  kv: number,
  arch?: Readonly<Record<string, readonly (readonly [number, string])[]>>,
): string {
  const list = arch?.[fn] ?? NAMES[fn];
  if (!list) return fn;
  let name = fn;
  for (const [v, n] of list) if (kv >= v) name = n;
  return name;
}
