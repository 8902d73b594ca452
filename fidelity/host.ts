/**
 * Asking the running kernel: what this host is (architecture, kernel version, paging mode, PTI),
 * building the C probe, and replaying a scenario's operations in real process memory to compare
 * its VmPTE and nr_page_table_pages with ptlab's figures.
 *
 * @module
 */

import type { Op, RunResult } from "../engine/types.ts";

/** What the host is, for choosing the configuration to compare with. */
export interface HostFacts {
  /** Kernel release (`uname -r`). */
  release: string;
  /** The modelled kernel version closest to the host's (`6.18` for 6.18.44). */
  kernel: string;
  /** Whether the host runs exactly a modelled version (major.minor). */
  exact: boolean;
  /** The configuration: x86_64-5level with LA57, else x86_64-4level. */
  config: string;
  /** Page-table isolation running (the `pti` CPU flag). */
  pti: boolean;
}

/** Why this host cannot be compared (not x86_64 Linux), or null. */
export function hostUnsupported(): string | null {
  if (Deno.build.os !== "linux") return `the host is ${Deno.build.os}, not Linux`;
  if (Deno.build.arch !== "x86_64") return `the host is ${Deno.build.arch}, not x86_64`;
  return null;
}

/** Maps the probe's `facts` reply to the configuration and modelled kernel to compare with. */
export function hostFacts(probe: { release: string; la57: boolean; pti: boolean }): HostFacts {
  const m = /^(\d+)\.(\d+)/.exec(probe.release);
  const v = m ? Number(m[1]) * 100 + Number(m[2]) : 0;
  if (v < 601) throw new Error(`Kernel ${probe.release} is older than 6.1, the oldest modelled`);
  const modelled: [number, string][] = [[601, "6.1"], [606, "6.6"], [612, "6.12"], [618, "6.18"]];
  let kernel = "6.1";
  for (const [n, s] of modelled) if (v >= n) kernel = s;
  return {
    release: probe.release,
    kernel,
    exact: modelled.some(([n]) => n === v),
    config: probe.la57 ? "x86_64-5level" : "x86_64-4level",
    pti: probe.pti,
  };
}

/** Asks a probe binary for the host's facts. */
export async function probeFacts(path: string): Promise<HostFacts> {
  const p = new Probe(path);
  try {
    await p.ready();
    const f = await p.send("facts");
    return hostFacts(f as { release: string; la57: boolean; pti: boolean });
  } finally {
    await p.close();
  }
}

/** Finds a C compiler on PATH. */
export function findCompiler(): string | null {
  for (const cc of ["cc", "gcc", "clang"]) {
    try {
      const r = new Deno.Command(cc, { args: ["--version"], stdout: "null", stderr: "null" })
        .outputSync();
      if (r.success) return cc;
    } catch { /* not there */ }
  }
  return null;
}

