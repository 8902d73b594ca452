/**
 * m68k: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The m68k configurations. */
export const m68kConfigs: ConfigSpec[] = [];
