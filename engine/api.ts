/**
 * The engine's helper API for architecture backends: what arch code in the kernel calls
 * (pagetable_alloc, the ctors and dtors, tlb_remove_*, the gather's range helpers) and the types
 * it sees. `archs/` imports the engine only through this module.
 *
 * @module
 */

export type { AllocOne, Backend, FreeOne, FreeTlb } from "./backend.ts";
export {
  GFP,
  GFP_KERNEL_ACCOUNT,
  GFP_PGTABLE_KERNEL,
  GFP_PGTABLE_USER,
  PAGE_TYPE_TABLE,
  PG,
  Use,
} from "./frames.ts";
export {
  MmuGather,
  p4dFreeTlb,
  pmdFreeTlb,
  pteFreeTlb,
  pudFreeTlb,
  tlbAdjustRange,
  tlbFlushMmu,
  tlbFlushMmuTlbonly,
  tlbFlushRange,
  tlbRemovePage,
  tlbRemovePagePtdesc,
  tlbRemovePtdesc,
  tlbRemoveTable,
  tlbUnmapStride,
} from "./gather.ts";
export { Geometry, KmemCache, Machine } from "./machine.ts";
export {
  detachTable,
  hexPage,
  installPgd,
  installTable,
  mmIncNr,
  pteAllocMap,
  pushRoot,
} from "./memory.ts";
export type { Mm, Vma } from "./mm.ts";
export {
  freeFrameChecked,
  levelHasCtor,
  pagetableAlloc,
  pagetableDtor,
  pagetableDtorFree,
  pagetableFree,
  pagetableP4dCtor,
  pagetablePgdCtor,
  pagetablePmdCtor,
  pagetablePmdDtor,
  pagetablePteCtor,
  pagetablePteDtor,
  pagetablePudCtor,
  pagetablePudDtor,
  ptlockFree,
  ptlockInit,
  setPageActive,
} from "./ptdesc.ts";
export { HUGE, type Mem, memFrame, memOf, memSlot } from "./tables.ts";
export * from "./types.ts";
