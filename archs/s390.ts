/**
 * s390: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The s390 configurations. */
export const s390Configs: ConfigSpec[] = [];
