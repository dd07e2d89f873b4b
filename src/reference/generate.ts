import { SHELLS } from '../choices.js';
import { completionScript } from './completion.js';
import { fillFlagRegions } from './docs.js';
import { manPages } from './man.js';
import { commandTree } from './tree.js';
import { type CommandNode, walk } from './walk.js';

export { commandTree, fillFlagRegions, walk };

/** Where each shell's script is shipped (package.json "files"). */
export const COMPLETION_FILES: Record<(typeof SHELLS)[number], string> = {
  bash: 'completions/warren.bash',
  zsh: 'completions/warren.zsh',
  fish: 'completions/warren.fish',
};

/** completions/ and man/, by path from the repository's root: what `npm run gen` writes. */
export function referenceFiles(): Map<string, string> {
  const tree = commandTree();
  const files = new Map(SHELLS.map((shell) => [COMPLETION_FILES[shell], completionScript(shell, tree)]));
  for (const [name, page] of manPages(walk(tree))) files.set(`man/${name}`, page);
  return files;
}

/** package.json "man": every page, so that a global install links them all. */
export function manField(root: CommandNode = walk(commandTree())): string[] {
  return [...manPages(root).keys()].map((name) => `man/${name}`);
}
