/**
 * arm: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The arm configurations. */
export const armConfigs: ConfigSpec[] = [];
