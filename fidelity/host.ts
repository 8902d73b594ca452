/**
 * Asking the running kernel: what this host is (architecture, kernel version, paging mode, PTI),
 * building the C probe, and replaying a scenario's operations in real process memory to compare
 * its VmPTE and nr_page_table_pages with ptlab's figures.
 *
 * @module
 */

import type { Op } from "../engine/types.ts";

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
  /** Online CPUs. */
  cpus: number;
  /** How the probe waits for RCU-deferred table frees (see {@link ProbeFacts}). */
  settle: ProbeFacts["settle"];
  /** Page-table pages can be read precisely (stat_refresh is writable). */
  statRefresh: boolean;
}

/** The probe's `facts` reply. */
export interface ProbeFacts {
  /** `uname -r`. */
  release: string;
  /** The CPU runs 5-level paging. */
  la57: boolean;
  /** Page-table isolation is on. */
  pti: boolean;
  /** Online CPUs. */
  cpus: number;
  /**
   * How the probe waits for RCU-deferred table frees: `membarrier` (two grace periods),
   * `rcu_barrier` (its sysfs trigger, where membarrier is refused) or `sleep`.
   */
  settle: "membarrier" | "rcu_barrier" | "sleep";
  /** /proc/sys/vm/stat_refresh can be written (nr_page_table_pages can be read precisely). */
  statRefresh: boolean;
}

/** Why this host cannot be compared (not x86_64 Linux), or null. */
export function hostUnsupported(): string | null {
  if (Deno.build.os !== "linux") return `the host is ${Deno.build.os}, not Linux`;
  if (Deno.build.arch !== "x86_64") return `the host is ${Deno.build.arch}, not x86_64`;
  return null;
}

/** Maps the probe's `facts` reply to the configuration and modelled kernel to compare with. */
export function hostFacts(probe: ProbeFacts): HostFacts {
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
    cpus: probe.cpus,
    settle: probe.settle,
    statRefresh: probe.statRefresh,
  };
}

/** Runs a probe binary with commands as arguments and returns its replies after `ready`. */
export function probeOnce(path: string, ...cmds: string[]): Record<string, unknown>[] {
  const r = new Deno.Command(path, { args: cmds, stdin: "null", stdout: "piped" }).outputSync();
  const lines = new TextDecoder().decode(r.stdout).split("\n").filter((l) => l);
  return lines.slice(1).map((l) => JSON.parse(l));
}

/** Asks a probe binary for the host's facts. */
export function probeFacts(path: string): HostFacts {
  return hostFacts(probeOnce(path, "facts")[0] as unknown as ProbeFacts);
}

/**
 * How a probe counts page-table pages on this host: only its own (`bpf`: the tables its cgroup
 * constructs, counted by a BPF program; `memcg`: its cgroup v2 memory.stat), or the whole
 * system's nr_page_table_pages (`system`, with why it cannot count only its own).
 */
export interface ProbeCounting {
  /** What it counts. */
  counting: "bpf" | "memcg" | "system";
  /** Why not its own tables only, when `system`. */
  why: string;
}

