/**
 * Whether a handler's command line is one program and nothing else, so that its shell can
 * `exec` it instead of starting it as a child and waiting: one process less per message, and
 * the handler's exit (its code, or the signal that ended it) is the program's own.
 *
 * The answer is conservative: `true` only for lines whose meaning cannot change when `exec`
 * is put in front, a program named by a plain word followed by plain or quoted arguments and
 * redirections. Anything else (lists, pipes, `&`, newlines, subshells, reserved words,
 * the shell's built-ins, assignments, backslashes, backquotes, `$(…)`, comments) is `false`,
 * and the shell evaluates the line as it always did.
 */
export function isSingleProgram(command: string): boolean {
  const match = SINGLE_PROGRAM.exec(command);
  return match !== null && !SHELL_WORDS.has(match[1] as string);
}

/** Characters that mean nothing to the shell outside quotes (globs and tildes only expand). */
const PLAIN = String.raw`[A-Za-z0-9_./:,@%+=^~*?!\[\]-]`;
/** `$NAME` and `${NAME}`: expansions, which give arguments but never structure. */
const VARIABLE = String.raw`\$(?:[A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_])|\{[A-Za-z_][A-Za-z0-9_]*\})`;
const SINGLE_QUOTED = "'[^']*'";
const DOUBLE_QUOTED = String.raw`"(?:[^"\\\`$]|${VARIABLE})*"`;
const WORD = `(?:${PLAIN}|${VARIABLE}|${SINGLE_QUOTED}|${DOUBLE_QUOTED})+`;
/** `>file`, `>> file`, `2>/dev/null`, `<in`, `>|file`, `2>&1`, `>&2`, `<&-`. */
const REDIRECTION = String.raw`[0-9]?(?:(?:>>|>\||>|<)[ \t]*${WORD}|[<>]&(?:[0-9]|-))`;
/**
 * The program: a plain word, without `=` (that would be an assignment) and without globs.
 * Blanks are spaces and tabs only: a newline separates commands.
 */
const SINGLE_PROGRAM = new RegExp(
  String.raw`^[ \t]*([A-Za-z0-9_./:,@%+^~-]+)(?:[ \t]+(?:${REDIRECTION}|${WORD}))*[ \t]*$`,
);

/**
 * dash's built-ins and the shell's reserved words: `exec echo` would run /bin/echo, not the
 * built-in, and `exec exit` or `exec cd` would fail.
 */
const SHELL_WORDS = new Set(
  (
    '. : [ alias bg break case cd chdir command continue do ' +
    'done echo elif else esac eval exec exit export false fc fg ' +
    'fi for getopts hash if in jobs kill local printf pwd read ' +
    'readonly return set shift test then times trap true type ulimit umask ' +
    'unalias unset until wait while'
  ).split(' '),
);