/** Compiles fidelity/probe.c into `dir`; returns the binary's path. */
export async function buildProbe(cc: string, dir: string): Promise<string> {
  const src = new URL("./probe.c", import.meta.url).pathname;
  const out = `${dir}/ptlab-probe`;
  const r = await new Deno.Command(cc, { args: ["-O1", "-o", out, src], stderr: "piped" })
    .output();
  if (!r.success) {
    throw new Error(`Building the probe failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/** One `measure` reply of the probe. */
export interface HostMeasure {
  /** Label. */
  label: string;
  /** The probe's VmPTE, kB. */
  vmpte: number;
  /** nr_page_table_pages (after stat_refresh), or -1 if it cannot be read precisely. */
  nrpt: number;
  /** It held still for 100 ms. */
  stable: boolean;
  /** The children's VmPTE, kB. */
  children: Record<string, number>;
}

/** A running probe, driven one command at a time. */
export class Probe {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buf = "";

  /** @param path the probe binary */
  constructor(path: string) {
    this.#child = new Deno.Command(path, { stdin: "piped", stdout: "piped", stderr: "inherit" })
      .spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  async #line(): Promise<Record<string, unknown>> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const l = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return JSON.parse(l);
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("The probe exited");
      this.#buf += value;
    }
  }

  /** Waits for the probe's first line. */
  async ready(): Promise<void> {
    await this.#line();
  }

  /** Sends a command and returns its reply; throws on an error reply. */
  async send(cmd: string): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode(cmd + "\n"));
    const r = await this.#line();
    if (typeof r.error === "string") throw new Error(`Probe: ${r.error} (command: ${cmd})`);
    return r;
  }

  /** Ends the probe. */
  async close(): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode("quit\n"));
      await this.#writer.close();
    } catch { /* gone already */ }
    await this.#reader.cancel().catch(() => {});
    await this.#child.status;
  }
}

/** One compared figure. */
export interface Comparison {
  /** Snapshot label. */
  label: string;
  /** What was compared (`a VmPTE`, `b VmPTE`, `nr_page_table_pages`). */
  what: string;
  /** ptlab's delta from the baseline. */
  model: number;
  /** The host's delta from the baseline (null: not comparable, see `note`). */
  host: number | null;
  /** Why it was not compared. */
  note?: string;
}

const hex = (v: bigint) => "0x" + v.toString(16);

/**
 * Replays the operations after `snapshot "baseline"` in the probe and pairs every later
 * snapshot's figures with the model's, as deltas from the baseline. The first process of the
 * scenario is the probe itself; `fork` makes real children.
 */
export async function compareWithHost(
  probePath: string,
  ops: readonly Op[],
  model: RunResult,
): Promise<Comparison[]> {
  const start = ops.findIndex((o) => o.op === "snapshot" && o.label === "baseline");
  if (start < 0) throw new Error('The scenario has no snapshot "baseline"');
  const self = ops.find((o) => o.op === "mm");
  if (!self || self.op !== "mm") throw new Error("The scenario creates no process");
  const snaps = new Map(model.snapshots.map((s) => [s.label, s]));
  const base = snaps.get("baseline")!;
  const probe = new Probe(probePath);
  const out: Comparison[] = [];
  try {
    await probe.ready();
    const b = await probe.send("measure baseline") as unknown as HostMeasure;
    const forkbase = (await probe.send("forkbase")).forkbase as number;
    const children = new Set<string>();
    for (const o of ops.slice(start + 1)) {
      switch (o.op) {
        case "map":
          await probe.send(`map ${hex(o.addr)} ${hex(o.size)}`);
          break;
        case "touch":
          await probe.send(`touch ${hex(o.addr)} ${hex(o.size)} ${hex(o.step)}`);
          break;
        case "unmap":
          await probe.send(`unmap ${hex(o.addr)} ${hex(o.size)}`);
          break;
        case "madvise":
          await probe.send(`dontneed ${hex(o.addr)} ${hex(o.size)}`);
          break;
        case "fork":
          if (o.mm !== self.name) throw new Error(`Only ${self.name} can fork on the host`);
          children.add(o.child);
          await probe.send(`fork ${o.child}`);
          break;
        case "exit":
          if (!children.delete(o.mm)) throw new Error(`Only forked children can exit on the host`);
          await probe.send(`exit ${o.mm}`);
          break;
        case "snapshot": {
          const h = await probe.send(
            `measure ${o.label.replaceAll(" ", "_")}`,
          ) as unknown as HostMeasure;
          const m = snaps.get(o.label)!;
          const a0 = base.mms[self.name].vmpte;
          out.push({
            label: o.label,
            what: `${self.name} VmPTE`,
            model: m.mms[self.name].vmpte - a0,
            host: (h.vmpte - b.vmpte) * 1024,
          });
          for (const c of Object.keys(m.mms)) {
            if (c === self.name) continue;
            out.push({
              label: o.label,
              what: `${c} VmPTE`,
              model: m.mms[c].vmpte - a0,
              host: c in h.children ? (h.children[c] - forkbase) * 1024 : null,
              note: c in h.children ? undefined : "no such child on the host",
            });
          }
          const nrModel = m.metrics.nr_page_table_pages - base.metrics.nr_page_table_pages;
          let note: string | undefined;
          if (b.nrpt < 0 || h.nrpt < 0) {
            note = "nr_page_table_pages needs /proc/sys/vm/stat_refresh";
          } else if (!b.stable || !h.stable) note = "nr_page_table_pages did not settle";
          else if (children.size > 0) note = "a forked child copies the probe's own tables";
          out.push({
            label: o.label,
            what: "nr_page_table_pages",
            model: nrModel,
            host: note ? null : h.nrpt - b.nrpt,
            note,
          });
          break;
        }
        case "let":
        case "expect":
          break;
        default:
          throw new Error(`"${o.op}" cannot be replayed on the host`);
      }
    }
  } finally {
    await probe.close();
  }
  return out;
}
