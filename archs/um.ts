/**
 * um: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The um configurations. */
export const umConfigs: ConfigSpec[] = [];
