/**
 * The scenario language's own syntax tree: what the visitor builds from Chevrotain's CST and
 * what the compiler reads. Positions are offsets into the source; {@link locate} in
 * `diagnostics.ts` turns them into lines and columns when a message needs them.
 *
 * @module
 */

/** A piece of the source: offset of its first character (0-based) and length in characters. */
export interface Span {
  /** Offset of the first character. */
  readonly offset: number;
  /** Length in characters. */
  readonly length: number;
}

/** A name as written, with its position. */
export interface NameRef {
  /** The name. */
  readonly name: string;
  /** Where it is. */
  readonly span: Span;
}

/**
 * A process or file name as written: `p`, or `p[EXPR]` with an index the compiler evaluates
 * (a constant) and spells into the name (`p[3]`). `name` is the name without the index; `span`
 * covers the whole of it, index included.
 */
export interface IndexedName extends NameRef {
  /** The index, when there is one. */
  readonly index?: ExprNode;
}

/** Protections a `map` (`prot none|read|write`) or an `mprotect` may give. */
export const PROTS = ["none", "read", "write"] as const;

/** A clause of `map` after its size, as written (any order; each at most once). */
export type MapClause =
  /** `shared`: MAP_SHARED. */
  | { readonly kind: "shared"; readonly keyword: Span }
  /** `file NAME`: the file mapped. */
  | { readonly kind: "file"; readonly keyword: Span; readonly name: IndexedName }
  /** `offset OFF`: where in the file the mapping starts (bytes). */
  | { readonly kind: "offset"; readonly keyword: Span; readonly value: ExprNode }
  /** `prot WORD`: none, read or write (the word is checked by the compiler). */
  | { readonly kind: "prot"; readonly keyword: Span; readonly value: NameRef }
  /**
   * `hugetlb [SIZE]`: MAP_HUGETLB, or a hugetlbfs file with `file NAME`; SIZE is the huge page
   * size (absent: the configuration's default one).
   */
  | { readonly kind: "hugetlb"; readonly keyword: Span; readonly value?: ExprNode }
  /** `as NAME`: NAME is bound to the mapping's address (a constant) for the rest of the scenario. */
  | { readonly kind: "as"; readonly keyword: Span; readonly name: IndexedName };

/** Binary arithmetic operators of expressions. */
export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "<<" | ">>";

/** Functions expressions may call. */
export const FUNCTIONS = ["min", "max"] as const;

/** An expression as written. `span` covers the whole expression. */
export type ExprNode =
  | { readonly kind: "num"; readonly value: bigint; readonly span: Span }
  /** A variable or a system-wide metric (`index`: written `name[EXPR]`, which no value is). */
  | {
    readonly kind: "name";
    readonly name: string;
    readonly span: Span;
    readonly index?: ExprNode;
  }
  /** `MM.metric` (path such as `vmpte` or `tables.pte`; the process may be indexed, `p[i]`). */
  | {
    readonly kind: "mmMetric";
    readonly mm: IndexedName;
    readonly metric: string;
    readonly metricSpan: Span;
    readonly span: Span;
  }
  | { readonly kind: "neg"; readonly operand: ExprNode; readonly span: Span }
  | {
    readonly kind: "bin";
    readonly op: BinaryOp;
    readonly left: ExprNode;
    readonly right: ExprNode;
    /** Where the operator is. */
    readonly opSpan: Span;
    readonly span: Span;
  }
  /** A comparison (a condition: `expect`, `if`). */
  | {
    readonly kind: "cmp";
    readonly op: CompareOp;
    readonly left: ExprNode;
    readonly right: ExprNode;
    readonly opSpan: Span;
    readonly span: Span;
  }
  /** `and` / `or` of two conditions. */
  | {
    readonly kind: "logic";
    readonly op: "and" | "or";
    readonly left: ExprNode;
    readonly right: ExprNode;
    readonly opSpan: Span;
    readonly span: Span;
  }
  /** `min(a, b, ...)`, `max(a, b, ...)` (any name is parsed; the compiler checks it). */
  | {
    readonly kind: "call";
    readonly fn: NameRef;
    readonly args: readonly ExprNode[];
    readonly span: Span;
  };

/** A piece of a string with `{EXPR}` interpolations: text, or an expression to format. */
export type TextPart = { readonly text: string } | { readonly expr: ExprNode };

/** One `KEY = VALUE` of an `arch` statement. */
export interface ArchOption {
  /** Option name. */
  readonly key: NameRef;
  /** Value as written (`6.6`, `on`, `16G`). */
  readonly value: string;
  /** Where the value is. */
  readonly valueSpan: Span;
}

/**
 * `run MM on ...` CPU list: `A..B` (end exclusive) or `N,M,...`, where an item written `A-B`
 * with two number literals is the kernel's cpulist range (both ends included).
 */
export type CpuList =
  | { readonly kind: "range"; readonly from: ExprNode; readonly to: ExprNode }
  | { readonly kind: "list"; readonly items: readonly ExprNode[] };

/** Comparison operators of `expect`. */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

/** Fields every statement has. */
export interface StatementBase {
  /** The statement's keyword. */
  readonly keyword: Span;
}

