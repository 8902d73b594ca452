// Parsing speed: lex + CST parse + visitor over a large generated scenario (target >= 5 MB/s),
// and compiling it for x86_64-4level.
import { catalog, compileScenario, parseScenario } from "../mod.ts";
import { generateScenario } from "../dsl/bench_helper.ts";

const big = generateScenario(1 << 20); // 1 MiB
const mb = big.length / 1e6;

Deno.bench(`parse a generated ${mb.toFixed(2)} MB scenario`, () => {
  const r = parseScenario(big, "big.ptlab");
  if (r.diagnostics.length) throw new Error("the generated scenario must parse");
});

const parsed = parseScenario(big, "big.ptlab").scenario!;
Deno.bench(`compile the ${mb.toFixed(2)} MB scenario for x86_64-4level`, () => {
  compileScenario(parsed, "x86_64-4level", catalog);
});

// A one-off reading in MB/s, for the README.
const t0 = performance.now();
for (let i = 0; i < 5; i++) parseScenario(big, "big.ptlab");
const s = (performance.now() - t0) / 5 / 1000;
console.log(
  `parse: ${(mb / s).toFixed(1)} MB/s (${mb.toFixed(2)} MB in ${(s * 1000).toFixed(0)} ms)`,
);
