/**
 * `check node`'s judgement of what it saw (the probe publish and GET /api/nodes), for the
 * cluster states a test cannot bring about cheaply on a real broker: a partition, a stopped
 * member, a disk alarm, several nodes.
 */
import { describe, expect, it } from 'vitest';
import { judgeNode, type NodeRecord } from '../../src/check/kinds/node.js';

const GIB = 1024 ** 3;

function node(name: string, more: Partial<NodeRecord> = {}): NodeRecord {
  return {
    name,
    running: true,
    mem_used: 1 * GIB,
    mem_limit: 4 * GIB,
    mem_alarm: false,
    disk_free: 50 * GIB,
    disk_free_limit: 50_000_000,
    disk_free_alarm: false,
    partitions: [],
    ...more,
  };
}

const confirmed = { confirmed: true } as const;

function value(found: ReturnType<typeof judgeNode>, name: string): number | null | undefined {
  return found.measures.find((m) => m.name === name)?.value;
}

describe('check node: judging the nodes', () => {
  it('is OK for a healthy cluster, measuring the fullest node and the least disk', () => {
    const found = judgeNode(
      confirmed,
      [node('rabbit@a'), node('rabbit@b', { mem_used: 3 * GIB, disk_free: 20 * GIB })],
      undefined,
    );
    expect(found.status).toBe('OK');
    expect(value(found, 'mem_used')).toBe(3 * GIB);
    expect(value(found, 'mem_limit')).toBe(4 * GIB);
    expect(value(found, 'disk_free')).toBe(20 * GIB);
    expect(value(found, 'alarms')).toBe(0);
    expect(found.message).toContain('75%) on rabbit@b');
  });

  it('is CRITICAL for a partition, naming both sides', () => {
    const found = judgeNode(
      confirmed,
      [node('rabbit@a', { partitions: ['rabbit@b'] }), node('rabbit@b', { partitions: ['rabbit@a'] })],
      undefined,
    );
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toContain('rabbit@a is partitioned from rabbit@b');
    expect(value(found, 'alarms')).toBe(0);
  });

  it('is CRITICAL for a stopped member (the API lists it with running false, no figures)', () => {
    const found = judgeNode(confirmed, [node('rabbit@a'), { name: 'rabbit@b', running: false }], undefined);
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toContain('rabbit@b is not running');
    expect(value(found, 'mem_used')).toBe(1 * GIB);
  });

  it('is CRITICAL for a disk alarm, counted', () => {
    const found = judgeNode(confirmed, [node('rabbit@a', { disk_free_alarm: true })], undefined);
    expect(found.status).toBe('CRITICAL');
    expect(found.message).toContain('disk alarm on rabbit@a');
    expect(value(found, 'alarms')).toBe(1);
  });

  it('warns above --mem-warn of the watermark, and only then', () => {
    expect(judgeNode(confirmed, [node('rabbit@a')], 0.2).status).toBe('WARNING');
    expect(judgeNode(confirmed, [node('rabbit@a')], 0.3).status).toBe('OK');
  });

  it('takes a blocked publisher as an alarm, with or without the API', () => {
    const blocked = { blocked: 'low on memory' };
    const withApi = judgeNode(blocked, [node('rabbit@a')], undefined);
    expect(withApi.status).toBe('CRITICAL');
    expect(value(withApi, 'alarms')).toBe(1);
    const withoutApi = judgeNode(blocked, 'cannot reach the management API', undefined);
    expect(withoutApi.status).toBe('CRITICAL');
    expect(withoutApi.message).toContain('publishers blocked (low on memory)');
    expect(withoutApi.message).toContain('alarms seen over AMQP only (cannot reach the management API)');
    expect(withoutApi.measures.map((m) => m.name)).toEqual(['alarms']);
  });

  it('warns when the probe was neither confirmed nor blocked in time', () => {
    const found = judgeNode({ waited: true }, [node('rabbit@a')], undefined);
    expect(found.status).toBe('WARNING');
    expect(found.message).toContain('not confirmed');
  });
});
