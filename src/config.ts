/**
 * Named broker profiles in `$XDG_CONFIG_HOME/warren/config.json` (else
 * `~/.config/warren/config.json`), chosen with `--profile NAME` or WARREN_PROFILE:
 *
 *   { "default": "local",
 *     "profiles": { "prod": { "urls": ["amqps://…"], "ca": "~/certs/ca.pem", "vhost": "orders",
 *                             "format": "ndjson" } } }
 *
 * A profile fills in what neither a flag nor the environment says (flag > env > profile >
 * default). The file is read only when it exists; a malformed one is one clear error naming
 * the file and the line and column, or the setting.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { FORMATS, type Format } from './choices.js';
import { ExitCode, UsageError, WarrenError } from './errors.js';
import { JsonTextError, lineAndColumn, parseJson } from './json.js';
import { readNamedFile } from './namedFile.js';

export interface Profile {
  urls: string[] | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  /** A file holding the password, so that the config file need hold none. */
  passwordFile: string | undefined;
  insecure: boolean | undefined;
  /** The vhost for URLs that name none. */
  vhost: string | undefined;
  /** The output format of commands that print messages, when --format is not given. */
  format: Format | undefined;
  /** The management API's URL, when it is not the broker host's port 15672. */
  api: string | undefined;
}

/** The profile a run uses, where it came from, and what to warn about it. */
export interface SelectedProfile {
  name: string;
  /** How it was chosen: `--profile`, `WARREN_PROFILE`, or the file's "default". */
  chosenBy: string;
  path: string;
  settings: Profile;
  warnings: string[];
}

const PROFILE_KEYS = [
  'url',
  'urls',
  'ca',
  'cert',
  'key',
  'passwordFile',
  'insecure',
  'vhost',
  'format',
  'api',
];

export function configPath(env: NodeJS.ProcessEnv): string | undefined {
  const base = env['XDG_CONFIG_HOME'] || (env['HOME'] ? join(env['HOME'], '.config') : undefined);
  return base ? join(base, 'warren', 'config.json') : undefined;
}

const FIX_HINT = 'fix it, or point XDG_CONFIG_HOME elsewhere; see "Profiles" in the README';

function fail(path: string, problem: string): UsageError {
  return new UsageError(`config file ${path}: ${problem}`, { hint: FIX_HINT });
}

function expandPath(path: string, configDir: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return join(env['HOME'] ?? '', path.slice(1));
  return isAbsolute(path) ? path : resolve(configDir, path);
}

function checkProfile(name: string, value: unknown, path: string, env: NodeJS.ProcessEnv): Profile {
  const where = `profiles.${name}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw fail(path, `${where} must be an object`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!PROFILE_KEYS.includes(key)) {
      throw fail(path, `${where}.${key}: unknown setting (known: ${PROFILE_KEYS.join(', ')})`);
    }
  }
  const text = (key: string): string | undefined => {
    const v = record[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw fail(path, `${where}.${key} must be a non-empty string`);
    return v;
  };
  if (record['url'] !== undefined && record['urls'] !== undefined) {
    throw fail(path, `${where}: give "url" or "urls", not both`);
  }
  let urls: string[] | undefined;
  const url = text('url');
  if (url !== undefined) urls = [url];
  if (record['urls'] !== undefined) {
    const list = record['urls'];
    if (!Array.isArray(list) || list.length === 0 || list.some((u) => typeof u !== 'string' || u === '')) {
      throw fail(path, `${where}.urls must be a non-empty array of URLs`);
    }
    urls = list as string[];
  }
  const insecure = record['insecure'];
  if (insecure !== undefined && typeof insecure !== 'boolean') {
    throw fail(path, `${where}.insecure must be true or false`);
  }
  const format = text('format');
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw fail(path, `${where}.format must be one of ${FORMATS.join(', ')}`);
  }
  const dir = dirname(path);
  const file = (key: string) => {
    const given = text(key);
    return given === undefined ? undefined : expandPath(given, dir, env);
  };
  return {
    urls,
    ca: file('ca'),
    cert: file('cert'),
    key: file('key'),
    passwordFile: file('passwordFile'),
    insecure,
    vhost: text('vhost'),
    format: format as Format | undefined,
    api: apiUrl(text('api'), where, path),
  };
}

/** A profile's `api`: an http(s) URL. */
function apiUrl(given: string | undefined, where: string, path: string): string | undefined {
  if (given === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(given).protocol;
  } catch {}
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw fail(path, `${where}.api must be an http:// or https:// URL`);
  }
  return given;
}

