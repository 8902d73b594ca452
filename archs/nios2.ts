/**
 * nios2: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The nios2 configurations. */
export const nios2Configs: ConfigSpec[] = [];
