// Fetches OIDC discovery documents and the certificate chains servers present, over verified TLS,
// through an HTTPS_PROXY CONNECT tunnel unless NO_PROXY says otherwise.
//
// Why two connections per chain: Node's getPeerCertificate(true) appends the root from the local
// trust store even when the server did not send it, so a verified connection cannot show what was
// presented. A second connection with an empty CA list shows exactly the presented chain; it sends
// no application data, and its leaf must equal the verified connection's leaf.

import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import tls from 'node:tls';
import { proxyForUrl } from '../../core/proxy.ts';
import { RemoteError } from '../../core/errors.ts';
import type { PresentedCertificate } from '../../core/state.ts';
import { assertHttpsIssuer } from '../../core/thumbprint.ts';
import type { TlsChainFetcher } from '../../ports.ts';

export interface TlsFetcherOptions {
  /** Extra PEM CAs (--ca-bundle), added to Node's default store (which includes NODE_EXTRA_CA_CERTS). */
  caBundlePem?: string;
  /** Where HTTPS_PROXY/https_proxy/NO_PROXY/no_proxy are read; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** Per phase: TCP connect, CONNECT, TLS handshake, HTTP response. */
  timeoutMs?: number;
  /** Reports each fetch as (operation, detail), e.g. ('GET openid-configuration', url). */
  onCall?: (operation: string, detail: string) => void;
}

/** Discovery documents are a few hundred bytes; refuse to buffer anything absurd. */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** Every thumbprint error ends with the way around the lookup. */
const SKIP = 'To skip the lookup, give --thumbprint <40 hex> yourself, or --no-thumbprint to let IAM obtain it.';

/** The cause in words, and what the user can do about it. */
function explain(error: NodeJS.ErrnoException, proxy: string | null): string {
  const network = proxy
    ? `The proxy ${proxy} (HTTPS_PROXY) was used: check it, or list the host in NO_PROXY. ${SKIP}`
    : `Check the address and your network, or set HTTPS_PROXY if a proxy is needed. ${SKIP}`;
  switch (error.code) {
    case 'CERT_HAS_EXPIRED':
      return `its certificate has expired (${error.code}); the server must renew it. ${SKIP}`;
    case 'CERT_NOT_YET_VALID':
      return `its certificate is not valid yet (${error.code}); check this machine's clock. ${SKIP}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_SIGNATURE_FAILURE':
    case 'CERT_UNTRUSTED':
    case 'CERT_REVOKED':
    case 'INVALID_CA':
      // Node appends advice about --use-system-ca after a ';': keep OpenSSL's own reason.
      return `its certificate is not trusted (${error.code}: ${error.message.replace(/;.*$/s, '')}). If a private CA or a TLS-inspecting proxy signs it, pass --ca-bundle <pem> (or set NODE_EXTRA_CA_CERTS). ${SKIP}`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate does not name this host (${error.message}). ${SKIP}`;
    case 'ECONNREFUSED':
      return `the connection was refused. ${network}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve. ${network}`;
    case 'ETIMEDOUT':
      return `it timed out. ${network}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection was closed during the TLS handshake (${error.code}). ${network}`;
    case 'EPROXY':
      return `${error.message}. ${network}`;
    default:
      return `${error.message}${error.code ? ` (${error.code})` : ''}. ${network}`;
  }
}

const failure = (message: string, code: string) => Object.assign(new Error(message), { code });

