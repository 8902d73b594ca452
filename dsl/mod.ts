/**
 * The scenario language of ptlab: text in, checked {@link Program} out.
 *
 * {@link parseScenario} lexes and parses a `.ptlab` file into a {@link Scenario} (syntax errors
 * only); {@link compileScenario} checks it against one configuration and unrolls it into the
 * engine's operations; {@link formatDiagnostic} prints a problem with a caret under it.
 *
 * @example
 * ```ts
 * import { compileScenario, formatDiagnostic, parseScenario } from "./mod.ts";
 * import type { ConfigCatalog } from "./mod.ts";
 * import { configNames, findConfig } from "../archs/registry.ts";
 * import { checkOptions, resolveConfig } from "../archs/config.ts";
 *
 * const catalog: ConfigCatalog = {
 *   names: () => configNames(),
 *   checkOptions: (n, o) => checkOptions(findConfig(n)!, o),
 *   resolve: (n, o) => resolveConfig(findConfig(n)!, o),
 *   injectSites: () => ["pagetable_alloc"],
 * };
 * const src = "mm a\nmap a 0x7f0000000000 size 2M\ntouch a 0x7f0000000000 size 2M\n";
 * const { scenario, diagnostics } = parseScenario(src, "hello.ptlab");
 * if (!scenario) throw new Error(diagnostics.map((d) => formatDiagnostic(d, src)).join("\n"));
 * const { program } = compileScenario(scenario, "x86_64-4level", catalog);
 * if (program?.ops.length !== 3) throw new Error("expected mm, map and touch");
 * ```
 *
 * @module
 */

export type {
  ArchDecl,
  ArchOption,
  BinaryOp,
  CompareOp,
  CpuList,
  ExprNode,
  NameRef,
  Scenario,
  Span,
  Statement,
  StatementBase,
} from "./ast.ts";
export type { Diagnostic } from "./diagnostics.ts";
export { didYouMean, formatDiagnostic, locate } from "./diagnostics.ts";
export type { CompileOptions, CompileResult, ConfigCatalog } from "./compile.ts";
export {
  COMMAND_LINE,
  compileScenario,
  DEFAULT_CPUS,
  MAX_CPUS,
  MAX_ITERATIONS,
  MAX_OPS,
} from "./compile.ts";
export { parseScenario } from "./parse.ts";
export type { OptionProblem } from "../archs/config.ts";
export type {
  ArchConfig,
  CmpOp,
  Expr,
  Fold,
  GatherConfig,
  KernelVersion,
  LevelGeometry,
  LevelName,
  Op,
  OpSource,
  Program,
} from "../engine/types.ts";
export { KERNEL_VERSIONS, LEVELS } from "../engine/types.ts";
