/**
 * Test-report formats for CI systems: every expectation of every run is a test case, and so is
 * each run's kernel-rule check (failing with the violations), so that Jenkins, GitLab or GitHub
 * show them one by one. `--format junit` (the JUnit XML that Ant and Surefire write) and
 * `--format tap` (TAP version 13).
 *
 * @module
 */

import type { RunResult } from "../engine/types.ts";

/** A skipped configuration, and why. */
export interface SkippedRun {
  /** Configuration name. */
  arch: string;
  /** Why it did not run. */
  reason: string;
}

/** One test case: a run's expectation, or its kernel-rule check. */
interface Case {
  suite: string;
  name: string;
  failure?: { message: string; detail: string };
  skipped?: string;
}

function runName(r: RunResult): string {
  const p = r.params;
  const params = p ? Object.entries(p).map(([k, v]) => ` ${k}=${v}`).join("") : "";
  return `${r.arch} ${r.kernel}${params}`;
}

function cases(runs: readonly RunResult[], skipped: readonly SkippedRun[]): Case[] {
  const out: Case[] = [];
  for (const r of runs) {
    const suite = runName(r);
    for (const e of r.expectations) {
      out.push({
        suite,
        name: `line ${e.line}: expect ${e.text}`,
        failure: e.ok ? undefined : {
          message: `left is ${e.actual}, right is ${e.expected}`,
          detail: `expect ${e.text}: left is ${e.actual}, right is ${e.expected}`,
        },
      });
    }
    out.push({
      suite,
      name: "kernel rules",
      failure: r.violations.length
        ? {
          message: `${r.violations.length} violation(s): ${r.violations[0].rule}`,
          detail: r.violations.map((v) => `line ${v.line}: [${v.rule}] ${v.message}`).join("\n"),
        }
        : undefined,
    });
  }
  for (const s of skipped) out.push({ suite: s.arch, name: "scenario", skipped: s.reason });
  return out;
}

/** What XML 1.0 cannot hold: C0 controls but tab, LF and CR; U+FFFE and U+FFFF. */
function xmlChar(ch: string): string {
  const c = ch.charCodeAt(0);
  const bad = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff;
  return bad ? "\ufffd" : ch;
}

/** XML-escapes text for an attribute or element (and drops what XML 1.0 cannot hold). */
export function xmlText(s: string): string {
  return [...s].map(xmlChar).join("")
    .replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&apos;");
}

/** JUnit XML: a `<testsuite>` per run (configuration and kernel), a `<testcase>` per check. */
export function junit(
  runs: readonly RunResult[],
  opts: { file?: string; skipped?: readonly SkippedRun[] } = {},
): string {
  const all = cases(runs, opts.skipped ?? []);
  const suites = [...new Set(all.map((c) => c.suite))];
  const count = (cs: Case[]) =>
    `tests="${cs.length}" failures="${cs.filter((c) => c.failure).length}" errors="0" ` +
    `skipped="${cs.filter((c) => c.skipped !== undefined).length}"`;
  const file = opts.file ?? "scenario";
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xmlText(`ptlab ${file}`)}" ${count(all)}>`,
  ];
  for (const s of suites) {
    const cs = all.filter((c) => c.suite === s);
    out.push(`  <testsuite name="${xmlText(s)}" ${count(cs)}>`);
    for (const c of cs) {
      const open = `    <testcase classname="${xmlText(`${file}.${s}`)}" name="${xmlText(c.name)}"`;
      if (c.failure) {
        out.push(
          `${open}>`,
          `      <failure message="${xmlText(c.failure.message)}">${
            xmlText(c.failure.detail)
          }</failure>`,
          `    </testcase>`,
        );
      } else if (c.skipped !== undefined) {
        out.push(`${open}>`, `      <skipped message="${xmlText(c.skipped)}"/>`, `    </testcase>`);
      } else out.push(`${open}/>`);
    }
    out.push(`  </testsuite>`);
  }
  out.push(`</testsuites>`);
  return out.join("\n") + "\n";
}

/** TAP version 13: a test point per check, YAML diagnostics under a failure, `# SKIP` for skips. */
export function tap(
  runs: readonly RunResult[],
  opts: { skipped?: readonly SkippedRun[] } = {},
): string {
  const all = cases(runs, opts.skipped ?? []);
  const line = (s: string) => s.replace(/[\r\n]+/g, " ").replaceAll("#", "\\#");
  const out = ["TAP version 13", `1..${all.length}`];
  all.forEach((c, i) => {
    const name = line(`${c.suite}: ${c.name}`);
    if (c.skipped !== undefined) out.push(`ok ${i + 1} - ${name} # SKIP ${line(c.skipped)}`);
    else if (!c.failure) out.push(`ok ${i + 1} - ${name}`);
    else {
      out.push(
        `not ok ${i + 1} - ${name}`,
        "  ---",
        `  message: ${JSON.stringify(c.failure.message)}`,
      );
      out.push(`  detail: ${JSON.stringify(c.failure.detail)}`, "  ...");
    }
  });
  return out.join("\n") + "\n";
}
