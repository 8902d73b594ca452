/**
 * microblaze: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The microblaze configurations. */
export const microblazeConfigs: ConfigSpec[] = [];
