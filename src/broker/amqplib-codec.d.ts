/**
 * amqplib's field-table codec. The package does not export it; the build (esbuild) and
 * the tests (vitest) alias this name to node_modules/amqplib/lib/codec.js, so that the
 * amqplib patch (amqplibPatch.ts) can wrap the decoder before amqplib's protocol definitions take it.
 */
declare module 'amqplib-codec' {
  const codec: {
    decodeFields(slice: Buffer): Record<string | symbol, unknown>;
    encodeTable(buffer: Buffer, value: unknown, offset: number): number;
  };
  export default codec;
}

/** amqplib's protocol definitions (node_modules/amqplib/lib/defs.js), aliased the same way. */
declare module 'amqplib-defs' {
  const defs: {
    BasicPublish: number;
    BasicProperties: number;
    encodeMethod(id: number, channel: number, fields: object): Buffer;
    encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
  };
  export default defs;
}
