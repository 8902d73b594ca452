/**
 * The mutation fuzzer as a task (issue 8):
 *
 * ```
 * deno run --allow-read --allow-write fuzz/mutate_main.ts [--inputs N] [--seed S] [--time T]
 *   [--out DIR] [--workers W] [--shrink-ms MS] [--hang-ms MS] [--allow-known]
 * deno run --allow-read fuzz/mutate_main.ts --seed S --index I [--print]   # one input again
 * ```
 *
 * Inputs run in Workers (one per CPU, at most 2 by default) under a watchdog: an input that
 * does not come back within `--hang-ms` (10 s) is a `hang` finding, saved, and its worker is
 * replaced. Each new finding class is shrunk (delta debugging, `--shrink-ms` per class). Prints
 * progress on stderr, then `N inputs, M findings, X inputs/s`; writes the findings to DIR
 * (`fuzz-findings/` by default, only when there are some) and exits 1 when there are findings
 * (with `--allow-known`, only when one of them is not in KNOWN_FINDINGS).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type Corpus,
  describeFinding,
  type Finding,
  fuzzRange,
  inputClass,
  knownWhy,
  loadSeeds,
  makeCorpus,
  makeInput,
  runOne,
  type Seed,
  shrinkFinding,
} from "./mutate.ts";

const WORKER_NAME = "ptlab-mutate-worker";

/** Messages from the main thread to a worker. */
type ToWorker =
  | { type: "init"; seeds: Seed[]; seed: number; shrinkMs: number; hangAt: number }
  | { type: "batch"; from: number; count: number };

/** Messages from a worker to the main thread. */
type FromWorker =
  | { type: "at"; index: number }
  | { type: "shrinking"; index: number }
  | { type: "finding"; finding: Finding }
  | { type: "done"; from: number; count: number; inputs: number };

// ---------------------------------------------------------------------------------------------
// Worker

/** The worker's global scope, as far as it is used here. */
interface WorkerScope {
  postMessage(m: FromWorker): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}

function workerMain(): void {
  const scope = globalThis as unknown as WorkerScope;
  const post = (m: FromWorker) => scope.postMessage(m);
  let corpus: Corpus | undefined;
  let seed = 0, shrinkMs = 0, hangAt = -1;
  const firstOf = new Map<string, number>(); // the input each class was first reported with
  const seen = new Set<string>(); // classes this worker has shrunk and reported already
  scope.onmessage = (ev: MessageEvent<ToWorker>) => {
    const m = ev.data;
    if (m.type === "init") {
      corpus = makeCorpus(m.seeds);
      seed = m.seed;
      shrinkMs = m.shrinkMs;
      hangAt = m.hangAt;
      return;
    }
    const r = fuzzRange(corpus!, {
      seed,
      from: m.from,
      count: m.count,
      seen,
      shrinkMs: 0, // shrunk below, after the finding is posted (a hang while shrinking keeps it)
      onInput: (index) => {
        post({ type: "at", index });
        if (index === hangAt) { for (;;) { /* --hang-test: a true hang */ } }
      },
      onFinding: (f) => {
        firstOf.set(f.cls, f.input.index);
        post({ type: "finding", finding: f });
        if (shrinkMs > 0 && f.verdict.kind !== "slow") {
          post({ type: "shrinking", index: f.input.index });
          const shrunk = shrink(f, shrinkMs);
          post({ type: "finding", finding: { ...f, shrunk, count: 0 } });
        }
      },
    });
    // the counts: onFinding saw only the first input of a class new to this worker
    for (const f of r.findings) {
      const reported = f.input.index === firstOf.get(f.cls) ? 1 : 0;
      if (f.count > reported) {
        post({ type: "finding", finding: { ...f, count: f.count - reported } });
      }
    }
    post({ type: "done", from: m.from, count: m.count, inputs: r.inputs });
  };
}

function shrink(f: Finding, ms: number): string {
  return shrinkFinding(f.input.text, f.verdict, ms);
}

// ---------------------------------------------------------------------------------------------
// Main

const USAGE =
  `usage: deno run --allow-read --allow-write fuzz/mutate_main.ts [--inputs N] [--seed S]
  [--time T] [--out DIR] [--workers W] [--shrink-ms MS] [--hang-ms MS] [--allow-known]
  deno run --allow-read fuzz/mutate_main.ts --seed S --index I [--print]`;

function die(msg: string): never {
  console.error(`mutate: ${msg}\n${USAGE}`);
  Deno.exit(2);
}

