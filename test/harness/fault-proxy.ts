// A loopback HTTP proxy in front of moto that injects the faults CI meets: IAM/STS `Throttling`
// errors, HTTP 500/503, connection resets and added latency, each at a chosen rate.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

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
}

export interface FaultProxy {
  url: string;
  counts: Record<FaultKind | 'forwarded', number>;
  setRate(rate: number): void;
  /** AssumeRoleWithWebIdentity calls answered AccessDenied so far (denyWebIdentity). */
  deniedWebIdentity(): number;
  close(): Promise<void>;
}

/** mulberry32: small seeded PRNG for reproducible fault sequences. */
function seededRandom(seed: number): () => number {
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
  const counts: FaultProxy['counts'] = { throttle: 0, http500: 0, http503: 0, reset: 0, latency: 0, forwarded: 0 };

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
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (webIdentityDenialsLeft > 0 && isAssumeRoleWithWebIdentity(req, body)) {
        webIdentityDenialsLeft--;
        webIdentityDenied++;
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>');
        return;
      }
      // moto's own control API is never faulted: tests use it to reset state.
      if (req.url?.startsWith('/moto-api') || random() >= rate) return forward(req, body, res);
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      counts[kind]++;
      // IAM and STS are form-encoded POSTs to "/"; EKS is a REST+JSON API with paths.
      const json = !(req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?')));
      switch (kind) {
        case 'throttle':
          res.writeHead(json ? 429 : 400, {
            'content-type': json ? 'application/json' : 'text/xml',
            ...(json ? { 'x-amzn-errortype': 'ThrottlingException' } : {}),
          });
          res.end(throttleBody(json));
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
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setRate: (value) => {
      rate = value;
    },
    deniedWebIdentity: () => webIdentityDenied,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
