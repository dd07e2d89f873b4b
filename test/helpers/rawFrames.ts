/**
 * A publisher that speaks AMQP 0-9-1 frame by frame over a plain socket, with no client
 * library: it sends a headers table as the bytes it is given, of any size the broker's
 * frame size allows (amqplib's encoder stops at 64 KiB). Confirms are on; it resolves once
 * the broker has acked every message.
 */
import { connect, type Socket } from 'node:net';

const FRAME_END = 0xce;

function shortstr(text: string | Buffer): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function longstr(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function frame(type: number, channel: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}

function method(channel: number, classId: number, methodId: number, args: Buffer[]): Buffer {
  const ids = Buffer.alloc(4);
  ids.writeUInt16BE(classId, 0);
  ids.writeUInt16BE(methodId, 2);
  return frame(1, channel, Buffer.concat([ids, ...args]));
}

/** Reads frames off the socket; `next` waits for the next method frame. */
function frameReader(socket: Socket) {
  let pending = Buffer.alloc(0);
  const methods: { classId: number; methodId: number; args: Buffer }[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 7) {
      const size = pending.readUInt32BE(3);
      if (pending.length < 8 + size) break;
      if (pending.readUInt8(0) === 1) {
        const payload = pending.subarray(7, 7 + size);
        methods.push({
          classId: payload.readUInt16BE(0),
          methodId: payload.readUInt16BE(2),
          args: payload.subarray(4),
        });
      }
      pending = pending.subarray(8 + size);
    }
    wake?.();
  });
  const fail = (error: Error) => {
    failure = error;
    wake?.();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the broker closed the connection')));
  return async (classId: number, methodId: number): Promise<Buffer> => {
    for (;;) {
      const next = methods.shift();
      if (next) {
        if (next.classId === 10 && next.methodId === 50) {
          const text = next.args.toString('utf8', 3, 3 + next.args.readUInt8(2));
          throw new Error(`the broker closed the connection: ${next.args.readUInt16BE(0)} ${text}`);
        }
        if (next.classId === 20 && next.methodId === 40) throw new Error('the broker closed the channel');
        if (next.classId === classId && next.methodId === methodId) return next.args;
        continue;
      }
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
}

export interface RawMessage {
  /** The headers table, without its length prefix. */
  headers: Buffer;
  body: Buffer;
  messageId: string;
}

/**
 * Publishes each message to `exchange` with `routingKey` at the broker of `url` (guest), and
 * waits for its confirm. A routing key given as bytes goes as they are (UTF-8 or not).
 */
export async function publishRawFrames(
  url: string,
  exchange: string,
  routingKey: string | Buffer,
  messages: RawMessage[],
): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port || 5672) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const next = frameReader(socket);
  try {
    socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    await next(10, 10);
    socket.write(
      method(0, 10, 11, [
        longstr(Buffer.alloc(0)),
        shortstr('PLAIN'),
        longstr(Buffer.from('\0guest\0guest')),
        shortstr('en_US'),
      ]),
    );
    const tune = await next(10, 30);
    const frameMax = tune.readUInt32BE(2);
    const tuneOk = Buffer.alloc(8);
    tuneOk.writeUInt16BE(tune.readUInt16BE(0), 0);
    tuneOk.writeUInt32BE(frameMax, 2);
    tuneOk.writeUInt16BE(0, 6);
    socket.write(method(0, 10, 31, [tuneOk]));
    socket.write(method(0, 10, 40, [shortstr('/'), shortstr(''), Buffer.from([0])]));
    await next(10, 41);
    socket.write(method(1, 20, 10, [shortstr('')]));
    await next(20, 11);
    socket.write(method(1, 85, 10, [Buffer.from([0])]));
    await next(85, 11);
    for (const message of messages) {
      socket.write(
        method(1, 60, 40, [Buffer.alloc(2), shortstr(exchange), shortstr(routingKey), Buffer.from([0])]),
      );
      const header = Buffer.alloc(14);
      header.writeUInt16BE(60, 0);
      header.writeBigUInt64BE(BigInt(message.body.length), 4);
      // Property flags: headers (bit 13) and message-id (bit 7), written in that order.
      header.writeUInt16BE(0x2000 | 0x0080, 12);
      socket.write(
        frame(2, 1, Buffer.concat([header, longstr(message.headers), shortstr(message.messageId)])),
      );
      for (let at = 0; at < message.body.length; at += frameMax - 8)
        socket.write(frame(3, 1, message.body.subarray(at, at + frameMax - 8)));
    }
    // One ack per message (the broker may also ack several at once, with multiple set).
    let acked = 0;
    while (acked < messages.length) {
      const ack = await next(60, 80);
      acked = ack.readUInt8(8) & 1 ? Number(ack.readBigUInt64BE(0)) : acked + 1;
    }
    const close = Buffer.alloc(2);
    close.writeUInt16BE(200);
    socket.write(method(0, 10, 50, [close, shortstr('done'), Buffer.alloc(4)]));
    await next(10, 51);
  } finally {
    socket.destroy();
  }
}
