/**
 * The handlers file `warren serve FILE` runs: the handlers (a queue each, a command or
 * routes to commands, and how failures go), and the topology they need. Checked here field
 * by field, each error naming the field's path and its line and column in the file (exit
 * 65); handlers.schema.json at the repository's root says the same for editors, and a unit
 * test keeps the two in step.
 */
import { dirname, resolve } from 'node:path';
import { emitTarget, retryDelay } from '../commands/consume/command.js';
import { UsageError } from '../errors.js';
import type { EmitTarget } from '../exec/emit.js';
import type { FailurePolicy } from '../exec/outcome.js';
import type { RetryDelay } from '../exec/retryQueues.js';
import type { RouteMatch } from '../exec/routedHandler.js';
import { readTopology } from '../topology/results.js';
import {
  bindingFromFile,
  booleanField,
  checkKeys,
  exchangeFromFile,
  expectObject,
  type Fail,
  milliseconds,
  parseJsonFile,
  queueFromFile,
  stringField,
  type Topology,
  wholeNumber,
} from '../topology/spec.js';
import { failInFile, readFileText } from './jsonPositions.js';

/** The command a handler (or one of its routes) runs: once per message, or long-running. */
export interface HandlerCommand {
  kind: 'exec' | 'pipe';
  command: string;
}

export interface RouteEntry {
  match: RouteMatch;
  run: HandlerCommand;
}

/** One handler of the file, checked, with its defaults filled in. */
export interface HandlerEntry {
  name: string;
  queue: string;
  /** What handles every message, or (with routes) undefined. */
  run: HandlerCommand | undefined;
  routes: RouteEntry[] | undefined;
  /** With routes: what takes a message no route takes (absent: it fails). */
  fallback: HandlerCommand | undefined;
  concurrency: number;
  maxRetries: number | undefined;
  /** retryDelay/retryDelayMax: retries wait in retry queues (as --retry-delay). */
  retryDelay: RetryDelay | undefined;
  timeoutMs: number | undefined;
  onFailure: FailurePolicy;
  emit: EmitTarget | undefined;
  passUrl: boolean;
}

export interface HandlersFile {
  handlers: HandlerEntry[];
  /** The topology to declare before handling anything (inline, or from its own file). */
  topology: Topology | undefined;
}

/** The keys each object of the file may have (the schema must list the same: a unit test checks). */
export const FILE_KEYS = ['$schema', 'topology', 'handlers'] as const;
export const HANDLER_KEYS = [
  'name',
  'description',
  'queue',
  'exec',
  'pipe',
  'routes',
  'default',
  'concurrency',
  'maxRetries',
  'retryDelay',
  'retryDelayMax',
  'timeout',
  'onFailure',
  'emit',
  'emitFormat',
  'passUrl',
] as const;
export const ROUTE_KEYS = ['key', 'type', 'exec', 'pipe'] as const;
export const DEFAULT_KEYS = ['exec', 'pipe'] as const;
export const TOPOLOGY_KEYS = ['exchanges', 'queues', 'bindings'] as const;
export const ON_FAILURE = ['requeue', 'reject', 'dead-letter'] as const;
export const EMIT_FORMATS = ['raw', 'ndjson'] as const;
/** Handler names become metric labels and status-line prefixes: kept plain. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]*$';

export function readHandlersFile(file: string): HandlersFile {
  return parseHandlersFile(readFileText(file, 'handlers file'), file);
}

/** Reads a handlers file's text; `file` names it in errors and anchors a relative topology path. */
export function parseHandlersFile(text: string, file: string): HandlersFile {
  const parsed = parseJsonFile(text, file);
  const fail = failInFile(text, file);
  const root = expectObject(parsed, '', fail);
  checkKeys(root, FILE_KEYS, '', fail);
  const list = root['handlers'];
  if (list === undefined) throw fail('handlers', 'is required: a list of handlers');
  if (!Array.isArray(list) || list.length === 0)
    throw fail('handlers', 'must be a list of one handler or more');
  const handlers = list.map((entry, index) => handlerEntry(entry, `handlers[${index}]`, fail));
  const seen = new Map<string, number>();
  handlers.forEach((handler, index) => {
    const first = seen.get(handler.name);
    if (first !== undefined) {
      throw fail(
        `handlers[${index}].name`,
        `'${handler.name}' is the name of handlers[${first}] too: names must differ`,
      );
    }
    seen.set(handler.name, index);
  });
  return { handlers, topology: topologyOf(root['topology'], file, fail) };
}

