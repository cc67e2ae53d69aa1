// The thumbprint procedure against TLS servers this test starts on 127.0.0.1, with certificates made
// by the openssl CLI: which certificate counts, a jwks_uri on another host and port, a CONNECT
// proxy (and NO_PROXY), and the errors. No emulator and no external network: always runs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteError } from '../../src/core/errors.ts';
import { createTlsChainFetcher, type TlsFetcherOptions } from '../../src/adapters/tls/fetcher.ts';
import { resolveThumbprints } from '../../src/adapters/tls/thumbprints.ts';

const dir = mkdtempSync(join(tmpdir(), 'irsa-tls-'));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const read = (name: string) => readFileSync(file(name), 'utf8');

/** SHA-1 fingerprint as openssl prints it, in IAM's form: an independent check of irsa's maths. */
const opensslSha1 = (name: string) =>
  openssl('x509', '-in', `${name}.pem`, '-noout', '-fingerprint', '-sha1').split('=')[1]!.trim().replace(/:/g, '').toLowerCase();

// EC keys: as good as RSA for this and far cheaper to generate.
const newKey = (name: string) =>
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
const LEAF_EXT = 'basicConstraints=CA:false\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';

/** A CA certificate: self-signed when `signer` is null. */
function makeCa(name: string, signer: string | null, days = 3650) {
  newKey(name);
  writeFileSync(file(`${name}.ext`), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const signing = signer ? ['-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial'] : ['-signkey', `${name}.key`];
  openssl('x509', '-req', '-in', `${name}.csr`, ...signing, '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

/** A server certificate for 127.0.0.1 and localhost; self-signed when `signer` is null. */
function makeLeaf(name: string, signer: string | null, dates?: { start: string; end: string }) {
  newKey(name);
  writeFileSync(file(`${name}.ext`), LEAF_EXT);
  if (!dates) {
    const signing = signer ? ['-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial'] : ['-signkey', `${name}.key`];
    openssl('x509', '-req', '-in', `${name}.csr`, ...signing, '-days', '365', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    return;
  }
  // `openssl ca` is the one (in OpenSSL 3.0) that accepts explicit, past validity dates.
  writeFileSync(file('index.txt'), '');
  writeFileSync(
    file('ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=${name}.srl\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\n${LEAF_EXT}`,
  );
  writeFileSync(file(`${name}.srl`), '1000\n');
  openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', `${signer}.pem`, '-keyfile', `${signer}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', dates.start, '-enddate', dates.end, '-extensions', 'ext', '-notext');
}

interface Server {
  port: number;
  /** TCP connections accepted, HTTP requests answered, SNI names received. */
  connections: number;
  requests: string[];
  servernames: string[];
  close(): Promise<void>;
}

interface Discovery {
  /** jwks_uri to announce, given the server's own port. */
  jwksUri?: (port: number) => string;
  status?: number;
  body?: string;
}

/** Closes a server and every socket it accepted (TLS sockets torn down mid-handshake included). */
function closer(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

async function startIssuer(leaf: string, chain: string[], discovery: Discovery = {}): Promise<Server> {
  const state = { connections: 0, requests: [] as string[], servernames: [] as string[] };
  const server = https.createServer(
    {
      key: read(`${leaf}.key`),
      cert: [leaf, ...chain].map((name) => read(`${name}.pem`)).join(''),
      // Called only when the client sends SNI; no context given keeps the server's own.
      SNICallback: (name, done) => {
        state.servernames.push(name);
        done(null, undefined);
      },
    },
    (req, res) => {
      state.requests.push(`${req.method} ${req.url}`);
      const port = (server.address() as AddressInfo).port;
      if (req.url === '/.well-known/openid-configuration') {
        const jwks = discovery.jwksUri ?? ((p: number) => `https://127.0.0.1:${p}/openid/v1/jwks`);
        res.writeHead(discovery.status ?? 200, { 'content-type': 'application/json' });
        res.end(discovery.body ?? JSON.stringify({ issuer: `https://127.0.0.1:${port}`, jwks_uri: jwks(port) }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keys":[]}');
      }
    },
  );
  // Counted at TCP level: the client may close its certificate-reading connections before the
  // server has finished its side of a TLS 1.3 handshake.
  server.on('connection', () => (state.connections += 1));
  server.on('tlsClientError', () => {});
  const close = closer(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, { port: (server.address() as AddressInfo).port, close });
}

/** A small HTTP CONNECT proxy that records every tunnel; `refuse` answers 407 instead. */
async function startConnectProxy(refuse = false): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    sockets.add(client);
    if (refuse) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy(); // CONNECT tunnels are not tracked by the server
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('thumbprints over real TLS', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  let trust: string;
  let issuer: Server;

  /** No proxy from this machine's environment unless a test gives one. */
  const fetcher = (options: TlsFetcherOptions = {}) => createTlsChainFetcher({ caBundlePem: trust, env: {}, ...options });
  const start = async (...args: Parameters<typeof startIssuer>) => {
    const server = await startIssuer(...args);
    servers.push(server);
    return server;
  };
  const at = (server: { port: number }) => `https://127.0.0.1:${server.port}`;
  const rejectsWith = (promise: Promise<unknown>, pattern: RegExp) =>
    assert.rejects(promise, (error: Error) => {
      assert.ok(error instanceof RemoteError, `a RemoteError, got ${error.name}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    });

  before(async () => {
    makeCa('root', null);
    makeCa('intermediate', 'root');
    makeCa('intermediate2', 'root');
    makeCa('short-lived', 'root', 30);
    makeLeaf('leaf', 'intermediate');
    makeLeaf('leaf2', 'intermediate2');
    makeLeaf('leaf3', 'short-lived');
    makeLeaf('self-signed', null);
    makeLeaf('expired', 'intermediate', { start: '20200101000000Z', end: '20200201000000Z' });
    trust = read('root.pem');
    issuer = await start('leaf', ['intermediate']);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaf + intermediate presented: the thumbprint is the intermediate\'s as openssl computes it, not the leaf\'s nor the trusted root\'s', async () => {
    const result = await resolveThumbprints(fetcher(), at(issuer), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('intermediate')]);
    assert.notEqual(result.thumbprints[0], opensslSha1('leaf'));
    assert.notEqual(result.thumbprints[0], opensslSha1('root'));
    assert.deepEqual(result.warnings, []);
    assert.equal(result.jwksUri, `${at(issuer)}/openid/v1/jwks`);
    // Discovery, the verified chain connection and the raw chain connection; only discovery sends data.
    assert.equal(issuer.connections, 3);
    assert.deepEqual(issuer.requests, ['GET /.well-known/openid-configuration']);
    assert.deepEqual(issuer.servernames, [], 'no SNI for an IP address');
  });

  it('a server that sends the root too: the root is the last presented certificate', async () => {
    const server = await start('leaf', ['intermediate', 'root']);
    const result = await resolveThumbprints(fetcher(), at(server), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('root')]);
  });

  it('a lone self-signed leaf: its own thumbprint', async () => {
    const server = await start('self-signed', []);
    const result = await resolveThumbprints(fetcher({ caBundlePem: read('self-signed.pem') }), at(server), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('self-signed')]);
  });

  it('a jwks_uri on another host and port adds that host\'s thumbprint, issuer first; SNI names the DNS host', async () => {
    const jwks = await start('leaf2', ['intermediate2']);
    const split = await start('leaf', ['intermediate'], { jwksUri: () => `https://localhost:${jwks.port}/keys` });
    const result = await resolveThumbprints(fetcher(), at(split), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('intermediate'), opensslSha1('intermediate2')]);
    assert.equal(result.jwksUri, `https://localhost:${jwks.port}/keys`);
    assert.deepEqual(jwks.servernames, ['localhost', 'localhost']);
    assert.deepEqual(jwks.requests, [], 'the jwks host is only read for its certificates');
  });

  it('goes through an HTTPS_PROXY CONNECT tunnel for discovery and both chain connections', async () => {
    const proxy = await startProxy();
    const result = await resolveThumbprints(fetcher({ env: { HTTPS_PROXY: proxy.url } }), at(issuer), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('intermediate')]);
    assert.deepEqual(proxy.tunnels, Array(3).fill(`127.0.0.1:${issuer.port}`));
    // The lower-case spelling works too.
    await resolveThumbprints(fetcher({ env: { https_proxy: proxy.url } }), at(issuer), new Date());
    assert.equal(proxy.tunnels.length, 6);
  });

  it('goes around the proxy for NO_PROXY / no_proxy hosts', async () => {
    const proxy = await startProxy();
    for (const env of [{ HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, { https_proxy: proxy.url, no_proxy: 'example.com,127.0.0.1' }]) {
      const result = await resolveThumbprints(fetcher({ env }), at(issuer), new Date());
      assert.deepEqual(result.thumbprints, [opensslSha1('intermediate')]);
    }
    assert.deepEqual(proxy.tunnels, []);
  });

  it('a proxy that refuses the tunnel is a clear error naming the proxy', async () => {
    const proxy = await startProxy(true);
    await rejectsWith(
      resolveThumbprints(fetcher({ env: { HTTPS_PROXY: proxy.url } }), at(issuer), new Date()),
      new RegExp(`127\\.0\\.0\\.1:${issuer.port}.*proxy ${proxy.url} answered HTTP 407.*NO_PROXY.*--thumbprint`),
    );
  });

  it('an untrusted chain (root not given) is a clear error naming the host and the OpenSSL reason, and yields no thumbprint', async () => {
    await rejectsWith(
      resolveThumbprints(fetcher({ caBundlePem: undefined }), at(issuer), new Date()),
      new RegExp(`127\\.0\\.0\\.1:${issuer.port}.*not trusted \\(UNABLE_TO_GET_ISSUER_CERT_LOCALLY: unable to get local issuer certificate\\).*--ca-bundle.*--thumbprint.*--no-thumbprint`),
    );
    // The chain read alone verifies too: no chain from an untrusted server.
    await rejectsWith(fetcher({ caBundlePem: undefined }).presentedChain('127.0.0.1', issuer.port), /cannot open verified TLS to 127\.0\.0\.1:\d+: .*not trusted/);
  });

  it('an expired certificate is a clear error naming the host and saying so', async () => {
    const expired = await start('expired', ['intermediate']);
    await rejectsWith(resolveThumbprints(fetcher(), at(expired), new Date()), new RegExp(`127\\.0\\.0\\.1:${expired.port}.*expired \\(CERT_HAS_EXPIRED\\)`));
  });

  it('discovery problems: HTTP status, missing jwks_uri, not JSON', async () => {
    const missing = await start('leaf', ['intermediate'], { status: 404, body: 'not found' });
    await rejectsWith(resolveThumbprints(fetcher(), at(missing), new Date()), new RegExp(`GET ${at(missing)}/.well-known/openid-configuration answered HTTP 404.*--issuer-url.*--thumbprint`));
    const noJwks = await start('leaf', ['intermediate'], { body: '{"issuer":"x"}' });
    await rejectsWith(resolveThumbprints(fetcher(), at(noJwks), new Date()), /has no https jwks_uri \(got null\)/);
    const html = await start('leaf', ['intermediate'], { body: '<html>' });
    await rejectsWith(resolveThumbprints(fetcher(), at(html), new Date()), /is not a JSON OIDC discovery document/);
  });

  it('unreachable and silent hosts: refused and timed out, naming host and port', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await rejectsWith(resolveThumbprints(fetcher(), `https://127.0.0.1:${closedPort}`, new Date()), new RegExp(`127\\.0\\.0\\.1:${closedPort}.*refused.*HTTPS_PROXY`));

    // Accepts TCP, never speaks TLS.
    const silent = net.createServer(() => {});
    servers.push({ close: closer(silent) });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    await rejectsWith(fetcher({ timeoutMs: 200 }).presentedChain('127.0.0.1', silentPort), new RegExp(`127\\.0\\.0\\.1:${silentPort}: it timed out`));
  });

  it('a thumbprint certificate that expires within 180 days gives a warning naming the host', async () => {
    const soon = await start('leaf3', ['short-lived']);
    const result = await resolveThumbprints(fetcher(), at(soon), new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('short-lived')]);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, new RegExp(`^127\\.0\\.0\\.1:${soon.port}: .*\\(CN=short-lived\\) expires \\d{4}-\\d\\d-\\d\\d, in (29|30) days`));
  });

  async function startProxy(refuse = false) {
    const proxy = await startConnectProxy(refuse);
    servers.push(proxy);
    return proxy;
  }
});
