/**
 * arm64: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The arm64 configurations. */
export const arm64Configs: ConfigSpec[] = [];