function holdsPassword(profiles: Record<string, Profile>): boolean {
  return Object.values(profiles).some((profile) =>
    [...(profile.urls ?? []), ...(profile.api ? [profile.api] : [])].some((url) => {
      try {
        return new URL(url).password !== '';
      } catch {
        return false;
      }
    }),
  );
}

/** The config file as read and checked: its JSON as it is, and each profile's settings. */
interface ConfigFile {
  path: string;
  raw: Record<string, unknown>;
  /** No prototype: a profile may be called `constructor`, and `__proto__` is just a name. */
  profiles: Record<string, Profile>;
  fileDefault: string | undefined;
}

/**
 * Reads and checks the config file at `path`; undefined when there is none. A malformed
 * file is one usage error naming it, and the line and column (bad JSON) or the setting.
 */
function readConfig(path: string, env: NodeJS.ProcessEnv): ConfigFile | undefined {
  let text: string;
  try {
    // As a password file is read (1 MiB at most), and only if it is a regular file: a FIFO
    // would hang every command, a link to /dev/zero would fill the memory.
    text = readNamedFile('config file', path, { regularOnly: true, kind: 'a config file' }).toString('utf8');
  } catch (error) {
    const cause = (error as Error).cause as NodeJS.ErrnoException | undefined;
    if (cause?.code === 'ENOENT') return undefined;
    throw new UsageError((error as Error).message, { cause, hint: FIX_HINT });
  }
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    // Without a position the problem is JSON.parse's, which quotes the text (a password?).
    throw fail(
      path,
      error.offset === undefined
        ? 'not valid JSON'
        : `not valid JSON at ${lineAndColumn(text, error.offset)}: ${error.problem}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fail(path, 'expected an object with "profiles"');
  }
  const raw = parsed as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'profiles' && key !== 'default' && key !== '$schema') {
      throw fail(path, `${key}: unknown setting (known: profiles, default)`);
    }
  }
  const rawProfiles = raw['profiles'] ?? {};
  if (rawProfiles === null || typeof rawProfiles !== 'object' || Array.isArray(rawProfiles)) {
    throw fail(path, '"profiles" must be an object of named profiles');
  }
  const profiles: Record<string, Profile> = Object.create(null);
  for (const [name, value] of Object.entries(rawProfiles)) {
    Object.defineProperty(profiles, name, { value: checkProfile(name, value, path, env), enumerable: true });
  }
  const fileDefault = raw['default'];
  if (
    fileDefault !== undefined &&
    (typeof fileDefault !== 'string' || !Object.hasOwn(profiles, fileDefault))
  ) {
    throw fail(
      path,
      `"default" must name one of the profiles (${Object.keys(profiles).join(', ') || 'none'})`,
    );
  }
  return { path, raw, profiles, fileDefault: fileDefault as string | undefined };
}

/**
 * The profile to use: `--profile`, else WARREN_PROFILE, else the file's "default"; none
 * when nothing names one. Naming a profile that the file does not have is a usage error.
 */
export function selectProfile(flag: string | undefined, env: NodeJS.ProcessEnv): SelectedProfile | undefined {
  const path = configPath(env);
  const config = path === undefined ? undefined : readConfig(path, env);
  const wanted = flag ?? (env['WARREN_PROFILE'] || undefined);
  if (config === undefined) {
    if (wanted === undefined) return undefined;
    throw new UsageError(`no profile '${wanted}': there is no config file${path ? ` at ${path}` : ''}`, {
      hint: 'create it with a "profiles" object; see "Profiles" in the README',
    });
  }
  const { profiles, fileDefault } = config;
  const file = config.path;
  const name = wanted ?? fileDefault;
  if (name === undefined) return undefined;
  const settings = profiles[name];
  if (!settings || !Object.hasOwn(profiles, name)) {
    throw new UsageError(`no profile '${name}' in ${file}`, {
      hint: `profiles there: ${Object.keys(profiles).join(', ') || 'none'}`,
    });
  }
  const warnings: string[] = [];
  try {
    // A password any other user can read is a password they have.
    if ((statSync(file).mode & 0o044) !== 0 && holdsPassword(profiles)) {
      warnings.push(`${file} holds a password and others can read it: chmod 600 ${file}`);
    }
  } catch {}
  const chosenBy =
    flag !== undefined ? '--profile' : wanted !== undefined ? 'WARREN_PROFILE' : 'the config file';
  return { name, chosenBy, path: file, settings, warnings };
}

/** A profile as written to the config file: only the settings given. */
export interface ProfileEntry {
  urls?: string[];
  ca?: string;
  cert?: string;
  key?: string;
  passwordFile?: string;
  insecure?: boolean;
  vhost?: string;
  format?: Format;
  api?: string;
}

/**
 * The config file's JSON as it is on disk, or an empty one. It is checked as every run
 * checks it: a file warren cannot read is not rewritten.
 */
function readForUpdate(path: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw = readConfig(path, env)?.raw ?? {};
  raw['profiles'] ??= {};
  return raw;
}

/**
 * Writes the config file whole, readable by its owner only (0600, in a 0700 folder): it may
 * hold passwords. Written beside it and renamed, so a reader never sees half a file.
 */
function writeConfig(path: string, config: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    // The mode given at creation is narrowed by the umask, never widened: set it exactly.
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new WarrenError(`cannot write ${path} (${code})`, ExitCode.failure, { cause: error });
  }
}

function configPathOrFail(env: NodeJS.ProcessEnv): string {
  const path = configPath(env);
  if (!path) throw new UsageError('no config file: neither XDG_CONFIG_HOME nor HOME is set');
  return path;
}

/** Adds (or with `replace`, replaces) a profile; returns the file's path. */
export function saveProfile(
  name: string,
  entry: ProfileEntry,
  options: { replace: boolean; makeDefault: boolean },
  env: NodeJS.ProcessEnv,
): string {
  const path = configPathOrFail(env);
  const config = readForUpdate(path, env);
  const profiles = config['profiles'] as Record<string, unknown>;
  if (Object.hasOwn(profiles, name) && !options.replace) {
    throw new UsageError(`profile '${name}' is already in ${path}`, { hint: '--force replaces it' });
  }
  const { urls, ...rest } = entry;
  const written: Record<string, unknown> = {};
  if (urls) {
    if (urls.length === 1) written['url'] = urls[0];
    else written['urls'] = urls;
  }
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) written[key] = value;
  // Checked as a run would check it, before anything is written.
  checkProfile(name, written, path, env);
  Object.defineProperty(profiles, name, {
    value: written,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  if (options.makeDefault) config['default'] = name;
  writeConfig(path, config);
  return path;
}

/** Removes a profile (and the default, if it was that one); returns the file's path. */
export function removeProfile(name: string, env: NodeJS.ProcessEnv): string {
  const path = configPathOrFail(env);
  const config = readForUpdate(path, env);
  const profiles = config['profiles'] as Record<string, unknown>;
  if (!Object.hasOwn(profiles, name)) {
    throw new UsageError(`no profile '${name}' in ${path}`, {
      hint: `profiles there: ${Object.keys(profiles).join(', ') || 'none'}`,
    });
  }
  delete profiles[name];
  if (config['default'] === name) delete config['default'];
  writeConfig(path, config);
  return path;
}

/** Every profile, in the file's order, with the default marked; none without a file. */
export function listProfiles(env: NodeJS.ProcessEnv): {
  path: string | undefined;
  profiles: { name: string; isDefault: boolean; settings: Profile }[];
} {
  const path = configPath(env);
  const config = path === undefined ? undefined : readConfig(path, env);
  if (config === undefined) return { path, profiles: [] };
  return {
    path,
    profiles: Object.entries(config.profiles).map(([name, settings]) => ({
      name,
      isDefault: config.fileDefault === name,
      settings,
    })),
  };
}
