/**
 * Judging host replays against the model: which figures are compared, and the rule that decides
 * when the host agrees.
 *
 * - VmPTE is the probe's own counter (`mm->pgtables_bytes`): every replay must equal the model
 *   exactly, as a delta from the baseline; a child's as a delta from a child forked at the
 *   baseline. Where the scenario's process is `mm NAME exec`, the baseline itself too.
 * - Page-table pages are compared per interval (from one snapshot to the next), so each
 *   comparison spans only the commands of that interval and their settling. A fork's cost at the
 *   baseline (the child's pgd and its copies of the probe's own tables, which the model does not
 *   have) is taken out on both sides, per child forked or exited in the interval.
 * - IPIs per CPU, where the probe counts them (fidelity/probe_ipi.c): the `TLB` and `CAL` lines
 *   of /proc/interrupts as the probe's own tasks moved them in each interval (flush_tlb_func
 *   counts in both, tlb_remove_table_smp_sync in CAL): the median of replays must equal the
 *   model exactly, by the rule for system-wide pages below. An interval in which the watched
 *   CPU was seen not to be in the state the scenario gives it is not compared (a replay with
 *   such interference is repeated before it comes here); what cannot be seen is in `noisy`.
 * - Where the figure is the probe's own cgroup's, every replay must equal the model exactly.
 *   Where it is system-wide (`nr_page_table_pages`), any other process allocating or freeing
 *   page tables at the same moment shows in it: the median of the replays must equal the
 *   model. Two replays that agree everywhere settle it (the median of three is then their
 *   value); otherwise a third, and if a median of three still differs from the model, five. A
 *   replay that disagrees is reported with the movement seen in the control windows around that
 *   interval (the system-wide change while the probe was idle), not hidden.
 *
 * @module
 */

import type { Op, RunResult, Snapshot } from "../engine/types.ts";
import type { HostIpis, HostReading, HostReplay } from "./host.ts";
import { replayedOps, replaysExec } from "./host.ts";

/** One figure of one replay. */
export interface Comparison {
  /** Snapshot label. */
  label: string;
  /** What was compared (`a VmPTE`, `b VmPTE`, `nr_page_table_pages`). */
  what: string;
  /** VmPTE and IPI rows: exact in every replay; page rows: by the replay rule. */
  kind: "vmpte" | "pages" | "ipis";
  /** ptlab's figure (VmPTE: delta from the baseline; pages: change over the interval). */
  model: number;
  /** The host's figure, or null when it cannot be compared (see `note`). */
  host: number | null;
  /** Movement of the page-table figure in the control windows before and after the interval. */
  drift: number;
  /** Why it was not compared. */
  note?: string;
}

