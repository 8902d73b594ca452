/**
 * alpha: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The alpha configurations. */
export const alphaConfigs: ConfigSpec[] = [];
