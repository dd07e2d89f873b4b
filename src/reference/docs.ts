import { type CommandNode, everyCommand, type FlagSpec } from './walk.js';

/**
 * docs/ pages are written by hand around generated flag lists:
 *   <!-- BEGIN GENERATED FLAGS: warren declare queue -->
 *   (generated: the flags of `warren declare queue`; `warren` alone: the global flags)
 *   <!-- END GENERATED FLAGS -->
 */
const BEGIN = /<!-- BEGIN GENERATED FLAGS: ([^>]*?) -->/;
const END = '<!-- END GENERATED FLAGS -->';

/** Pages stay readable in a terminal and in `less`. */
export const DOCS_WIDTH = 100;

function markdownText(text: string): string {
  return text.replace(/[\\*<>[\]`]/g, (c) => `\\${c}`).replace(/(?<!\w)_|_(?!\w)/g, '\\_');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Words of a line of Markdown, a code span kept whole (with what sticks to it). */
function wrap(text: string, width: number, indent: string): string[] {
  const words = text.match(/(?:`[^`]*`|[^\s`])+/g) ?? [];
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function list(flags: FlagSpec[]): string[] {
  return flags.flatMap((f) => {
    const name = [f.names.join(', '), f.argument].filter(Boolean).join(' ');
    const item = [
      `- ${code(name)}: ${markdownText(f.description)}.`,
      f.defaultValue === undefined ? '' : ` Default: ${code(f.defaultValue)}.`,
      f.choices ? ` Choices: ${f.choices.map(code).join(', ')}.` : '',
    ].join('');
    return wrap(item, DOCS_WIDTH, '  ');
  });
}

/**
 * The flags of one command in Markdown: a list, one item per flag, wrapped at 100 columns (a
 * table of flag, argument, description, default and choices would be twice as wide).
 */
export function flagsMarkdown(node: CommandNode): string {
  const flags = node.flags.filter((f) => f.long !== '--help');
  if (flags.length === 0) return '_No flags of its own besides `-h, --help`._';
  return list(flags).join('\n');
}

/**
 * A Markdown page with each generated region filled with the flags of the command its
 * marker names; also the commands named, to check that each has one region somewhere.
 */
export function fillFlagRegions(
  markdown: string,
  root: CommandNode,
  file: string,
): { text: string; commands: string[] } {
  const byTitle = new Map(everyCommand(root).map((node) => [node.title, node]));
  const commands: string[] = [];
  let text = '';
  let rest = markdown;
  for (;;) {
    const begin = BEGIN.exec(rest);
    if (!begin) break;
    const title = begin[1]?.trim() ?? '';
    const node = byTitle.get(title);
    if (!node)
      throw new Error(`${file}: a generated flags region names '${title}', which is no warren command`);
    const afterBegin = begin.index + begin[0].length;
    const end = rest.indexOf(END, afterBegin);
    const nextBegin = rest.slice(afterBegin).search(/<!-- BEGIN GENERATED FLAGS:/);
    if (end === -1 || (nextBegin !== -1 && afterBegin + nextBegin < end)) {
      throw new Error(`${file}: the generated flags region of '${title}' has no ${END}`);
    }
    commands.push(title);
    text += `${rest.slice(0, afterBegin)}\n\n${flagsMarkdown(node)}\n\n`;
    rest = rest.slice(end);
  }
  return { text: text + rest, commands };
}
