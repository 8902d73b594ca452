/**
 * Helpers the dsl/ tests share: compile a scenario for a configuration of the test catalog, its
 * operations without source positions, its diagnostics as `LINE:COL: message`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type CompileResult, compileScenario, parseScenario } from "./mod.ts";
import { catalog } from "./_test_catalog.ts";

/** Parses (asserting no syntax error) and compiles `src` for `arch`. */
export function compile(src: string, arch = "x86_64-4level"): CompileResult {
  const p = parseScenario(src, "t.ptlab");
  assert.deepEqual(p.diagnostics.map((d) => d.message), []);
  return compileScenario(p.scenario!, arch, catalog);
}

/** Ops without their source positions (asserting no diagnostic). */
export function ops(src: string, arch?: string): unknown[] {
  const r = compile(src, arch);
  assert.deepEqual(r.diagnostics.map((d) => d.message), []);
  assert.ok(r.program);
  return r.program.ops.map(({ line: _l, col: _c, ...rest }) => rest);
}

/** `LINE:COL: message` of every diagnostic, syntax or semantic. */
export function messages(src: string, arch = "x86_64-4level"): string[] {
  const p = parseScenario(src, "t.ptlab");
  const ds = p.scenario ? compileScenario(p.scenario, arch, catalog).diagnostics : p.diagnostics;
  return ds.map((d) => `${d.line}:${d.col}: ${d.message}`);
}
