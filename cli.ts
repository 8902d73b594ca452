/**
 * The `ptlab` command: argument parsing, then mod.ts, then the report. Thin on purpose: every
 * command, option and example lives in {@link COMMANDS}, which the parser, `help`, the
 * did-you-means and the shell completions all read.
 *
 * Exit status: 0 every expectation held and nothing was violated; 1 an expectation failed or a
 * kernel rule was violated (or `fmt --check` found a file to format); 2 invalid scenario or bad
 * arguments.
 *
 * @module
 */

import { fuzz } from "./fuzz/mod.ts";
import {
  archsTable,
  configNames,
  describeConfig,
  didYouMean,
  errorCount,
  explainText,
  formatDiagnostic,
  KERNEL_VERSIONS,
  reportDocument,
  reportJsonSchema,
  runScenario,
  selectConfigs,
  traceSideBySide,
} from "./mod.ts";
import {
  COMPARISON_METRICS,
  comparisonMetric,
  comparisonTable,
  METRIC_ALIASES,
  runTableLines,
} from "./report/table.ts";
import { csvLines, ndjsonLines } from "./report/lines.ts";
import { jsonChunks } from "./report/json.ts";
import { junit, tap } from "./report/ci.ts";
import { svgReport } from "./report/svg.ts";
import { PTLAB_VERSION } from "./report/schema.ts";
import project from "./deno.json" with { type: "json" };
import { completions, SHELLS } from "./completions.ts";
import { fmtFiles } from "./format/fmt.ts";

/** One option of the command line. */
export interface OptionSpec {
  /** Long name, without `--`. */
  readonly name: string;
  /** One-letter form, without `-`. */
  readonly short?: string;
  /** The argument's placeholder; none: a flag. */
  readonly arg?: string;
  /** The values it takes, when they are a fixed set (completions and did-you-mean use them). */
  readonly values?: readonly string[] | (() => readonly string[]);
  /** Given more than once, the values accumulate (otherwise that is an error). */
  readonly repeat?: boolean;
  /** What it does. */
  readonly help: string;
}

/** One command. */
export interface CommandSpec {
  /** Its name. */
  readonly name: string;
  /** One line on what it does. */
  readonly summary: string;
  /** Its positional arguments as usage shows them (`FILE`, `[SEL]`, `FILE...`). */
  readonly args: string;
  /** Fewest and most positional arguments. */
  readonly positionals: readonly [number, number];
  /** Names of its options. */
  readonly options: readonly string[];
  /** Example command lines. */
  readonly examples: readonly string[];
}

const RUN_FORMATS = ["table", "json", "ndjson", "csv", "junit", "tap", "svg"] as const;

/** Every option, by name. */
export const OPTIONS: Readonly<Record<string, OptionSpec>> = Object.fromEntries(
  [
    {
      name: "arch",
      arg: "SEL",
      repeat: true,
      values: () => ["all", ...configNames()],
      help: "configurations: a name, a glob ('arm64-*'), a comma list or 'all' (repeatable)",
    },
    {
      name: "kernel",
      arg: "V",
      repeat: true,
      values: () => ["all", ...KERNEL_VERSIONS],
      help: `kernel version(s): ${KERNEL_VERSIONS[0]} .. ${KERNEL_VERSIONS.at(-1)}, a comma ` +
        "list or 'all' (repeatable)",
    },
    {
      name: "format",
      arg: "F",
      values: RUN_FORMATS,
      help: "table (on a terminal), json (otherwise), ndjson, csv, junit, tap or svg",
    },
    { name: "trace", help: "list every kernel call the model made, by scenario line" },
    {
      name: "metrics",
      arg: "LIST",
      repeat: true,
      values: () => [...Object.keys(COMPARISON_METRICS), ...Object.keys(METRIC_ALIASES)],
      help: "the comparison table's columns (vmpte,pages,flushes,ipis,rss,tables,...); " +
        "the first is the svg chart's metric",
    },
    { name: "exact", help: "byte figures as exact numbers, not 12 KiB" },
    { name: "cpus", help: "the table shows the IPIs each CPU received, by /proc/interrupts line" },
    {
      name: "set",
      arg: "NAME=VALUE",
      repeat: true,
      help: "override a `param` (repeatable); VALUE,VALUE,... sweeps: a run per combination",
    },
    {
      name: "max-tables",
      arg: "N",
      help: "refuse a scenario that could make more page tables than N",
    },
    { name: "seed", arg: "S", help: "the first random seed" },
    { name: "runs", arg: "N", help: "how many scenarios to generate" },
    { name: "time", arg: "T", help: "fuzz for a duration such as 30s, 10m or 1h" },
    { name: "check", help: "only report the files that are not formatted (exit 1 if any)" },
    { name: "help", short: "h", help: "this command's options and examples" },
    { name: "version", short: "V", help: "ptlab's, Deno's and the dependencies' versions" },
  ].map((o) => [o.name, o as OptionSpec]),
);

