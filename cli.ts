/**
 * The `ptlab` command: argument parsing, then mod.ts, then the report. Thin on purpose.
 *
 * ```
 * ptlab run FILE [--arch SEL] [--kernel V] [--format table|json|ndjson|csv] [--trace]
 * ptlab check FILE [--arch SEL]
 * ptlab archs [SEL] [--format table|json]
 * ptlab schema
 * ```
 *
 * Exit status: 0 every expectation held and nothing was violated; 1 an expectation failed or a
 * kernel rule was violated; 2 invalid scenario or bad arguments.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fuzz } from "./fuzz/mod.ts";
import {
  archsTable,
  comparisonTable,
  configNames,
  csv,
  describeConfig,
  didYouMean,
  explainText,
  formatDiagnostic,
  KERNEL_VERSIONS,
  ndjson,
  reportDocument,
  reportJsonSchema,
  runScenario,
  runTable,
  selectConfigs,
  traceSideBySide,
} from "./mod.ts";

const USAGE = `usage:
  ptlab run FILE [--arch SEL] [--kernel V] [--format table|json|ndjson|csv] [--trace]
  ptlab check FILE [--arch SEL] [--kernel V]
  ptlab archs [SEL] [--kernel V] [--format table|json]
  ptlab explain CONFIG [--kernel V]
  ptlab fuzz [--arch SEL] [--seed S] [--runs N | --time T] [--kernel V]
  ptlab schema
SEL: a configuration name, a glob such as 'arm64-*', a comma list, or 'all'
exit status: 0 ok, 1 an expectation failed or a kernel rule was violated, 2 invalid input`;

/** What a command printed and how it ended (the CLI is a pure function for the tests). */
export interface CliResult {
  /** Exit status. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Reads a file for the CLI, turning errors into messages. */
export type ReadFile = (path: string) => string;

function defaultRead(path: string): string {
  return Deno.readTextFileSync(path);
}

function jsonText(v: unknown): string {
  return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `0x${x.toString(16)}` : x, 2) + "\n";
}

function checkKernel(v: string | undefined): string | null {
  if (v === undefined) return null;
  const bad = v.split(",").filter((x) => !(KERNEL_VERSIONS as readonly string[]).includes(x));
  return bad.length ? `unknown kernel version "${bad[0]}" (${KERNEL_VERSIONS.join(", ")})` : null;
}

function usageError(msg: string): CliResult {
  return { code: 2, stdout: "", stderr: `ptlab: ${msg}\n${USAGE}\n` };
}

