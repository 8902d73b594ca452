/**
 * The words that begin a statement, in one list for the parser's "did you mean", the formatter
 * and the editor grammar's test (no imports: the formatter loads it without the parser).
 *
 * @module
 */

/** The words that begin a statement (`else` continues an `if` and is not one of them). */
export const STATEMENT_WORDS: readonly string[] = [
  "arch",
  "cpus",
  "let",
  "mm",
  "file",
  "map",
  "touch",
  "unmap",
  "madvise",
  "mprotect",
  "mremap",
  "fork",
  "exit",
  "run",
  "idle",
  "snapshot",
  "expect",
  "repeat",
  "inject",
  "include",
  "param",
  "print",
  "if",
];