/** Every command, in the order `help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "run",
    summary: "run a scenario on one or more configurations and kernels",
    args: "FILE|-",
    positionals: [1, 1],
    options: ["arch", "kernel", "format", "trace", "metrics", "exact", "cpus", "set", "max-tables"],
    examples: [
      "ptlab run examples/quickstart.ptlab",
      "ptlab run examples/compare.ptlab --arch 'arm64-*' --kernel 6.1,6.18 --metrics vmpte,pages",
      "ptlab run sweep.ptlab --set stride=4K,2M,1G --format csv",
      "ptlab run examples/quickstart.ptlab --format json | jq .runs[0].final",
      "cat s.ptlab | ptlab run - --format junit > report.xml",
    ],
  },
  {
    name: "check",
    summary: "parse and check a scenario without running it",
    args: "FILE|-",
    positionals: [1, 1],
    options: ["arch", "kernel", "set", "max-tables"],
    examples: ["ptlab check examples/quickstart.ptlab", "ptlab check s.ptlab --arch all"],
  },
  {
    name: "archs",
    summary: "list the configurations and their geometry",
    args: "[SEL]",
    positionals: [0, 1],
    options: ["kernel", "format"],
    examples: ["ptlab archs", "ptlab archs 'x86_64-*' --format json"],
  },
  {
    name: "explain",
    summary: "how a configuration allocates, counts and frees each level, with kernel files",
    args: "CONFIG",
    positionals: [1, 1],
    options: ["kernel", "format"],
    examples: ["ptlab explain x86_64-4level", "ptlab explain s390-4level --kernel 6.1"],
  },
  {
    name: "fuzz",
    summary: "generate random scenarios and shrink what breaks a kernel rule",
    args: "",
    positionals: [0, 0],
    options: ["arch", "kernel", "seed", "runs", "time"],
    examples: ["ptlab fuzz --runs 200", "ptlab fuzz --arch 'ppc64-*' --time 1m --seed 7"],
  },
  {
    name: "fmt",
    summary: "lay scenario files out canonically (in place), or --check them",
    args: "FILE...",
    positionals: [1, Infinity],
    options: ["check"],
    examples: ["ptlab fmt examples/*.ptlab", "ptlab fmt --check s.ptlab"],
  },
  {
    name: "schema",
    summary: "the JSON output's JSON Schema",
    args: "",
    positionals: [0, 0],
    options: [],
    examples: ["ptlab schema > ptlab.schema.json"],
  },
  {
    name: "completions",
    summary: "a shell completion script (bash, zsh or fish)",
    args: "SHELL",
    positionals: [1, 1],
    options: [],
    examples: [
      "ptlab completions bash > /etc/bash_completion.d/ptlab",
      "ptlab completions zsh > ~/.zfunc/_ptlab",
      "ptlab completions fish > ~/.config/fish/completions/ptlab.fish",
    ],
  },
  {
    name: "help",
    summary: "the commands, or one command's options and examples",
    args: "[COMMAND]",
    positionals: [0, 1],
    options: [],
    examples: ["ptlab help run", "ptlab run --help"],
  },
  {
    name: "version",
    summary: "ptlab's, Deno's and the dependencies' versions",
    args: "",
    positionals: [0, 0],
    options: [],
    examples: ["ptlab --version"],
  },
];

const GLOBAL = ["help", "version"];

function optionValues(o: OptionSpec): readonly string[] | undefined {
  return typeof o.values === "function" ? o.values() : o.values;
}

/** The top-level usage: every command in a line. */
export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  return [
    "usage: ptlab COMMAND [OPTIONS]   (ptlab FILE.ptlab is ptlab run FILE.ptlab)",
    "",
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(w)}  ${c.summary}`),
    "",
    "ptlab help COMMAND (or COMMAND --help) shows its options and examples.",
    "exit status: 0 ok, 1 an expectation failed or a kernel rule was violated, 2 invalid input",
  ].join("\n");
}

/** One command's help: usage, options, examples. */
export function commandHelp(c: CommandSpec): string {
  const opts = [...c.options, ...GLOBAL].map((n) => OPTIONS[n]);
  const left = (o: OptionSpec) =>
    `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.arg ? ` ${o.arg}` : ""}`;
  const w = Math.max(...opts.map((o) => left(o).length));
  return [
    `usage: ptlab ${c.name}${c.args ? ` ${c.args}` : ""}${c.options.length ? " [OPTIONS]" : ""}`,
    "",
    c.summary,
    "",
    "options:",
    ...opts.map((o) => `  ${left(o).padEnd(w)}  ${o.help}`),
    "",
    "examples:",
    ...c.examples.map((e) => `  ${e}`),
  ].join("\n");
}

/** What a command printed and how it ended (the CLI is a pure function for the tests). */
export interface CliResult {
  /** Exit status. */
  code: number;
  /** Standard output (empty when {@link CliEnv.write} took it). */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Reads a file for the CLI, turning errors into messages. */
export type ReadFile = (path: string) => string;

/** What the CLI may use of its surroundings (tests give their own). */
export interface CliEnv {
  /** Standard output is a terminal: tables by default, colour unless `noColor`. */
  isTerminal?: boolean;
  /** `NO_COLOR` is set. */
  noColor?: boolean;
  /** The terminal's width in columns (a wider comparison table wraps). */
  columns?: number;
  /** Reads a scenario file. */
  read?: ReadFile;
  /** Reads standard input whole (`ptlab run -`). */
  stdin?: () => string;
  /** Writes a file (`ptlab fmt`). */
  writeFile?: (path: string, text: string) => void;
  /** Takes standard output piece by piece as it is made (else it is returned in `stdout`). */
  write?: (chunk: string) => void;
}

/** Thrown by a `write` sink whose reader has gone (a closed pipe): the output just stops. */
export class OutputClosed extends Error {}

class ArgError extends Error {
  constructor(readonly command: string | undefined, message: string) {
    super(message);
  }
}

/** Parsed command line: the command, its positionals, and option values (repeats accumulated). */
interface Parsed {
  cmd: CommandSpec;
  positionals: string[];
  values: Map<string, string[]>;
}

function parse(args: readonly string[]): Parsed | { help: string } | { version: true } {
  // the command is the first word that is not an option (a .ptlab file means run)
  const first = args.findIndex((a) => !a.startsWith("-") || a === "-");
  let name = first < 0 ? undefined : args[first];
  const rest = first < 0 ? [...args] : [...args.slice(0, first), ...args.slice(first + 1)];
  if (name?.endsWith(".ptlab") || name === "-") {
    rest.splice(first, 0, name);
    name = "run";
  }
  const cmd = name === undefined ? undefined : COMMANDS.find((c) => c.name === name);
  if (name !== undefined && !cmd) {
    throw new ArgError(
      undefined,
      `unknown command "${name}"${didYouMean(name, COMMANDS.map((c) => c.name))}`,
    );
  }
  const allowed = cmd ? [...cmd.options, ...GLOBAL] : GLOBAL;
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--") {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = a.startsWith("--") ? a.slice(2, eq < 0 ? undefined : eq) : a.slice(1);
    const o = a.startsWith("--")
      ? OPTIONS[key]
      : Object.values(OPTIONS).find((x) => x.short === key);
    if (!o || !allowed.includes(o.name)) {
      const where = o
        ? ` (it is an option of ${
          COMMANDS.filter((c) => c.options.includes(o.name)).map((c) => c.name).join(", ")
        })`
        : didYouMean(key, allowed).replace('"', '"--');
      throw new ArgError(cmd?.name, `${cmd ? `${cmd.name}: ` : ""}unknown option ${a}${where}`);
    }
    let v: string;
    if (!o.arg) {
      if (eq >= 0) throw new ArgError(cmd?.name, `--${o.name} takes no value`);
      v = "true";
    } else if (eq >= 0) v = a.slice(eq + 1);
    else if (i + 1 < rest.length) v = rest[++i];
    else throw new ArgError(cmd?.name, `--${o.name} needs a value (${o.arg})`);
    const prev = values.get(o.name);
    if (prev && !o.repeat) {
      throw new ArgError(cmd?.name, `--${o.name} is given twice (${prev[0]}, ${v})`);
    }
    values.set(o.name, [...(prev ?? []), v]);
  }
  if (values.has("version")) return { version: true };
  if (values.has("help") || !cmd) return { help: cmd ? commandHelp(cmd) : usage() };
  const [lo, hi] = cmd.positionals;
  if (positionals.length < lo || positionals.length > hi) {
    const what = cmd.args || "no arguments";
    throw new ArgError(cmd.name, `${cmd.name} takes ${what}, not "${positionals.join(" ")}"`);
  }
  for (const [n, vs] of values) {
    const allowedValues = OPTIONS[n].values && n !== "arch" && n !== "kernel" && n !== "metrics"
      ? optionValues(OPTIONS[n])
      : undefined;
    for (const v of vs) {
      if (allowedValues && !allowedValues.includes(v)) {
        throw new ArgError(
          cmd.name,
          `--${n} ${v}: unknown value${didYouMean(v, allowedValues)} (${allowedValues.join(", ")})`,
        );
      }
    }
  }
  return { cmd, positionals, values };
}

/** The `--arch` selection (repeats and commas joined), checked, with a did-you-mean. */
function archOption(vs: string[] | undefined, cmd: string): string | undefined {
  if (!vs) return undefined;
  const sel = vs.join(",");
  const { unknown } = selectConfigs(sel);
  if (unknown.length) {
    throw new ArgError(
      cmd,
      `--arch: unknown configuration "${unknown[0]}"${didYouMean(unknown[0], configNames())}` +
        " (ptlab archs lists them)",
    );
  }
  return sel;
}

/** The `--kernel` versions (repeats and commas joined, `all`), checked. */
function kernelOption(vs: string[] | undefined, cmd: string): string | undefined {
  if (!vs) return undefined;
  const out: string[] = [];
  for (const k of vs.flatMap((v) => v.split(",")).map((k) => k.trim()).filter(Boolean)) {
    const ks = k === "all" ? [...KERNEL_VERSIONS] : [k];
    for (const x of ks) {
      if (!(KERNEL_VERSIONS as readonly string[]).includes(x)) {
        throw new ArgError(
          cmd,
          `--kernel: unknown kernel version "${x}"${didYouMean(x, KERNEL_VERSIONS)} ` +
            `(${KERNEL_VERSIONS.join(", ")}, all)`,
        );
      }
      if (!out.includes(x)) out.push(x);
    }
  }
  return out.join(",");
}

function metricsOption(vs: string[] | undefined, cmd: string): string[] | undefined {
  if (!vs) return undefined;
  const names = vs.flatMap((v) => v.split(",")).map((m) => m.trim()).filter(Boolean);
  const known = [...Object.keys(COMPARISON_METRICS), ...Object.keys(METRIC_ALIASES)];
  for (const m of names) {
    if (!comparisonMetric(m)) {
      throw new ArgError(cmd, `--metrics: unknown metric "${m}"${didYouMean(m, known)}`);
    }
  }
  return names;
}

function wholeNumber(v: string | undefined, opt: string, cmd: string, min = 0) {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    throw new ArgError(cmd, `--${opt} takes a whole number${min ? ` of at least ${min}` : ""}`);
  }
  return n;
}

function versionText(): string {
  const dep = (n: string) =>
    (project.imports as Record<string, string>)[n]?.replace(/^npm:[^@]+@/, "") ?? "?";
  return [
    `ptlab ${PTLAB_VERSION}`,
    `deno ${Deno.version.deno} (v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
    `chevrotain ${dep("chevrotain")}`,
    `zod ${dep("zod")}`,
  ].join("\n") + "\n";
}

