// Fetches OIDC discovery documents and the certificate chains servers present, over verified TLS,
// through HTTPS_PROXY (CONNECT) unless NO_PROXY says otherwise.

import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { getProxyForUrl } from 'proxy-from-env';
import { RemoteError } from '../../core/errors.ts';
import type { PresentedCertificate } from '../../core/state.ts';
import type { TlsChainFetcher } from '../../ports.ts';

export interface TlsFetcherOptions {
  /** Extra PEM CAs (--ca-bundle), added to Node's default store (which includes NODE_EXTRA_CA_CERTS). */
  caBundlePem?: string;
  timeoutMs?: number;
  onCall?: (what: string) => void;
}

const FIX_HINT = 'Pass --thumbprint <40 hex> to give it yourself, --no-thumbprint to let IAM obtain it, --ca-bundle <pem> for a private CA, or set HTTPS_PROXY if a proxy is needed.';

/** The reason in words for Node's TLS and socket error codes. */
function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'CERT_HAS_EXPIRED':
      return 'its certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'its certificate is not valid yet';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `its certificate is not trusted (${error.code}: ${error.message})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate does not name this host (${error.message})`;
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
      return 'it timed out';
    default:
      return error.message;
  }
}

const isIp = (host: string) => net.isIP(host) !== 0;

export function createTlsChainFetcher(options: TlsFetcherOptions = {}): TlsChainFetcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Passing `ca` replaces Node's default store, so start from it (bundled + NODE_EXTRA_CA_CERTS).
  const ca = options.caBundlePem ? [...tls.getCACertificates('default'), options.caBundlePem] : undefined;

  /** A TCP socket to host:port, through the proxy's CONNECT tunnel when one applies. */
  const connectSocket = (host: string, port: number): Promise<net.Socket> => {
    const proxy = getProxyForUrl(`https://${host}:${port}/`);
    if (!proxy) {
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host, port, timeout: timeoutMs });
        socket.once('connect', () => resolve(socket));
        socket.once('timeout', () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
        socket.once('error', reject);
      });
    }
    return new Promise((resolve, reject) => {
      const proxyUrl = new URL(proxy);
      const request = http.request({
        host: proxyUrl.hostname,
        port: Number(proxyUrl.port || 80),
        method: 'CONNECT',
        path: `${host.includes(':') ? `[${host}]` : host}:${port}`,
        headers: proxyUrl.username ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxyUrl.username)}:${decodeURIComponent(proxyUrl.password)}`).toString('base64')}` } : {},
        timeout: timeoutMs,
      });
      request.once('connect', (response, socket) => {
        if (response.statusCode === 200) resolve(socket);
        else {
          socket.destroy();
          reject(new Error(`the proxy ${proxyUrl.host} answered ${response.statusCode} to CONNECT ${host}:${port}`));
        }
      });
      request.once('timeout', () => request.destroy(Object.assign(new Error(`the proxy ${proxyUrl.host} timed out`), { code: 'ETIMEDOUT' })));
      request.once('error', reject);
      request.end();
    });
  };

  /** TLS over a fresh socket; `verify` false is used only to read certificates, never to send data. */
  const handshake = async (host: string, port: number, verify: boolean): Promise<tls.TLSSocket> => {
    const socket = await connectSocket(host, port);
    return new Promise((resolve, reject) => {
      const secure = tls.connect({
        socket,
        ...(isIp(host) ? {} : { servername: host }),
        ...(verify ? (ca ? { ca } : {}) : { ca: [], rejectUnauthorized: false }),
        ...(verify ? { host } : {}),
      });
      secure.setTimeout(timeoutMs, () => secure.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      secure.once('secureConnect', () => resolve(secure));
      secure.once('error', reject);
    });
  };

  return {
    async fetchDiscovery(issuerUrl) {
      const url = `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      options.onCall?.(`GET ${url}`);
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      const port = Number(target.port || 443);
      const body = await new Promise<string>((resolve, reject) => {
        const request = https.get(
          url,
          {
            timeout: timeoutMs,
            // With createConnection and no agent, Node uses exactly our socket, unpooled.
            headers: { connection: 'close' },
            // Our own verified TLS socket (through the proxy tunnel when one applies) instead of an agent.
            createConnection: (_options: unknown, oncreate: (error: Error | null, socket?: net.Socket) => void) => {
              handshake(host, port, true).then((socket) => oncreate(null, socket), (error: Error) => oncreate(error));
              return undefined as unknown as net.Socket;
            },
          } as https.RequestOptions,
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (response.statusCode !== 200) reject(new RemoteError(`GET ${url} answered HTTP ${response.statusCode}; the issuer must serve its OIDC discovery document publicly. ${FIX_HINT}`));
              else resolve(text);
            });
          },
        );
        request.once('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
        request.once('error', (error: NodeJS.ErrnoException) =>
          reject(error instanceof RemoteError ? error : new RemoteError(`cannot fetch the OIDC discovery document ${url}: ${describe(error)}. ${FIX_HINT}`, { cause: error })),
        );
      });
      let document: { issuer?: string; jwks_uri?: string };
      try {
        document = JSON.parse(body);
      } catch {
        throw new RemoteError(`${url} is not a JSON OIDC discovery document. ${FIX_HINT}`);
      }
      if (!document.jwks_uri || !/^https:\/\//.test(document.jwks_uri)) {
        throw new RemoteError(`${url} has no https jwks_uri (got ${JSON.stringify(document.jwks_uri ?? null)}). ${FIX_HINT}`);
      }
      return { issuer: document.issuer ?? issuerUrl, jwksUri: document.jwks_uri };
    },

    async presentedChain(host, port) {
      options.onCall?.(`TLS ${host}:${port}`);
      const where = `${host}:${port}`;
      let verified: tls.TLSSocket;
      try {
        verified = await handshake(host, port, true);
      } catch (error) {
        throw new RemoteError(`cannot open verified TLS to ${where}: ${describe(error as NodeJS.ErrnoException)}. ${FIX_HINT}`, { cause: error });
      }
      const leaf = verified.getPeerCertificate(false).fingerprint256;
      verified.destroy();
      // A second handshake with an empty CA list shows exactly what the server sends (the verified
      // one appends the local root); it sends no data, and must show the same leaf.
      let raw: tls.TLSSocket;
      try {
        raw = await handshake(host, port, false);
      } catch (error) {
        throw new RemoteError(`cannot read the certificate chain of ${where}: ${describe(error as NodeJS.ErrnoException)}. ${FIX_HINT}`, { cause: error });
      }
      const chain: PresentedCertificate[] = [];
      let current: tls.DetailedPeerCertificate | undefined = raw.getPeerCertificate(true);
      const seen = new Set<string>();
      while (current && current.raw && !seen.has(current.fingerprint256)) {
        seen.add(current.fingerprint256);
        const x509 = new X509Certificate(current.raw);
        chain.push({
          subject: x509.subject.replace(/\n/g, ', '),
          issuer: x509.issuer.replace(/\n/g, ', '),
          sha1: createHash('sha1').update(current.raw).digest('hex'),
          validTo: new Date(x509.validTo).toISOString(),
        });
        current = current.issuerCertificate;
      }
      const rawLeaf = raw.getPeerCertificate(false).fingerprint256;
      raw.destroy();
      if (rawLeaf !== leaf) {
        throw new RemoteError(`${where} presented different certificates on two connections (a TLS-intercepting proxy or load balancer in between?). ${FIX_HINT}`);
      }
      return chain;
    },
  };
}
