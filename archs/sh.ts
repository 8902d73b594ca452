/**
 * sh: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The sh configurations. */
export const shConfigs: ConfigSpec[] = [];
