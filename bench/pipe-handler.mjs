#!/usr/bin/env node
/**
 * The trivial long-running handler `npm run bench` feeds with `consume --pipe`: it answers
 * each message line with `ack` at once, and with `--emit` sends the message's body on as one
 * event. It answers a whole read at a time (one write per chunk of input), as a handler that
 * cares for speed would.
 */
const emit = process.argv.includes('--emit');
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  let out = '';
  for (const line of lines) {
    if (line === '') continue;
    const message = JSON.parse(line);
    const answer = { seq: message.seq, outcome: 'ack' };
    if (emit) answer.emit = [{ body: message.body, bodyEncoding: message.bodyEncoding }];
    out += `${JSON.stringify(answer)}\n`;
  }
  if (out !== '') process.stdout.write(out);
});