function readError(file: string, e: unknown): string {
  const why = e instanceof Deno.errors.NotFound
    ? "no such file"
    : e instanceof Deno.errors.IsADirectory
    ? "is a directory"
    : e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable
    ? "permission denied"
    : e instanceof Error
    ? e.message
    : String(e);
  return `ptlab: cannot read ${file}: ${why}\n`;
}

function defaultRead(path: string): string {
  if (Deno.statSync(path).isDirectory) throw new Deno.errors.IsADirectory(path);
  return Deno.readTextFileSync(path);
}

/** Standard input, whole (no permission needed: it is not a file Deno opens). */
export function readStdin(): string {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null || n === 0) break;
    chunks.push(buf.slice(0, n));
  }
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) all.set(c, o), o += c.length;
  return new TextDecoder().decode(all);
}

/** Collects output pieces into bounded chunks for the sink, or into one string for the tests. */
class Output {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly sink?: (chunk: string) => void) {}
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.sink && this.size >= 1 << 16) this.flush();
  }
  line(s: string): void {
    this.write(s);
    this.write("\n");
  }
  flush(): void {
    if (!this.sink || this.parts.length === 0) return;
    const text = this.parts.join("");
    this.parts = [];
    this.size = 0;
    this.sink(text);
  }
  text(): string {
    this.flush();
    return this.sink ? "" : this.parts.join("");
  }
}

