// The IAM adapter at its SDK boundary, with a fake client: for what moto cannot show
// (AddClientIDToOpenIDConnectProvider is not implemented there) and for error wrapping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIamGateway, parsePolicyDocument } from '../../src/adapters/aws/iam.ts';
import { observeClient, translateAwsError } from '../../src/adapters/aws/clients.ts';
import { RemoteError, UserError } from '../../src/core/errors.ts';
import { isEventualConsistencyError, isNotFound } from '../../src/engine/retry.ts';
import { createCallObserver } from '../../src/adapters/verbose.ts';

interface Sent {
  name: string;
  input: Record<string, unknown>;
}

/** A client whose send() records the command and answers from `reply` (throw to fail). */
function fakeClient(reply: (sent: Sent) => unknown = () => ({})) {
  const sent: Sent[] = [];
  return {
    sent,
    client: {
      async send(command: never) {
        const c = command as { constructor: { name: string }; input: Record<string, unknown> };
        const entry = { name: c.constructor.name, input: c.input };
        sent.push(entry);
        return reply(entry);
      },
    },
  };
}

const sdkError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
const accountId = async () => '111122223333';
const providerArn = 'arn:aws:iam::111122223333:oidc-provider/127.0.0.1:6443';

test('addOidcProviderClientId sends AddClientIDToOpenIDConnectProvider with the ARN and client ID', async () => {
  const { client, sent } = fakeClient();
  await createIamGateway(client, { accountId }).addOidcProviderClientId(providerArn, 'sts.amazonaws.com');
  assert.deepEqual(sent, [
    { name: 'AddClientIDToOpenIDConnectProviderCommand', input: { OpenIDConnectProviderArn: providerArn, ClientID: 'sts.amazonaws.com' } },
  ]);
});

test('createOidcProvider adds the https scheme, omits empty thumbprints and returns the ARN', async () => {
  const { client, sent } = fakeClient(() => ({ OpenIDConnectProviderArn: providerArn }));
  const arn = await createIamGateway(client, { accountId }).createOidcProvider({ url: '127.0.0.1:6443', clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: { owner: 'irsa' } });
  assert.equal(arn, providerArn);
  assert.deepEqual(sent[0]?.input, { Url: 'https://127.0.0.1:6443', ClientIDList: ['sts.amazonaws.com'], Tags: [{ Key: 'owner', Value: 'irsa' }] });
});

test('getRole decodes URL-encoded documents and reads role, attachments and inline policies', async () => {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'h:sub': 'system:serviceaccount:a:b+c %' } } }] };
  const inline = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
  const { client, sent } = fakeClient(({ name, input }) => {
    switch (name) {
      case 'GetRoleCommand':
        return { Role: { RoleName: 'r', Arn: 'arn:aws:iam::111122223333:role/r', Path: '/', MaxSessionDuration: 3600, AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)), Tags: [{ Key: 'k', Value: 'v' }] } };
      case 'ListAttachedRolePoliciesCommand':
        // Two pages: the adapter must follow Marker.
        return input['Marker'] ? { AttachedPolicies: [{ PolicyArn: 'arn:p2' }], IsTruncated: false } : { AttachedPolicies: [{ PolicyArn: 'arn:p1' }], IsTruncated: true, Marker: 'm' };
      case 'ListRolePoliciesCommand':
        return { PolicyNames: ['inline1'], IsTruncated: false };
      case 'GetRolePolicyCommand':
        return { PolicyDocument: encodeURIComponent(JSON.stringify(inline)) };
      default:
        throw new Error(`unexpected ${name}`);
    }
  });
  const role = await createIamGateway(client, { accountId }).getRole('r');
  assert.deepEqual(role, {
    arn: 'arn:aws:iam::111122223333:role/r', name: 'r', path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null,
    trustPolicy: trust, tags: { k: 'v' }, attachedPolicyArns: ['arn:p1', 'arn:p2'], inlinePolicies: { inline1: inline },
  });
  assert.equal(sent.filter((s) => s.name === 'ListRoleTagsCommand').length, 0, 'tags come from GetRole');
});

