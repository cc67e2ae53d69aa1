// `irsa --help` and `irsa --version` must not load the AWS SDK or the Kubernetes client:
// record every module file the process loads, and look inside the bundled chunks it loaded.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IRSA_BIN } from './helpers/cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
// Markers that only the SDKs' code contains (string literals survive minification).
const SDK_MARKERS = [/aws-sdk-js/, /@aws-sdk\//, /@kubernetes\/client-node/, /KUBERNETES_SERVICE_HOST/];

function loadedModules(args: string[]): { stdout: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-startup-'));
  const log = join(dir, 'loaded.txt');
  // A module hook that appends every loaded URL to a file.
  const hook = `
    import { registerHooks } from 'node:module';
    import { appendFileSync } from 'node:fs';
    registerHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); } });
  `;
  const { stdout } = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, IRSA_BIN, ...args], {
    encoding: 'utf8',
    // No endpoint and no credentials: a command that reaches AWS fails fast after loading the SDK.
    env: { PATH: process.env['PATH'] ?? '', HOME: tmpdir(), NO_COLOR: '1', AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
  });
  const files = readFileSync(log, 'utf8').split('\n').filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
  return { stdout, files };
}

const sdkFiles = (files: string[]) =>
  files.filter((file) => /node_modules\/(@aws-sdk|@smithy|@kubernetes)\//.test(file) || SDK_MARKERS.some((marker) => marker.test(readFileSync(file, 'utf8'))));

test('--version prints the package version and loads no SDK', () => {
  const { stdout, files } = loadedModules(['--version']);
  assert.equal(stdout.trim(), pkg.version);
  assert.deepEqual(sdkFiles(files), []);
});

test('--help lists the commands and loads no SDK', () => {
  const { stdout, files } = loadedModules(['--help']);
  for (const command of ['associate-oidc', 'create-sa-role', 'delete-sa-role', 'list', 'plan', 'apply']) assert.match(stdout, new RegExp(`\\b${command}\\b`));
  assert.deepEqual(sdkFiles(files), []);
  const commandHelp = loadedModules(['create-sa-role', '--help']);
  assert.match(commandHelp.stdout, /--attach-policy-arn/);
  assert.deepEqual(sdkFiles(commandHelp.files), []);
});

test('the check can fail: a command that talks to AWS does load the SDK', () => {
  const { files } = loadedModules(['associate-oidc', '--cluster', 'x', '--region', 'us-east-1']);
  assert.ok(sdkFiles(files).length > 0, 'associate-oidc loaded no SDK code, so the checks above prove nothing');
});
