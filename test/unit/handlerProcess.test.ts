import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type HandlerSpec, prepareHandler, runHandler } from '../../src/exec/handlerProcess.js';
import { loadAddon } from '../../src/nativeAddon.js';

function spec(command: string, more: Partial<HandlerSpec> = {}): HandlerSpec & { logged: () => string } {
  const log = new PassThrough();
  const chunks: Buffer[] = [];
  log.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    command,
    body: Buffer.from('the body'),
    env: { PATH: process.env['PATH'] },
    timeoutMs: undefined,
    captureStdout: false,
    log,
    prefix: '',
    ...more,
    logged: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('runHandler', () => {
  it('gives the body on stdin and reports the exit code', async () => {
    const s = spec('cat; exit 3');
    const { exit } = await runHandler(s).done;
    expect(exit).toEqual({ kind: 'exited', code: 3 });
    expect(s.logged()).toBe('the body');
  });

  it('prefixes every line of stdout and stderr, the last one too', async () => {
    const s = spec("printf 'a\\nb\\n'; printf 'c' >&2", { prefix: '[m-1] ' });
    await runHandler(s).done;
    expect(s.logged().split('\n').sort()).toEqual(['', '[m-1] a', '[m-1] b', '[m-1] c']);
  });

  it('one program becomes the handler itself: its parent is warren, its signal is its exit', async () => {
    const parent = spec("sh -c 'echo $PPID'", { captureStdout: true });
    const { stdout } = await runHandler(parent).done;
    expect(stdout?.toString().trim()).toBe(String(process.pid));
    const { exit } = await runHandler(spec("sh -c 'kill -9 $$'")).done;
    expect(exit).toEqual({ kind: 'killed', signal: 'SIGKILL' });
  });

  it('anything more than one program runs in the shell as before', async () => {
    const parent = spec("sh -c 'echo $PPID'; true", { captureStdout: true });
    const { stdout } = await runHandler(parent).done;
    expect(stdout?.toString().trim()).not.toBe(String(process.pid));
    const { exit } = await runHandler(spec("sh -c 'kill -9 $$'; exit $?")).done;
    expect(exit).toEqual({ kind: 'exited', code: 137 });
    const missing = spec('no-such-handler-program --flag');
    expect((await runHandler(missing).done).exit).toEqual({ kind: 'exited', code: 127 });
    expect(missing.logged()).toContain('no-such-handler-program: not found');
  });

  it('keeps stdout for a reply instead of logging it', async () => {
    const s = spec('tr a-z A-Z', { captureStdout: true });
    const { exit, stdout } = await runHandler(s).done;
    expect(exit).toEqual({ kind: 'exited', code: 0 });
    expect(stdout?.toString()).toBe('THE BODY');
    expect(s.logged()).toBe('');
  });

  it('a timeout stops the handler and what it started', { timeout: 60_000 }, async () => {
    const marker = `warren-handler-test-${process.pid}-${Date.now()}`;
    const slept = join(mkdtempSync(join(tmpdir(), 'warren-handler-')), 'slept');
    // A child in the background, named by a marker its command line carries, that leaves a
    // file if its sleep runs to the end: the proof that it was stopped, which load cannot blur.
    const s = spec(`sh -c 'sleep 30; touch ${slept}' ${marker} & sleep 30`, { timeoutMs: 200 });
    const { exit } = await runHandler(s).done;
    const sleptToTheEnd = existsSync(slept);
    rmSync(dirname(slept), { recursive: true, force: true });
    expect(exit).toEqual({ kind: 'timedOut' });
    expect(sleptToTheEnd, 'the timeout ended the child, not its sleep').toBe(false);
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-f', marker]).toString().trim();
      } catch {
        return '';
      }
    })();
    expect(left).toBe('');
  });

  it('interrupting a handler reports it as stopped, not failed', async () => {
    const run = runHandler(spec('sleep 30'));
    setTimeout(() => run.interrupt(), 100);
    expect((await run.done).exit).toEqual({ kind: 'interrupted' });
  });

  it('an environment too big to start with is a handler that did not start, not a crash', async () => {
    const s = spec('true', { env: { BIG: 'x'.repeat(200_000) } });
    const { exit } = await runHandler(s).done;
    expect(exit).toEqual({
      kind: 'notStarted',
      error: 'E2BIG (its headers or properties are too large for an environment variable)',
      unfit: true,
    });
  });

  it('a NUL byte in the environment is a handler that did not start, and the message is unfit', async () => {
    const { exit } = await runHandler(spec('true', { env: { ID: 'a\u0000b' } })).done;
    expect(exit).toMatchObject({ kind: 'notStarted', error: /^ERR_INVALID_ARG_VALUE \(/, unfit: true });
  });

  it.each([0, 4096, 4097, 300_000])('a body of %i bytes arrives whole on stdin', async (size) => {
    const body = Buffer.alloc(size, 0x62);
    const s = spec('wc -c', { body });
    expect((await runHandler(s).done).exit).toEqual({ kind: 'exited', code: 0 });
    expect(s.logged().trim()).toBe(String(size));
  });

  it('a handler that does not read stdin does not fail on a big body', async () => {
    const s = spec('exit 0', { body: Buffer.alloc(4 * 1024 * 1024) });
    expect((await runHandler(s).done).exit).toEqual({ kind: 'exited', code: 0 });
  });
});

