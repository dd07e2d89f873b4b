/**
 * Publishing in batches. amqplib writes each message through its own object stream and
 * then to the socket, one write per message; at 100-byte bodies that bookkeeping costs more
 * than the encoding. A FrameBatch encodes messages (with amqplib's own encoders) into one
 * buffer and hands it to the channel as a single write, once per event-loop turn or when
 * the buffer is full. The frames of a message stay together and in order, so the broker
 * sees exactly what amqplib would have sent.
 */
import type defs from 'amqplib-defs';

/** amqplib's protocol definitions: loaded with amqplib (after its decoder is wrapped). */
export type ProtocolDefinitions = typeof defs;

const FRAME_BODY = 3;
const FRAME_END = 206;
const FRAME_HEADER_BYTES = 7;
/** Frame header and end octet around a body frame's payload. */
const FRAME_OVERHEAD = FRAME_HEADER_BYTES + 1;
/** A batch is written once it holds this much (or at the end of the turn). */
const BATCH_BYTES = 64 * 1024;

/** Where a batch goes: the channel's own write queue (ahead of the socket), in order. */
export interface FrameSink {
  /** Writes encoded frames (noting for itself when the queue is full). */
  write(frames: Buffer): void;
}

export class FrameBatch {
  private buffer: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  private scheduled = false;
  private readonly flushSoon = () => {
    this.scheduled = false;
    this.flush();
  };
  constructor(
    private readonly sink: FrameSink,
    private readonly channel: number,
    private readonly frameMax: number,
    private readonly defs: ProtocolDefinitions,
  ) {}

  /**
   * Adds a message whose body fits in one frame, and returns true; returns false, having
   * written everything batched so far, for a body that must be split (the caller sends it
   * the ordinary way).
   */
  add(fields: object, body: Buffer): boolean {
    if (body.length > this.frameMax - FRAME_OVERHEAD) {
      this.flush();
      return false;
    }
    const defs = this.defs;
    const method: Buffer = defs.encodeMethod(defs.BasicPublish, this.channel, fields);
    const header: Buffer = defs.encodeProperties(defs.BasicProperties, this.channel, body.length, fields);
    const size = method.length + header.length + (body.length > 0 ? body.length + FRAME_OVERHEAD : 0);
    if (this.used + size > this.buffer.length) {
      this.flush();
      this.buffer = Buffer.allocUnsafe(Math.max(BATCH_BYTES, size));
    }
    const out = this.buffer;
    let at = this.used;
    at += method.copy(out, at);
    at += header.copy(out, at);
    if (body.length > 0) {
      out[at] = FRAME_BODY;
      out.writeUInt16BE(this.channel, at + 1);
      out.writeUInt32BE(body.length, at + 3);
      at += FRAME_HEADER_BYTES;
      at += body.copy(out, at);
      out[at] = FRAME_END;
      at += 1;
    }
    this.used = at;
    if (this.used >= BATCH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushSoon);
    }
    return true;
  }

  /** Writes what is batched (a fresh buffer follows, so the written one is never reused). */
  flush(): void {
    if (this.used === 0) return;
    const frames = this.buffer.subarray(0, this.used);
    this.buffer = this.buffer.subarray(this.used);
    this.used = 0;
    this.sink.write(frames);
  }
}
