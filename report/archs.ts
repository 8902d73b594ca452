/**
 * Describing configurations: the `ptlab archs` listing (geometry of every configuration) and
 * `ptlab explain CONFIG` (how each level is allocated, counted and freed, naming kernel files).
 *
 * @module
 */

import type { ArchConfig, LevelGeometry } from "../engine/types.ts";
import { alignTable, bytes } from "./table.ts";

/** One level as a story tells it (see archs/config.ts `LevelStory`). */
export interface LevelText {
  /** The allocator. */
  alloc: string;
  /** What it adds to the counters. */
  counted: string;
  /** The free path. */
  free: string;
  /** The free path in one word. */
  via: string;
}

/** A configuration with its story, as the report needs it. */
export interface ConfigDescription {
  /** The resolved configuration. */
  config: ArchConfig;
  /** THP exists at PMD level in this configuration. */
  thpAvailable: boolean;
  /** Per present level. */
  levels: Partial<Record<string, LevelText>>;
  /** Other rules. */
  notes: string[];
}

/** Virtual address bits the top level resolves. */
export function vaBits(c: ArchConfig): number {
  return c.levels[0].shift + Math.log2(c.levels[0].entries);
}

/** Bytes one entry of the PMD level maps (the THP size), or 0 without a PMD level. */
export function pmdSize(c: ArchConfig): number {
  const pmd = c.levels[3];
  return pmd.folded === "none" ? 2 ** pmd.shift : 0;
}

function levelCell(l: LevelGeometry): string {
  if (l.folded !== "none") return l.folded === "runtime" ? "(folded)" : "-";
  const table = l.tableBytes === l.entries * l.entryBytes ? "" : ` in ${bytes(l.tableBytes)}`;
  return `${l.entries}x${l.entryBytes}${table}`;
}

/** `ptlab archs`: a row per configuration with its geometry and free paths. */
export function archsTable(items: readonly ConfigDescription[]): string {
  const header = [
    "configuration",
    "page",
    "VA",
    "levels",
    "pgd",
    "p4d",
    "pud",
    "pmd",
    "pte",
    "VmPTE per pud/pmd/pte",
    "THP",
    "freed via (p4d/pud/pmd/pte)",
  ];
  const rows = items.map((d) => {
    const c = d.config;
    const present = c.levels.filter((l) => l.folded === "none");
    return [
      c.name,
      bytes(2 ** c.pageShift),
      String(vaBits(c)),
      String(present.length),
      ...c.levels.map(levelCell),
      c.levels.slice(2).map((l) => l.pgtablesBytes).join("/"),
      d.thpAvailable ? bytes(pmdSize(c)) : "-",
      ["p4d", "pud", "pmd", "pte"].filter((n) => d.levels[n]).map((n) => d.levels[n]!.via)
        .join("/"),
    ];
  });
  return alignTable([header, ...rows], (i) => i === 2 || i === 3);
}

/** `ptlab explain CONFIG`: geometry, then per level how it is allocated, counted and freed. */
export function explainText(d: ConfigDescription): string {
  const c = d.config;
  const out: string[] = [];
  out.push(`${c.name} (${c.family}), kernel ${c.kernel}`);
  out.push(`  ${c.description}`);
  out.push(
    `  ${bytes(2 ** c.pageShift)} pages, ${vaBits(c)}-bit virtual addresses, user space ` +
      `0..0x${c.taskSize.toString(16)}` +
      (c.firstUserAddress ? `, FIRST_USER_ADDRESS 0x${c.firstUserAddress.toString(16)}` : "") +
      (c.userPgtablesCeiling
        ? `, USER_PGTABLES_CEILING 0x${c.userPgtablesCeiling.toString(16)}`
        : ""),
  );
  const geo = [["level", "shift", "entries", "entry", "table", "VmPTE per table"]];
  for (const l of c.levels) {
    geo.push(
      l.folded !== "none"
        ? [
          l.name,
          String(l.shift),
          `folded (${l.folded === "runtime" ? "at run time" : "compile time"})`,
          "",
          "",
          "",
        ]
        : [
          l.name,
          String(l.shift),
          String(l.entries),
          `${l.entryBytes} B`,
          bytes(l.tableBytes),
          l.pgtablesBytes ? bytes(l.pgtablesBytes) : "not counted",
        ],
    );
  }
  out.push("", alignTable(geo, (i) => i > 0 && i < 5).replace(/^/gm, "  "));
  for (const l of c.levels) {
    const t = d.levels[l.name];
    if (!t) continue;
    out.push("", `  ${l.name}:`);
    out.push(`    allocated: ${t.alloc}`);
    out.push(`    counted:   ${t.counted}`);
    out.push(`    freed:     ${t.free} [${t.via}]`);
  }
  const g = c.gather;
  const sel = [
    g.tableFree && "MMU_GATHER_TABLE_FREE",
    g.rcuTableFree && "MMU_GATHER_RCU_TABLE_FREE",
    g.noGather && "MMU_GATHER_NO_GATHER",
    g.mergeVmas && "MMU_GATHER_MERGE_VMAS",
    g.noRange && "MMU_GATHER_NO_RANGE",
  ].filter(Boolean).join(", ") || "none";
  out.push(
    "",
    `  mmu_gather (mm/mmu_gather.c): ${sel}; batches of ${g.bundle} + ${g.maxGatherBatchCount} x ` +
      `${g.maxGatherBatch} pages` + (g.tableFree ? `, table batch of ${g.maxTableBatch}` : "") +
      (g.tableFree ? `, tlb_needs_table_invalidate ${g.needsTableInvalidate}` : ""),
  );
  out.push(
    `  split ptlocks: pte ${c.splitPtePtlocks ? "yes" : "no"}, pmd ${
      c.splitPmdPtlocks ? "yes" : "no"
    }${c.allocSplitPtlocks ? " (allocated from the page->ptl cache)" : ""}; THP: ${
      d.thpAvailable ? `${bytes(pmdSize(c))} at PMD level (${c.thp ? "on" : "off"})` : "none"
    }${c.ptReclaim ? "; PT_RECLAIM" : ""}`,
  );
  for (const n of d.notes) out.push(`  - ${n}`);
  const opts = Object.entries(c.options).map(([k, v]) => `${k}=${v}`).join(" ");
  out.push(`  options: ${opts}`);
  return out.join("\n");
}
