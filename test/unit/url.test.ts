import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, parseBrokerUrl, resolveBrokerUrls } from '../../src/brokerUrl.js';
import { redact } from '../../src/redact.js';
import { runMain } from '../helpers/fakeIo.js';
import { usageError } from '../helpers/usageError.js';

const urlsOf = (flags: string[] | undefined, env: NodeJS.ProcessEnv) =>
  resolveBrokerUrls(flags, env).map((u) => u.url);

describe('resolveBrokerUrls: where the broker URL comes from', () => {
  const env = { WARREN_URL: 'amqp://warren-host', AMQP_URL: 'amqp://amqp-host' };

  it('--url wins over WARREN_URL and AMQP_URL', () => {
    expect(urlsOf(['amqp://flag-host'], env)).toEqual(['amqp://flag-host']);
  });

  it('WARREN_URL wins over AMQP_URL', () => {
    expect(urlsOf(undefined, env)).toEqual(['amqp://warren-host']);
  });

  it('AMQP_URL is used when WARREN_URL is not set', () => {
    expect(urlsOf(undefined, { AMQP_URL: 'amqp://amqp-host' })).toEqual(['amqp://amqp-host']);
  });

  it('an empty WARREN_URL counts as not set', () => {
    expect(urlsOf(undefined, { WARREN_URL: '', AMQP_URL: 'amqp://amqp-host' })).toEqual(['amqp://amqp-host']);
  });

  it('the local default when nothing is given', () => {
    expect(urlsOf(undefined, {})).toEqual([DEFAULT_URL]);
    expect(urlsOf([], {})).toEqual([DEFAULT_URL]);
    expect(DEFAULT_URL).toBe('amqp://guest:guest@localhost:5672/');
  });

  it('repeated and comma-separated --url values are tried in the order given', () => {
    expect(urlsOf(['amqp://a, amqp://b', 'amqps://c:5671'], env)).toEqual([
      'amqp://a',
      'amqp://b',
      'amqps://c:5671',
    ]);
  });

  it('a comma-separated WARREN_URL is a cluster too', () => {
    expect(urlsOf(undefined, { WARREN_URL: 'amqp://a,amqp://b,' })).toEqual(['amqp://a', 'amqp://b']);
  });

  it('only commas and spaces is a usage error', () => {
    expect(usageError(() => resolveBrokerUrls([' , '], {})).exitCode).toBe(2);
  });

  it('a bad URL is named by where it came from: the flag, the variable, or the profile', () => {
    const profile = { urls: ['amqp//p'], vhost: undefined, name: 'prod' };
    expect(usageError(() => resolveBrokerUrls(['http://f'], {})).message).toMatch(/^--url: 'http:\/\/f\/'/);
    expect(usageError(() => resolveBrokerUrls(undefined, { WARREN_URL: 'amqp://' })).message).toMatch(
      /^WARREN_URL: 'amqp:\/\/' names no host/,
    );
    expect(usageError(() => resolveBrokerUrls(undefined, { AMQP_URL: 'x' })).message).toMatch(
      /^AMQP_URL: 'x'/,
    );
    expect(usageError(() => resolveBrokerUrls(undefined, {}, profile)).message).toMatch(
      /^profile 'prod' url: 'amqp\/\/p' is not a URL/,
    );
    expect(usageError(() => resolveBrokerUrls(undefined, { AMQP_URL: ',' }, profile)).message).toBe(
      'AMQP_URL: no broker URL given',
    );
  });

  it('marks amqps URLs as TLS', () => {
    expect(resolveBrokerUrls(['amqp://a', 'amqps://b'], {}).map((u) => u.tls)).toEqual([false, true]);
  });
});

