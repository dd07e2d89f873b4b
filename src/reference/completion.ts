import type { Command } from 'commander';
import { type CommandNode, everyCommand, type FlagSpec, walk } from './walk.js';

/** The completion script of a shell for warren, at every depth of the command tree. */
export function completionScript(shell: string, program: Command): string {
  const root = walk(program);
  if (shell === 'bash') return bashScript(root);
  if (shell === 'zsh') return zshScript(root);
  return fishScript(root);
}

/** The root's flags that every command takes (--help and --version are the root's own). */
export function globalFlags(root: CommandNode): FlagSpec[] {
  return root.flags.filter((f) => f.long !== '--help' && f.long !== '--version');
}

/** The flags completed at a command that are its own: the root's are the global ones. */
function ownFlags(node: CommandNode, root: CommandNode): FlagSpec[] {
  const global = globalFlags(root);
  return node === root ? node.flags.filter((f) => !global.includes(f)) : node.flags;
}

function names(flags: FlagSpec[]): string[] {
  return flags.flatMap((f) => f.names);
}

/** 'it'\''s': any text as one single-quoted shell word (bash, zsh). */
function quoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function argumentChoices(node: CommandNode): string[] {
  return node.arguments.flatMap((a) => a.choices ?? []);
}

// ---------------------------------------------------------------------------------------
// bash

/** One case per flag that takes a value: what its value completes to (@files: file names). */
function bashValueCases(node: CommandNode, anyPath: boolean): string[] {
  return node.flags
    .filter((f) => f.argument !== undefined)
    .map((f) => {
      const patterns = f.names.map((name) =>
        anyPath ? `*${quoted(`|${name}`)}` : quoted(`${node.path.join(' ')}|${name}`),
      );
      const values = f.choices ? f.choices.join(' ') : f.file ? '@files' : '';
      return `    ${patterns.join('|')}) _warren_values=${quoted(values)} ;;`;
    });
}

function bashScript(root: CommandNode): string {
  const nodes = everyCommand(root);
  const commandCases = nodes.map((node) => {
    const flags = [...new Set(names([...ownFlags(node, root), ...globalFlags(root)]))].join(' ');
    const subcommands = node.subcommands.map((s) => s.path.at(-1)).join(' ');
    return `    ${quoted(node.path.join(' '))}) _warren_subcommands=${quoted(subcommands)}; _warren_flags=${quoted(flags)}; _warren_choices=${quoted(argumentChoices(node).join(' '))} ;;`;
  });
  // A command's own flags first, so that they win over a global flag of the same name.
  const valueCases = [
    ...nodes.filter((n) => n !== root).flatMap((n) => bashValueCases(n, false)),
    ...bashValueCases(root, true),
  ];
  return `# bash completion for warren (generated from its command definitions: 'warren completion bash')

# _warren_command PATH: the subcommands, flags (global ones too) and argument choices of PATH
# ('declare queue'; '' for warren itself); fails if there is no such command.
_warren_command() {
  case "$1" in
${commandCases.join('\n')}
    *) return 1 ;;
  esac
}

# _warren_value PATH FLAG: what the value of FLAG completes to at PATH; fails if it takes none.
_warren_value() {
  case "$1|$2" in
${valueCases.join('\n')}
    *) return 1 ;;
  esac
}

_warren() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path='' word i
  local _warren_subcommands _warren_flags _warren_choices _warren_values
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    # After --, tail's trigger command: left to the shell's default completion.
    [[ "$word" == -- ]] && return
    if [[ "$word" == -* ]]; then
      [[ "$word" == *=* ]] && continue
      _warren_value "$path" "$word" || continue
      # --flag=value: bash splits the = into a word of its own.
      [[ "\${COMP_WORDS[i + 1]}" == = ]] && ((i++))
      if ((i + 1 == COMP_CWORD)); then
        if [[ "$_warren_values" == @files ]]; then
          compopt -o filenames 2>/dev/null
          COMPREPLY=($(compgen -f -- "$cur"))
        else
          COMPREPLY=($(compgen -W "$_warren_values" -- "$cur"))
        fi
        return
      fi
      ((i++))
    elif _warren_command "\${path:+$path }$word"; then
      path="\${path:+$path }$word"
    fi
  done
  _warren_command "$path"
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$_warren_flags" -- "$cur"))
  elif [[ -n "$_warren_subcommands" ]]; then
    COMPREPLY=($(compgen -W "$_warren_subcommands" -- "$cur"))
  elif [[ -n "$_warren_choices" ]]; then
    COMPREPLY=($(compgen -W "$_warren_choices" -- "$cur"))
  fi
}
complete -o default -F _warren warren
`;
}

// ---------------------------------------------------------------------------------------
// zsh

function zshDescription(text: string): string {
  return text.replace(/[[\]:\\]/g, (c) => `\\${c}`);
}

function zshFlag(f: FlagSpec): string {
  const description = `[${zshDescription(f.description)}]`;
  const argumentName = (f.valueName ?? '').replace(/:/g, '\\:');
  const action = f.choices ? `(${f.choices.join(' ')})` : f.file ? '_files' : ' ';
  const value = f.argument === undefined ? '' : `:${argumentName}:${action}`;
  const repeat = f.repeatable ? '*' : '';
  const both = f.long && f.short;
  if (!both) return quoted(`${repeat}${f.long ?? f.short}${description}${value}`);
  const exclusion = f.repeatable ? "'*'" : quoted(`(${f.short} ${f.long})`);
  return `${exclusion}{${f.short},${f.long}}${quoted(`${description}${value}`)}`;
}

