/**
 * parisc: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The parisc configurations. */
export const pariscConfigs: ConfigSpec[] = [];
