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
import {
  comparisonTable,
  csv,
  formatDiagnostic,
  ndjson,
  reportDocument,
  reportJsonSchema,
  resolveConfig,
  runScenario,
  runTable,
  selectConfigs,
} from "./mod.ts";
import { bytes } from "./report/table.ts";
import { alignTable } from "./report/table.ts";

const USAGE = `usage:
  ptlab run FILE [--arch SEL] [--kernel V] [--format table|json|ndjson|csv] [--trace]
  ptlab check FILE [--arch SEL] [--kernel V]
  ptlab archs [SEL] [--format table|json]
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
        for (const r of out.runs) {
          if (r.trace) {
            parts.push(
              r.trace.map((t) => `  line ${t.line}: ${t.fn}${t.detail ? ` ${t.detail}` : ""}`)
                .join("\n"),
            );
          }
          parts.push(runTable(r));
        }
        if (out.runs.length > 1) parts.push("comparison:\n" + comparisonTable(out.runs));
        stdout = parts.join("\n\n") + "\n";
      }
      return { code: out.exitCode, stdout, stderr };
    }
    case "archs": {
      const sel = selectConfigs(rest[0] ?? "all");
      if (sel.unknown.length) return usageError(`unknown configuration "${sel.unknown[0]}"`);
      const cfgs = sel.specs.map((s) => resolveConfig(s));
      if (format === "json") {
        return {
          code: 0,
          stdout: JSON.stringify(cfgs, (_k, v) =>
            typeof v === "bigint" ? `0x${v.toString(16)}` : v, 2) + "\n",
          stderr: "",
        };
      }
      const rows = [[
        "configuration",
        "page",
        "VA bits",
        "levels",
        "tables (entries x bytes)",
        "user space",
      ]];
      for (const c of cfgs) {
        rows.push([
          c.name,
          bytes(2 ** c.pageShift),
          String(c.levels[0].shift + Math.log2(c.levels[0].entries)),
          String(c.levels.filter((l) => l.folded === "none").length),
          c.levels.filter((l) => l.folded === "none").map((l) =>
            `${l.name} ${l.entries}x${l.entryBytes}`
          ).join(", "),
          `0x${c.taskSize.toString(16)}`,
        ]);
      }
      return { code: 0, stdout: alignTable(rows, (i) => i === 2 || i === 3) + "\n", stderr: "" };
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
