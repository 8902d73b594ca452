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

/**
 * Compiles fidelity/probe.c (and probe_bpf.c, probe_ipi.c) into `dir`; returns the binary's path. `static`:
 * linked statically (`cc -static`), a small static binary for `mm NAME exec` workloads.
 */
export function buildProbe(cc: string, dir: string, opts: { static?: boolean } = {}): string {
  const src = ["probe.c", "probe_bpf.c", "probe_ipi.c"]
    .map((f) => new URL(f, import.meta.url).pathname);
  const out = `${dir}/ptlab-probe${opts.static ? "-static" : ""}`;
  const args = ["-O1", "-pthread", ...(opts.static ? ["-static"] : []), "-o", out, ...src];
  const r = new Deno.Command(cc, { args, stderr: "piped" }).outputSync();
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
  /** The IPIs the probe's cgroup queued so far, when it counts them (`ipicount`). */
  ipis?: HostIpis;
}

/**
 * The IPIs the probe's tasks queued so far, per receiving CPU, by the callback they run there
 * (fidelity/probe_ipi.c), and what made them not a measurement of the model's CPU states.
 */
export interface HostIpis {
  /** flush_tlb_func: counts in the TLB line and the CAL line of /proc/interrupts. */
  flush: number[];
  /** tlb_remove_table_smp_sync: counts in CAL. */
  sync: number[];
  /** Any other callback (membarrier, the settling's RCU work ...). */
  other: number[];
  /** sched_ttwu_pending: wakeups queued on a CPU's wakelist (the scheduler's, in CAL too). */
  wake: number[];
  /**
   * Times the watched CPU was not as the scenario says: a flush while the busy thread was not
   * running there, or a user task loading its mm there while the blocked thread's was loaded.
   */
  interfered: number;
  /** Busy-phase flushes that reached no flush_tlb_func on the thread's CPU (PV TLB flush). */
  pvskip: number;
  /** The TLB and CAL lines of /proc/interrupts per CPU, whoever caused them. */
  raw: { TLB: number[]; CAL: number[] };
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
  /** Whether the IPIs were counted (the readings carry `ipis`), or why not. */
  ipiCounting: { counting: boolean; why: string };
}

/** How long a probe reply may take (the largest workloads answer in under a second). */
const PROBE_TIMEOUT_MS = 120_000;

/** The probe's first line. */
export interface ProbeReady {
  /** Its process id. */
  pid: number;
  /** Its VmPTE as it starts, kB. */
  vmpte: number;
  /** The CPU it and its children run on. */
  cpu: number;
  /** ASLR is off for it (ADDR_NO_RANDOMIZE). */
  norandom: boolean;
}

/** A running probe, driven by commands on its stdin. */
export class Probe {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buf = "";