/** The compared figures of one replay, in snapshot order. */
export function compareReplay(
  replay: HostReplay,
  ops: readonly Op[],
  model: RunResult,
  modelForkPages: number,
): Comparison[] {
  const { self, after } = replayedOps(ops);
  const bi = model.snapshots.findIndex((s) => s.label === "baseline");
  const snaps = model.snapshots.slice(bi + 1);
  const base = model.snapshots[bi];
  const pagesName = replay.counting.counting === "system"
    ? "nr_page_table_pages"
    : "page-table pages (own)";
  const out: Comparison[] = [];
  if (replaysExec(ops)) {
    // the probe is a process as exec left it: its whole VmPTE, not only what changes after
    out.push({
      label: "baseline",
      what: `${self} VmPTE (whole, after exec)`,
      kind: "vmpte",
      model: base.mms[self].vmpte,
      host: replay.baseline.vmpte * 1024,
      drift: 0,
    });
  }
  let prevModel = base.metrics.nr_page_table_pages;
  let prevHost = replay.baseline.nrpt + replay.baseline.drift;
  let prevDrift = replay.baseline.drift;
  let children = 0, prevChildren = 0, i = 0;
  let prevSnap = base, prevReading = replay.baseline;
  for (const o of after) {
    if (o.op === "fork") children++;
    if (o.op === "exit") children--;
    if (o.op !== "snapshot") continue;
    const h = replay.readings[i];
    const m = snaps[i++];
    const a0 = base.mms[self].vmpte;
    out.push({
      label: o.label,
      what: `${self} VmPTE`,
      kind: "vmpte",
      model: m.mms[self].vmpte - a0,
      host: (h.vmpte - replay.baseline.vmpte) * 1024,
      drift: 0,
    });
    for (const c of Object.keys(m.mms)) {
      if (c === self) continue;
      const there = c in h.children;
      out.push({
        label: o.label,
        what: `${c} VmPTE`,
        kind: "vmpte",
        model: m.mms[c].vmpte - a0,
        host: there ? (h.children[c] - replay.forkbase.vmpte) * 1024 : null,
        drift: 0,
        note: there ? undefined : "no such child on the host",
      });
    }
    const forks = children - prevChildren;
    const nrModel = m.metrics.nr_page_table_pages - prevModel - forks * modelForkPages;
    const readable = h.nrpt >= 0 && replay.baseline.nrpt >= 0;
    out.push({
      label: o.label,
      what: pagesName,
      kind: "pages",
      model: nrModel,
      host: readable ? h.nrpt - prevHost - forks * replay.forkbase.forkPages : null,
      drift: Math.abs(prevDrift) + Math.abs(h.drift),
      note: readable ? undefined : "page-table pages cannot be read (stat_refresh needs root)",
    });
    out.push(...ipiRows(o.label, m, prevSnap, h, prevReading));
    prevSnap = m;
    prevReading = h;
    prevModel = m.metrics.nr_page_table_pages;
    prevHost = h.nrpt + h.drift;
    prevDrift = h.drift;
    prevChildren = children;
  }
  return out;
}

/** The host's TLB and CAL counts of one CPU from the probe's IPIs (see {@link HostIpis}). */
function hostLines(x: HostIpis, c: number): { TLB: number; CAL: number } {
  return { TLB: x.flush[c], CAL: x.flush[c] + x.sync[c] };
}

/** The per-CPU TLB and CAL rows of one interval, where both sides counted IPIs. */
function ipiRows(
  label: string,
  m: Snapshot,
  pm: Snapshot,
  h: HostReading,
  ph: HostReading,
): Comparison[] {
  if (!h.ipis || !ph.ipis) return [];
  const interfered = h.ipis.interfered - ph.ipis.interfered + h.ipis.pvskip - ph.ipis.pvskip;
  const out: Comparison[] = [];
  const cpus = Math.min(h.ipis.flush.length, m.cpus.ipis.length);
  for (let c = 0; c < cpus; c++) {
    const now = hostLines(h.ipis, c), was = hostLines(ph.ipis, c);
    for (const line of ["TLB", "CAL"] as const) {
      const model = (m.cpus.lines[line]?.[c] ?? 0) - (pm.cpus.lines[line]?.[c] ?? 0);
      const raw = h.ipis.raw[line][c] - ph.ipis.raw[line][c];
      out.push({
        label,
        what: `cpu[${c}] ${line}`,
        kind: "ipis",
        model,
        host: interfered ? null : now[line] - was[line],
        drift: raw,
        note: interfered
          ? `CPU states disturbed ${interfered} time(s): other tasks, or a PV flush skip`
          : undefined,
      });
    }
  }
  return out;
}

/** Whether a replay's IPI counts were disturbed in any interval (it is then repeated). */
export function ipisDisturbed(replay: HostReplay): boolean {
  const last = replay.readings.at(-1)?.ipis, first = replay.baseline.ipis;
  if (!last || !first) return false;
  return last.interfered + last.pvskip > first.interfered + first.pvskip;
}

/** One figure judged over all replays. */
export interface Judged {
  /** Snapshot label. */
  label: string;
  /** What was compared. */
  what: string;
  /** VmPTE or page-table pages. */
  kind: Comparison["kind"];
  /** ptlab's figure. */
  model: number;
  /** The host's figure the rule settled on (the median for system-wide pages), or null. */
  host: number | null;
  /** Every replay's host figure, in order. */
  replays: (number | null)[];
  /** Every replay's control-window movement for this figure. */
  drifts: number[];
  /** Whether the host agrees with the model by the rule. */
  ok: boolean;
  /** Why the figure was not compared. */
  note?: string;
}

