import assert from "node:assert/strict";
import { lexer, numberValue } from "./tokens.ts";

function kinds(src: string): string[] {
  const r = lexer.tokenize(src);
  assert.deepEqual(r.errors, []);
  return r.tokens.map((t) => `${t.tokenType.name}:${t.image}`);
}

Deno.test("lexer: a configuration name is one token only right after 'arch'", () => {
  assert.deepEqual(kinds("arch x86_64-4level"), ["Arch:arch", "ArchName:x86_64-4level"]);
  assert.deepEqual(kinds("arch  # comment\n  arm64-16k-48 {"), [
    "Arch:arch",
    "ArchName:arm64-16k-48",
    "LCurly:{",
  ]);
  // keywords are names there too
  assert.deepEqual(kinds("arch mm"), ["Arch:arch", "ArchName:mm"]);
  // elsewhere '-' is minus
  assert.deepEqual(kinds("let x = a-1"), [
    "Let:let",
    "Ident:x",
    "Equals:=",
    "Ident:a",
    "Minus:-",
    "Num:1",
  ]);
});

Deno.test("lexer: keywords are reserved, longer names are identifiers", () => {
  assert.deepEqual(kinds("map mapping mm mmx in inside on only"), [
    "Map:map",
    "Ident:mapping",
    "Mm:mm",
    "Ident:mmx",
    "In:in",
    "Ident:inside",
    "On:on",
    "Ident:only",
  ]);
});

Deno.test("lexer: numbers, versions, ranges and operators", () => {
  assert.deepEqual(kinds("0..4 6.6 6.12 0x7f00_0000_0000 16G 1_000"), [
    "Num:0",
    "DotDot:..",
    "Num:4",
    "Version:6.6",
    "Version:6.12",
    "Num:0x7f00_0000_0000",
    "Num:16G",
    "Num:1_000",
  ]);
  assert.deepEqual(kinds("== != <= >= < > = + - * / % ( ) , . { }").map((k) => k.split(":")[0]), [
    "EqEq",
    "NotEq",
    "Le",
    "Ge",
    "Lt",
    "Gt",
    "Equals",
    "Plus",
    "Minus",
    "Star",
    "Slash",
    "Percent",
    "LParen",
    "RParen",
    "Comma",
    "Dot",
    "LCurly",
    "RCurly",
  ]);
  // a bad number is one token (rejected later with a message), not a number and a name
  assert.deepEqual(kinds("12Q 0x"), ["Num:12Q", "Num:0x"]);
});

Deno.test("lexer: whitespace and comments are skipped; strings", () => {
  assert.deepEqual(kinds('# only a comment\n\tsnapshot "a b" # trailing\r\n'), [
    "Snapshot:snapshot",
    'Str:"a b"',
  ]);
  assert.deepEqual(kinds('snapshot "open'), ["Snapshot:snapshot", 'BadStr:"open']);
});

Deno.test("lexer: tokens carry their offsets", () => {
  const r = lexer.tokenize("mm a\n  map a 0x1000 size 4K");
  assert.deepEqual(r.tokens.map((t) => t.startOffset), [0, 3, 7, 11, 13, 20, 25]);
});

Deno.test("lexer: unexpected characters are errors", () => {
  const r = lexer.tokenize("mm a @ b");
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].offset, 5);
});

Deno.test("numberValue: decimal, hex, separators and binary units", () => {
  const cases: [string, bigint][] = [
    ["0", 0n],
    ["42", 42n],
    ["1_000", 1000n],
    ["007", 7n],
    ["4K", 4096n],
    ["2M", 2097152n],
    ["1G", 1n << 30n],
    ["1T", 1n << 40n],
    ["16G", 16n << 30n],
    ["0x7f00_0000_0000", 0x7f0000000000n],
    ["0XfF", 255n],
    ["123456789012345678901234", 123456789012345678901234n],
    ["1_000_000_000_000_000K", 1000000000000000n << 10n],
  ];
  for (const [s, v] of cases) assert.equal(numberValue(s), v, s);
});

Deno.test("numberValue: bad numbers say why", () => {
  assert.equal(numberValue("0x"), "invalid number '0x': no digits after '0x'");
  assert.equal(numberValue("12Q"), "invalid number '12Q': unknown unit 'Q' (use K, M, G or T)");
  assert.equal(numberValue("4k"), "invalid number '4k': unknown unit 'k' (use K, M, G or T)");
  assert.equal(
    numberValue("0x10K"),
    "invalid number '0x10K': units (K, M, G, T) apply to decimal numbers only",
  );
  for (const s of ["1__0", "1_", "0xg1", "0x1__0", "1K_"]) {
    assert.equal(typeof numberValue(s), "string", s);
  }
});