  /**
   * @param path the probe binary
   * @param norandom run it with ASLR off (PTLAB_PROBE_NORANDOM)
   */
  constructor(path: string, norandom = false) {
    this.#child = new Deno.Command(path, {
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      ...(norandom ? { env: { PTLAB_PROBE_NORANDOM: "1" } } : {}),
    }).spawn();
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          try {
            this.#child.kill("SIGKILL");
          } catch { /* gone already */ }
          reject(new Error(`The probe did not answer in ${PROBE_TIMEOUT_MS / 1000} s`));
        }, PROBE_TIMEOUT_MS);
      });
      const { value, done } = await Promise.race([this.#reader.read(), late])
        .finally(() => clearTimeout(timer));
      if (done) throw new Error("The probe exited");
      this.#buf += value;
    }
  }

  /** Waits for the probe's first line and returns it. */
  async ready(): Promise<ProbeReady> {
    return await this.#line() as unknown as ProbeReady;
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

/**
 * Whether the probe's process is `mm NAME exec`: then the probe must be the static build run
 * with ASLR off ({@link buildProbe} `static`), and its baseline is compared whole, not only what
 * changes after it.
 */
export function replaysExec(ops: readonly Op[]): boolean {
  const self = ops.find((o) => o.op === "mm");
  return self?.op === "mm" && self.exec === true;
}

/**
 * The probe command for one memory operation (map ... mprotect), or why it cannot be carried
 * out on the host. `files`: the index the probe gave each `file`; `execd`: the probe is a
 * process as exec left it (ASLR off), so a map without an address can be placed by the kernel.
 */
export function probeCommand(o: Op, files: ReadonlyMap<string, number>, execd: boolean): string {
  switch (o.op) {
    case "map": {
      if (o.chosen && !execd) {
        throw new Error(
          `A map without an address needs the probe as exec leaves it: the scenario's process ` +
            `must be \`mm NAME exec\` (line ${o.line})`,
        );
      }
      const plain = !o.shared && o.backing === undefined && !o.hugetlb && !o.chosen &&
        (o.prot ?? "write") === "write";
      if (plain) return `map ${hex(o.addr)} ${hex(o.size)}`;
      const fi = o.backing !== undefined ? files.get(o.backing) ?? -1 : -1;
      return `mapx ${hex(o.addr)} ${hex(o.size)} ${o.shared ? "shared" : "private"} ${fi} ${
        hex(o.offset ?? 0n)
      } ${o.prot ?? "write"} ${hex(o.backing === undefined ? o.hugetlb ?? 0n : 0n)} ${
        o.chosen ? "any" : "fixed"
      }`;
    }
    case "touch":
      return `${o.read ? "touchr" : "touch"} ${hex(o.addr)} ${hex(o.size)} ${hex(o.step)}`;
    case "unmap":
      return `unmap ${hex(o.addr)} ${hex(o.size)}`;
    case "madvise":
      return o.advice === "dontneed"
        ? `dontneed ${hex(o.addr)} ${hex(o.size)}`
        : `advise ${hex(o.addr)} ${hex(o.size)} ${o.advice}`;
    case "mremap":
      return `mremap ${hex(o.addr)} ${hex(o.size)} ${hex(o.newAddr)} ${hex(o.newSize)}`;
    case "mprotect":
      return `mprotect ${hex(o.addr)} ${hex(o.size)} ${o.prot}`;
    default:
      throw new Error(`"${o.op}" cannot be replayed on the host (line ${o.line})`);
  }
}

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
 * The probe's `thread` commands for the CPU states a `run` or `idle` of the scenario asks for,
 * given the CPUs the probe's process runs on before it (`running`, updated). The probe's main
 * thread stays on its own CPU (`home`); one more thread can run, be blocked (its CPU idle, the
 * mm lazily loaded) and run again.
 */
export function threadCommands(
  o: Op,
  self: string,
  home: number,
  running: Set<number>,
): string[] {
  const out: string[] = [];
  if (o.op === "run") {
    if (o.mm !== self) {
      throw new Error(`Only ${self}, the probe, can run on the host's CPUs (line ${o.line})`);
    }
    if (!o.cpus.includes(home)) {
      throw new Error(
        `The probe's main thread stays on CPU ${home}: \`run ${self}\` must name it (line ${o.line})`,
      );
    }
    for (const c of running) if (!o.cpus.includes(c)) out.push(`thread ${c} block`);
    for (const c of o.cpus) if (c !== home && !running.has(c)) out.push(`thread ${c} busy`);
    running.clear();
    for (const c of o.cpus) if (c !== home) running.add(c);
  } else if (o.op === "idle") {
    if (o.cpus.includes(home)) {
      throw new Error(`CPU ${home} runs the probe's main thread: it cannot idle (line ${o.line})`);
    }
    for (const c of o.cpus) {
      if (running.delete(c)) out.push(`thread ${c} block`);
    }
  }
  const threads = new Set([...running, ...out.map((c) => Number(c.split(" ")[1]))]);
  if (threads.size > 1) {
    throw new Error(`The probe has one thread besides its main: CPUs ${[...threads].join(", ")}`);
  }
  return out;
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
  const execd = replaysExec(ops);
  const probe = new Probe(probePath, execd);
  try {
    const ready = await probe.ready();
    if (execd && !ready.norandom) throw new Error("The probe could not turn ASLR off");
    const counting: ProbeCounting = opts.isolate ?? true
      ? await probe.send("isolate") as unknown as ProbeCounting
      : { counting: "system", why: "not asked to count its own tables only" };
    const ipiCounting = counting.counting === "system"
      ? { counting: false, why: "the probe has no cgroup of its own" }
      : await probe.send("ipicount") as unknown as { counting: boolean; why: string };
    // the CPUs the probe's process runs on at the baseline: its threads start there
    const running = new Set<number>();
    const threads = ops.slice(0, ops.length - after.length)
      .flatMap((o) => threadCommands(o, self, ready.cpu, running));
    const baseline = await probe.sendBatch(threads, "measure baseline") as unknown as HostReading;
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
      if (o.op === "snapshot") {
        const r = await probe.sendBatch(batch, `measure ${o.label.replaceAll(" ", "_")}`);
        batch = [];
        readings.push({ ...r, label: o.label } as unknown as HostReading);
        continue;
      }
      if (o.op === "let" || o.op === "expect") continue;
      if (o.op === "file") {
        files.set(o.name, files.size);
        batch.push(`file ${files.size - 1} ${hex(o.size)}${o.hugetlb ? ` ${hex(o.hugetlb)}` : ""}`);
        continue;
      }
      if (o.op === "fork") {
        if (o.mm !== self) throw new Error(`Only ${self} can fork on the host (line ${o.line})`);
        children.add(o.child);
        batch.push(`fork ${o.child}`);
        continue;
      }
      if (o.op === "exit") {
        if (!children.delete(o.mm)) {
          throw new Error(`Only forked children can exit on the host (line ${o.line})`);
        }
        batch.push(`exit ${o.mm}`);
        continue;
      }
      if (o.op === "run" || o.op === "idle") {
        batch.push(...threadCommands(o, self, ready.cpu, running));
        continue;
      }
      const cmd = probeCommand(o, files, execd);
      if ("mm" in o && o.mm !== self) {
        // a child's own operation: the probe hands it to that child
        if (!children.has(o.mm)) {
          throw new Error(
            `Only ${self} and its live children can ${o.op} on the host (line ${o.line})`,
          );
        }
        batch.push(`in ${o.mm} ${cmd}`);
      } else batch.push(cmd);
    }
    return {
      // the first interval is measured from the reading after the forkbase child left
      baseline: { ...baseline, nrpt: start.nrpt, drift: start.drift, ipis: start.ipis },
      forkbase: {
        vmpte: forkbase.forkbase,
        forkPages: forkbase.forkPages,
        exitPages: forkbase.exitPages,
      },
      readings,
      counting,
      ipiCounting,
    };
  } finally {
    await probe.close();
  }
}
