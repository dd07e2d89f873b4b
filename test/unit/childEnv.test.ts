import { describe, expect, it } from 'vitest';
import { childEnv } from '../../src/exec/childEnv.js';

describe('childEnv: what a handler or trigger inherits', () => {
  const inherited = {
    PATH: '/bin',
    WARREN_PASSWORD: 'Pw-secret',
    WARREN_URL: 'amqp://app:Pw-secret@rabbit-1:5672/orders, amqps://app:p%40ss w@rabbit-2/orders',
    AMQP_URL: 'amqp://other:S3cret@h/',
    WARREN_PROFILE: 'staging',
  };

  it('no WARREN_PASSWORD; WARREN_URL and AMQP_URL keep each broker without its password', () => {
    expect(childEnv(inherited)).toEqual({
      PATH: '/bin',
      WARREN_URL: 'amqp://app@rabbit-1:5672/orders, amqps://app@rabbit-2/orders',
      AMQP_URL: 'amqp://other@h/',
      WARREN_PROFILE: 'staging',
    });
  });

  it('URLs without a password, and text that is not a URL, are passed on as they are', () => {
    expect(childEnv({ WARREN_URL: 'amqp://rabbit/', AMQP_URL: 'not a url' })).toEqual({
      WARREN_URL: 'amqp://rabbit/',
      AMQP_URL: 'not a url',
    });
  });

  it('--pass-url: WARREN_URL is the URLs warren connects with, password included', () => {
    const env = childEnv(inherited, [
      'amqp://app:Pw-secret@rabbit-1:5672/orders',
      'amqp://app:Pw-secret@rabbit-2/',
    ]);
    expect(env['WARREN_URL']).toBe(
      'amqp://app:Pw-secret@rabbit-1:5672/orders,amqp://app:Pw-secret@rabbit-2/',
    );
    expect(env['WARREN_PASSWORD']).toBeUndefined();
    expect(env['AMQP_URL']).toBe('amqp://other@h/');
  });

  it('leaves the environment it was given alone', () => {
    const given = { ...inherited };
    childEnv(given);
    expect(given).toEqual(inherited);
  });
});
