// A TCP proxy that adds latency and passes TLS through untouched (the client still verifies the
// server's own certificate): the benchmark's stand-in for a Kubernetes API server 20 ms away.
// Each direction delays every chunk by half the round trip (± jitter), keeping the chunks' order,
// so a TLS handshake and each request/response pay the latency as they would over a real network.

import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './fault-proxy.ts';
import type { RoundTripTracker } from './round-trips.ts';

export interface TcpLatencyProxyOptions {
  /** host:port to forward to. */
  target: { host: string; port: number };
  /** Round-trip time added, in ms. */
  latencyMs: number;
  /** Uniform jitter, ± this many ms on the round trip. */
  jitterMs?: number;
  seed?: number;
  tracker?: RoundTripTracker;
}

export interface TcpLatencyProxy {
  host: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpLatencyProxy(options: TcpLatencyProxyOptions): Promise<TcpLatencyProxy> {
  const random = seededRandom(options.seed ?? 7);
  const oneWay = () => Math.max(0, (options.latencyMs + (random() * 2 - 1) * (options.jitterMs ?? 0)) / 2);
  const sockets = new Set<net.Socket>();
  let accepted = 0;

  /** Sends chunks from `from` to `to` after the delay, never reordering them (one queue, one timer). */
  const pipeDelayed = (from: net.Socket, to: net.Socket, onChunk: () => void) => {
    const queue: Array<{ at: number; chunk: Buffer | null }> = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= performance.now()) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) continue;
        if (chunk) to.write(chunk);
        else to.end();
      }
      if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.at - performance.now()));
    };
    const push = (chunk: Buffer | null) => {
      const at = Math.max(queue.at(-1)?.at ?? 0, performance.now() + oneWay());
      queue.push({ at, chunk });
      timer ??= setTimeout(drain, Math.max(0, queue[0]!.at - performance.now()));
    };
    from.on('data', (chunk: Buffer) => {
      onChunk();
      push(chunk);
    });
    from.on('end', () => push(null));
  };

  const server = net.createServer((client) => {
    const connection = ++accepted;
    const upstream = net.connect(options.target.port, options.target.host);
    sockets.add(client).add(upstream);
    // A client chunk after a server chunk starts a new round trip on this connection.
    let depth = 0;
    let awaitingReply = false;
    pipeDelayed(client, upstream, () => {
      if (!awaitingReply && options.tracker) depth = options.tracker.begin(`k8s connection ${connection}`);
      awaitingReply = true;
    });
    pipeDelayed(upstream, client, () => {
      if (awaitingReply && options.tracker) setTimeout(() => options.tracker!.end(depth), options.latencyMs / 2);
      awaitingReply = false;
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