/** The verdict over the replays so far. */
export interface Verdict {
  /** Another replay is needed before the rule can decide. */
  more: boolean;
  /** Every figure agrees (meaningful when `more` is false). */
  ok: boolean;
  /** The figures, judged. */
  rows: Judged[];
}

/**
 * Figures judged by the median of replays: system-wide page-table pages, and IPIs, where one
 * disturbance stays unseen (a KVM guest's PV TLB flush skipping a halted vCPU the host preempted:
 * the mask kvm_flush_tlb_multi drops it from needs a kprobe, which not every kernel has).
 */
function noisy(kind: Comparison["kind"], exact: boolean): boolean {
  return kind === "ipis" || (kind === "pages" && !exact);
}

/** The most replays the rule asks for. */
export const MAX_REPLAYS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1];
}

/**
 * Applies the rule to the replays so far (each from {@link compareReplay}, all of one scenario).
 * `exact`: the page figure is the probe's cgroup's, so every replay must agree, like VmPTE.
 */
export function judge(replays: readonly Comparison[][], exact: boolean): Verdict {
  const n = replays.length;
  const rows: Judged[] = replays[0].map((first, k) => {
    const values = replays.map((r) => r[k].host);
    const drifts = replays.map((r) => r[k].drift);
    const base = {
      label: first.label,
      what: first.what,
      kind: first.kind,
      model: first.model,
      drifts,
    };
    if (values.some((v) => v === null)) {
      return { ...base, host: null, replays: values, ok: true, note: first.note };
    }
    const vs = values as number[];
    if (!noisy(first.kind, exact)) {
      const bad = vs.find((v) => v !== first.model);
      return { ...base, host: bad ?? first.model, replays: vs, ok: bad === undefined };
    }
    const host = median(vs);
    return { ...base, host, replays: vs, ok: host === first.model };
  });
  const ok = rows.every((r) => r.ok);
  const exactRows = rows.filter((r) => !noisy(r.kind, exact));
  const pages = rows.filter((r) => r.host !== null && noisy(r.kind, exact));
  const allSame = pages.every((r) => r.replays.every((v) => v === r.replays[0]));
  // an exact figure that differs decides at once; system-wide pages as described above
  let more: boolean;
  if (!exactRows.every((r) => r.ok)) more = false;
  else if (n >= MAX_REPLAYS) more = false;
  else if (n < 2) more = pages.length > 0;
  else if (n === 2) more = !allSame;
  else if (n === 3) more = !ok; // go on to five only if the median of three differs
  else more = true; // four: an even count has no median of its own; the fifth decides
  return { more, ok, rows };
}

/** The judged figures as a table, with every replay's figure where they differed. */
export function judgedTable(rows: readonly Judged[]): string {
  return rows.map((r) => {
    const host = r.host === null ? `-  (${r.note})` : String(r.host).padStart(9);
    const differ = r.replays.some((v) => v !== r.model);
    const detail = !differ || r.host === null
      ? ""
      : `  replays ${
        r.replays.map((v, i) =>
          v === r.model
            ? String(v)
            : r.kind === "ipis"
            ? `${v} (/proc/interrupts moved ${r.drifts[i]})`
            : `${v} (control windows moved ${r.drifts[i]})`
        ).join(", ")
      }`;
    // what /proc/interrupts showed meanwhile, whoever caused it
    const raw = r.kind === "ipis" && r.host !== null ? `  (/proc/interrupts +${r.drifts[0]})` : "";
    return `  ${r.label.padEnd(22)} ${r.what.padEnd(26)} ptlab ${
      String(r.model).padStart(9)
    }  host ${host}${r.ok ? "" : "  DIFFERS"}${raw}${detail}`;
  }).join("\n");
}
