// A loopback HTTP proxy in front of moto that injects the faults CI meets: IAM/STS `Throttling`
// errors, HTTP 500/503, connection resets and added latency, each at a chosen rate. For the
// benchmark it can also add a fixed latency to every request (`delay`), answer `Throttling` above
// a request rate (`throttleAboveRps`, like IAM's unpublished limits), and count round trips.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RoundTripTracker } from './round-trips.ts';

export type FaultKind = 'throttle' | 'http500' | 'http503' | 'reset' | 'latency';

export interface FaultProxyOptions {
  target: string;
  /** Probability (0–1) that a request gets a fault. */
  rate: number;
  kinds?: FaultKind[];
  latencyMs?: number;
  /** Deterministic pseudo-random source, so a failing run can be replayed. */
  seed?: number;
  /**
   * Answer this many sts:AssumeRoleWithWebIdentity calls with AccessDenied before forwarding any
   * (Infinity: all of them), as STS does while a new role or trust policy propagates through IAM.
   */
  denyWebIdentity?: number;
  /** Added to every request (not only at `rate`): a round trip of ms ± jitterMs, as to a far region. */
  delay?: { ms: number; jitterMs?: number };
  /** Answer `Throttling` to requests beyond this many per second (a token bucket holding one second's worth). */
  throttleAboveRps?: number;
  /** Counts round trips on the critical path (bench). */
  tracker?: RoundTripTracker;
  /**
   * After this many IAM/STS write calls (Action other than Get/List), answer every further write
   * with AccessDenied (403, not retried): an apply that stops half-way, deterministically.
   */
  denyWritesAfter?: number;
  /**
   * Delays every IAM/STS write (Action other than Get/List) by a random 0..max ms, so that
   * concurrent runs' writes interleave in every order (the shared-role race of issue 21).
   */
  writeDelayMs?: { max: number };
}

export interface FaultProxy {
  url: string;
  counts: Record<FaultKind | 'forwarded' | 'denied', number>;
  /** With throttleAboveRps: when the first and the last `Throttling` were answered (performance.now()), or null. */
  throttleWindow(): { first: number; last: number } | null;
  setRate(rate: number): void;
  /** AssumeRoleWithWebIdentity calls answered AccessDenied so far (denyWebIdentity). */
  deniedWebIdentity(): number;
  /** Changes or removes the rate limit (bench phases share one proxy). */
  setThrottleAboveRps(rps: number | undefined): void;
  close(): Promise<void>;
}

