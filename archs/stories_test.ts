// Every configuration tells (`ptlab explain`) how each level is freed; the engine records how it
// was freed (Machine.freeVia, inside the pXd_free_tlb wrappers). They must agree, in every
// modelled kernel version.
import { Run } from "../engine/run.ts";
import { KERNEL_VERSIONS, LEVELS, type Op } from "../engine/types.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { resolveConfig } from "./config.ts";
import { CONFIGS } from "./registry.ts";

const op = (o: Record<string, unknown>, line: number) => ({ line, col: 1, ...o }) as unknown as Op;

Deno.test("there are 57 configurations with the names of arch-facts.json, each with a story", () => {
  assertEquals(CONFIGS.length, 57);
  assertEquals(new Set(CONFIGS.map((c) => c.name)).size, 57);
  for (const c of CONFIGS) assert(c.story, `${c.name} has no story`);
});

for (const spec of CONFIGS) {
  Deno.test(`${spec.name}: the free path of every level is the one its story tells`, () => {
    for (const kernel of KERNEL_VERSIONS) {
      const cfg = resolveConfig(spec, { kernel });
      const kv = Number(kernel.split(".")[0]) * 100 + Number(kernel.split(".")[1]);
      const story = spec.story!(cfg, kv);
      // one page in the middle of user space: every table on its path is its own, so munmap
      // frees them all (the pgd stays)
      const page = 1n << BigInt(cfg.pageShift);
      const top = cfg.levels.find((l) => l.folded === "none" && l.name !== "pgd")!;
      const slot = 1n << BigInt(top.shift + Math.log2(top.entries));
      let addr = cfg.taskSize / 2n / slot * slot;
      if (addr === 0n) addr = cfg.taskSize / 2n / page * page;
      const run = new Run(cfg, spec.backend, 1);
      const ops = [
        op({ op: "mm", name: "a" }, 1),
        op({ op: "map", mm: "a", addr, size: page }, 2),
        op({ op: "touch", mm: "a", addr, size: page, step: page }, 3),
        op({ op: "unmap", mm: "a", addr, size: page }, 4),
      ];
      for (const o of ops) run.step(o);
      const where = `${spec.name} ${kernel}`;
      assertEquals(run.k.violations.map((v) => v.rule), [], where);
      for (let l = 1; l < 5; l++) {
        const name = LEVELS[l];
        const seen = [...run.k.freeVia[l]];
        const told = story.levels[name]?.via;
        if (cfg.levels[l].folded !== "none") {
          assertEquals(seen, [], `${where} ${name} is folded`);
          continue;
        }
        assert(told, `${where}: no story for ${name}`);
        // a fragment goes back through the table batch (powerpc, s390) or at once (m68k,
        // sparc32), which the story's "fragment" covers
        const ok = told === "fragment"
          ? seen.length === 1 && ["table-batch", "direct"].includes(seen[0])
          : seen.length === 1 && seen[0] === told;
        assert(ok, `${where} ${name}: the story says ${told}, the engine did ${seen.join(", ")}`);
      }
    }
  });
}
