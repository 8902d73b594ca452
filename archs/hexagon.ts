/**
 * hexagon: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The hexagon configurations. */
export const hexagonConfigs: ConfigSpec[] = [];
