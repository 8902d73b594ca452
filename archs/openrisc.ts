/**
 * openrisc: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The openrisc configurations. */
export const openriscConfigs: ConfigSpec[] = [];