/** A statement of a scenario. */
export type Statement =
  & StatementBase
  & (
    | { readonly kind: "arch"; readonly name: NameRef; readonly options: readonly ArchOption[] }
    | { readonly kind: "cpus"; readonly count: ExprNode }
    | { readonly kind: "let"; readonly name: NameRef; readonly value: ExprNode }
    /** `mm NAME [exec]`: with `exec`, the address space execve of a small static binary leaves. */
    | { readonly kind: "mm"; readonly name: IndexedName; readonly exec?: Span }
    /** `file NAME size SIZE`: a page-cache (tmpfs) file. */
    | { readonly kind: "file"; readonly name: IndexedName; readonly size: ExprNode }
    | {
      readonly kind: "map";
      readonly mm: IndexedName;
      /** Absent: the kernel chooses the address (get_unmapped_area). */
      readonly addr?: ExprNode;
      readonly size: ExprNode;
      /** `shared`, `file NAME`, `offset OFF`, `hugetlb [SIZE]`, `prot P`, `as NAME`, as written. */
      readonly clauses: readonly MapClause[];
    }
    | {
      readonly kind: "touch";
      readonly mm: IndexedName;
      readonly addr: ExprNode;
      readonly size?: ExprNode;
      readonly step?: ExprNode;
      /** `read` at the end: read faults (else write faults). */
      readonly read?: Span;
    }
    | {
      readonly kind: "unmap";
      readonly mm: IndexedName;
      readonly addr: ExprNode;
      readonly size: ExprNode;
    }
    | {
      readonly kind: "madvise";
      readonly mm: IndexedName;
      /** The advice word as written (checked by the compiler against `ADVICE`). */
      readonly advice: NameRef;
      readonly addr: ExprNode;
      readonly size: ExprNode;
    }
    /** `mprotect MM ADDR size SIZE none|read|write`. */
    | {
      readonly kind: "mprotect";
      readonly mm: IndexedName;
      readonly addr: ExprNode;
      readonly size: ExprNode;
      /** The protection word as written (checked by the compiler against {@link PROTS}). */
      readonly prot: NameRef;
    }
    /** `mremap MM ADDR size SIZE to NEWADDR [size NEWSIZE]`. */
    | {
      readonly kind: "mremap";
      readonly mm: IndexedName;
      readonly addr: ExprNode;
      readonly size: ExprNode;
      readonly newAddr: ExprNode;
      /** Absent: the old size. */
      readonly newSize?: ExprNode;
    }
    | { readonly kind: "fork"; readonly mm: IndexedName; readonly child: IndexedName }
    | { readonly kind: "exit"; readonly mm: IndexedName }
    | { readonly kind: "run"; readonly mm: IndexedName; readonly cpus: CpuList }
    /** `idle CPUS`: those CPUs switch to the idle task, keeping the mm they ran as lazy. */
    | { readonly kind: "idle"; readonly cpus: CpuList }
    | {
      readonly kind: "snapshot";
      /** The label, escapes undone (interpolations as written). */
      readonly label: string;
      readonly labelSpan: Span;
      /** The label's pieces, when it has `{EXPR}` interpolations. */
      readonly parts?: readonly TextPart[];
    }
    | {
      readonly kind: "expect";
      /** The whole condition (a comparison, or comparisons joined by `and` / `or`). */
      readonly cond: ExprNode;
      /** The first comparison of the condition (the condition itself when it is not one). */
      readonly left: ExprNode;
      readonly cmp: CompareOp;
      readonly cmpSpan: Span;
      readonly right: ExprNode;
      /** The expectation as written (`a.vmpte == 12K`). */
      readonly text: string;
    }
    | {
      readonly kind: "include";
      /** The path as written (escapes undone). */
      readonly path: string;
      readonly pathSpan: Span;
      /** The included file's name (relative to the including one's directory), once resolved. */
      readonly file?: string;
      /** Its source text, once read. */
      readonly source?: string;
      /** Its statements, once parsed. */
      readonly body?: readonly Statement[];
    }
    | { readonly kind: "param"; readonly name: NameRef; readonly value: ExprNode }
    | {
      readonly kind: "print";
      /** Strings (with interpolations) and expressions, in order. */
      readonly items: readonly (
        | { readonly kind: "text"; readonly parts: readonly TextPart[]; readonly span: Span }
        | { readonly kind: "expr"; readonly expr: ExprNode }
      )[];
    }
    | {
      readonly kind: "if";
      readonly cond: ExprNode;
      readonly then: readonly Statement[];
      readonly else?: readonly Statement[];
    }
    | {
      readonly kind: "inject";
      /** The word after `inject` (must be `fail`). */
      readonly verb: NameRef;
      readonly site: NameRef;
      /** `at`, `every` or `after`, with its count; none: every call fails. */
      readonly mode?: NameRef;
      readonly count?: ExprNode;
    }
    | {
      readonly kind: "repeat";
      readonly variable: NameRef;
      readonly from: ExprNode;
      readonly to: ExprNode;
      readonly body: readonly Statement[];
    }
  );

/** The `arch` statement of a scenario, as the caller needs it to pick a configuration. */
export interface ArchDecl {
  /** Configuration name as written. */
  readonly name: string;
  /** Where the name is. */
  readonly nameSpan: Span;
  /** Options given, by name (a repeated option: the last value). */
  readonly options: Record<string, string>;
  /** Each option with its position, in order. */
  readonly optionList: readonly ArchOption[];
}

/** A parsed scenario: the syntax tree of one file. */
export interface Scenario {
  /** File name used in diagnostics. */
  readonly file: string;
  /** The whole source text. */
  readonly source: string;
  /** The first `arch` statement, if any. */
  readonly arch?: ArchDecl;
  /** Top-level statements in order. */
  readonly statements: readonly Statement[];
}