/** Runs the CLI on `args` and returns what it would print. */
export function cli(args: string[], env: CliEnv = {}): CliResult {
  const out = new Output(env.write);
  let code: number;
  let stderr = "";
  try {
    const p = parse(args);
    if ("version" in p) {
      out.write(versionText());
      code = 0;
    } else if ("help" in p) {
      out.line(p.help);
      code = 0;
    } else {
      const r = command(p, env, out);
      code = r.code;
      stderr = r.stderr;
    }
  } catch (e) {
    if (e instanceof OutputClosed) return { code: 0, stdout: "", stderr };
    if (!(e instanceof ArgError)) throw e;
    const hint = e.command ? `ptlab help ${e.command}` : "ptlab help";
    return { code: 2, stdout: "", stderr: `ptlab: ${e.message}\n(${hint} shows the options)\n` };
  }
  try {
    return { code, stdout: out.text(), stderr };
  } catch (e) {
    if (e instanceof OutputClosed) return { code, stdout: "", stderr };
    throw e;
  }
}

function command(p: Parsed, env: CliEnv, out: Output): { code: number; stderr: string } {
  const { cmd, positionals, values } = p;
  const one = (n: string) => values.get(n)?.[0];
  const c = cmd.name;
  switch (c) {
    case "run":
    case "check":
      return scenario(p, env, out);
    case "archs": {
      const sel = selectConfigs(positionals[0] ?? "all");
      if (sel.unknown.length) {
        const u = sel.unknown[0];
        throw new ArgError(c, `unknown configuration "${u}"${didYouMean(u, configNames())}`);
      }
      const kernel = kernelOption(values.get("kernel"), c);
      const items = sel.specs.map((s) => describeConfig(s.name, kernel ? { kernel } : {})!);
      if (one("format") === "json") { for (const x of jsonChunks(items)) out.write(x); }
      else out.write(archsTable(items));
      out.write("\n");
      return { code: 0, stderr: "" };
    }
    case "explain": {
      const kernel = kernelOption(values.get("kernel"), c);
      if (kernel?.includes(",")) throw new ArgError(c, "explain takes one kernel version");
      const d = describeConfig(positionals[0], kernel ? { kernel } : {});
      if (!d) {
        throw new ArgError(
          c,
          `unknown configuration "${positionals[0]}"${didYouMean(positionals[0], configNames())}`,
        );
      }
      if (one("format") === "json") { for (const x of jsonChunks(d)) out.write(x); }
      else out.write(explainText(d));
      out.write("\n");
      return { code: 0, stderr: "" };
    }
    case "fuzz": {
      const arch = archOption(values.get("arch"), c) ?? "all";
      const kernel = kernelOption(values.get("kernel"), c);
      const seed = wholeNumber(one("seed"), "seed", c) ?? 1;
      const runs = wholeNumber(one("runs"), "runs", c, 1);
      let seconds: number | undefined;
      const time = one("time");
      if (time !== undefined) {
        const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(time);
        if (!m) throw new ArgError(c, "--time takes a duration such as 30s, 10m or 1h");
        seconds = Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
      }
      if (runs !== undefined && seconds !== undefined) {
        throw new ArgError(c, "--runs and --time contradict each other: give one");
      }
      const t0 = performance.now();
      const r = fuzz({
        archs: selectConfigs(arch).specs.map((s) => s.name),
        seed,
        runs: runs ?? (seconds === undefined ? 20 : undefined),
        seconds,
        kernel,
      });
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      out.line(
        `ptlab fuzz: ${r.scenarios} scenarios (${r.statements} statements) on ` +
          `${Object.keys(r.perArch).length} configuration(s), seed ${seed}, ${secs} s: ` +
          `${r.findings.length} finding(s)`,
      );
      for (const f of r.findings) {
        out.line("");
        out.line(
          `${f.arch} seed ${f.seed}: ${f.kind}: ${f.message} ` +
            `(shrunk from ${f.size.before} to ${f.size.after} statements)`,
        );
        out.line(f.scenario.trimEnd());
      }
      return { code: r.findings.length ? 1 : 0, stderr: "" };
    }
    case "fmt":
      return formatFiles(p, env, out);
    case "schema":
      for (const x of jsonChunks(reportJsonSchema())) out.write(x);
      out.write("\n");
      return { code: 0, stderr: "" };
    case "completions": {
      const sh = positionals[0];
      if (!(SHELLS as readonly string[]).includes(sh)) {
        throw new ArgError(
          c,
          `unknown shell "${sh}"${didYouMean(sh, SHELLS)} (${SHELLS.join(", ")})`,
        );
      }
      out.write(completions(sh as typeof SHELLS[number], COMMANDS, OPTIONS));
      return { code: 0, stderr: "" };
    }
    case "help": {
      const name = positionals[0];
      if (name === undefined) out.line(usage());
      else {
        const h = COMMANDS.find((x) => x.name === name);
        if (!h) {
          throw new ArgError(
            "help",
            `unknown command "${name}"${didYouMean(name, COMMANDS.map((x) => x.name))}`,
          );
        }
        out.line(commandHelp(h));
      }
      return { code: 0, stderr: "" };
    }
    case "version":
      out.write(versionText());
      return { code: 0, stderr: "" };
  }
  throw new ArgError(c, `unknown command "${c}"`);
}

