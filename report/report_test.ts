// The report layer: units, the JSON Schema export, and the schema rejecting a broken document.
import { assert, assertEquals } from "../testing/assert.ts";
import { parseReportDocument, reportJsonSchema } from "./schema.ts";
import { bytes, pages } from "./table.ts";
import { csvField } from "./lines.ts";

Deno.test("units: bytes in binary units, pages", () => {
  assertEquals(bytes(0), "0 B");
  assertEquals(bytes(12288), "12 KiB");
  assertEquals(bytes(2 * 1024 * 1024), "2 MiB");
  assertEquals(bytes(1536), "1.5 KiB");
  assertEquals(bytes(2105344), "2.01 MiB");
  assertEquals([pages(1), pages(2)], ["1 page", "2 pages"]);
  assertEquals(csvField('a "b", c'), '"a ""b"", c"');
});

Deno.test("the JSON Schema names the contract's fields", () => {
  const s = reportJsonSchema() as { properties: Record<string, unknown>; required: string[] };
  assertEquals(s.required.sort(), ["ok", "ptlab", "runs", "schemaVersion"]);
  const text = JSON.stringify(s);
  for (const f of ["vmpte", "tables", "rss", "expectations", "violations", "final", "actual"]) {
    assert(text.includes(`"${f}"`), f);
  }
});

Deno.test("a document that breaks the contract is rejected with a readable message", () => {
  let msg = "";
  try {
    parseReportDocument({ ok: true, runs: [{ arch: "x" }] });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(msg.startsWith("Invalid ptlab report:"), msg);
  assert(msg.includes("runs[0].kernel"), msg);
});
