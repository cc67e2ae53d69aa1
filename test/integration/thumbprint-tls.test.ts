// The thumbprint procedure against TLS servers this test starts (certificates made by openssl):
// which certificate counts, a jwks_uri on another host and port, a CONNECT proxy, and the errors.
// Needs no emulator: always runs.

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
import { createTlsChainFetcher } from '../../src/adapters/tls/fetcher.ts';
import { resolveThumbprints } from '../../src/adapters/tls/thumbprints.ts';

const dir = mkdtempSync(join(tmpdir(), 'irsa-tls-'));
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const read = (name: string) => readFileSync(file(name), 'utf8');

/** SHA-1 fingerprint as openssl prints it, in IAM's form: an independent check of irsa's maths. */
const opensslSha1 = (pem: string) => openssl('x509', '-in', file(pem), '-noout', '-fingerprint', '-sha1').split('=')[1]!.trim().replace(/:/g, '').toLowerCase();

function makeCa(name: string, signer: string | null, days = 3650) {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(file(`${name}.ext`), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const signing = signer ? ['-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial'] : ['-signkey', `${name}.key`];
  openssl('x509', '-req', '-in', `${name}.csr`, ...signing, '-days', String(days), '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

function makeLeaf(name: string, signer: string, dates?: { start: string; end: string }) {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  const ext = 'basicConstraints=CA:false\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  writeFileSync(file(`${name}.ext`), ext);
  if (!dates) {
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-days', '365', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
    return;
  }
  // `openssl ca` is the one that accepts explicit (past) validity dates.
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('ca.cnf'), `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=${name}.srl\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\nunique_subject=no\n[p]\ncommonName=supplied\n[ext]\n${ext}`);
  writeFileSync(file(`${name}.srl`), '1000\n');
  openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', `${signer}.pem`, '-keyfile', `${signer}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`, '-startdate', dates.start, '-enddate', dates.end, '-extensions', 'ext', '-notext');
}

interface Server { port: number; close(): Promise<void> }

async function startIssuer(leaf: string, chain: string[], jwksUri: (port: number) => string): Promise<Server> {
  const server = https.createServer({ key: read(`${leaf}.key`), cert: [leaf, ...chain].map((n) => read(`${n}.pem`)).join('') }, (req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: `https://127.0.0.1:${port}`, jwks_uri: jwksUri(port) }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"keys":[]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_, res) => { res.writeHead(405); res.end(); });
  server.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '');
    sockets.add(client as net.Socket);
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host!.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy(); // CONNECT tunnels are not tracked by the server
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('thumbprints over real TLS', () => {
  const servers: Server[] = [];
  let issuer: Server;
  let trust: string;
  before(() => {
    makeCa('root', null);
    makeCa('intermediate', 'root');
    makeCa('intermediate2', 'root');
    makeCa('short-lived', 'root', 30);
    makeLeaf('leaf', 'intermediate');
    makeLeaf('leaf2', 'intermediate2');
    makeLeaf('leaf3', 'short-lived');
    makeLeaf('expired', 'intermediate', { start: '20200101000000Z', end: '20200201000000Z' });
    trust = read('root.pem');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (...args: Parameters<typeof startIssuer>) => {
    const server = await startIssuer(...args);
    servers.push(server);
    return server;
  };

  it('leaf + intermediate presented: the thumbprint is the intermediate\'s, as openssl computes it', async () => {
    issuer = await start('leaf', ['intermediate'], (port) => `https://127.0.0.1:${port}/openid/v1/jwks`);
    const result = await resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${issuer.port}`, new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('intermediate.pem')]);
    assert.notEqual(result.thumbprints[0], opensslSha1('leaf.pem'));
    assert.notEqual(result.thumbprints[0], opensslSha1('root.pem'));
    assert.deepEqual(result.warnings, []);
  });

  it('a jwks_uri on another host and port adds that host\'s thumbprint, issuer first', async () => {
    const jwks = await start('leaf2', ['intermediate2'], () => 'unused');
    const split = await start('leaf', ['intermediate'], () => `https://localhost:${jwks.port}/keys`);
    const result = await resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${split.port}`, new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('intermediate.pem'), opensslSha1('intermediate2.pem')]);
    assert.equal(result.jwksUri, `https://localhost:${jwks.port}/keys`);
  });

  it('goes through an HTTPS_PROXY CONNECT tunnel, and around it for NO_PROXY hosts', async () => {
    const proxy = await startConnectProxy();
    const saved = { HTTPS_PROXY: process.env['HTTPS_PROXY'], NO_PROXY: process.env['NO_PROXY'], no_proxy: process.env['no_proxy'] };
    try {
      process.env['HTTPS_PROXY'] = proxy.url;
      delete process.env['NO_PROXY'];
      delete process.env['no_proxy'];
      const result = await resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${issuer.port}`, new Date());
      assert.deepEqual(result.thumbprints, [opensslSha1('intermediate.pem')]);
      assert.ok(proxy.tunnels.length >= 3, `discovery and two handshakes tunnelled: ${proxy.tunnels.join(', ')}`);
      assert.ok(proxy.tunnels.every((t) => t === `127.0.0.1:${issuer.port}`));
      const before = proxy.tunnels.length;
      process.env['NO_PROXY'] = '127.0.0.1';
      await resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${issuer.port}`, new Date());
      assert.equal(proxy.tunnels.length, before, 'NO_PROXY host bypassed the proxy');
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await proxy.close();
    }
  });

  it('an untrusted chain is a clear error naming the host, and yields no thumbprint', async () => {
    await assert.rejects(
      resolveThumbprints(createTlsChainFetcher(), `https://127.0.0.1:${issuer.port}`, new Date()),
      (error: Error) => new RegExp(`127\\.0\\.0\\.1:${issuer.port}.*not trusted.*--thumbprint.*--no-thumbprint.*--ca-bundle`).test(error.message),
    );
  });

  it('an expired certificate is a clear error saying so', async () => {
    const expired = await start('expired', ['intermediate'], (port) => `https://127.0.0.1:${port}/keys`);
    await assert.rejects(
      resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${expired.port}`, new Date()),
      (error: Error) => new RegExp(`127\\.0\\.0\\.1:${expired.port}.*expired`).test(error.message),
    );
  });

  it('a thumbprint certificate that expires within 180 days gives a warning', async () => {
    const soon = await start('leaf3', ['short-lived'], (port) => `https://127.0.0.1:${port}/keys`);
    const result = await resolveThumbprints(createTlsChainFetcher({ caBundlePem: trust }), `https://127.0.0.1:${soon.port}`, new Date());
    assert.deepEqual(result.thumbprints, [opensslSha1('short-lived.pem')]);
    assert.match(result.warnings[0]!, /CN=short-lived.*expires .* in 2\d days/);
  });
});