function duration(t: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(t);
  if (!m) die(`--time takes a duration such as 30s, 10m or 1h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
}

function whole(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) die(`${name} takes a whole number`);
  return n;
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
}

/** Runs one input in a fresh worker; its milliseconds, or null when it hangs past `hangMs`. */
function alone(
  seeds: Seed[],
  seed: number,
  index: number,
  hangMs: number,
  hangAt: number,
): Promise<number | null> {
  return new Promise((resolve) => {
    const w = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
    let t0 = performance.now();
    const timer = setTimeout(() => {
      w.terminate();
      resolve(null);
    }, hangMs + 5000);
    w.onmessage = (ev: MessageEvent<FromWorker>) => {
      if (ev.data.type === "at") t0 = performance.now();
      if (ev.data.type === "done") {
        clearTimeout(timer);
        w.terminate();
        resolve(performance.now() - t0);
      }
    };
    w.postMessage({ type: "init", seeds, seed, shrinkMs: 0, hangAt } satisfies ToWorker);
    w.postMessage({ type: "batch", from: index, count: 1 } satisfies ToWorker);
  });
}

/** One input again: its provenance, its text and what each command made of it. */
function reproduce(corpus: Corpus, seed: number, index: number, print: boolean): number {
  const input = makeInput(corpus, seed, index);
  if (print) {
    Deno.stdout.writeSync(new TextEncoder().encode(input.text));
    return 0;
  }
  console.log(`input ${index} of seed ${seed}: from ${input.seed}, ${input.path.join(" > ")}`);
  console.log(`${input.text.length} chars: ${JSON.stringify(input.text.slice(0, 500))}`);
  let bad = 0;
  for (const args of input.plan) {
    const t0 = performance.now();
    const v = runOne(args, input.text);
    const ms = (performance.now() - t0).toFixed(0);
    console.log(`ptlab ${args.join(" ")}: ${ms} ms: ${v ? `${v.kind}: ${v.message}` : "fine"}`);
    if (v) bad++;
  }
  return bad ? 1 : 0;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        inputs: { type: "string" },
        seed: { type: "string" },
        time: { type: "string" },
        out: { type: "string" },
        workers: { type: "string" },
        "shrink-ms": { type: "string" },
        "hang-ms": { type: "string" },
        batch: { type: "string" },
        index: { type: "string" },
        print: { type: "boolean" },
        "allow-known": { type: "boolean" },
        "hang-test": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    die(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const seed = whole(v.seed, "--seed", 1);
  const seeds = loadSeeds();
  const corpus = makeCorpus(seeds);
  if (v.index !== undefined) {
    return reproduce(corpus, seed, whole(v.index, "--index", 0), !!v.print);
  }

  const seconds = v.time !== undefined ? duration(v.time) : undefined;
  const total = v.inputs !== undefined || seconds === undefined
    ? whole(v.inputs, "--inputs", 100_000)
    : Infinity;
  const nWorkers = Math.max(
    1,
    whole(v.workers, "--workers", Math.min(2, navigator.hardwareConcurrency)),
  );
  const shrinkMs = whole(v["shrink-ms"], "--shrink-ms", 5000);
  const hangMs = whole(v["hang-ms"], "--hang-ms", 10_000);
  const batch = Math.max(1, whole(v.batch, "--batch", 100));
  const hangAt = v["hang-test"] !== undefined ? whole(v["hang-test"], "--hang-test", 0) : -1;
  const outDir = v.out ?? "fuzz-findings";

  const t0 = performance.now();
  const deadline = seconds !== undefined ? t0 + seconds * 1000 : Infinity;
  const findings = new Map<string, Finding>();
  let next = 0, done = 0, lastProgress = t0;
  const pending: { from: number; count: number }[] = []; // given back by replaced workers

  const record = (f: Finding) => {
    const old = findings.get(f.cls);
    if (!old) {
      findings.set(f.cls, { ...f, count: Math.max(1, f.count) });
      console.error(`\nnew finding: ${describeFinding({ ...f, count: 1 })}`);
    } else {
      old.count += f.count;
      if (f.shrunk !== undefined && old.shrunk === undefined) old.shrunk = f.shrunk;
    }
  };

  const take = (): { from: number; count: number } | undefined => {
    if (pending.length) return pending.shift();
    if (performance.now() >= deadline || next >= total) return undefined;
    const count = Math.min(batch, total - next);
    const b = { from: next, count };
    next += count;
    return b;
  };

  await new Promise<void>((resolve) => {
    interface Slot {
      w: Worker;
      batch?: { from: number; count: number };
      index: number;
      since: number;
      shrinking: boolean;
      started: boolean;
    }
    const slots: Slot[] = [];
    let live = 0;
    const spawn = (): Slot => {
      const w = new Worker(import.meta.url, { type: "module", name: WORKER_NAME });
      const slot: Slot = {
        w,
        index: -1,
        since: performance.now(),
        shrinking: false,
        started: false,
      };
      live++;
      w.postMessage({ type: "init", seeds, seed, shrinkMs, hangAt } satisfies ToWorker);
      w.onmessage = (ev: MessageEvent<FromWorker>) => {
        const m = ev.data;
        if (m.type === "at") {
          slot.started = true;
          slot.index = m.index;
          slot.since = performance.now();
          slot.shrinking = false;
        } else if (m.type === "shrinking") {
          slot.since = performance.now();
          slot.shrinking = true;
        } else if (m.type === "finding") record(m.finding);
        else {
          done += m.inputs;
          slot.shrinking = false;
          feed(slot);
        }
      };
      w.onerror = (e) => {
        e.preventDefault();
        if (!slot.started) {
          // the worker could not even load (a broken source tree): no finding, stop
          console.error(`mutate: a worker failed to start: ${e.message}`);
          Deno.exit(2);
        }
        replace(slot, "worker-error", `worker error: ${e.message}`);
      };
      return slot;
    };
    const feed = (slot: Slot) => {
      const b = take();
      slot.batch = b;
      if (!b) {
        slot.w.terminate();
        live--;
        if (live === 0) {
          clearInterval(timer);
          resolve();
        }
        return;
      }
      slot.index = b.from;
      slot.since = performance.now();
      slot.w.postMessage({ type: "batch", ...b } satisfies ToWorker);
    };
    /** Ends a stuck worker: its input is a finding, the rest of its batch goes to a new one. */
    const replace = (slot: Slot, kind: string, why: string) => {
      slot.w.terminate();
      live--;
      const b = slot.batch;
      if (b && slot.index >= b.from) {
        done += slot.index - b.from; // the inputs of the batch before the stuck one
        const input = makeInput(corpus, seed, slot.index);
        if (!slot.shrinking) {
          const verdict = { kind, message: why, args: input.plan[0] };
          done++;
          record({ cls: inputClass(verdict, input), verdict, input, count: 1 });
        }
        const rest = b.from + b.count - (slot.index + 1);
        if (rest > 0) pending.push({ from: slot.index + 1, count: rest });
      }
      const i = slots.indexOf(slot);
      slots[i] = spawn();
      feed(slots[i]);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      for (const s of [...slots]) {
        if (!s.batch) continue;
        const limit = s.shrinking ? shrinkMs + hangMs : hangMs;
        if (now - s.since > limit) {
          replace(
            s,
            "hang",
            s.shrinking
              ? `shrinking input ${s.index} did not end`
              : `no answer after ${Math.round(now - s.since)} ms (killed)`,
          );
        }
      }
      if (now - lastProgress >= 5000) {
        lastProgress = now;
        const secs = (now - t0) / 1000;
        const n = [...findings.values()].reduce((a, f) => a + f.count, 0);
        console.error(
          `${done}${Number.isFinite(total) ? `/${total}` : ""} inputs, ${n} findings ` +
            `(${findings.size} classes), ${(done / secs).toFixed(0)} inputs/s`,
        );
      }
    }, 200);
    for (let i = 0; i < nWorkers; i++) slots.push(spawn());
    for (const s of [...slots]) feed(s);
  });

  const secs = (performance.now() - t0) / 1000;
  const list = [...findings.values()];
  // a hang is run once more, alone in a fresh worker: does it hang without what ran before it?
  for (const f of list) {
    if (f.verdict.kind !== "hang") continue;
    const ms = await alone(seeds, seed, f.input.index, hangMs, hangAt);
    f.verdict.message += ms === null
      ? `; alone in a fresh worker: hangs again`
      : `; alone in a fresh worker: done in ${Math.round(ms)} ms${
        ms < 2000 ? " (depends on earlier inputs)" : ""
      }`;
  }
  const n = list.reduce((a, f) => a + f.count, 0);
  for (const f of list) {
    f.known ??= knownWhy(f.cls);
    console.log(`\n${describeFinding(f)}`);
  }
  if (list.length) {
    await Deno.mkdir(outDir, { recursive: true });
    for (const [i, f] of list.entries()) {
      const base = `${outDir}/${String(i + 1).padStart(2, "0")}-${slug(f.cls)}`;
      await Deno.writeTextFile(`${base}.input.ptlab`, f.input.text);
      if (f.shrunk !== undefined) await Deno.writeTextFile(`${base}.ptlab`, f.shrunk);
    }
    const summary = list.map((f) => ({
      class: f.cls,
      known: f.known ?? null,
      count: f.count,
      kind: f.verdict.kind,
      message: f.verdict.message,
      command: ["ptlab", ...f.verdict.args],
      reproduce:
        `deno run --allow-read fuzz/mutate_main.ts --seed ${f.input.runSeed} --index ${f.input.index}`,
      seedFile: f.input.seed,
      mutations: f.input.path,
      shrunk: f.shrunk ?? null,
    }));
    await Deno.writeTextFile(`${outDir}/findings.json`, JSON.stringify(summary, null, 2) + "\n");
    console.log(`\nfindings written to ${outDir}/`);
  }
  const unknown = list.filter((f) => !f.known).length;
  console.log(
    `${done} inputs, ${n} findings (${list.length} classes, ${list.length - unknown} known), ` +
      `${(done / secs).toFixed(0)} inputs/s, ${
        secs.toFixed(1)
      } s, seed ${seed}, ${nWorkers} worker(s)`,
  );
  return list.length === 0 || (v["allow-known"] && unknown === 0) ? 0 : 1;
}

const isWorker = (globalThis as { name?: unknown }).name === WORKER_NAME &&
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function";

if (isWorker) workerMain();
else if (import.meta.main) Deno.exit(await main());
