import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_URL, resolveBrokerUrls, withVhost } from '../../src/brokerUrl.js';
import { configPath, selectProfile } from '../../src/config.js';
import type { UsageError } from '../../src/errors.js';
import { usageError } from '../helpers/usageError.js';

// Every test gets its own folders under one temporary root: the real home is never read.
const root = mkdtempSync(join(tmpdir(), 'warren-config-test-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

let made = 0;

interface Setup {
  /** XDG_CONFIG_HOME and HOME, both temporary. */
  env: NodeJS.ProcessEnv;
  /** `$XDG_CONFIG_HOME/warren/config.json`. */
  path: string;
  home: string;
}

/** A fresh XDG_CONFIG_HOME (and HOME); the config file is written when `content` is given. */
function setup(content?: unknown, mode = 0o600): Setup {
  made += 1;
  const base = join(root, `case-${made}`);
  const xdg = join(base, 'xdg');
  const home = join(base, 'home');
  mkdirSync(join(xdg, 'warren'), { recursive: true });
  mkdirSync(home, { recursive: true });
  const path = join(xdg, 'warren', 'config.json');
  if (content !== undefined) {
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    chmodSync(path, mode);
  }
  return { env: { XDG_CONFIG_HOME: xdg, HOME: home }, path, home };
}

const TWO = {
  profiles: {
    local: { url: 'amqp://localhost' },
    prod: { urls: ['amqps://a.example', 'amqps://b.example'], vhost: 'orders', format: 'ndjson' },
  },
};

// ---------------------------------------------------------------------------------------

describe('configPath', () => {
  it('is under XDG_CONFIG_HOME when it is set', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/warren/config.json');
  });

  it('is under HOME/.config without XDG_CONFIG_HOME (or with an empty one)', () => {
    expect(configPath({ HOME: '/home/u' })).toBe('/home/u/.config/warren/config.json');
    expect(configPath({ XDG_CONFIG_HOME: '', HOME: '/home/u' })).toBe('/home/u/.config/warren/config.json');
  });

  it('is undefined with neither', () => {
    expect(configPath({})).toBeUndefined();
  });
});

describe('selectProfile: when there is no config file', () => {
  it('is undefined when nothing names a profile', () => {
    const { env } = setup();
    expect(selectProfile(undefined, env)).toBeUndefined();
    expect(selectProfile(undefined, {})).toBeUndefined();
  });

  it('--profile is a usage error naming the path looked at', () => {
    const { env, path } = setup();
    const error = usageError(() => selectProfile('prod', env));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("'prod'");
    expect(error.message).toContain(path);
  });

  it('WARREN_PROFILE is a usage error naming the path looked at', () => {
    const { env, path } = setup();
    const error = usageError(() => selectProfile(undefined, { ...env, WARREN_PROFILE: 'prod' }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("'prod'");
    expect(error.message).toContain(path);
  });

  it('an empty WARREN_PROFILE counts as not set', () => {
    const { env } = setup();
    expect(selectProfile(undefined, { ...env, WARREN_PROFILE: '' })).toBeUndefined();
  });

  it('--profile with no HOME and no XDG_CONFIG_HOME is still a usage error', () => {
    const error = usageError(() => selectProfile('prod', {}));
    expect(error.message).toMatch(/no config file/);
  });
});

describe('selectProfile: which profile', () => {
  it('--profile beats WARREN_PROFILE, which beats the file\'s "default"', () => {
    const { env } = setup({ default: 'local', ...TWO, profiles: { ...TWO.profiles, other: {} } });
    expect(selectProfile('prod', { ...env, WARREN_PROFILE: 'other' })?.name).toBe('prod');
    expect(selectProfile(undefined, { ...env, WARREN_PROFILE: 'other' })?.name).toBe('other');
    expect(selectProfile(undefined, env)?.name).toBe('local');
  });

  it('says how it was chosen', () => {
    const { env } = setup({ default: 'local', ...TWO });
    expect(selectProfile('prod', { ...env, WARREN_PROFILE: 'local' })?.chosenBy).toBe('--profile');
    expect(selectProfile(undefined, { ...env, WARREN_PROFILE: 'prod' })?.chosenBy).toBe('WARREN_PROFILE');
    expect(selectProfile(undefined, env)?.chosenBy).toBe('the config file');
  });

  it('no profile without a flag, WARREN_PROFILE or "default"', () => {
    const { env } = setup(TWO);
    expect(selectProfile(undefined, env)).toBeUndefined();
  });

  it('carries the path and the settings', () => {
    const { env, path } = setup(TWO);
    expect(selectProfile('prod', env)).toEqual({
      name: 'prod',
      chosenBy: '--profile',
      path,
      settings: {
        urls: ['amqps://a.example', 'amqps://b.example'],
        ca: undefined,
        cert: undefined,
        key: undefined,
        insecure: undefined,
        vhost: 'orders',
        format: 'ndjson',
      },
      warnings: [],
    });
  });

  it('"api" is the management API URL, http or https only; one holding a password is warned of', () => {
    const { env } = setup({ profiles: { p: { api: 'https://rabbit.example:15671' } } });
    expect(selectProfile('p', env)?.settings.api).toBe('https://rabbit.example:15671');
    const bad = setup({ profiles: { p: { api: 'amqp://rabbit.example' } } });
    expect(usageError(() => selectProfile('p', bad.env)).message).toMatch(
      /profiles\.p\.api must be an http:\/\/ or https:\/\/ URL/,
    );
    const open = setup({ profiles: { p: { api: 'http://u:pw@rabbit.example:15672' } } }, 0o644);
    expect(selectProfile('p', open.env)?.warnings.join('\n')).toMatch(/chmod 600/);
  });

  it('"url" becomes urls: [url]', () => {
    const { env } = setup(TWO);
    expect(selectProfile('local', env)?.settings.urls).toEqual(['amqp://localhost']);
  });

  it('a profile with no url has urls undefined', () => {
    const { env } = setup({ profiles: { bare: {} } });
    expect(selectProfile('bare', env)?.settings.urls).toBeUndefined();
  });

  it('an unknown profile is a usage error that lists the profiles there are', () => {
    const { env, path } = setup(TWO);
    const error = usageError(() => selectProfile('staging', env));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain("'staging'");
    expect(error.message).toContain(path);
    expect(`${error.message} ${error.hint}`).toContain('local, prod');
  });

  it('an unknown WARREN_PROFILE is a usage error too', () => {
    const { env } = setup(TWO);
    const error = usageError(() => selectProfile(undefined, { ...env, WARREN_PROFILE: 'staging' }));
    expect(error.message).toContain("'staging'");
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a name only Object.prototype has (%s) is no profile',
    (name) => {
      const { env } = setup(TWO);
      expect(usageError(() => selectProfile(name, env)).message).toContain(`'${name}'`);
    },
  );

  it('"$schema" is allowed beside "profiles" and "default"', () => {
    const { env } = setup({ $schema: 'https://example.com/warren-config.json', default: 'local', ...TWO });
    expect(selectProfile(undefined, env)?.name).toBe('local');
  });
});

describe('selectProfile: a malformed file is one usage error naming the file and the place', () => {
  function problem(content: unknown, flag: string | undefined = undefined): UsageError {
    const { env, path } = setup(content);
    const error = usageError(() => selectProfile(flag, env));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(path);
    return error;
  }

  it('bad JSON gives the line and column (an error on line 4)', () => {
    const text = ['{', '  "profiles": {', '    "a": { "url": "amqp://h" }', '    "b": {}', '  }', '}'].join(
      '\n',
    );
    const error = problem(text);
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).toContain('line 4, column 5');
  });

  it('bad JSON on the first line gives line 1', () => {
    expect(problem('{"profiles": {"a": {}}}}').message).toContain('line 1, column 24');
  });

  // V8 reports `Unexpected token 'x', …"snippet"… is not valid JSON` with no position for a
  // value that starts with a character JSON does not allow (an unquoted URL, single quotes).
  it('an unquoted value on line 3 gives the line and column too', () => {
    const text = ['{', '  "profiles": {', '    "prod": { "url": amqp://h/ }', '  }', '}'].join('\n');
    expect(problem(text).message).toContain('line 3, column 22');
  });

  it('the error is one line, whatever JSON.parse quotes from the file', () => {
    const text = ['{', '  "profiles": {', '    "prod": { "vhost": x', '  }', '}'].join('\n');
    expect(problem(text).message).not.toContain('\n');
  });

  it('the error does not show a password from the file', () => {
    const error = problem('{"profiles":{"p":{"urls":["amqp://u:Pw7@h", x]}}}');
    expect(error.message).not.toContain('Pw7');
    expect(error.hint ?? '').not.toContain('Pw7');
  });

  it('a file nested 200,000 deep, cut off, gives the line and column where it ends', () => {
    expect(problem(`{"profiles":\n${'['.repeat(200_000)}`).message).toMatch(
      /not valid JSON at line 2, column 256: nested deeper than 256 levels/,
    );
  });

  it('a file nested 200,000 deep and closed gives the line and column too', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(problem(`{"profiles":\n  ${deep}}`).message).toMatch(
      /not valid JSON at line 2, column 258: nested deeper than 256 levels/,
    );
  });

  it('is checked even when no profile is asked for', () => {
    expect(problem('{').message).toMatch(/not valid JSON/);
  });

  it('a file that is not an object', () => {
    expect(problem('[]').message).toMatch(/expected an object/);
  });

  it('an unknown top-level key names it', () => {
    expect(problem({ profile: {} }).message).toMatch(/: profile: unknown setting/);
  });

  it('an unknown profile setting names its JSON path', () => {
    const error = problem({ profiles: { staging: { url: 'amqp://h', formt: 'body' } } });
    expect(error.message).toContain('profiles.staging.formt: unknown setting');
  });

  it('even in a profile that is not used', () => {
    const error = problem({ profiles: { a: {}, b: { colour: true } } }, 'a');
    expect(error.message).toContain('profiles.b.colour');
  });

  it('"profiles" that is not an object', () => {
    expect(problem({ profiles: [] }).message).toMatch(/"profiles" must be an object/);
  });

  it('a profile that is not an object', () => {
    expect(problem({ profiles: { a: 'amqp://h' } }).message).toContain('profiles.a must be an object');
  });

  it('"url" and "urls" together', () => {
    const error = problem({ profiles: { a: { url: 'amqp://h', urls: ['amqp://i'] } } });
    expect(error.message).toMatch(/profiles\.a: give "url" or "urls", not both/);
  });

  it('an empty "urls" array', () => {
    expect(problem({ profiles: { a: { urls: [] } } }).message).toContain('profiles.a.urls');
  });

  it('"urls" that is not an array, or holds a non-string or an empty string', () => {
    expect(problem({ profiles: { a: { urls: 'amqp://h' } } }).message).toContain('profiles.a.urls');
    expect(problem({ profiles: { a: { urls: ['amqp://h', 5] } } }).message).toContain('profiles.a.urls');
    expect(problem({ profiles: { a: { urls: [''] } } }).message).toContain('profiles.a.urls');
  });

  it('a non-string or empty "url"', () => {
    expect(problem({ profiles: { a: { url: 5 } } }).message).toContain('profiles.a.url must be');
    expect(problem({ profiles: { a: { url: '' } } }).message).toContain('profiles.a.url must be');
  });

  it('"insecure" that is not a boolean', () => {
    expect(problem({ profiles: { a: { insecure: 'yes' } } }).message).toContain(
      'profiles.a.insecure must be true or false',
    );
  });

  it('a "format" that is not a format', () => {
    const error = problem({ profiles: { a: { format: 'json' } } });
    expect(error.message).toContain('profiles.a.format must be one of pretty, ndjson, body');
  });

  it('a non-string "vhost", "ca", "cert" or "key"', () => {
    for (const key of ['vhost', 'ca', 'cert', 'key']) {
      expect(problem({ profiles: { a: { [key]: 1 } } }).message).toContain(`profiles.a.${key}`);
    }
  });

  it('a "default" that names no profile', () => {
    expect(problem({ default: 'nope', ...TWO }).message).toMatch(/"default" must name one of the profiles/);
  });

  it('a "default" that names no profile is an error even when --profile picks another', () => {
    expect(problem({ default: 'nope', ...TWO }, 'local').message).toMatch(/"default"/);
  });

  it('a "default" that is not a string', () => {
    expect(problem({ default: 1, ...TWO }).message).toMatch(/"default" must name one of the profiles/);
  });

  // `fileDefault in profiles` also finds what every object inherits.
  it('a "default" of "constructor" (a name only Object.prototype has) is a bad "default"', () => {
    expect(problem({ default: 'constructor', ...TWO }).message).toMatch(
      /"default" must name one of the profiles/,
    );
  });

  it('a "default" of "constructor" is an error even when --profile picks another, as "nope" is', () => {
    const { env } = setup({ default: 'constructor', ...TWO });
    expect(() => selectProfile('local', env)).toThrow(/"default"/);
  });
});

describe('selectProfile: TLS file paths', () => {
  it('~/ is HOME, a relative path starts at the config folder, an absolute one is kept', () => {
    const { env, path, home } = setup({
      profiles: { tls: { ca: '~/certs/ca.pem', cert: 'client/cert.pem', key: '/etc/warren/key.pem' } },
    });
    const settings = selectProfile('tls', env)?.settings;
    expect(settings?.ca).toBe(join(home, 'certs', 'ca.pem'));
    expect(settings?.cert).toBe(join(path, '..', 'client', 'cert.pem'));
    expect(settings?.key).toBe('/etc/warren/key.pem');
  });

  it('./ and ../ are relative to the config folder too, not to the working directory', () => {
    const { env, path } = setup({ profiles: { tls: { ca: './ca.pem', cert: '../shared/cert.pem' } } });
    const settings = selectProfile('tls', env)?.settings;
    expect(settings?.ca).toBe(join(path, '..', 'ca.pem'));
    expect(settings?.cert).toBe(join(path, '..', '..', 'shared', 'cert.pem'));
  });

  it('insecure is carried as given', () => {
    const { env } = setup({ profiles: { a: { insecure: true }, b: { insecure: false } } });
    expect(selectProfile('a', env)?.settings.insecure).toBe(true);
    expect(selectProfile('b', env)?.settings.insecure).toBe(false);
  });
});

describe('selectProfile: a password others can read', () => {
  const withPassword = { profiles: { a: { url: 'amqp://u:secret@h/' }, b: {} } };

  it('warns when the file is 0644 and a URL holds a password, naming chmod 600', () => {
    const { env, path } = setup(withPassword, 0o644);
    const warnings = selectProfile('a', env)?.warnings ?? [];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(path);
    expect(warnings[0]).toContain(`chmod 600 ${path}`);
    expect(warnings[0]).not.toContain('secret');
  });

  it('warns whichever profile is used: the file holds the password', () => {
    const { env } = setup(withPassword, 0o644);
    expect(selectProfile('b', env)?.warnings).toHaveLength(1);
  });

  it('a password in "urls" counts too', () => {
    const { env } = setup({ profiles: { a: { urls: ['amqp://h', 'amqp://u:pw@i'] } } }, 0o644);
    expect(selectProfile('a', env)?.warnings).toHaveLength(1);
  });

  it('no warning at 0600', () => {
    const { env } = setup(withPassword, 0o600);
    expect(selectProfile('a', env)?.warnings).toEqual([]);
  });

  it('no warning when no URL holds a password', () => {
    const { env } = setup({ profiles: { a: { url: 'amqp://u@h/' }, b: { urls: ['amqps://h'] } } }, 0o644);
    expect(selectProfile('a', env)?.warnings).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------

describe('resolveBrokerUrls with a profile', () => {
  type ProfileUrls = { urls: string[] | undefined; vhost: string | undefined };
  const profile: ProfileUrls = { urls: ['amqp://profile-a', 'amqp://profile-b'], vhost: undefined };
  const urlsOf = (flags: string[] | undefined, env: NodeJS.ProcessEnv, p: ProfileUrls = profile) =>
    resolveBrokerUrls(flags, env, p).map((u) => u.url);

  it('--url beats WARREN_URL, AMQP_URL and the profile', () => {
    expect(urlsOf(['amqp://flag'], { WARREN_URL: 'amqp://warren', AMQP_URL: 'amqp://amqp' })).toEqual([
      'amqp://flag',
    ]);
  });

  it('WARREN_URL beats AMQP_URL and the profile', () => {
    expect(urlsOf(undefined, { WARREN_URL: 'amqp://warren', AMQP_URL: 'amqp://amqp' })).toEqual([
      'amqp://warren',
    ]);
  });

  it('AMQP_URL beats the profile', () => {
    expect(urlsOf(undefined, { AMQP_URL: 'amqp://amqp' })).toEqual(['amqp://amqp']);
  });

  it("the profile's URLs, in order, beat the default", () => {
    expect(urlsOf(undefined, {})).toEqual(['amqp://profile-a', 'amqp://profile-b']);
    expect(urlsOf([], { WARREN_URL: '' })).toEqual(['amqp://profile-a', 'amqp://profile-b']);
  });

  it('the default when the profile has no URLs', () => {
    expect(urlsOf(undefined, {}, { urls: undefined, vhost: undefined })).toEqual([DEFAULT_URL]);
    expect(urlsOf(undefined, {}, { urls: [], vhost: undefined })).toEqual([DEFAULT_URL]);
  });

  it('masks the password of a profile URL', () => {
    const [url] = resolveBrokerUrls(undefined, {}, { urls: ['amqp://u:pr0file-pw@h/'], vhost: undefined });
    expect(url?.masked).toBe('amqp://u:***@h/');
  });

  it("the profile's vhost goes on a URL of any source that names none", () => {
    const p = { urls: ['amqp://profile-host'], vhost: 'orders' };
    expect(urlsOf(['amqp://flag-host'], {}, p)).toEqual(['amqp://flag-host/orders']);
    expect(urlsOf(undefined, { WARREN_URL: 'amqp://warren-host/' }, p)).toEqual([
      'amqp://warren-host/orders',
    ]);
    expect(urlsOf(undefined, { AMQP_URL: 'amqp://amqp-host' }, p)).toEqual(['amqp://amqp-host/orders']);
    expect(urlsOf(undefined, {}, p)).toEqual(['amqp://profile-host/orders']);
    expect(urlsOf(undefined, {}, { urls: undefined, vhost: 'orders' })).toEqual([
      'amqp://guest:guest@localhost:5672/orders',
    ]);
  });

  it("a URL that names a vhost keeps it, whatever the profile's", () => {
    const p = { urls: undefined, vhost: 'orders' };
    expect(urlsOf(['amqp://h/other', 'amqp://i/%2F', 'amqp://j'], {}, p)).toEqual([
      'amqp://h/other',
      'amqp://i/%2F',
      'amqp://j/orders',
    ]);
  });
});

describe('withVhost', () => {
  it('adds the vhost to a URL with no path or a bare /', () => {
    expect(withVhost('amqp://h', 'v')).toBe('amqp://h/v');
    expect(withVhost('amqp://h/', 'v')).toBe('amqp://h/v');
    expect(withVhost('amqps://u:p@h:5671', 'v')).toBe('amqps://u:p@h:5671/v');
  });

  it('leaves a URL that names a vhost alone', () => {
    expect(withVhost('amqp://h/x', 'v')).toBe('amqp://h/x');
    expect(withVhost('amqp://h/%2F', 'v')).toBe('amqp://h/%2F');
  });

  it('percent-encodes the vhost', () => {
    expect(withVhost('amqp://h', 'a/b')).toBe('amqp://h/a%2Fb');
    expect(withVhost('amqp://h/', '/')).toBe('amqp://h/%2F');
  });

  it('keeps the query', () => {
    expect(withVhost('amqp://h?heartbeat=10', 'v')).toBe('amqp://h/v?heartbeat=10');
  });

  it('leaves everything alone without a vhost, and text that is not a URL', () => {
    expect(withVhost('amqp://h', undefined)).toBe('amqp://h');
    expect(withVhost('not a url', 'v')).toBe('not a url');
  });
});