/** Reads the scenario a command names (`-`: standard input), or says why it cannot. */
function readScenario(file: string, env: CliEnv): { source: string; name: string } | string {
  try {
    // Deno asks for --allow-all to open /dev/stdin; it is standard input, read as such
    if (file === "-" || file === "/dev/stdin") {
      return { source: (env.stdin ?? readStdin)(), name: file === "-" ? "<stdin>" : file };
    }
    return { source: (env.read ?? defaultRead)(file), name: file };
  } catch (e) {
    return readError(file === "-" ? "standard input" : file, e);
  }
}

function scenario(p: Parsed, env: CliEnv, out: Output): { code: number; stderr: string } {
  const { cmd, positionals, values } = p;
  const c = cmd.name;
  const arch = archOption(values.get("arch"), c);
  const kernel = kernelOption(values.get("kernel"), c);
  const metrics = metricsOption(values.get("metrics"), c);
  const maxTables = wholeNumber(values.get("max-tables")?.[0], "max-tables", c, 1);
  const sets = values.get("set") ?? [];
  for (const s of sets) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=./.test(s)) {
      throw new ArgError(c, `--set takes NAME=VALUE (or NAME=V1,V2,... to sweep), not "${s}"`);
    }
  }
  const read = readScenario(positionals[0], env);
  if (typeof read === "string") return { code: 2, stderr: read };
  const { source, name: file } = read;
  const format = values.get("format")?.[0] ?? (env.isTerminal ? "table" : "json");
  const result = runScenario(
    source,
    {
      file,
      arch,
      kernel,
      trace: values.has("trace"),
      ...(sets.length ? { set: sets } : {}),
      ...(maxTables !== undefined ? { maxTables } : {}),
    } as Parameters<typeof runScenario>[1],
  );
  const warnings = (result as { warnings?: { line: number; col: number; message: string }[] })
    .warnings ?? [];
  const warn = warnings.map((w) => `${file}:${w.line}:${w.col}: warning: ${w.message}`);
  if (result.exitCode === 2) {
    const text = result.diagnostics.map((d) => formatDiagnostic(d, source)).join("\n");
    return {
      code: 2,
      stderr: [...warn, text, errorCount(result.diagnostics)].join("\n") + "\n",
    };
  }
  const notes = [
    ...warn,
    ...result.notes.map((n) => `note: ${n}`),
    ...result.skipped.map((s) => `note: ${s.arch} skipped: ${s.reason}`),
  ];
  const stderr = notes.length ? notes.join("\n") + "\n" : "";
  if (c === "check") {
    out.line(`${file}: ok (${result.runs.length} run(s))`);
    return { code: 0, stderr };
  }
  const runs = result.runs;
  const style = {
    color: env.isTerminal && !env.noColor,
    exact: values.has("exact"),
    cpus: values.has("cpus"),
    metrics,
    width: env.isTerminal ? env.columns : undefined,
  };
  switch (format) {
    case "json":
      for (const x of jsonChunks(reportDocument(runs, { file, skipped: result.skipped }))) {
        out.write(x);
      }
      out.write("\n");
      break;
    case "ndjson":
      for (const l of ndjsonLines(runs)) out.line(l);
      break;
    case "csv":
      for (const l of csvLines(runs)) out.line(l);
      break;
    case "junit":
      out.write(junit(runs, { file, skipped: result.skipped }));
      break;
    case "tap":
      out.write(tap(runs, { skipped: result.skipped }));
      break;
    case "svg":
      out.write(svgReport(runs, metrics ? { metric: comparisonMetric(metrics[0]) } : {}));
      break;
    default:
      tables(runs, style, values.has("trace"), out);
  }
  return { code: result.exitCode, stderr };
}

