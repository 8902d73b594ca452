// The streamed JSON writer must write exactly what JSON.stringify(value, null, 2) writes.
import { assertEquals } from "../testing/assert.ts";
import { jsonChunks } from "./json.ts";
import { runScenario } from "../mod.ts";
import { reportDocument } from "./schema.ts";

const same = (v: unknown) => assertEquals([...jsonChunks(v)].join(""), JSON.stringify(v, null, 2));

Deno.test("json: the pieces join to JSON.stringify's text, edge cases", () => {
  for (
    const v of [
      null,
      1,
      "a\nb",
      [],
      {},
      [[], {}, [1, [2, [3, [4, [5]]]]]],
      { a: undefined, b: [undefined, () => 1], c: { d: { e: { f: { g: 1 } } } } },
      { toJSON: () => ({ x: [1, 2] }) },
      [{ k: "v", n: [1, { m: "line\n" }] }],
    ]
  ) same(v);
});

Deno.test("json: a whole report document streams to the same text", () => {
  const src = Deno.readTextFileSync(new URL("../examples/quickstart.ptlab", import.meta.url));
  const out = runScenario(src, { arch: "x86_64-4level,x86_64-5level", kernel: "6.1,6.18" });
  same(reportDocument(out.runs, { file: "q.ptlab", skipped: out.skipped }));
});
