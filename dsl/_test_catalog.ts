/**
 * A {@link ConfigCatalog} over `archs/registry.ts`, for the DSL's tests.
 *
 * @module
 */

import { checkOptions, resolveConfig } from "../archs/config.ts";
import { configNames, findConfig } from "../archs/registry.ts";
import type { ConfigCatalog } from "./compile.ts";

/** The catalog of every registered configuration. */
export const catalog: ConfigCatalog = {
  names: () => configNames(),
  checkOptions: (name, options) => checkOptions(findConfig(name)!, options),
  resolve: (name, options) => resolveConfig(findConfig(name)!, options),
};
