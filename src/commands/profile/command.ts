/**
 * `warren profile list|add|remove`. The connection flags (--url, --ca, --cert, --key,
 * --password-file, --insecure, --api) are what `add` saves; no profile is selected to run it.
 */
import { isAbsolute, resolve } from 'node:path';
import { parseBrokerUrl, splitUrls } from '../../brokerUrl.js';
import { FORMATS } from '../../choices.js';
import { UsageError } from '../../errors.js';
import { plainGlobalOptions } from '../../globalOptions.js';
import type { CommandContext } from '../context.js';
import { choice, defineCommand, option, type ParseInput, required, toggle } from '../define.js';
import type { ProfileOptions } from './run.js';

/** The profile commands use no profile: the options alone, with none chosen. */
function plainGlobals(inherited: ParseInput<never, never>['inherited']) {
  return plainGlobalOptions({
    quiet: inherited['quiet'] === true,
    verbose: inherited['verbose'] === true,
    color: inherited['color'] === false ? false : undefined,
  });
}

/** A relative file path saved in a profile, made absolute (the config file reads it from its own folder). */
function absoluteFile(path: unknown): string | undefined {
  if (typeof path !== 'string' || path.startsWith('~/') || isAbsolute(path))
    return path as string | undefined;
  return resolve(path);
}

/** --api, saved as given once it is an http(s) URL. */
function apiFlag(api: unknown): string | undefined {
  if (typeof api !== 'string') return undefined;
  if (!/^https?:\/\/[^/]/i.test(api))
    throw new UsageError(`--api: '${api}' must be an http:// or https:// URL`);
  return api;
}

const runners = {
  profile: () =>
    import('./run.js').then(
      (m) => async (options: ProfileOptions, context: CommandContext) =>
        m.profileCommand(options, context.io, context.reporter),
    ),
};

const list = defineCommand({
  name: 'list',
  description: 'the profiles, with their URLs (passwords masked); * marks the default',
  flags: { json: toggle('--json', 'print them as JSON on stdout') },
  parse: ({ flags, inherited }) => ({
    command: 'profile',
    global: plainGlobals(inherited),
    options: { action: 'list', json: flags.json } satisfies ProfileOptions,
  }),
  runners,
});

const add = defineCommand({
  name: 'add',
  description:
    'save the connection flags given (--url, --ca, --cert, --key, --password-file, --insecure, --api) as a profile',
  args: { name: required('name', 'the name to use with --profile') },
  flags: {
    vhost: option('--vhost <vhost>', 'the vhost for URLs that name none'),
    format: choice('--format <format>', 'the output format when --format is not given', FORMATS),
    default: toggle('--default', 'make it the profile used when none is named'),
    force: toggle('--force', 'replace a profile of that name'),
  },
  examples: [
    'warren profile add staging --url amqps://warren@rabbit-1.staging:5671 --password-file ~/.warren-staging \\\n      --ca ~/certs/staging-ca.pem --vhost orders --default',
  ],
  parse({ args: { name }, flags, inherited: all }) {
    const urls = splitUrls((all['url'] as string[] | undefined) ?? []);
    for (const url of urls) parseBrokerUrl(url);
    const entry = {
      urls: urls.length > 0 ? urls : undefined,
      ca: absoluteFile(all['ca']),
      cert: absoluteFile(all['cert']),
      key: absoluteFile(all['key']),
      passwordFile: absoluteFile(all['passwordFile']),
      insecure: all['insecure'] === true ? true : undefined,
      api: apiFlag(all['api']),
      vhost: flags.vhost,
      format: flags.format,
    };
    if (Object.values(entry).every((value) => value === undefined)) {
      throw new UsageError(`profile '${name}' would say nothing: give --url (and --ca, --password-file, …)`);
    }
    const options: ProfileOptions = {
      action: 'add',
      name,
      entry,
      replace: flags.force,
      makeDefault: flags.default,
    };
    return { command: 'profile', global: plainGlobals(all), options };
  },
  runners,
});

const remove = defineCommand({
  name: 'remove',
  description: 'remove a profile from the config file',
  args: { name: required('name', 'the profile') },
  parse: ({ args: { name }, inherited }) => ({
    command: 'profile',
    global: plainGlobals(inherited),
    options: { action: 'remove', name } satisfies ProfileOptions,
  }),
  runners,
});

export const profileCommand = defineCommand({
  name: 'profile',
  description: 'list, add or remove the broker profiles of the config file',
  examples: [
    'warren profile add staging --url amqps://warren@rabbit-1.staging:5671 --password-file ~/.warren-staging \\\n      --ca ~/certs/staging-ca.pem --vhost orders --default',
    'warren profile list',
    'warren --profile staging consume orders.created --count 1',
    'warren profile remove staging',
  ],
  subcommands: [list, add, remove],
  parse() {
    throw new UsageError('say what to do: list, add NAME or remove NAME');
  },
});