function tables(
  runs: ReturnType<typeof runScenario>["runs"],
  style: Parameters<typeof comparisonTable>[1] & object,
  trace: boolean,
  out: Output,
): void {
  if (runs.length === 1) {
    const r = runs[0];
    if (r.trace) {
      for (const t of r.trace) {
        out.line(`  line ${t.line}: ${t.fn}${t.detail ? ` ${t.detail}` : ""}`);
      }
      if (r.traceTruncated) out.line(`  (the trace stopped after ${r.trace.length} calls)`);
      out.line("");
    }
    for (const l of runTableLines(r, style)) out.line(l);
    return;
  }
  // several configurations or versions: one table, a row per run
  if (trace) {
    out.line(traceSideBySide(runs));
    for (const r of runs.filter((r) => r.traceTruncated)) {
      out.line(`(the trace of ${r.arch} ${r.kernel} stopped after ${r.trace!.length} calls)`);
    }
  }
  out.line(comparisonTable(runs, style));
  const failing = runs.filter((r) => r.violations.length || r.expectations.some((e) => !e.ok));
  if (failing.length > 8) {
    out.line(`${failing.length} runs have failed expectations or violations: see --format json`);
    return;
  }
  for (const r of failing) {
    const f = r.expectations.filter((e) => !e.ok);
    out.line(
      `${r.arch} ${r.kernel}: ` + [
        ...f.map((e) => `line ${e.line} expect ${e.text} (left is ${e.actual})`),
        ...r.violations.map((v) => `line ${v.line} [${v.rule}] ${v.message}`),
      ].join("; "),
    );
  }
}