/** mulberry32: small seeded PRNG for reproducible fault and latency sequences (both proxies). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const throttleBody = (json: boolean) =>
  json
    ? JSON.stringify({ message: 'Rate exceeded' })
    : '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>';

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const kinds = options.kinds ?? ['throttle', 'http500', 'http503', 'reset', 'latency'];
  const random = seededRandom(options.seed ?? 42);
  let rate = options.rate;
  const counts: FaultProxy['counts'] = { throttle: 0, http500: 0, http503: 0, reset: 0, latency: 0, forwarded: 0, denied: 0 };
  let writes = 0;
  // Separate generators, so adding a delay never shifts a seeded fault sequence.
  const jitter = seededRandom((options.seed ?? 42) + 1);
  const delayMs = () => (options.delay ? Math.max(0, options.delay.ms + (jitter() * 2 - 1) * (options.delay.jitterMs ?? 0)) : 0);
  const writeJitter = seededRandom((options.seed ?? 42) + 2);
  const writeDelay = (req: http.IncomingMessage, body: Buffer): number => {
    if (!options.writeDelayMs || req.method !== 'POST' || !(req.url === '/' || req.url?.startsWith('/?'))) return 0;
    const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString())?.[1] ?? '';
    return action && !/^(Get|List)/.test(action) ? Math.floor(writeJitter() * options.writeDelayMs.max) : 0;
  };
  let throttleRps = options.throttleAboveRps;
  let tokens = throttleRps ?? 0;
  let refilledAt = performance.now();
  let throttleWindow: { first: number; last: number } | null = null;
  /** Token bucket: `throttleRps` tokens a second, at most one second's worth saved up. */
  const overRate = (): boolean => {
    if (throttleRps === undefined) return false;
    const now = performance.now();
    tokens = Math.min(throttleRps, tokens + ((now - refilledAt) / 1000) * throttleRps);
    refilledAt = now;
    if (tokens >= 1) {
      tokens -= 1;
      return false;
    }
    throttleWindow = { first: throttleWindow?.first ?? now, last: now };
    return true;
  };

  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => {
    counts.forwarded++;
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  };

  let webIdentityDenialsLeft = options.denyWebIdentity ?? 0;
  let webIdentityDenied = 0;
  const isAssumeRoleWithWebIdentity = (req: http.IncomingMessage, body: Buffer) =>
    /(^|&)Action=AssumeRoleWithWebIdentity(&|$)/.test(body.toString('utf8')) || String(req.headers['x-amz-target'] ?? '').endsWith('AssumeRoleWithWebIdentity');

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const control = req.url?.startsWith('/moto-api') ?? false;
    let traced: number | undefined;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('finish', () => traced !== undefined && options.tracker!.end(traced));
    req.on('end', () => {
      // Labelled by the operation (query protocol: Action=; JSON protocol: X-Amz-Target; REST: method and path).
      if (options.tracker && !control) traced = options.tracker.begin(`aws ${operationOf(req, Buffer.concat(chunks))}`);
      const wait = control ? 0 : delayMs() + writeDelay(req, Buffer.concat(chunks));
      if (wait > 0) setTimeout(() => handle(req, Buffer.concat(chunks), res, control), wait);
      else handle(req, Buffer.concat(chunks), res, control);
    });
  });

  const handle = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, control: boolean) => {
    // moto's own control API is never faulted: tests use it to reset state.
    if (control) return forward(req, body, res);
    if (webIdentityDenialsLeft > 0 && isAssumeRoleWithWebIdentity(req, body)) {
      webIdentityDenialsLeft--;
      webIdentityDenied++;
      res.writeHead(403, { 'content-type': 'text/xml' });
      res.end('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>');
      return;
    }
    if (options.denyWritesAfter !== undefined && req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?'))) {
      const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString())?.[1] ?? '';
      if (action && !/^(Get|List)/.test(action) && writes++ >= options.denyWritesAfter) {
        counts.denied++;
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>injected: ${action} denied by the fault proxy</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`);
        return;
      }
    }
    if (overRate()) {
      counts.throttle++;
      return throttle(req, res);
    }
    if (random() >= rate) return forward(req, body, res);
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    counts[kind]++;
    switch (kind) {
      case 'throttle':
        throttle(req, res);
        return;
      case 'http500':
      case 'http503':
        res.writeHead(kind === 'http500' ? 500 : 503, { 'content-type': 'text/plain' });
        res.end('injected server error');
        return;
      case 'reset':
        // Half the resets happen after moto processed the request: the reply is lost, as when a
        // connection drops mid-response. Clients must cope with "it already happened".
        if (random() < 0.5) {
          req.socket.destroy();
          return;
        }
        {
          const upstream = http.request(
            { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
            (upstreamRes) => {
              upstreamRes.resume();
              upstreamRes.on('end', () => req.socket.destroy());
            },
          );
          upstream.on('error', () => req.socket.destroy());
          upstream.end(body);
        }
        return;
      case 'latency':
        setTimeout(() => forward(req, body, res), options.latencyMs ?? 200);
        return;
    }
  };

  const throttle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // IAM and STS are form-encoded POSTs to "/"; EKS is a REST+JSON API with paths.
    const json = !(req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?')));
    res.writeHead(json ? 429 : 400, {
      'content-type': json ? 'application/json' : 'text/xml',
      ...(json ? { 'x-amzn-errortype': 'ThrottlingException' } : {}),
    });
    res.end(throttleBody(json));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    throttleWindow: () => throttleWindow,
    setRate: (value) => {
      rate = value;
    },
    deniedWebIdentity: () => webIdentityDenied,
    setThrottleAboveRps: (rps) => {
      throttleRps = rps;
      tokens = rps ?? 0;
      refilledAt = performance.now();
      throttleWindow = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function operationOf(req: http.IncomingMessage, body: Buffer): string {
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('utf8'))?.[1];
  if (action) return action;
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target) return target.split('.').at(-1)!;
  return `${req.method} ${(req.url ?? '').split('?')[0]}`;
}
