import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  credentialSourcesOfPodSpec,
  credentialSourcesOfTemplate,
  describeCredentialSource,
  kube2iamRole,
  podServiceAccount,
  type ContainerSpec,
  type PodSpecLike,
} from '../../src/core/credential-sources.ts';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const secrets = new Map<string, string[]>([
  ['aws-secrets', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  ['mixed', ['DB_PASSWORD', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  ['plain', ['DB_PASSWORD']],
  ['prefixed', ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY']],
  ['aws-credentials', ['credentials']],
]);

const spec = (containers: ContainerSpec[], extra: Partial<PodSpecLike> = {}): PodSpecLike => ({ containers, ...extra });
const app = (fields: Partial<ContainerSpec> = {}): ContainerSpec => ({ name: 'app', ...fields });

test('envFrom a Secret holding both keys: one source naming the Secret and the variables', () => {
  const found = credentialSourcesOfPodSpec(spec([app({ envFrom: [{ secretRef: { name: 'aws-secrets' } }] })]), secrets);
  assert.equal(found.length, 1);
  assert.deepEqual(
    { ...found[0] },
    {
      container: 'app',
      initContainer: false,
      kind: 'envfrom-secret',
      secret: 'aws-secrets',
      configMap: null,
      env: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      prefix: '',
      mountPath: null,
      volume: null,
      precedesWebIdentity: true,
    },
  );
  assert.equal(describeCredentialSource(found[0]!), 'container app: envFrom Secret aws-secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
});

test('envFrom with a prefix: the prefixed names are what the SDK reads', () => {
  const found = credentialSourcesOfPodSpec(spec([app({ envFrom: [{ prefix: 'AWS_', secretRef: { name: 'prefixed' } }] })]), secrets);
  assert.deepEqual(found.map((s) => [s.kind, s.prefix, s.env, s.keys]), [['envfrom-secret', 'AWS_', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY']]]);
  // Without the prefix the same keys are credential-looking but not what the SDK reads.
  const bare = credentialSourcesOfPodSpec(spec([app({ envFrom: [{ secretRef: { name: 'prefixed' } }] })]), secrets);
  assert.deepEqual(bare.map((s) => [s.env, s.precedesWebIdentity]), [[['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'], false]]);
});

test('envFrom of a Secret with only other keys, or an unknown Secret, is no credential source', () => {
  assert.deepEqual(credentialSourcesOfPodSpec(spec([app({ envFrom: [{ secretRef: { name: 'plain' } }, { secretRef: { name: 'missing' } }] })]), secrets), []);
});

test('a mixed Secret: only its credential keys are listed', () => {
  const [found] = credentialSourcesOfPodSpec(spec([app({ envFrom: [{ secretRef: { name: 'mixed' } }] })]), secrets);
  assert.deepEqual(found!.keys, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
});

test('env secretKeyRef: grouped per Secret, data keys and variable names kept apart', () => {
  const found = credentialSourcesOfPodSpec(
    spec([
      app({
        env: [
          { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'creds', key: 'id' } } },
          { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'secret' } } },
          { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'db' } } },
        ],
      }),
    ]),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.secret, s.env, s.keys, s.precedesWebIdentity]), [
    ['env-secret', 'creds', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], ['id', 'secret'], true],
  ]);
  assert.equal(describeCredentialSource(found[0]!), 'container app: env from Secret creds (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
});

test('literal env: SDK names precede web identity; other credential-looking names do not; values never copied', () => {
  const found = credentialSourcesOfPodSpec(
    spec([
      app({
        env: [
          { name: 'AWS_ACCESS_KEY_ID', value: KEY_ID },
          { name: 'AWS_SECRET_ACCESS_KEY', value: SECRET_KEY },
          { name: 'S3_AWS_ACCESS_KEY_ID', value: 'x' },
          { name: 'SOMETHING', value: `id=${KEY_ID}` },
          { name: 'AWS_REGION', value: 'eu-west-1' },
        ],
      }),
    ]),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.env, s.precedesWebIdentity]), [
    ['env-literal', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], true],
    ['env-literal', ['S3_AWS_ACCESS_KEY_ID', 'SOMETHING'], false],
  ]);
  assert.doesNotMatch(JSON.stringify(found), new RegExp(`${KEY_ID}|${SECRET_KEY.slice(0, 10)}`));
});

test('Java v1 alternates and a ConfigMap reference count', () => {
  const found = credentialSourcesOfPodSpec(
    spec([app({ env: [{ name: 'AWS_ACCESS_KEY', value: 'a' }, { name: 'AWS_SECRET_KEY', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] })]),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.configMap, s.env, s.precedesWebIdentity]), [
    ['env-literal', null, ['AWS_ACCESS_KEY'], true],
    ['env-configmap', 'cfg', ['AWS_SECRET_KEY'], true],
  ]);
});

