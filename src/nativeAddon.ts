import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const loaded = new Map<string, unknown>();

/**
 * One of warren's small prebuilt addons (native/linux-x64/NAME.node, built by
 * native/build.sh), or null where there is none: not Linux x86-64, or a system that cannot
 * load it (another libc loader, a locked-down runtime). The addons sit in native/ at the
 * package root: one level above dist/, two above dist/chunks/ or src/ui/.
 */
export function loadAddon<T>(name: string): T | null {
  if (loaded.has(name)) return loaded.get(name) as T | null;
  let addon: T | null = null;
  if (process.platform === 'linux' && process.arch === 'x64') {
    const require = createRequire(import.meta.url);
    for (const up of ['../', '../../']) {
      const path = new URL(`${up}native/linux-x64/${name}.node`, import.meta.url);
      if (!existsSync(path)) continue;
      try {
        addon = require(fileURLToPath(path)) as T;
      } catch {
        // Cannot be loaded here: warren does without it.
      }
      break;
    }
  }
  loaded.set(name, addon);
  return addon;
}
