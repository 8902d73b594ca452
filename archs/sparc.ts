/**
 * sparc: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The sparc configurations. */
export const sparcConfigs: ConfigSpec[] = [];