function topologyOf(value: unknown, file: string, fail: Fail): Topology | undefined {
  if (value === undefined) return undefined;
  // A path: a topology file of its own, relative to the handlers file.
  if (typeof value === 'string') {
    const path = resolve(dirname(file), value);
    try {
      return readTopology(path);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      throw fail(
        'topology',
        `cannot read the topology file '${path}' (${(error.cause as NodeJS.ErrnoException)?.code ?? error.message})`,
      );
    }
  }
  const record = expectObject(value, 'topology', fail);
  checkKeys(record, TOPOLOGY_KEYS, 'topology', fail);
  const items = (key: string): unknown[] => {
    const items = record[key];
    if (items === undefined) return [];
    if (!Array.isArray(items)) throw fail(`topology.${key}`, 'must be a list');
    return items;
  };
  return {
    exchanges: items('exchanges').map((e, i) => exchangeFromFile(e, `topology.exchanges[${i}]`, fail)),
    queues: items('queues').map((q, i) => queueFromFile(q, `topology.queues[${i}]`, fail)),
    bindings: items('bindings').map((b, i) => bindingFromFile(b, `topology.bindings[${i}]`, fail)),
  };
}

function handlerEntry(value: unknown, path: string, fail: Fail): HandlerEntry {
  const record = expectObject(value, path, fail);
  checkKeys(record, HANDLER_KEYS, path, fail);
  const at = (key: string) => `${path}.${key}`;
  const name = stringField(record, 'name', path, fail);
  if (!new RegExp(NAME_PATTERN).test(name)) {
    throw fail(
      at('name'),
      `'${name}' may hold only letters, digits and _ . : - (it names metrics and status lines)`,
    );
  }
  if (record['description'] !== undefined && typeof record['description'] !== 'string') {
    throw fail(at('description'), 'must be a string');
  }
  const queue = stringField(record, 'queue', path, fail);
  const given = ['exec', 'pipe', 'routes'].filter((key) => record[key] !== undefined);
  if (given.length !== 1) {
    throw fail(
      path,
      given.length === 0
        ? 'needs "exec", "pipe" or "routes": what handles the messages?'
        : `has ${given.map((key) => `"${key}"`).join(' and ')}: give one`,
    );
  }
  let routes: RouteEntry[] | undefined;
  let fallback: HandlerCommand | undefined;
  if (record['routes'] !== undefined) {
    const list = record['routes'];
    if (!Array.isArray(list) || list.length === 0)
      throw fail(at('routes'), 'must be a list of one route or more');
    routes = list.map((route, index) => routeEntry(route, `${at('routes')}[${index}]`, fail));
    if (record['default'] !== undefined) {
      const entry = expectObject(record['default'], at('default'), fail);
      checkKeys(entry, DEFAULT_KEYS, at('default'), fail);
      fallback = commandOf(entry, at('default'), fail);
    }
  } else if (record['default'] !== undefined) {
    throw fail(at('default'), 'goes with "routes" (it takes what no route takes)');
  }
  const onFailure =
    record['onFailure'] === undefined ? 'requeue' : stringField(record, 'onFailure', path, fail);
  if (!(ON_FAILURE as readonly string[]).includes(onFailure)) {
    throw fail(at('onFailure'), `'${onFailure}' is not one of ${ON_FAILURE.join(', ')}`);
  }
  const emitFormat =
    record['emitFormat'] === undefined ? undefined : stringField(record, 'emitFormat', path, fail);
  if (emitFormat !== undefined && !(EMIT_FORMATS as readonly string[]).includes(emitFormat)) {
    throw fail(at('emitFormat'), `'${emitFormat}' is not one of ${EMIT_FORMATS.join(', ')}`);
  }
  const emit = record['emit'] === undefined ? undefined : stringField(record, 'emit', path, fail);
  let target: EmitTarget | undefined;
  try {
    target = emitTarget(emit, emitFormat as 'raw' | 'ndjson' | undefined);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // consume's words name its flags: here they are the fields.
    const problem = error.message.replaceAll('--emit-format', '"emitFormat"').replaceAll('--emit', '"emit"');
    throw fail(
      at(emit === undefined ? 'emitFormat' : 'emit'),
      problem.replace(/^"emit(Format)?":? /, '').replace(/^raw needs/, "'raw' needs"),
    );
  }
  let timeoutMs: number | undefined;
  if (record['timeout'] !== undefined) {
    timeoutMs = milliseconds(record['timeout'], at('timeout'), fail);
    if (timeoutMs === 0) throw fail(at('timeout'), 'must be more than 0');
  }
  const delay = (key: 'retryDelay' | 'retryDelayMax') =>
    record[key] === undefined ? undefined : milliseconds(record[key], at(key), fail);
  if (record['retryDelayMax'] !== undefined && record['retryDelay'] === undefined) {
    throw fail(at('retryDelayMax'), 'needs "retryDelay": the first wait, which doubles up to this');
  }
  let retries: RetryDelay | undefined;
  try {
    retries = retryDelay(delay('retryDelay'), delay('retryDelayMax'), {
      first: '"retryDelay"',
      max: '"retryDelayMax"',
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw fail(at('retryDelay'), error.message.replace(/^"retryDelay" /, ''));
  }
  return {
    name,
    queue,
    run: record['routes'] === undefined ? commandOf(record, path, fail) : undefined,
    routes,
    fallback,
    concurrency:
      record['concurrency'] === undefined
        ? 1
        : wholeNumber(record['concurrency'], at('concurrency'), fail, 1, 65535),
    maxRetries:
      record['maxRetries'] === undefined
        ? undefined
        : wholeNumber(record['maxRetries'], at('maxRetries'), fail),
    retryDelay: retries,
    timeoutMs,
    onFailure: onFailure === 'requeue' ? 'requeue' : 'reject',
    emit: target,
    passUrl: booleanField(record, 'passUrl', path, fail, false),
  };
}

function routeEntry(value: unknown, path: string, fail: Fail): RouteEntry {
  const record = expectObject(value, path, fail);
  checkKeys(record, ROUTE_KEYS, path, fail);
  if (record['key'] === undefined && record['type'] === undefined) {
    throw fail(path, 'needs "key" (a routing-key pattern such as "order.*") or "type", or both');
  }
  const match: RouteMatch = {};
  if (record['key'] !== undefined) match.key = stringField(record, 'key', path, fail);
  if (record['type'] !== undefined) match.type = stringField(record, 'type', path, fail);
  return { match, run: commandOf(record, path, fail) };
}

/** The one command of a handler, route or default: "exec" or "pipe". */
function commandOf(record: Record<string, unknown>, path: string, fail: Fail): HandlerCommand {
  const hasExec = record['exec'] !== undefined;
  if (hasExec === (record['pipe'] !== undefined)) {
    throw fail(
      path,
      hasExec ? 'has "exec" and "pipe": give one' : 'needs "exec" or "pipe": the command to run',
    );
  }
  const kind = hasExec ? 'exec' : 'pipe';
  const command = record[kind];
  if (typeof command !== 'string' || command.trim() === '') {
    throw fail(`${path}.${kind}`, 'must be a command (a non-empty string, run through the shell)');
  }
  return { kind, command };
}