function formatFiles(p: Parsed, env: CliEnv, out: Output): { code: number; stderr: string } {
  const r = fmtFiles(p.positionals, p.values.has("check"), {
    read: env.read ?? defaultRead,
    write: env.writeFile ?? ((path, text) => Deno.writeTextFileSync(path, text)),
  });
  out.write(r.stdout);
  return { code: r.code, stderr: r.stderr };
}

/** Writes all of `text`; a closed reader (EPIPE) becomes {@link OutputClosed}. */
function writeAll(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = new TextEncoder().encode(text);
  try {
    while (buf.length > 0) buf = buf.subarray(w.writeSync(buf));
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed();
    throw e;
  }
}

if (import.meta.main) {
  let r: CliResult;
  const tty = Deno.stdout.isTerminal();
  let columns: number | undefined;
  try {
    columns = tty ? Deno.consoleSize().columns : undefined;
  } catch {
    columns = undefined;
  }
  try {
    r = cli(Deno.args, {
      isTerminal: tty,
      noColor: Deno.noColor,
      columns,
      write: (chunk) => writeAll(Deno.stdout, chunk),
      writeFile: (path, text) => Deno.writeTextFileSync(path, text),
    });
  } catch (e) {
    r = {
      code: 3,
      stdout: "",
      stderr: `ptlab: internal error: ${e instanceof Error ? e.message : String(e)}\n`,
    };
  }
  try {
    writeAll(Deno.stderr, r.stderr);
  } catch { /* nobody reads standard error either */ }
  Deno.exit(r.code);
}
