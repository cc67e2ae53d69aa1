// core/proxy.ts against proxy-from-env (an independent implementation of the same convention,
// test-only): the same answer for every case, without irsa ever touching process.env.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getProxyForUrl } from 'proxy-from-env';
import { proxyForUrl, type ProxyEnv } from '../../src/core/proxy.ts';

const ENVS: ProxyEnv[] = [
  {},
  { HTTPS_PROXY: 'http://proxy:3128' },
  { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' },
  { HTTPS_PROXY: 'proxy:3128' },
  { ALL_PROXY: 'http://all:9' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'issuer.example.com' },
  { HTTPS_PROXY: 'http://proxy:3128', no_proxy: '.example.com, other.org' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*.example.com' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'issuer.example.com:8443' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'ISSUER.EXAMPLE.COM' },
  { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '127.0.0.1,[::1]' },
  { HTTP_PROXY: 'http://only-http:80' },
];
const URLS = [
  'https://issuer.example.com/',
  'https://issuer.example.com:8443/',
  'https://a.b.example.com/',
  'https://example.com/',
  'https://127.0.0.1:9443/',
  'https://[::1]:443/',
  'https://other.org/x',
  'not a url',
];

test('proxyForUrl agrees with proxy-from-env on every case', () => {
  const saved = { ...process.env };
  try {
    for (const env of ENVS) {
      for (const key of Object.keys(process.env)) if (/_proxy$/i.test(key)) delete process.env[key];
      Object.assign(process.env, env);
      for (const url of URLS) assert.equal(proxyForUrl(url, env), getProxyForUrl(url), `${JSON.stringify(env)} ${url}`);
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
});

test('proxyForUrl reads only the env it is given', () => {
  assert.equal(proxyForUrl('https://issuer.example.com/', { HTTPS_PROXY: 'http://p:1' }), 'http://p:1');
  assert.equal(proxyForUrl('https://issuer.example.com/', {}), '');
});