/** Runs the CLI on `args` and returns what it would print. */
export function cli(
  args: string[],
  env: { isTerminal?: boolean; read?: ReadFile } = {},
): CliResult {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        arch: { type: "string" },
        kernel: { type: "string" },
        format: { type: "string" },
        trace: { type: "boolean" },
        seed: { type: "string" },
        runs: { type: "string" },
        time: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return usageError(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === "help") {
    return { code: 0, stdout: USAGE + "\n", stderr: "" };
  }
  let [cmd, ...rest] = positionals;
  if (cmd?.endsWith(".ptlab")) {
    rest = [cmd, ...rest];
    cmd = "run";
  }
  const format = values.format ?? (env.isTerminal ? "table" : "json");
  if (!["table", "json", "ndjson", "csv"].includes(format)) {
    return usageError(`unknown format "${format}" (table, json, ndjson, csv)`);
  }
  switch (cmd) {
    case "run":
    case "check": {
      if (rest.length !== 1) return usageError(`${cmd} takes one scenario file`);
      const file = rest[0];
      let source: string;
      try {
        source = (env.read ?? defaultRead)(file);
      } catch (e) {
        const why = e instanceof Deno.errors.NotFound
          ? "no such file"
          : e instanceof Error
          ? e.message
          : String(e);
        return { code: 2, stdout: "", stderr: `ptlab: cannot read ${file}: ${why}\n` };
      }
      const bad = checkKernel(values.kernel);
      if (bad) return usageError(bad);
      const out = runScenario(source, {
        file,
        arch: values.arch,
        kernel: values.kernel,
        trace: values.trace,
      });
      if (out.exitCode === 2) {
        const text = out.diagnostics.map((d) => formatDiagnostic(d, source)).join("\n");
        const n = out.diagnostics.length;
        return {
          code: 2,
          stdout: "",
          stderr: `${text}\n${n} error${n === 1 ? "" : "s"}\n`,
        };
      }
      const notes = [
        ...out.notes.map((n) => `note: ${n}`),
        ...out.skipped.map((s) => `note: ${s.arch} skipped: ${s.reason}`),
      ];
      const stderr = notes.length ? notes.join("\n") + "\n" : "";
      if (cmd === "check") {
        return { code: 0, stdout: `${file}: ok (${out.runs.length} configuration(s))\n`, stderr };
      }
      let stdout: string;
      if (format === "json") {
        stdout = JSON.stringify(reportDocument(out.runs, { file, skipped: out.skipped }), null, 2) +
          "\n";
      } else if (format === "ndjson") stdout = ndjson(out.runs);
      else if (format === "csv") stdout = csv(out.runs);
      else {
        const parts: string[] = [];
        if (out.runs.length === 1) {
          const r = out.runs[0];
          if (r.trace) {
            parts.push(
              r.trace.map((t) => `  line ${t.line}: ${t.fn}${t.detail ? ` ${t.detail}` : ""}`)
                .join("\n"),
            );
          }
          parts.push(runTable(r));
        } else {
          // several configurations or versions: one table, a row per run
          if (values.trace) parts.push(traceSideBySide(out.runs));
          parts.push(comparisonTable(out.runs));
          const failing = out.runs.filter((r) =>
            r.violations.length || r.expectations.some((e) => !e.ok)
          );
          if (failing.length > 8) {
            parts.push(
              `${failing.length} runs have failed expectations or violations: see --format json`,
            );
          } else {for (const r of failing) {
              const f = r.expectations.filter((e) => !e.ok);
              parts.push(
                `${r.arch} ${r.kernel}: ` + [
                  ...f.map((e) => `line ${e.line} expect ${e.text} (left is ${e.actual})`),
                  ...r.violations.map((v) => `line ${v.line} [${v.rule}] ${v.message}`),
                ].join("; "),
              );
            }}
        }
        stdout = parts.join(out.runs.length > 1 ? "\n" : "\n\n") + "\n";
      }
      return { code: out.exitCode, stdout, stderr };
    }
    case "archs": {
      const sel = selectConfigs(rest[0] ?? "all");
      if (sel.unknown.length) return usageError(`unknown configuration "${sel.unknown[0]}"`);
      const opts: Record<string, string> = values.kernel ? { kernel: values.kernel } : {};
      const bad = checkKernel(values.kernel);
      if (bad) return usageError(bad);
      const items = sel.specs.map((s) => describeConfig(s.name, opts)!);
      if (values.format === "json") return { code: 0, stdout: jsonText(items), stderr: "" };
      return { code: 0, stdout: archsTable(items) + "\n", stderr: "" };
    }
    case "explain": {
      if (rest.length !== 1) return usageError("explain takes one configuration name");
      const bad = checkKernel(values.kernel);
      if (bad) return usageError(bad);
      const d = describeConfig(rest[0], values.kernel ? { kernel: values.kernel } : {});
      if (!d) {
        const near = didYouMean(rest[0], configNames());
        return usageError(`unknown configuration "${rest[0]}"${near}`);
      }
      if (values.format === "json") return { code: 0, stdout: jsonText(d), stderr: "" };
      return { code: 0, stdout: explainText(d) + "\n", stderr: "" };
    }
    case "fuzz": {
      const sel = selectConfigs(values.arch ?? "all");
      if (sel.unknown.length) return usageError(`unknown configuration "${sel.unknown[0]}"`);
      const bad = checkKernel(values.kernel);
      if (bad) return usageError(bad);
      const seed = Number(values.seed ?? "1");
      if (!Number.isInteger(seed) || seed < 0) return usageError("--seed takes a whole number");
      let seconds: number | undefined;
      if (values.time !== undefined) {
        const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(values.time);
        if (!m) return usageError("--time takes a duration such as 30s, 10m or 1h");
        seconds = Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? "s") as "s" | "m" | "h"];
      }
      const runs = values.runs === undefined ? undefined : Number(values.runs);
      if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) {
        return usageError("--runs takes a positive whole number");
      }
      const t0 = performance.now();
      const r = fuzz({
        archs: sel.specs.map((s) => s.name),
        seed,
        runs: runs ?? (seconds === undefined ? 20 : undefined),
        seconds,
        kernel: values.kernel,
      });
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      const lines = [
        `ptlab fuzz: ${r.scenarios} scenarios (${r.statements} statements) on ` +
        `${Object.keys(r.perArch).length} configuration(s), seed ${seed}, ${secs} s: ` +
        `${r.findings.length} finding(s)`,
      ];
      for (const f of r.findings) {
        lines.push(
          "",
          `${f.arch} seed ${f.seed}: ${f.kind}: ${f.message} ` +
            `(shrunk from ${f.size.before} to ${f.size.after} statements)`,
          f.scenario.trimEnd(),
        );
      }
      return { code: r.findings.length ? 1 : 0, stdout: lines.join("\n") + "\n", stderr: "" };
    }
    case "schema":
      return { code: 0, stdout: JSON.stringify(reportJsonSchema(), null, 2) + "\n", stderr: "" };
    case undefined:
      return usageError("no command given");
    default:
      return usageError(`unknown command "${cmd}"`);
  }
}

function writeAll(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = new TextEncoder().encode(text);
  while (buf.length > 0) buf = buf.subarray(w.writeSync(buf));
}

if (import.meta.main) {
  let r: CliResult;
  try {
    r = cli(Deno.args, { isTerminal: Deno.stdout.isTerminal() });
  } catch (e) {
    r = {
      code: 3,
      stdout: "",
      stderr: `ptlab: internal error: ${e instanceof Error ? e.message : String(e)}\n`,
    };
  }
  writeAll(Deno.stdout, r.stdout);
  writeAll(Deno.stderr, r.stderr);
  Deno.exit(r.code);
}