describe('parseBrokerUrl: bad URLs are usage errors', () => {
  it.each([
    ['not a URL', 'localhost:5672', /is not a URL|must start with amqp/],
    ['plain text', 'not a url', /is not a URL/],
    ['http scheme', 'http://guest:guest@localhost/', /must start with amqp:\/\/ or amqps:\/\//],
    ['no host', 'amqp://', /names no host/],
    // The client library takes port 0 for none, and connects to 5672.
    ['port 0', 'amqp://h:0/', /port 0 is not a port/],
    ['port 00', 'amqps://h:00/', /port 0 is not a port/],
    // Each query parameter the client library reads, named with what it may be.
    ['heartbeat=abc', 'amqp://h/?heartbeat=abc', /heartbeat=abc is not valid: expected seconds, 0 to 65535/],
    ['heartbeat=1.5', 'amqp://h/?heartbeat=1.5', /heartbeat=1.5 is not valid/],
    ['heartbeat=70000', 'amqp://h/?heartbeat=70000', /heartbeat=70000 is not valid/],
    ['heartbeat= (empty)', 'amqp://h/?heartbeat=', /heartbeat= is not valid/],
    [
      'channelMax=-1',
      'amqp://h/?channelMax=-1',
      /channelMax=-1 is not valid: expected a whole number, 0 to 65535/,
    ],
    ['channelMax=65536', 'amqp://h/?channelMax=65536', /channelMax=65536 is not valid/],
    ['frameMax=100', 'amqp://h/?frameMax=100', /frameMax=100 is not valid: expected bytes, 0 .* or 4096/],
    ['frameMax=abc', 'amqp://h/?frameMax=abc', /frameMax=abc is not valid/],
    ['frameMax=2^32', 'amqp://h/?frameMax=4294967296', /frameMax=4294967296 is not valid/],
    ['maxFrameSize=100', 'amqp://h/?maxFrameSize=100', /maxFrameSize=100 is not valid/],
    ['locale over 255 bytes', `amqp://h/?locale=${'x'.repeat(256)}`, /locale=x+ is not valid/],
    ['the first of repeated parameters', 'amqp://h/?heartbeat=x&heartbeat=5', /heartbeat=x is not valid/],
  ])('%s', (_name, text, problem) => {
    const error = usageError(() => parseBrokerUrl(text));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(problem);
  });

  it('good values of every parameter, and parameters the library does not read, pass', () => {
    for (const query of [
      'heartbeat=0',
      'heartbeat=65535',
      'channelMax=0',
      'channelMax=2047',
      'frameMax=0',
      'frameMax=4096',
      'frameMax=4294967295',
      'maxFrameSize=0',
      'maxFrameSize=131072',
      'locale=en_US',
      'locale=',
      'connection_attempts=3',
    ]) {
      expect(parseBrokerUrl(`amqp://h:1/?${query}`).url).toBe(`amqp://h:1/?${query}`);
    }
  });

  it('warren exits 2 with one line naming the parameter, before connecting', async () => {
    const result = await runMain(['--url', 'amqp://127.0.0.1:1/?channelMax=-1', 'purge', 'q']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: --url: 'amqp:\/\/127.0.0.1:1\/\?channelMax=-1': channelMax=-1 is not valid/,
    );
    expect(result.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('a bad parameter does not show the password', () => {
    const error = usageError(() => parseBrokerUrl('amqp://u:S3cretPw@h/?heartbeat=abc'));
    expect(error.message).not.toContain('S3cretPw');
    expect(error.message).toContain('amqp://u:***@h/?heartbeat=abc');
  });
});

describe('the password is never shown', () => {
  it('the masked form hides the password and keeps the rest', () => {
    const url = parseBrokerUrl('amqp://alice:s3cr3t-pw@rabbit.example:5672/prod');
    expect(url.url).toBe('amqp://alice:s3cr3t-pw@rabbit.example:5672/prod');
    expect(url.masked).toBe('amqp://alice:***@rabbit.example:5672/prod');
  });

  it('a URL without a password is shown unchanged', () => {
    expect(parseBrokerUrl('amqps://rabbit.example/vh').masked).toBe('amqps://rabbit.example/vh');
  });

  it('a percent-encoded password is hidden in both forms', () => {
    const url = parseBrokerUrl('amqp://bob:p%40ss%2Fw0rd@host/');
    expect(url.masked).not.toContain('p%40ss%2Fw0rd');
    expect(url.masked).not.toContain('p@ss/w0rd');
    expect(redact('login as bob with p@ss/w0rd failed')).toBe('login as bob with *** failed');
    expect(redact('url amqp://bob:p%40ss%2Fw0rd@host/')).not.toContain('p%40ss%2Fw0rd');
  });

  it('the error for a wrong scheme does not show the password', () => {
    const error = usageError(() => parseBrokerUrl('http://carol:hunter2-secret@host/'));
    expect(error.message).not.toContain('hunter2-secret');
    expect(error.message).toContain('***');
  });

  it('the error for text that is not a URL does not show the password', () => {
    const error = usageError(() => parseBrokerUrl('amqp://dave:t0p-secret@[broken'));
    expect(error.message).not.toContain('t0p-secret');
  });

  it('redact() scrubs a password registered by parsing a URL from any later text', () => {
    resolveBrokerUrls(['amqp://erin:Zq9-unique-pw@host/'], {});
    expect(redact('Error: ACCESS_REFUSED for Zq9-unique-pw (again Zq9-unique-pw)')).toBe(
      'Error: ACCESS_REFUSED for *** (again ***)',
    );
  });

  it('redact() leaves text without a registered secret alone', () => {
    expect(redact('nothing secret here')).toBe('nothing secret here');
  });
});
