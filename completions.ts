/**
 * Shell completion scripts for `ptlab`, written from the CLI's own command and option tables so
 * they never drift from what the parser accepts: commands, each command's options, the values
 * of `--arch`, `--kernel`, `--format` and `--metrics`, configuration names for `archs` and
 * `explain`, and `.ptlab` files.
 *
 * @module
 */

import type { CommandSpec, OptionSpec } from "./cli.ts";

/** The shells there is a script for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

const values = (o: OptionSpec) => (typeof o.values === "function" ? o.values() : o.values) ?? [];
const words = (xs: readonly string[]) => xs.join(" ");
/** Text safe inside single quotes in all three shells, and inside zsh's `[...]` descriptions. */
const plain = (s: string) => s.replace(/['"\[\]:\\`$]/g, "").replace(/\s+/g, " ");
const FILE_COMMANDS = ["run", "check", "fmt"];
const CONFIG_COMMANDS = ["archs", "explain"];

/** The completion script for `shell`. */
export function completions(
  shell: typeof SHELLS[number],
  commands: readonly CommandSpec[],
  options: Readonly<Record<string, OptionSpec>>,
): string {
  const all = (c: CommandSpec) => [...c.options, "help", "version"].map((n) => options[n]);
  const configs = values(options.arch).filter((v) => v !== "all");
  if (shell === "bash") {
    const withArg = Object.values(options).filter((o) => o.arg).map((o) => `--${o.name}`);
    return `# bash completion for ptlab (ptlab completions bash > /etc/bash_completion.d/ptlab)
_ptlab() {
  local cur prev cmd i opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${withArg.join("|")}) ((i++)) ;;
      -*) ;;
      *.ptlab|-) cmd=run; break ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$prev" in
${
      Object.values(options).filter((o) => o.arg).map((o) =>
        `    --${o.name}) COMPREPLY=($(compgen -W '${words(values(o))}' -- "$cur")); return ;;`
      ).join("\n")
    }
  esac
  case "$cmd" in
    "") opts='${words(commands.map((c) => c.name))} --help --version' ;;
${
      commands.map((c) => `    ${c.name}) opts='${words(all(c).map((o) => `--${o.name}`))}' ;;`)
        .join("\n")
    }
  esac
  if [[ -z "$cmd" || "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    [[ -z "$cmd" && "$cur" != -* ]] && COMPREPLY+=($(compgen -f -X '!*.ptlab' -- "$cur"))
    return
  fi
  case "$cmd" in
    ${FILE_COMMANDS.join("|")})
      COMPREPLY=($(compgen -f -X '!*.ptlab' -- "$cur") $(compgen -d -- "$cur")) ;;
    ${CONFIG_COMMANDS.join("|")}) COMPREPLY=($(compgen -W '${words(configs)}' -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W '${words(commands.map((c) => c.name))}' -- "$cur")) ;;
    completions) COMPREPLY=($(compgen -W '${words(SHELLS)}' -- "$cur")) ;;
  esac
}
complete -o filenames -F _ptlab ptlab
`;
  }
  if (shell === "zsh") {
    const spec = (o: OptionSpec) => {
      const name = `--${o.name}`;
      const head = `'${o.short ? `(-${o.short} ${name})'{-${o.short},${name}}'` : name}`;
      const arg = o.arg
        ? `=[${plain(o.help)}]:${plain(o.arg)}:${values(o).length ? `(${words(values(o))})` : " "}'`
        : `[${plain(o.help)}]'`;
      return head + arg;
    };
    const positional = (c: CommandSpec) =>
      FILE_COMMANDS.includes(c.name)
        ? ` '*:scenario:_files -g "*.ptlab"'`
        : CONFIG_COMMANDS.includes(c.name)
        ? ` '1:configuration:(${words(configs)})'`
        : c.name === "help"
        ? ` '1:command:(${words(commands.map((x) => x.name))})'`
        : c.name === "completions"
        ? ` '1:shell:(${words(SHELLS)})'`
        : "";
    return `#compdef ptlab
# zsh completion for ptlab (ptlab completions zsh > ~/.zfunc/_ptlab; fpath+=~/.zfunc)
_ptlab() {
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${plain(c.summary)}'`).join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    _files -g '*.ptlab'
    return
  fi
  local cmd=$words[2]
  [[ $cmd == *.ptlab || $cmd == - ]] && cmd=run
  shift words
  (( CURRENT-- ))
  case $cmd in
${
      commands.map((c) =>
        `    ${c.name}) _arguments -s ${all(c).map(spec).join(" ")}${positional(c)} ;;`
      ).join("\n")
    }
  esac
}
_ptlab "$@"
`;
  }
  const lines = [
    "# fish completion for ptlab (ptlab completions fish > ~/.config/fish/completions/ptlab.fish)",
    "complete -c ptlab -f",
    ...commands.map((c) =>
      `complete -c ptlab -n __fish_use_subcommand -a ${c.name} -d '${plain(c.summary)}'`
    ),
    `complete -c ptlab -n __fish_use_subcommand -k -a '(__fish_complete_suffix .ptlab)'`,
  ];
  for (const c of commands) {
    const when = `'__fish_seen_subcommand_from ${c.name}'`;
    for (const o of all(c)) {
      const vs = values(o);
      lines.push(
        `complete -c ptlab -n ${when} -l ${o.name}${o.short ? ` -s ${o.short}` : ""}` +
          `${o.arg ? " -r" : ""}${vs.length ? ` -a '${words(vs)}'` : ""} -d '${plain(o.help)}'`,
      );
    }
    if (FILE_COMMANDS.includes(c.name)) {
      lines.push(`complete -c ptlab -n ${when} -k -a '(__fish_complete_suffix .ptlab)'`);
    }
    if (CONFIG_COMMANDS.includes(c.name)) {
      lines.push(`complete -c ptlab -n ${when} -a '${words(configs)}'`);
    }
  }
  lines.push(
    `complete -c ptlab -n '__fish_seen_subcommand_from help' -a '${
      words(commands.map((c) => c.name))
    }'`,
    `complete -c ptlab -n '__fish_seen_subcommand_from completions' -a '${words(SHELLS)}'`,
  );
  return lines.join("\n") + "\n";
}
