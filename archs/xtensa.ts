/**
 * xtensa: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The xtensa configurations. */
export const xtensaConfigs: ConfigSpec[] = [];