test('a missing role or policy is null; other errors become RemoteError with the SDK error as cause', async () => {
  const missing = fakeClient(() => { throw sdkError('NoSuchEntityException', 'The role with name r cannot be found.'); });
  const gateway = createIamGateway(missing.client, { accountId });
  assert.equal(await gateway.getRole('r'), null);
  assert.equal(await gateway.getPolicy('arn:aws:iam::aws:policy/Nope'), null);
  assert.equal(await gateway.getOidcProvider(providerArn), null);
  const error = await gateway.deleteRole('r').then(() => null, (e: unknown) => e);
  assert.ok(error instanceof RemoteError);
  assert.match(error.message, /iam:DeleteRole failed: NoSuchEntityException/);
  assert.ok(isNotFound(error), 'the engine still sees NoSuchEntity through `cause`');

  const invalidPrincipal = fakeClient(() => { throw sdkError('MalformedPolicyDocumentException', 'Invalid principal in policy'); });
  const updateError = await createIamGateway(invalidPrincipal.client, { accountId }).updateTrustPolicy('r', { Version: '2012-10-17', Statement: [] }).then(() => null, (e: unknown) => e);
  assert.ok(isEventualConsistencyError(updateError));
});

test('AccessDenied names the IAM action, the principal and the fix', () => {
  const denied = sdkError('AccessDenied', 'User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:CreateOpenIDConnectProvider on resource: *');
  const error = translateAwsError(denied, 'iam', 'CreateOpenIDConnectProvider');
  assert.ok(error instanceof RemoteError);
  assert.match(error.message, /^iam:CreateOpenIDConnectProvider was denied for arn:aws:iam::111122223333:user\/ci\. Grant iam:CreateOpenIDConnectProvider/);
  assert.equal(error.cause, denied);
});

test('missing credentials are a UserError that says how to provide them', () => {
  const error = translateAwsError(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'), 'sts', 'GetCallerIdentity');
  assert.ok(error instanceof UserError);
  assert.match(error.message, /No AWS credentials found for sts:GetCallerIdentity.*--profile.*aws sso login/);
});

test('policy documents: URL-encoded and plain JSON both parse; a literal % in plain JSON survives', () => {
  assert.deepEqual(parsePolicyDocument('%7B%22a%22%3A%22b%20c%22%7D', 'x'), { a: 'b c' });
  assert.deepEqual(parsePolicyDocument('{"a":"100%"}', 'x'), { a: '100%' });
});

test('the observer middleware reports the call once and each retry with the previous error name', async () => {
  type Mw = (next: (args: unknown) => Promise<unknown>, context: Record<string | symbol, unknown>) => (args: unknown) => Promise<unknown>;
  const added: Array<{ mw: Mw; options: Record<string, unknown> }> = [];
  const client = {
    middlewareStack: {
      add: (mw: Mw, options: Record<string, unknown>) => added.push({ mw, options }),
      addRelativeTo: (mw: Mw, options: Record<string, unknown>) => added.push({ mw, options }),
    },
  };
  const observer = createCallObserver();
  observeClient(client, 'iam', observer);
  assert.equal(added[1]?.options['toMiddleware'], 'retryMiddleware');
  const context: Record<string | symbol, unknown> = { commandName: 'GetRoleCommand' };
  let attempt = 0;
  const perAttempt = added[1]!.mw(async () => {
    if (++attempt < 3) throw sdkError('Throttling', 'Rate exceeded');
    return { output: {} };
  }, context);
  // Stand-in for the SDK retry loop: call the per-attempt handler until it succeeds.
  const retryLoop = async (args: unknown) => {
    for (;;) {
      try {
        return await perAttempt(args);
      } catch {
        // retried
      }
    }
  };
  await added[0]!.mw(retryLoop, context)({});
  assert.deepEqual(observer.counts(), { 'iam GetRole': 1 });
  assert.equal(observer.retries(), 2);
  assert.deepEqual(observer.retryCounts(), { 'iam GetRole Throttling': 2 });
});
