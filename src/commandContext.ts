/** What a command gets to run with: streams, a reporter, colour, and a way to connect. */

import type { Command } from 'commander';
import { brokerExplainer } from './brokerErrors.js';
import {
  type BrokerUrl,
  parseBrokerUrl,
  readTlsFiles,
  resolveBrokerUrls,
  resolvePassword,
  splitUrls,
  type TlsSocketOptions,
  urlFromEnv,
} from './brokerUrl.js';
import type { CommandContext, SecondBroker } from './commands/context.js';
import type { ParsedCommand } from './commands/define.js';
import type { SelectedProfile } from './config.js';
import { childEnv } from './exec/childEnv.js';
import { type GlobalOptions, plainGlobalOptions } from './globalOptions.js';
import { paintFor } from './ui/colour.js';
import type { Io } from './ui/io.js';
import { createReporter, type Reporter } from './ui/reporter.js';
import { type Spinner, startSpinner } from './ui/spinner.js';

/** How the command runs: its connection's name, and whether it reads a person's typing. */
export interface RunShape {
  connectionName: string;
  readsStdin: boolean;
  commandTree(): Command;
}

export async function createContext(parsed: ParsedCommand, shape: RunShape, io: Io): Promise<CommandContext> {
  const { global } = parsed;
  // Someone typing warren's input: a status line redrawn where the terminal echoes their
  // keys would wipe what they type and hide the cursor, so there is none.
  const typing = shape.readsStdin && io.stdin.isTTY === true;
  const stderrPaint = await paintFor(io.stderr, io.env, global.color);
  const reporter = createReporter({
    stderr: io.stderr,
    paint: stderrPaint,
    quiet: global.quiet,
    verbose: global.verbose,
  });
  const profile = global.profile;
  if (profile) {
    for (const warning of profile.warnings) reporter.warn(warning);
    reporter.detail(`profile '${profile.name}' from ${profile.path} (chosen by ${profile.chosenBy})`);
  }
  const settings = profile?.settings;
  const { brokerUrls, password, tlsFiles } = brokerAccess(global, io.env, profile, reporter);
  /** Where connect goes: the run's broker, or a command's second one (--to-url, --to-profile). */
  const target = (
    to: SecondBroker | undefined,
    says: Reporter,
  ): { urls: BrokerUrl[]; tls: TlsSocketOptions } => {
    if (to === undefined) return { urls: brokerUrls(), tls: tlsFiles(says) };
    if ('urls' in to) {
      return { urls: splitUrls(to.urls).map((url) => parseBrokerUrl(url, to.source)), tls: tlsFiles(says) };
    }
    // A profile's broker is reached as that profile alone says: the flags and the
    // environment are the first broker's. Its file's warnings are said once.
    if (!profile) for (const warning of to.profile.warnings) says.warn(warning);
    says.detail(`${to.source}: profile '${to.profile.name}' from ${to.profile.path}`);
    const access = brokerAccess(plainGlobalOptions(), {}, to.profile, says);
    return { urls: access.brokerUrls(), tls: access.tlsFiles(says) };
  };
  return {
    io,
    reporter,
    stdoutPaint: await paintFor(io.stdout, io.env, global.color),
    typing,
    spinner: (text) =>
      startSpinner(io.stderr, text, { enabled: !global.quiet && !typing, colour: stderrPaint.enabled }),
    commandTree: shape.commandTree,
    childEnv: (passUrl) => childEnv(io.env, passUrl ? brokerUrls().map((broker) => broker.url) : undefined),
    api: async () => {
      const [broker] = brokerUrls();
      const { apiTarget } = await import('./api/target.js');
      const target = apiTarget({
        flag: global.api,
        env: io.env,
        profileApi: settings?.api,
        broker: broker as NonNullable<typeof broker>,
        password: password(),
        tls: tlsFiles(),
      });
      reporter.detail(`management API ${target.masked} as '${target.user}' (from ${target.source})`);
      const { ManagementApi } = await import('./api/client.js');
      return new ManagementApi(target);
    },
    brokerLabel: () => brokerUrls()[0]?.masked ?? 'the broker',
    connect: async (to, role, { spinner: drawn = true, reporter: says = reporter } = {}) => {
      const fromEnv = urlFromEnv(io.env);
      if (!to && profile?.chosenBy === '--profile' && settings?.urls && !global.urls && fromEnv) {
        says.warn(
          `${fromEnv.name} is set and wins over the url of profile '${profile.name}' (flag > env > profile)`,
        );
      }
      const { urls, tls } = target(to, says);
      const { openSession } = await import('./broker/connect.js');
      // A connection that takes a moment (a far broker, --wait-for-broker) says so on a
      // terminal; a quick one draws nothing, rather than a spinner that flickers.
      let spinner: Spinner | undefined;
      const slow = setTimeout(async () => {
        // --verbose lines arrive while connecting: a spinner would be drawn through them.
        spinner = await startSpinner(io.stderr, `connecting to ${urls[0]?.masked ?? 'the broker'}…`, {
          enabled: drawn && !global.quiet && !global.verbose && !typing,
          colour: stderrPaint.enabled,
        });
        if (done) spinner.stop();
      }, 200);
      let done = false;
      try {
        return await openSession({
          urls,
          tls,
          connectionName: role === undefined ? shape.connectionName : `${shape.connectionName} (${role})`,
          explain: brokerExplainer,
          log: (line) => says.detail(line),
          warn: (line) => says.warn(line),
          waitMs: global.waitForBrokerMs,
        });
      } finally {
        done = true;
        clearTimeout(slow);
        spinner?.stop();
      }
    },
  };
}

/**
 * How to reach a broker, from the flags, the environment and a profile (flag > env >
 * profile > default): its URLs, the password, and the TLS files, each read when first needed.
 */
function brokerAccess(
  global: GlobalOptions,
  env: NodeJS.ProcessEnv,
  profile: SelectedProfile | undefined,
  reporter: Reporter,
) {
  const settings = profile?.settings;
  // Read once: a password file may be a pipe (`--password-file <(pass show rabbit)`).
  let passwordRead: { value: string | undefined } | undefined;
  const password = () => {
    passwordRead ??= { value: resolvePassword(global.passwordFile, env, settings?.passwordFile) };
    return passwordRead.value;
  };
  const brokerUrls = () =>
    resolveBrokerUrls(global.urls, env, settings && { ...settings, name: profile?.name }, password());
  const insecure = global.insecure || settings?.insecure === true;
  // Said once a run, however often warren connects (a reconnect, the API beside AMQP).
  let insecureWarned = false;
  /** `says`: where the --insecure warning goes (a command may route its lines: serve). */
  const tlsFiles = (says = reporter) => {
    const tls = readTlsFiles({
      ca: global.ca ?? settings?.ca,
      cert: global.cert ?? settings?.cert,
      key: global.key ?? settings?.key,
      insecure,
    });
    if (insecure && !insecureWarned) says.warn('--insecure: the broker certificate is not verified');
    insecureWarned = insecure;
    return tls;
  };
  return { brokerUrls, password, tlsFiles };
}
