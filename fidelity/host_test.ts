// Fidelity against the running kernel: every examples/host-*.ptlab workload is carried out in a
// real process on this machine and its VmPTE (and nr_page_table_pages, where it can be read
// precisely) must equal ptlab's figure for the host's configuration, exactly.
import { catalog, compileScenario, findConfig, parseScenario, runProgram } from "../mod.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import {
  buildProbe,
  compareWithHost,
  type Comparison,
  findCompiler,
  type HostFacts,
  hostUnsupported,
  probeFacts,
} from "./host.ts";

const unsupported = hostUnsupported();
const cc = unsupported ? null : findCompiler();
const skip = unsupported ?? (cc ? null : "no C compiler (cc, gcc or clang) to build the probe");
const dir = new URL("../examples/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name)
  .filter((n) => n.startsWith("host-") && n.endsWith(".ptlab")).sort();

// The probe reads /proc for us (Deno asks for --allow-all to read /proc), built once.
let probe: string | null = null;
let facts: HostFacts | null = null;
async function setup(): Promise<[string, HostFacts]> {
  if (!probe) probe = await buildProbe(cc!, await Deno.makeTempDir({ prefix: "ptlab-probe-" }));
  if (!facts) facts = await probeFacts(probe);
  return [probe, facts];
}

function table(rows: Comparison[]): string {
  return rows.map((r) =>
    `  ${r.label.padEnd(22)} ${r.what.padEnd(20)} ptlab ${String(r.model).padStart(9)}  host ${
      r.host === null ? `-  (${r.note})` : String(r.host).padStart(9)
    }`
  ).join("\n");
}

Deno.test({
  name: `host fidelity${skip ? `: skipped (${skip})` : ""}`,
  ignore: skip !== null,
  sanitizeResources: false,
  async fn() {
    assert(files.length >= 8, "the host workloads are examples/host-*.ptlab");
    const [, f] = await setup();
    console.log(`host: ${f.config}, kernel ${f.release} (modelled as ${f.kernel}), pti ${f.pti}`);
  },
});

for (const name of files) {
  Deno.test({
    name: `host fidelity: ${name}`,
    ignore: skip !== null,
    sanitizeResources: false,
    async fn() {
      const [probePath, facts] = await setup();
      const file = `examples/${name}`;
      const source = Deno.readTextFileSync(new URL(name, dir));
      const parsed = parseScenario(source, file);
      assertEquals(parsed.diagnostics, []);
      const c = compileScenario(parsed.scenario!, facts.config, catalog, {
        optionOverrides: { kernel: facts.kernel, pti: facts.pti ? "on" : "off" },
      });
      assertEquals(c.diagnostics, []);
      const model = runProgram(c.config!, findConfig(facts.config)!.backend, c.program!);
      assertEquals(model.violations, []);
      // VmPTE is exact on the first try; nr_page_table_pages is system-wide, so another
      // process allocating page tables during a measurement can disturb it: the workload is
      // replayed up to three times and must agree exactly in one replay.
      let last: Comparison[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        last = await compareWithHost(probePath, c.program!.ops, model);
        const vm = last.filter((r) => r.what.endsWith("VmPTE"));
        for (const r of vm) {
          assertEquals(r.host, r.model, `${file} "${r.label}" ${r.what}\n${table(last)}`);
        }
        if (last.every((r) => r.host === null || r.host === r.model)) break;
      }
      const bad = last.filter((r) => r.host !== null && r.host !== r.model);
      assertEquals(
        bad,
        [],
        `${file} on ${facts.config} ${facts.release} (nr_page_table_pages is system-wide: a ` +
          `process allocating page tables in all three replays shows here too):\n${table(last)}`,
      );
      console.log(
        `${file} (${facts.config}, kernel ${facts.kernel}${facts.exact ? "" : " nearest"}):\n${
          table(last)
        }`,
      );
    },
  });
}