test('init containers are scanned and marked', () => {
  const found = credentialSourcesOfPodSpec(
    spec([app()], { initContainers: [{ name: 'fetch', envFrom: [{ secretRef: { name: 'aws-secrets' } }] }] }),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.container, s.initContainer]), [['fetch', true]]);
  assert.match(describeCredentialSource(found[0]!), /^init container fetch: /);
});

test('a credentials file from a Secret at AWS_SHARED_CREDENTIALS_FILE, with AWS_PROFILE', () => {
  const found = credentialSourcesOfPodSpec(
    spec(
      [
        app({
          env: [
            { name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/etc/aws/credentials' },
            { name: 'AWS_PROFILE', value: 'uploader' },
          ],
          volumeMounts: [{ name: 'aws', mountPath: '/etc/aws' }, { name: 'other', mountPath: '/etc/other' }],
        }),
      ],
      { volumes: [{ name: 'aws', secret: { secretName: 'aws-credentials' } }, { name: 'other', secret: { secretName: 'plain' } }] },
    ),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.secret, s.volume, s.mountPath, s.env, s.keys]), [
    ['credentials-file', 'aws-credentials', 'aws', '/etc/aws', ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'], ['credentials']],
  ]);
  assert.equal(describeCredentialSource(found[0]!), 'container app: credentials file from Secret aws-credentials mounted at /etc/aws (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE)');
});

test('a credentials file at the default ~/.aws location (projected Secret, subPath mount)', () => {
  const found = credentialSourcesOfPodSpec(
    spec([app({ volumeMounts: [{ name: 'aws', mountPath: '/root/.aws/credentials', subPath: 'credentials' }] })], {
      volumes: [{ name: 'aws', projected: { sources: [{ secret: { name: 'aws-credentials' } }] } }],
    }),
    secrets,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.secret, s.env]), [['credentials-file', 'aws-credentials', []]]);
  // A Secret mounted elsewhere, with no variable pointing into it, is not a credentials file.
  assert.deepEqual(
    credentialSourcesOfPodSpec(spec([app({ volumeMounts: [{ name: 'aws', mountPath: '/etc/tls' }] })], { volumes: [{ name: 'aws', secret: { secretName: 'aws-credentials' } }] }), secrets),
    [],
  );
  // AWS_SHARED_CREDENTIALS_FILE pointing at a path no Secret is mounted under: nothing to retire here.
  assert.deepEqual(credentialSourcesOfPodSpec(spec([app({ env: [{ name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/baked/credentials' }] })]), secrets), []);
});

test('a Record of key names works like a Map', () => {
  const found = credentialSourcesOfPodSpec(spec([app({ envFrom: [{ secretRef: { name: 's' } }] })]), { s: ['AWS_SECRET_ACCESS_KEY'] });
  assert.deepEqual(found.map((s) => s.env), [['AWS_SECRET_ACCESS_KEY']]);
});

test('pod template: kube2iam annotation and ServiceAccount', () => {
  const result = credentialSourcesOfTemplate({ metadata: { annotations: { 'iam.amazonaws.com/role': 'legacy-uploader' } }, spec: spec([app()]) }, secrets);
  assert.deepEqual(result, { sources: [], kube2iamRole: 'legacy-uploader', serviceAccount: 'default' });
  assert.equal(kube2iamRole({ annotations: { 'iam.amazonaws.com/role': '' } }), null);
  assert.equal(kube2iamRole(undefined), null);
  assert.equal(podServiceAccount({ serviceAccount: 'old' }), 'old');
  assert.equal(podServiceAccount({ serviceAccountName: 'new', serviceAccount: 'old' }), 'new');
  assert.equal(podServiceAccount({ serviceAccountName: '' }), 'default');
});

test('no containers, no sources', () => {
  assert.deepEqual(credentialSourcesOfPodSpec(undefined, secrets), []);
  assert.deepEqual(credentialSourcesOfPodSpec({}, new Map()), []);
});

test('a credentials file from a ConfigMap (a configMap volume or a projected source) counts as one from a Secret does', () => {
  const configMaps = new Map([['aws-file', ['credentials']]]);
  const found = credentialSourcesOfPodSpec(
    spec([app({ volumeMounts: [{ name: 'aws', mountPath: '/home/app/.aws' }, { name: 'p', mountPath: '/etc/creds' }], env: [{ name: 'AWS_CONFIG_FILE', value: '/etc/creds/config' }] })], {
      volumes: [{ name: 'aws', configMap: { name: 'aws-file' } }, { name: 'p', projected: { sources: [{ configMap: { name: 'aws-file' } }] } }],
    }),
    secrets,
    configMaps,
  );
  assert.deepEqual(found.map((s) => [s.kind, s.secret, s.configMap, s.volume, s.keys, s.precedesWebIdentity]), [
    ['credentials-file', null, 'aws-file', 'aws', ['credentials'], true],
    ['credentials-file', null, 'aws-file', 'p', ['credentials'], true],
  ]);
  assert.equal(describeCredentialSource(found[0]!), 'container app: credentials file from ConfigMap aws-file mounted at /home/app/.aws (AWS_CONFIG_FILE)');
});
