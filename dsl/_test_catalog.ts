/**
 * The catalog of every registered configuration, for the DSL's tests (the one mod.ts exports).
 *
 * @module
 */

export { catalog } from "../mod.ts";
