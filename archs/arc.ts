/**
 * arc: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The arc configurations. */
export const arcConfigs: ConfigSpec[] = [];
