/**
 * Where the spawn addon cannot load (not Linux x86-64), handlers start through Node's spawn:
 * the same gate, the same results.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { type HandlerSpec, prepareHandler, runHandler } from '../../src/exec/handlerProcess.js';
import { loadAddon } from '../../src/nativeAddon.js';

vi.mock('../../src/nativeAddon.js', () => ({ loadAddon: () => null }));

function spec(command: string, body = 'the body'): HandlerSpec & { logged: () => string } {
  const log = new PassThrough();
  let text = '';
  log.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return {
    command,
    body: Buffer.from(body),
    env: { PATH: process.env['PATH'] },
    timeoutMs: undefined,
    captureStdout: false,
    log,
    prefix: '',
    logged: () => text,
  };
}

describe('runHandler without the addon', () => {
  it('has no addon here', () => {
    expect(loadAddon('spawn')).toBeNull();
  });

  it('gives the body on stdin, in a session of its own, and reports the exit code', async () => {
    const s = spec('cat; echo; echo "$$ $(ps -o sid= -p $$)"; exit 3');
    expect((await runHandler(s).done).exit).toEqual({ kind: 'exited', code: 3 });
    const [body, ids = ''] = s.logged().trim().split('\n');
    expect(body).toBe('the body');
    const [pid, sid] = ids.trim().split(/\s+/);
    expect(sid).toBe(pid);
  });

  it('a prepared one runs only once opened, without descriptor 3', async () => {
    const s = spec('[ -e /proc/$$/fd/3 ] && echo fd3 || echo nofd3; exit 0');
    const prepared = prepareHandler(s);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.logged()).toBe('');
    expect((await prepared.open().done).exit).toEqual({ kind: 'exited', code: 0 });
    expect(s.logged()).toBe('nofd3\n');
  });

  it('a NUL byte in the environment is a handler that did not start, and the message is unfit', async () => {
    const s = { ...spec('true'), env: { ID: 'a\u0000b' } };
    expect((await runHandler(s).done).exit).toMatchObject({ kind: 'notStarted', unfit: true });
  });
});
