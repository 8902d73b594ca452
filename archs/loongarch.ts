/**
 * loongarch: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The loongarch configurations. */
export const loongarchConfigs: ConfigSpec[] = [];