describe('prepareHandler', () => {
  /** A handler that leaves a file when its command runs: the proof of whether it ran, not a time. */
  function marking() {
    const dir = mkdtempSync(join(tmpdir(), 'warren-prepared-'));
    const ran = join(dir, 'ran');
    return {
      ran,
      command: `touch '${ran}'; cat`,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  it('runs the command only once opened, then as runHandler would: body on stdin, exit code', async () => {
    const m = marking();
    const s = spec(`${m.command}; exit 4`);
    const prepared = prepareHandler(s);
    // Time enough for the shell to start and run the command, were it not held at its gate.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ranEarly = existsSync(m.ran);
    const { exit } = await prepared.open().done;
    const ranAfter = existsSync(m.ran);
    m.cleanup();
    expect(ranEarly, 'the command ran before open').toBe(false);
    expect(ranAfter).toBe(true);
    expect(exit).toEqual({ kind: 'exited', code: 4 });
    expect(s.logged()).toBe('the body');
  });

  it('a discarded one never runs its command', async () => {
    const m = marking();
    const prepared = prepareHandler(spec(m.command));
    prepared.discard();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ran = existsSync(m.ran);
    m.cleanup();
    expect(ran).toBe(false);
  });

  it('the command sees what `sh -c` gives it: $0, no arguments, no gate variable, no descriptor 3', async () => {
    const probe =
      'echo "$0|$#|$(set | grep -c warren_gate)"; if { true >&3; } 2>/dev/null; then echo fd3; else echo nofd3; fi';
    // What the shell itself gives a command it runs with -c, fd 3 closed as warren's spawn has it.
    const direct = execFileSync('/bin/sh', ['-c', probe], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const gated = spec(probe);
    const { exit } = await prepareHandler(gated).open().done;
    expect(exit).toEqual({ kind: 'exited', code: 0 });
    expect(gated.logged()).toBe('/bin/sh|0|0\nnofd3\n');
    expect(gated.logged()).toBe(direct);
  });

  it('its --exec-timeout counts from open, not from the start of its shell', async () => {
    const prepared = prepareHandler(spec('exit 0', { timeoutMs: 200 }));
    // Longer than the timeout at the gate: a timer armed at the start would have fired.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await prepared.open().done).exit).toEqual({ kind: 'exited', code: 0 });
  });
});

describe('how a handler is started', () => {
  it('on Linux x86-64, without copying warren: the prebuilt addon loads', () => {
    const expected = process.platform === 'linux' && process.arch === 'x64';
    expect(loadAddon('spawn') !== null).toBe(expected);
  });

  it("may run on every CPU warren may (started on warren's own, then given them all back), and so may warren", async () => {
    const allowed = (status: string) => status.match(/^Cpus_allowed_list:.*$/m)?.[0];
    // The thread that starts handlers: the addon pins it to its CPU for the clone only.
    const before = allowed(readFileSync('/proc/thread-self/status', 'utf8'));
    for (let i = 0; i < 3; i++) {
      const s = spec('exec cat /proc/self/status');
      expect((await runHandler(s).done).exit).toEqual({ kind: 'exited', code: 0 });
      expect(allowed(s.logged())).toBe(before);
    }
    expect(allowed(readFileSync('/proc/thread-self/status', 'utf8'))).toBe(before);
  });

  it('leads a session and process group of its own, every signal at its default, none blocked, no descriptor 3', async () => {
    const s = spec(
      // The shell's own mask changes while it waits for a command: read by the command it execs.
      'echo "$$ $(ps -o pgid= -p $$) $(ps -o sid= -p $$)"; [ -e /proc/$$/fd/3 ] && echo fd3 || echo nofd3; exec grep -E "^Sig(Ign|Blk)" /proc/self/status',
    );
    expect((await runHandler(s).done).exit).toEqual({ kind: 'exited', code: 0 });
    const [ids = '', ...rest] = s.logged().trim().split('\n');
    const [pid, pgid, sid] = ids.trim().split(/\s+/);
    expect(pgid).toBe(pid);
    expect(sid).toBe(pid);
    expect(rest).toEqual(['nofd3', 'SigBlk:\t0000000000000000', 'SigIgn:\t0000000000000000']);
  });
});