function zshFunction(node: CommandNode): string {
  return ['_warren', ...node.path].join('_');
}

function zshArguments(node: CommandNode): string[] {
  return node.arguments.map((a, i) => {
    const action = a.choices ? `(${a.choices.join(' ')})` : a.name === 'file' ? '_files' : ' ';
    return quoted(`${a.variadic ? '*' : i + 1}:${a.name}:${action}`);
  });
}

function zshCommand(node: CommandNode, root: CommandNode): string {
  const head = [`${zshFunction(node)}() {`];
  const flags = ownFlags(node, root).map(zshFlag);
  // -C: the state a subcommand's word leads to goes into curcontext.
  const args = (specs: string[]): string =>
    [`_arguments${node.subcommands.length > 0 ? ' -C' : ''} -s $_warren_global`, ...flags, ...specs].join(
      ' \\\n    ',
    );
  if (node.subcommands.length === 0) return [...head, `  ${args(zshArguments(node))}`, '}'].join('\n');
  // Once a subcommand is typed, _arguments hands the words from it on to its own function.
  const described = node.subcommands.map((s) => `    ${quoted(`${s.path.at(-1)}:${s.description}`)}`);
  return [
    ...head,
    '  local curcontext="$curcontext" state line',
    '  local -a subcommands',
    '  subcommands=(',
    ...described,
    '  )',
    `  ${args([quoted('1:command:->command'), quoted('*::argument:->argument')])}`,
    '  case $state in',
    `    command) _describe -t commands ${quoted(`${node.title} command`)} subcommands ;;`,
    '    argument)',
    '      case $words[1] in',
    ...node.subcommands.map((s) => `        ${s.path.at(-1)}) ${zshFunction(s)} ;;`),
    '      esac',
    '      ;;',
    '  esac',
    '}',
  ].join('\n');
}

function zshScript(root: CommandNode): string {
  // Every command's function, the root's last: it is the one the file ends by calling.
  const functions = everyCommand(root)
    .reverse()
    .map((node) => zshCommand(node, root));
  return `#compdef warren
# zsh completion for warren (generated from its command definitions: 'warren completion zsh')

# The global flags, completed at every command.
typeset -ga _warren_global
_warren_global=(
${globalFlags(root)
  .map((f) => `  ${zshFlag(f)}`)
  .join('\n')}
)

${functions.join('\n\n')}

if [[ "$funcstack[1]" == _warren ]]; then
  _warren "$@"
else
  compdef _warren warren
fi
`;
}

// ---------------------------------------------------------------------------------------
// fish

function fishQuoted(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

function fishFlag(f: FlagSpec, condition: string | undefined): string {
  const parts = ['complete -c warren'];
  if (condition !== undefined) parts.push(`-n ${fishQuoted(`__warren_at ${condition}`.trim())}`);
  if (f.short) parts.push(`-s ${f.short.replace(/^-/, '')}`);
  if (f.long) parts.push(`-l ${f.long.replace(/^--/, '')}`);
  if (f.argument !== undefined)
    parts.push(f.choices ? `-x -a ${fishQuoted(f.choices.join(' '))}` : f.file ? '-r -F' : '-x');
  parts.push(`-d ${fishQuoted(f.description)}`);
  return parts.join(' ');
}

function fishCommand(node: CommandNode, root: CommandNode): string[] {
  const at = fishQuoted(`__warren_at ${node.path.join(' ')}`.trim());
  const choices = argumentChoices(node);
  return [
    ...node.subcommands.map(
      (s) => `complete -c warren -n ${at} -a ${s.path.at(-1)} -d ${fishQuoted(s.description)}`,
    ),
    ...ownFlags(node, root).map((f) => fishFlag(f, node.path.join(' '))),
    ...(choices.length > 0 ? [`complete -c warren -n ${at} -a ${fishQuoted(choices.join(' '))}`] : []),
    ...(node.arguments.some((a) => a.name === 'file') ? [`complete -c warren -n ${at} -F`] : []),
  ];
}

function fishScript(root: CommandNode): string {
  const paths = everyCommand(root)
    .filter((node) => node !== root)
    .map((node) => fishQuoted(node.path.join(' ')));
  return `# fish completion for warren (generated from its command definitions: 'warren completion fish')

set -g __warren_paths ${paths.join(' ')}

# The command typed so far: 'declare queue', or '' before any.
function __warren_path
    set -l path ''
    for word in (commandline -opc)[2..-1]
        test "$word" = '--'; and break
        string match -q -- '-*' $word; and continue
        set -l candidate (string trim -- "$path $word")
        contains -- $candidate $__warren_paths; and set path $candidate
    end
    echo $path
end

# __warren_at PATH...: the command typed so far is PATH.
function __warren_at
    set -l path (__warren_path)
    test "$path" = "$argv"
end

complete -c warren -f
${globalFlags(root)
  .map((f) => fishFlag(f, undefined))
  .join('\n')}
${everyCommand(root)
  .flatMap((node) => fishCommand(node, root))
  .join('\n')}
`;
}