/** Asks a probe binary how it can count page-table pages here. */
export function probeCounting(path: string): ProbeCounting {
  const r = probeOnce(path, "isolate")[0] as unknown as ProbeCounting | undefined;
  return r ?? { counting: "system", why: "the probe did not answer" };
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

/** Compiles fidelity/probe.c (and probe_bpf.c) into `dir`; returns the binary's path. */
export function buildProbe(cc: string, dir: string): string {
  const src = ["probe.c", "probe_bpf.c"].map((f) => new URL(f, import.meta.url).pathname);
  const out = `${dir}/ptlab-probe`;
  const r = new Deno.Command(cc, { args: ["-O1", "-o", out, ...src], stderr: "piped" })
    .outputSync();
  if (!r.success) {
    throw new Error(`Building the probe failed: ${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

/** One `measure` reply of the probe. */
export interface HostReading {
  /** Label. */
  label: string;
  /** The probe's VmPTE, kB. */
  vmpte: number;
  /** The children's VmPTE, kB. */
  children: Record<string, number>;
  /**
   * Page-table pages once the probe's frees have landed: its cgroup's (memory.stat
   * `pagetables`), or the system's nr_page_table_pages; -1 if they cannot be read.
   */
  nrpt: number;
  /** How far that figure moved in a control window right after, with the probe idle. */
  drift: number;
}

/** What forking the probe costs at the baseline: what fork copies of the probe alone. */
export interface HostForkBase {
  /** VmPTE of a child forked at the baseline, kB. */
  vmpte: number;
  /** Page-table pages that fork added (the child's pgd and its copies of the probe's tables). */
  forkPages: number;
  /** Page-table pages that child's exit moved (the same, negated, when nothing else ran). */
  exitPages: number;
}

/** One replay of a scenario's operations after `snapshot "baseline"` in a fresh probe. */
export interface HostReplay {
  /** The probe's reading at the baseline. */
  baseline: HostReading;
  /** The cost of a fork at the baseline. */
  forkbase: HostForkBase;
  /** One reading per snapshot after the baseline, in order. */
  readings: HostReading[];
  /** How the page-table pages were counted (only the probe's own, or system-wide). */
  counting: ProbeCounting;
}

/** A running probe, driven by commands on its stdin. */
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

  /**
   * Sends operations (which reply nothing) and then one command, all at once, and returns that
   * command's reply; throws on an error reply (an operation's failure comes in its place).
   */
  async sendBatch(ops: readonly string[], cmd: string): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode([...ops, cmd].map((c) => c + "\n").join("")));
    const r = await this.#line();
    if (typeof r.error === "string") throw new Error(`Probe: ${r.error} (before: ${cmd})`);
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

const hex = (v: bigint) => "0x" + v.toString(16);

/** The operations after `snapshot "baseline"`, and the process that is the probe. */
export function replayedOps(ops: readonly Op[]): { self: string; after: readonly Op[] } {
  const start = ops.findIndex((o) => o.op === "snapshot" && o.label === "baseline");
  if (start < 0) throw new Error('The scenario has no snapshot "baseline"');
  const self = ops.find((o) => o.op === "mm");
  if (!self || self.op !== "mm") throw new Error("The scenario creates no process");
  return { self: self.name, after: ops.slice(start + 1) };
}

/**
 * The scenario's operations up to its baseline, then a fork of the probe's process and a
 * snapshot: run through the model, what a fork at the baseline costs there.
 */
export function forkBaseOps(ops: readonly Op[]): Op[] {
  const start = ops.findIndex((o) => o.op === "snapshot" && o.label === "baseline");
  const { self } = replayedOps(ops);
  const at = { line: ops[start].line, col: ops[start].col };
  return [
    ...ops.slice(0, start + 1).filter((o) => o.op !== "expect"),
    { ...at, op: "fork", mm: self, child: "forkbase" },
    { ...at, op: "snapshot", label: "forkbase" },
  ];
}

/** Options of {@link replayOnHost}. */
export interface ReplayOptions {
  /** Count only the probe's own page-table pages where the host allows (default true). */
  isolate?: boolean;
}

/**
 * Replays the operations after `snapshot "baseline"` in a fresh probe: the first process of the
 * scenario is the probe itself, `fork` makes real children. The commands between two snapshots
 * go to the probe at once, so the window in which other processes' page tables can show is
 * the commands' own time plus the settling.
 */
export async function replayOnHost(
  probePath: string,
  ops: readonly Op[],
  opts: ReplayOptions = {},
): Promise<HostReplay> {
  const { self, after } = replayedOps(ops);
  const probe = new Probe(probePath);
  try {
    await probe.ready();
    const counting: ProbeCounting = opts.isolate ?? true
      ? await probe.send("isolate") as unknown as ProbeCounting
      : { counting: "system", why: "not asked to count its own tables only" };
    const baseline = await probe.send("measure baseline") as unknown as HostReading;
    const forkbase = await probe.send("forkbase") as unknown as HostForkBase & {
      forkbase: number;
    };
    // the forkbase child came and went: measure again so the first interval starts after it
    const start = await probe.send("measure forkbase") as unknown as HostReading;
    const readings: HostReading[] = [];
    const children = new Set<string>();
    const files = new Map<string, number>();
    let batch: string[] = [];
    for (const o of after) {
      if ("mm" in o && o.op !== "fork" && o.op !== "exit" && o.mm !== self) {
        throw new Error(`Only ${self} can ${o.op} on the host (line ${o.line})`);
      }
      switch (o.op) {
        case "file":
          files.set(o.name, files.size);
          batch.push(`file ${files.size - 1} ${hex(o.size)}`);
          break;
        case "map":
          if (o.shared || o.backing !== undefined) {
            const fi = o.backing !== undefined ? files.get(o.backing) ?? -1 : -1;
            batch.push(
              `mapx ${hex(o.addr)} ${hex(o.size)} ${o.shared ? "shared" : "private"} ${fi} ${
                hex(o.offset ?? 0n)
              }`,
            );
          } else batch.push(`map ${hex(o.addr)} ${hex(o.size)}`);
          break;
        case "touch":
          batch.push(`${o.read ? "touchr" : "touch"} ${hex(o.addr)} ${hex(o.size)} ${hex(o.step)}`);
          break;
        case "unmap":
          batch.push(`unmap ${hex(o.addr)} ${hex(o.size)}`);
          break;
        case "madvise":
          batch.push(
            o.advice === "dontneed"
              ? `dontneed ${hex(o.addr)} ${hex(o.size)}`
              : `advise ${hex(o.addr)} ${hex(o.size)} ${o.advice}`,
          );
          break;
        case "mremap":
          batch.push(
            `mremap ${hex(o.addr)} ${hex(o.size)} ${hex(o.newAddr)} ${hex(o.newSize)}`,
          );
          break;
        case "mprotect":
          batch.push(`mprotect ${hex(o.addr)} ${hex(o.size)} ${o.prot}`);
          break;
        case "fork":
          if (o.mm !== self) throw new Error(`Only ${self} can fork on the host`);
          children.add(o.child);
          batch.push(`fork ${o.child}`);
          break;
        case "exit":
          if (!children.delete(o.mm)) throw new Error(`Only forked children can exit on the host`);
          batch.push(`exit ${o.mm}`);
          break;
        case "snapshot": {
          const r = await probe.sendBatch(batch, `measure ${o.label.replaceAll(" ", "_")}`);
          batch = [];
          readings.push({ ...r, label: o.label } as unknown as HostReading);
          break;
        }
        case "let":
        case "expect":
          break;
        default:
          throw new Error(`"${o.op}" cannot be replayed on the host (line ${o.line})`);
      }
    }
    return {
      // the first interval is measured from the reading after the forkbase child left
      baseline: { ...baseline, nrpt: start.nrpt, drift: start.drift },
      forkbase: {
        vmpte: forkbase.forkbase,
        forkPages: forkbase.forkPages,
        exitPages: forkbase.exitPages,
      },
      readings,
      counting,
    };
  } finally {
    await probe.close();
  }
}
