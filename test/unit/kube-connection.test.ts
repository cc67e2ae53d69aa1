// Connection reuse through client-node's public API. If a client-node upgrade stops handing the
// request its dispatcher through RequestContext, these fail loudly instead of silently costing one
// TLS handshake per request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '@kubernetes/client-node';
import { ConnectionReusingKubeConfig } from '../../src/adapters/k8s/kube.ts';

function kubeConfig(): ConnectionReusingKubeConfig {
  const kc = new ConnectionReusingKubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n').toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

test('every request of one context gets the same dispatcher (one TLS connection pool)', async () => {
  const kc = kubeConfig();
  const first = new RequestContext('https://127.0.0.1:6443/api/v1/namespaces', 'GET');
  const second = new RequestContext('https://127.0.0.1:6443/api/v1/serviceaccounts', 'GET');
  await kc.applySecurityAuthentication(first);
  await kc.applySecurityAuthentication(second);
  assert.ok(first.getDispatcher(), 'client-node no longer sets a dispatcher on the request: connection reuse needs another route');
  assert.equal(second.getDispatcher(), first.getDispatcher());
  assert.equal(kc.dispatcherCount, 1);
  // The token still travels per request, in the header.
  assert.equal(second.getHeaders()['Authorization'], 'Bearer not-a-secret');
});

test('another context gets its own dispatcher', async () => {
  const kc = kubeConfig();
  kc.addCluster({ name: 'd', server: 'https://127.0.0.2:6443', caData: Buffer.from('x').toString('base64'), skipTLSVerify: false });
  kc.addContext({ name: 'other', cluster: 'd', user: 'u' });
  const a = new RequestContext('https://127.0.0.1:6443/api', 'GET');
  await kc.applySecurityAuthentication(a);
  kc.setCurrentContext('other');
  const b = new RequestContext('https://127.0.0.2:6443/api', 'GET');
  await kc.applySecurityAuthentication(b);
  assert.notEqual(a.getDispatcher(), b.getDispatcher());
  assert.equal(kc.dispatcherCount, 2);
});