export function createTlsChainFetcher(options: TlsFetcherOptions = {}): TlsChainFetcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const env = options.env ?? process.env;
  // Passing `ca` replaces Node's default store, so start from it (bundled roots, NODE_EXTRA_CA_CERTS,
  // system roots under --use-system-ca).
  const ca = options.caBundlePem ? [...tls.getCACertificates('default'), options.caBundlePem] : undefined;

  /** The proxy URL for host:port, or null (core/proxy.ts: the HTTPS_PROXY/NO_PROXY rules, over `env`). */
  const proxyFor = (host: string, port: number): URL | null => {
    const proxy = proxyForUrl(`https://${net.isIPv6(host) ? `[${host}]` : host}:${port}/`, env);
    if (!proxy) return null;
    try {
      return new URL(proxy);
    } catch {
      throw new RemoteError(`HTTPS_PROXY: "${proxy}" is not a URL; give e.g. http://proxy.example.com:3128`);
    }
  };
  /** host:port of a proxy for messages: never its credentials. */
  const proxyLabel = (proxy: URL | null) => (proxy ? `${proxy.protocol}//${proxy.host}` : null);

  /**
   * Resolves with the socket once `ready` fires within the timeout, with its timeout and error
   * listeners removed: from then on the next layer (TLS, or the HTTP request) owns them.
   */
  const settleWhen = <S extends net.Socket>(socket: S, ready: 'connect' | 'secureConnect'): Promise<S> =>
    new Promise((resolve, reject) => {
      const onTimeout = () => socket.destroy(failure('timeout', 'ETIMEDOUT'));
      socket.setTimeout(timeoutMs, onTimeout);
      socket.once('error', reject);
      socket.once(ready, () => {
        socket.setTimeout(0);
        socket.off('timeout', onTimeout);
        socket.off('error', reject);
        resolve(socket);
      });
    });

  /** A TCP socket to host:port, through the proxy's CONNECT tunnel when one applies. */
  const connectSocket = (host: string, port: number, proxy: URL | null): Promise<net.Socket> => {
    if (!proxy) {
      return settleWhen(net.connect({ host, port }), 'connect');
    }
    return new Promise((resolve, reject) => {
      // Node's own CONNECT client; an https:// proxy is reached over TLS (trusting the same CAs).
      const request = (proxy.protocol === 'https:' ? https : http).request({
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
        method: 'CONNECT',
        path: `${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
        headers: proxy.username
          ? { 'proxy-authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` }
          : {},
        timeout: timeoutMs,
        agent: false,
        ...(proxy.protocol === 'https:' && ca ? { ca } : {}),
      });
      request.once('connect', (response, socket) => {
        if (response.statusCode === 200) {
          socket.setTimeout(0);
          resolve(socket);
        } else {
          socket.destroy();
          reject(failure(`the proxy ${proxyLabel(proxy)} answered HTTP ${response.statusCode} to CONNECT ${host}:${port}`, 'EPROXY'));
        }
      });
      request.once('timeout', () => request.destroy(failure(`the proxy ${proxyLabel(proxy)} did not answer CONNECT within ${timeoutMs} ms`, 'EPROXY')));
      request.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EPROXY' ? error : failure(`cannot reach the proxy ${proxyLabel(proxy)}: ${error.message}`, 'EPROXY')),
      );
      request.end();
    });
  };

  /** TLS over a fresh socket. `verify` false only reads certificates: its caller never sends data on it. */
  const handshake = async (host: string, port: number, proxy: URL | null, verify: boolean): Promise<tls.TLSSocket> => {
    const socket = await connectSocket(host, port, proxy);
    const secure = tls.connect({
      socket,
      host, // checkServerIdentity checks this name (or IP) against the certificate
      ...(net.isIP(host) ? {} : { servername: host }), // SNI is for DNS names only
      ...(verify ? (ca ? { ca } : {}) : { ca: [], rejectUnauthorized: false }),
    });
    return settleWhen(secure, 'secureConnect');
  };

  return {
    async fetchDiscovery(issuerUrl) {
      assertHttpsIssuer(issuerUrl);
      const url = `${issuerUrl.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      options.onCall?.('GET openid-configuration', url);
      const target = new URL(url);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      const port = Number(target.port || 443);
      const proxy = proxyFor(host, port);
      const body = await new Promise<string>((resolve, reject) => {
        const request = https.get(
          url,
          {
            timeout: timeoutMs,
            headers: { accept: 'application/json', connection: 'close' },
            // With createConnection and no agent, Node uses exactly the socket we hand it, unpooled:
            // our verified TLS socket, through the proxy tunnel when one applies.
            // Returning nothing tells Node the socket comes later, through oncreate (documented for http.Agent).
            createConnection: (_options: http.ClientRequestArgs, oncreate: (error: Error | null, socket: Duplex) => void) => {
              handshake(host, port, proxy, true).then(
                (socket) => oncreate(null, socket),
                // With an error Node ignores the socket argument; the type still wants one.
                (error: Error) => oncreate(error, new PassThrough()),
              );
              return undefined;
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_DOCUMENT_BYTES) request.destroy(failure(`the response is larger than ${MAX_DOCUMENT_BYTES} bytes`, 'ETOOBIG'));
              else chunks.push(chunk);
            });
            response.on('end', () => {
              const status = response.statusCode ?? 0;
              if (status === 200) return resolve(Buffer.concat(chunks).toString('utf8'));
              const moved = status >= 300 && status < 400 && response.headers.location ? ` (redirect to ${response.headers.location}; IAM does not follow it)` : '';
              reject(
                new RemoteError(
                  `GET ${url} answered HTTP ${status}${moved}. The issuer must serve its OIDC discovery document publicly at that address (check --issuer-url). ${SKIP}`,
                ),
              );
            });
          },
        );
        request.once('timeout', () => request.destroy(failure('timeout', 'ETIMEDOUT')));
        request.once('error', (error: NodeJS.ErrnoException) =>
          reject(new RemoteError(`cannot fetch the OIDC discovery document ${url} from ${host}:${port}: ${explain(error, proxyLabel(proxy))}`, { cause: error })),
        );
      });
      let document: { issuer?: unknown; jwks_uri?: unknown };
      try {
        document = JSON.parse(body);
      } catch {
        throw new RemoteError(`${url} is not a JSON OIDC discovery document (does --issuer-url point at the issuer?). ${SKIP}`);
      }
      const jwksUri = typeof document.jwks_uri === 'string' ? document.jwks_uri : '';
      if (!URL.canParse(jwksUri) || new URL(jwksUri).protocol !== 'https:') {
        throw new RemoteError(
          `${url} has no https jwks_uri (got ${JSON.stringify(document.jwks_uri ?? null)}); IAM needs one to fetch the signing keys. Fix the issuer's discovery document. ${SKIP}`,
        );
      }
      return { issuer: typeof document.issuer === 'string' ? document.issuer : issuerUrl, jwksUri };
    },

    async presentedChain(host, port) {
      options.onCall?.('GET certificate-chain', `${host}:${port}`);
      const where = `${host}:${port}`;
      const proxy = proxyFor(host, port);
      let verified: tls.TLSSocket;
      try {
        verified = await handshake(host, port, proxy, true);
      } catch (error) {
        throw new RemoteError(`cannot open verified TLS to ${where}: ${explain(error as NodeJS.ErrnoException, proxyLabel(proxy))}`, { cause: error });
      }
      const leaf = verified.getPeerCertificate(false).fingerprint256;
      verified.destroy();

      let raw: tls.TLSSocket;
      try {
        raw = await handshake(host, port, proxy, false);
      } catch (error) {
        throw new RemoteError(`cannot read the certificate chain of ${where}: ${explain(error as NodeJS.ErrnoException, proxyLabel(proxy))}`, { cause: error });
      }
      // Node links the presented certificates by issuer, leaf first; with no CAs nothing is appended.
      const chain: PresentedCertificate[] = [];
      const seen = new Set<string>();
      let current: tls.DetailedPeerCertificate | undefined = raw.getPeerCertificate(true);
      while (current?.raw && !seen.has(current.fingerprint256)) {
        seen.add(current.fingerprint256);
        const x509 = new X509Certificate(current.raw);
        chain.push({
          subject: x509.subject.replace(/\n/g, ', '),
          issuer: x509.issuer.replace(/\n/g, ', '),
          sha1: createHash('sha1').update(current.raw).digest('hex'),
          validTo: x509.validToDate.toISOString(),
        });
        current = current.issuerCertificate;
      }
      const rawLeaf = raw.getPeerCertificate(false).fingerprint256;
      raw.destroy();
      if (rawLeaf !== leaf) {
        throw new RemoteError(
          `${where} presented a different certificate on a second connection (certificates rotating behind a load balancer, or a TLS-intercepting proxy?). Try again. ${SKIP}`,
        );
      }
      return chain;
    },
  };
}
