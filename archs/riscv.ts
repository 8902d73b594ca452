/**
 * riscv: configurations and backend (to be filled in).
 *
 * @module
 */

import type { ConfigSpec } from "./config.ts";

/** The riscv configurations. */
export const riscvConfigs: ConfigSpec[] = [];
