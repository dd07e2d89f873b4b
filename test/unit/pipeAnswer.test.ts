/** A --pipe handler's answer line: what is an answer, and why the rest is garbage. */
import { describe, expect, it } from 'vitest';
import { readAnswer } from '../../src/exec/pipeHandler.js';

describe('readAnswer', () => {
  it.each([
    ['{"seq":1,"outcome":"ack"}', { seq: 1, outcome: 'ack', emit: [], reason: undefined }],
    ['{"outcome":"requeue","seq":22}', { seq: 22, outcome: 'requeue', emit: [], reason: undefined }],
    [
      '{"seq":3,"outcome":"reject","reason":"bad order"}',
      { seq: 3, outcome: 'reject', emit: [], reason: 'bad order' },
    ],
    ['{"seq":4,"outcome":"retry","emit":[]}', { seq: 4, outcome: 'retry', emit: [], reason: undefined }],
    [
      '  {"seq":5,"outcome":"ack","emit":[{"body":"x"}]}  ',
      { seq: 5, outcome: 'ack', emit: [{ body: 'x' }], reason: undefined },
    ],
  ])('%s is an answer', (line, answer) => {
    expect(readAnswer(line)).toEqual(answer);
  });

  it.each([
    ['ok', 'not JSON'],
    ['{"seq":1,"outcome":"ack"', 'not JSON'],
    ['[1]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    ['"ack"', 'not a JSON object'],
    ['{"seq":1,"outcome":"ack","status":"fine"}', 'unknown field "status"'],
    ['{"outcome":"ack"}', '"seq" must be the whole number of the line it answers'],
    ['{"seq":"1","outcome":"ack"}', '"seq" must be the whole number of the line it answers'],
    ['{"seq":1.5,"outcome":"ack"}', '"seq" must be the whole number of the line it answers'],
    ['{"seq":0,"outcome":"ack"}', '"seq" must be the whole number of the line it answers'],
    ['{"seq":1}', '"outcome" must be one of ack, requeue, reject, retry'],
    ['{"seq":1,"outcome":"ACK"}', '"outcome" must be one of ack, requeue, reject, retry'],
    ['{"seq":1,"outcome":"nack"}', '"outcome" must be one of ack, requeue, reject, retry'],
    ['{"seq":1,"outcome":"ack","emit":{"body":"x"}}', '"emit" must be an array of envelopes'],
    ['{"seq":1,"outcome":"ack","reason":42}', '"reason" must be a string'],
  ])('%s is garbage: %s', (line, why) => {
    expect(readAnswer(line)).toBe(why);
  });
});
