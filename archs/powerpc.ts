/**
 * powerpc: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The powerpc configurations. */
export const powerpcConfigs: ConfigSpec[] = [];
