/**
 * `warren profile list|add|remove`: the broker profiles of the config file, kept without
 * editing JSON by hand. The file is written whole, 0600 (it may hold passwords).
 */
import { listProfiles, type ProfileEntry, removeProfile, saveProfile } from '../../config.js';
import { redact } from '../../redact.js';
import type { Io } from '../../ui/io.js';
import type { Reporter } from '../../ui/reporter.js';
import { humanLine } from '../../ui/terminalText.js';

export type ProfileOptions =
  | { action: 'list'; json: boolean }
  | { action: 'add'; name: string; entry: ProfileEntry; replace: boolean; makeDefault: boolean }
  | { action: 'remove'; name: string };

export function profileCommand(options: ProfileOptions, io: Io, reporter: Reporter): void {
  switch (options.action) {
    case 'list': {
      const { path, profiles } = listProfiles(io.env);
      if (options.json) {
        const shown = profiles.map(({ name, isDefault, settings }) => ({
          name,
          default: isDefault,
          ...settings,
          urls: settings.urls?.map(redact),
          api: settings.api && redact(settings.api),
        }));
        io.stdout.write(`${JSON.stringify(shown)}\n`);
        return;
      }
      if (profiles.length === 0) {
        reporter.info(
          `no profiles${path ? ` in ${path}` : ''}: add one with 'warren profile add NAME --url URL'`,
        );
        return;
      }
      const width = Math.max(...profiles.map((p) => p.name.length));
      for (const { name, isDefault, settings } of profiles) {
        const urls = (settings.urls ?? []).join(', ') || '(default URL)';
        // A table for a person (--json is the data): made safe as a stderr line is.
        io.stdout.write(`${humanLine(`${isDefault ? '*' : ' '} ${name.padEnd(width)}  ${urls}`)}\n`);
      }
      reporter.info(`from ${path}${profiles.some((p) => p.isDefault) ? ' (* the default)' : ''}`);
      return;
    }
    case 'add': {
      const path = saveProfile(options.name, options.entry, options, io.env);
      reporter.info(
        `profile '${options.name}' saved in ${path}${options.makeDefault ? ' (the default)' : ''}`,
      );
      return;
    }
    case 'remove': {
      const path = removeProfile(options.name, io.env);
      reporter.info(`profile '${options.name}' removed from ${path}`);
      return;
    }
  }
}
