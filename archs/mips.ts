/**
 * mips: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The mips configurations. */
export const mipsConfigs: ConfigSpec[] = [];
