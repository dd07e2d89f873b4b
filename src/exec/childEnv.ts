/**
 * The environment of a command warren runs (a `consume --exec` handler, a `tail` trigger):
 * warren's own, without warren's broker password. A handler is often someone else's script
 * that logs its environment, or a tool that reports it with a crash; the password it never
 * needed should not be there. One that does reach the broker gets it explicitly, with
 * --pass-url.
 *
 * - WARREN_PASSWORD is removed;
 * - WARREN_URL and AMQP_URL keep the broker's address, with the password taken out: a
 *   `warren` the handler runs still names the same broker (and fails to log in, rather than
 *   quietly reaching the local default);
 * - with `passUrls` (--pass-url), WARREN_URL is the list of URLs warren itself connects
 *   with, password included, however warren was given it (--url, a password file,
 *   WARREN_PASSWORD, a profile).
 */
export function childEnv(inherited: NodeJS.ProcessEnv, passUrls?: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  delete env['WARREN_PASSWORD'];
  for (const name of ['WARREN_URL', 'AMQP_URL']) {
    const value = env[name];
    if (value !== undefined) env[name] = withoutPasswords(value);
  }
  if (passUrls !== undefined) env['WARREN_URL'] = passUrls.join(',');
  return env;
}

/** Each URL of a comma-separated list without its password (`amqp://user@host/`). */
function withoutPasswords(list: string): string {
  return list
    .split(',')
    .map((url) => url.replace(/^(\s*amqps?:\/\/[^:/@]*):[^@]*@/i, '$1@'))
    .join(',');
}
