/**
 * Every configuration ptlab knows, by name (the `name`s of arch-facts.json), and lookups over
 * them: exact names, comma lists, globs such as `arm64-*`, and `all`.
 *
 * @module
 */

import type { ArchConfig } from "../engine/types.ts";
import { type ConfigSpec, resolveConfig } from "./config.ts";
import { x86Configs } from "./x86.ts";
import { armConfigs } from "./arm.ts";
import { arm64Configs } from "./arm64.ts";
import { powerpcConfigs } from "./powerpc.ts";
import { s390Configs } from "./s390.ts";
import { riscvConfigs } from "./riscv.ts";
import { loongarchConfigs } from "./loongarch.ts";
import { mipsConfigs } from "./mips.ts";
import { m68kConfigs } from "./m68k.ts";
import { sparcConfigs } from "./sparc.ts";
import { shConfigs } from "./sh.ts";
import { umConfigs } from "./um.ts";
import { nios2Configs } from "./nios2.ts";
import { openriscConfigs } from "./openrisc.ts";
import { cskyConfigs } from "./csky.ts";
import { hexagonConfigs } from "./hexagon.ts";
import { microblazeConfigs } from "./microblaze.ts";
import { xtensaConfigs } from "./xtensa.ts";
import { arcConfigs } from "./arc.ts";
import { pariscConfigs } from "./parisc.ts";
import { alphaConfigs } from "./alpha.ts";
import { genericConfigs } from "./generic.ts";

/** Every configuration, in listing order. */
export const CONFIGS: readonly ConfigSpec[] = [
  ...x86Configs,
  ...armConfigs,
  ...arm64Configs,
  ...powerpcConfigs,
  ...s390Configs,
  ...riscvConfigs,
  ...loongarchConfigs,
  ...mipsConfigs,
  ...m68kConfigs,
  ...sparcConfigs,
  ...shConfigs,
  ...umConfigs,
  ...nios2Configs,
  ...openriscConfigs,
  ...cskyConfigs,
  ...hexagonConfigs,
  ...microblazeConfigs,
  ...xtensaConfigs,
  ...arcConfigs,
  ...pariscConfigs,
  ...alphaConfigs,
  ...genericConfigs,
];

const byName = new Map(CONFIGS.map((c) => [c.name, c]));

/** The configuration called `name`, or undefined. */
export function findConfig(name: string): ConfigSpec | undefined {
  return byName.get(name);
}

/** Names of every configuration. */
export function configNames(): string[] {
  return CONFIGS.map((c) => c.name);
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${re}$`);
}

/**
 * Expands a selection (`all`, a name, a glob, or a comma list of them) into configurations.
 * Returns the unknown parts separately.
 */
export function selectConfigs(sel: string): { specs: ConfigSpec[]; unknown: string[] } {
  const specs: ConfigSpec[] = [];
  const unknown: string[] = [];
  for (const part of sel.split(",").map((s) => s.trim()).filter(Boolean)) {
    const matches = part === "all"
      ? [...CONFIGS]
      : /[*?]/.test(part)
      ? CONFIGS.filter((c) => globToRegExp(part).test(c.name))
      : CONFIGS.filter((c) => c.name === part);
    if (matches.length === 0) unknown.push(part);
    for (const m of matches) if (!specs.includes(m)) specs.push(m);
  }
  return { specs, unknown };
}

/** Resolves a configuration by name with options; throws on an unknown name. */
export function configFor(name: string, options: Record<string, string> = {}): ArchConfig {
  const spec = findConfig(name);
  if (!spec) throw new RangeError(`Unknown configuration "${name}"`);
  return resolveConfig(spec, options);
}
