import { describe, expect, it } from 'vitest';
import { isSingleProgram } from '../../src/exec/singleProgram.js';

describe('isSingleProgram', () => {
  it.each([
    'cat',
    'cat >/dev/null',
    '  cat  ',
    '\tcat\t> /dev/null',
    "jq -c '.a; .b | .c'",
    'curl -s -d @- "$URL"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell command line
    'curl -s -d @- "${URL}/orders"',
    'grep -q x 2>&1',
    'sort -o out.txt',
    'cat <&-',
    'cat >|out 2>>err <in',
    './handler.sh --flag=1',
    '/usr/bin/env node h.js',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell command line
    'cat ${HOME}/x $HOME',
    'python3 handler.py "$WARREN_ROUTING_KEY" ~/x *.txt [ab]',
    'printf-like \'a\' "b" c\'d\'"e"',
  ])('%j is one program', (command) => {
    expect(isSingleProgram(command)).toBe(true);
  });

  it.each([
    ['', 'nothing'],
    ['cat; exit 3', 'a list'],
    ['cat && ls', 'a list'],
    ['cat || true', 'a list'],
    ['cat | wc', 'a pipeline'],
    ['cat &', 'in the background'],
    ['cat\nls', 'two lines'],
    ['cat\r', 'a carriage return'],
    ['echo hi', 'a built-in'],
    ['printf x', 'a built-in'],
    ['exit 3', 'a built-in'],
    ['true', 'a built-in'],
    ['[ -s x ]', 'a built-in'],
    ['. ./env', 'a built-in'],
    ['exec cat', 'already exec'],
    ['FOO=1 cat', 'an assignment'],
    ['(cat)', 'a subshell'],
    ['{ cat; }', 'a group'],
    ['if true; then cat; fi', 'a reserved word'],
    ['while read x; do cat; done', 'a reserved word'],
    ['! cat', 'a negation'],
    ['cat $(ls)', 'a command substitution'],
    ['cat "$(ls)"', 'a command substitution'],
    ['cat `ls`', 'backquotes'],
    ['cat \\;', 'a backslash'],
    ['cat "a\\"b"', 'a backslash'],
    ["cat 'unclosed", 'an open quote'],
    ['cat "unclosed', 'an open quote'],
    ['cat # note', 'a comment'],
    ['cat>/dev/null', 'an operator against the program'],
    ['>/dev/null cat', 'a redirection first'],
    ['cat <<EOF', 'a here-document'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell command line
    ['cat ${X:-a;b}', 'a parameter expansion with an operator'],
    ['$CMD x', 'an expanded program'],
    ['*.sh', 'a glob for a program'],
  ])('%j is not one program (%s)', (command) => {
    expect(isSingleProgram(command)).toBe(false);
  });

  it('a long line with an operator at its end is not one program', () => {
    const line = `cat $${'A'.repeat(50_000)}${'a'.repeat(50_000)};`;
    expect(isSingleProgram(line)).toBe(false);
  });
});
