/** `warren completion SHELL`: the completion script, generated from the command tree. */
import { SHELLS } from '../../choices.js';
import type { CommandContext } from '../context.js';
import { defineCommand, oneOf } from '../define.js';

export const completionCommand = defineCommand({
  name: 'completion',
  description: 'print the shell completion script',
  args: { shell: oneOf('shell', 'the shell to complete for', SHELLS) },
  examples: [
    'mkdir -p ~/.local/share/bash-completion/completions',
    'warren completion bash > ~/.local/share/bash-completion/completions/warren',
    `warren completion zsh > "\${fpath[1]}/_warren"`,
    'warren completion fish > ~/.config/fish/completions/warren.fish',
  ],
  parse: ({ args: { shell }, global }) => ({ command: 'completion', global: global(), options: { shell } }),
  runners: {
    completion: async () => async (options: { shell: string }, context: CommandContext) => {
      const { completionScript } = await import('../../reference/completion.js');
      context.io.stdout.write(completionScript(options.shell, context.commandTree()));
    },
  },
});
