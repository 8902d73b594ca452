/**
 * csky: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The csky configurations. */
export const cskyConfigs: ConfigSpec[] = [];
