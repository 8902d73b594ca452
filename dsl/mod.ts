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
  IndexedName,
  MapClause,
  NameRef,
  Scenario,
  Span,
  Statement,
  StatementBase,
  TextPart,
} from "./ast.ts";
export { FUNCTIONS, PROTS } from "./ast.ts";
export type { Diagnostic } from "./diagnostics.ts";
export {
  capDiagnostics,
  didYouMean,
  errorCount,
  formatDiagnostic,
  locate,
  MAX_DIAGNOSTICS,
} from "./diagnostics.ts";
export type { CompileOptions, CompileResult, ConfigCatalog } from "./compile.ts";
export {
  COMMAND_LINE,
  compileScenario,
  CONFIG_FACTS,
  configFacts,
  DEFAULT_CPUS,
  MAX_CPUS,
  MAX_EVAL_STEPS,
  MAX_ITERATIONS,
  MAX_OPS,
  MAX_RESULTS,
  METRIC_SPELLINGS,
  MM_METRIC_SPELLINGS,
  paramValue,
  SET_OPTION,
} from "./compile.ts";
export { type ParseOptions, type ParseResult, parseScenario } from "./parse.ts";
export {
  checkLimits,
  type LimitProblem,
  MAX_BLOCK_DEPTH,
  MAX_EXPR_DEPTH,
  MAX_EXPR_OPERATORS,
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDES,
  MAX_SHIFT,
} from "./limits.ts";
export type { OptionProblem } from "../archs/config.ts";
export type {
  ArchConfig,
  CmpOp,
  Expr,
  ExprPos,
  Fold,
  GatherConfig,
  KernelVersion,
  LevelGeometry,
  LevelName,
  Op,
  OpSource,
  Program,
  TextTemplate,
} from "../engine/types.ts";
export { KERNEL_VERSIONS, LEVELS } from "../engine/types.ts";
