/**
 * Forcing a broker-side connection close with rabbitmqctl (runs as root here), to test how
 * warren behaves when it loses its connection. Only ever closes the connection of one
 * process we started, found by its client port: never anyone else's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The local ports of the TCP connections process `pid` holds to the broker port. */
export async function brokerClientPorts(pid: number, brokerPort = 5672): Promise<number[]> {
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established']);
  const ports: number[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const columns = line.trim().split(/\s+/);
    // ss -H with a state filter: Recv-Q Send-Q Local:Port Peer:Port Process
    const local = columns[2];
    const peer = columns[3];
    if (!local || !peer?.endsWith(`:${brokerPort}`)) continue;
    ports.push(Number(local.slice(local.lastIndexOf(':') + 1)));
  }
  return ports;
}

export interface BrokerConnection {
  pid: string;
  peerPort: number;
  /** Channels open on it now. */
  channels: number;
  clientProperties: string;
}

export async function listConnections(): Promise<BrokerConnection[]> {
  const { stdout } = await run('rabbitmqctl', [
    'list_connections',
    '-q',
    '--no-table-headers',
    'pid',
    'peer_port',
    'channels',
    'client_properties',
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('<'))
    .map((line) => {
      const [pid = '', port = '', channels = '', ...rest] = line.split('\t');
      return { pid, peerPort: Number(port), channels: Number(channels), clientProperties: rest.join('\t') };
    });
}

/** The connections the broker has from process `pid` (found by their client ports). */
export async function connectionsOf(pid: number): Promise<BrokerConnection[]> {
  const ports = await brokerClientPorts(pid);
  return (await listConnections()).filter((c) => ports.includes(c.peerPort));
}

/** Closes, from the broker side, the connection whose broker pid is `connectionPid`. */
export async function closeConnection(connectionPid: string): Promise<void> {
  await run('rabbitmqctl', ['close_connection', connectionPid, 'warren test: forced close']);
}

/**
 * Closes, from the broker side, the connection that process `pid` opened, which must
 * carry the client-provided name `connectionName`. Returns the broker's connection pid.
 */
export async function forceCloseConnectionOf(pid: number, connectionName: string): Promise<string> {
  const ports = await brokerClientPorts(pid);
  if (ports.length !== 1)
    throw new Error(`expected one broker connection from pid ${pid}, found ${ports.length}`);
  const connections = await listConnections();
  const mine = connections.find((c) => c.peerPort === ports[0]);
  if (!mine) throw new Error(`the broker lists no connection from port ${ports[0]}`);
  if (!mine.clientProperties.includes(`{"connection_name","${connectionName}"}`)) {
    throw new Error(
      `connection from port ${ports[0]} is not named '${connectionName}': ${mine.clientProperties}`,
    );
  }
  await closeConnection(mine.pid);
  return mine.pid;
}

/**
 * Closes the connection of process `pid` as forceCloseConnectionOf does, trying again while
 * it has none to close (between two connections, as it reconnects) for up to `ms`.
 */
export async function forceCloseNextConnectionOf(pid: number, connectionName: string, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await forceCloseConnectionOf(pid, connectionName);
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
