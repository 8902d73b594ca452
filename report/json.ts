/**
 * JSON written as it goes: the same text as `JSON.stringify(value, null, 2)`, in pieces, so that
 * a document of a million snapshots never becomes one string (V8 strings stop at 2^29 characters).
 * Addresses (bigint) become hex strings.
 *
 * @module
 */

const hex = (x: bigint) => `0x${x.toString(16)}`;

/** Addresses (bigint) are written as hex strings, `0x7f0000000000`. */
export function bigintAsHex(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? hex(v) : v;
}

/** Depth down to which objects and arrays are taken apart; below it, each is stringified whole. */
const STREAM_DEPTH = 4;

/**
 * The pieces of `JSON.stringify(value, null, 2)`, in order. Objects and arrays near the top
 * (where a document's long arrays are: runs, their snapshots) are written member by member.
 */
export function* jsonChunks(value: unknown, indent = "", depth = 0): Generator<string> {
  if (typeof value === "bigint") value = hex(value);
  if (depth >= STREAM_DEPTH || value === null || typeof value !== "object") {
    yield (JSON.stringify(value, bigintAsHex, 2) ?? "null").replaceAll("\n", "\n" + indent);
    return;
  }
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return void (yield "[]");
    yield "[\n";
    for (let i = 0; i < value.length; i++) {
      yield inner;
      const v = value[i];
      // JSON.stringify writes null for what it cannot write inside an array
      if (v === undefined || typeof v === "function" || typeof v === "symbol") yield "null";
      else yield* jsonChunks(v, inner, depth + 1);
      yield i < value.length - 1 ? ",\n" : "\n";
    }
    yield indent + "]";
    return;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    yield* jsonChunks((value as { toJSON(): unknown }).toJSON(), indent, depth);
    return;
  }
  const entries = Object.entries(value).filter(([, v]) =>
    v !== undefined && typeof v !== "function" && typeof v !== "symbol"
  );
  if (entries.length === 0) return void (yield "{}");
  yield "{\n";
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    yield `${inner}${JSON.stringify(k)}: `;
    yield* jsonChunks(v, inner, depth + 1);
    yield i < entries.length - 1 ? ",\n" : "\n";
  }
  yield indent + "}";
}
