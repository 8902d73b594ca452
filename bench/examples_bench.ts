// Every example on every configuration of the x86 family and asm-generic.
import { runScenario } from "../mod.ts";

const dir = new URL("../examples/", import.meta.url);
const examples = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".ptlab"))
  .map((e) => ({
    file: `examples/${e.name}`,
    source: Deno.readTextFileSync(new URL(e.name, dir)),
  }));

Deno.bench(
  `all ${examples.length} examples on x86_64-4level,x86_64-5level,i386-2level,i386-pae,generic`,
  () => {
    for (const e of examples) {
      runScenario(e.source, {
        file: e.file,
        arch: "x86_64-4level,x86_64-5level,i386-2level,i386-pae,generic",
      });
    }
  },
);

Deno.bench(`all ${examples.length} examples on every configuration (--arch all)`, () => {
  for (const e of examples) runScenario(e.source, { file: e.file, arch: "all" });
});
