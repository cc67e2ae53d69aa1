// The IAM adapter at its SDK boundary, on a real SDK client that answers locally: for what moto
// cannot show (AddClientIDToOpenIDConnectProvider is not implemented there) and for error wrapping.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IAMClient } from '@aws-sdk/client-iam';
import { createIamGateway, parsePolicyDocument } from '../../src/adapters/aws/iam.ts';
import { instrumentClient, translateAwsError } from '../../src/adapters/aws/clients.ts';
import { RemoteError, UserError } from '../../src/core/errors.ts';
import { isEventualConsistencyError, isNotFound } from '../../src/engine/retry.ts';

interface Sent {
  name: string;
  input: Record<string, unknown>;
}

/**
 * A real IAMClient, instrumented as createAwsContext does, whose last initialize-step middleware
 * records the command and answers from `reply` (throw to fail): the gateway, the SDK paginators and
 * the error translation all run for real; only the network is replaced.
 */
function fakeClient(reply: (sent: Sent) => unknown = () => ({})) {
  const sent: Sent[] = [];
  const client = new IAMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  instrumentClient(client, 'iam');
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const entry = { name: context.commandName ?? '', input: { ...(args.input as Record<string, unknown>) } };
      sent.push(entry);
      return { output: { $metadata: {}, ...(reply(entry) as object) }, response: {} };
    },
    { step: 'initialize', priority: 'low', name: 'fakeIam' },
  );
  return { client, sent };
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

test('listRoleDetails follows both paginations, decodes documents and joins description and max session from ListRoles', async () => {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'h:sub': 'system:serviceaccount:a:b' } } }] };
  const inline = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/100%/*' }] };
  const detail = (name: string, path: string) => ({
    RoleName: name, RoleId: `ID-${name}`, Arn: `arn:aws:iam::111122223333:role${path}${name}`, Path: path,
    // Real IAM URL-encodes every document in this reply.
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
    RolePolicyList: [{ PolicyName: 'p', PolicyDocument: encodeURIComponent(JSON.stringify(inline)) }],
    AttachedManagedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/A', PolicyName: 'A' }],
    PermissionsBoundary: { PermissionsBoundaryArn: 'arn:aws:iam::111122223333:policy/b' },
    Tags: [{ Key: 'k', Value: name }],
  });
  const { client, sent } = fakeClient(({ name, input }) => {
    if (name === 'GetAccountAuthorizationDetailsCommand') {
      return input['Marker'] ? { RoleDetailList: [detail('r2', '/x/')], IsTruncated: false } : { RoleDetailList: [detail('r1', '/irsa/')], IsTruncated: true, Marker: 'm1' };
    }
    if (name === 'ListRolesCommand') {
      return input['Marker']
        ? { Roles: [{ RoleName: 'r2', RoleId: 'ID-r2', Description: 'two', MaxSessionDuration: 7200 }], IsTruncated: false }
        : { Roles: [{ RoleName: 'r1', RoleId: 'ID-r1', Description: 'one', MaxSessionDuration: 3600 }], IsTruncated: true, Marker: 'n1' };
    }
    throw new Error(`unexpected ${name}`);
  });
  const roles = await createIamGateway(client, { accountId }).listRoleDetails();
  assert.deepEqual(roles, [
    { arn: 'arn:aws:iam::111122223333:role/irsa/r1', name: 'r1', path: '/irsa/', description: 'one', maxSessionDuration: 3600, permissionsBoundary: 'arn:aws:iam::111122223333:policy/b', trustPolicy: trust, tags: { k: 'r1' }, attachedPolicyArns: ['arn:aws:iam::aws:policy/A'], inlinePolicies: { p: inline }, id: 'ID-r1' },
    { arn: 'arn:aws:iam::111122223333:role/x/r2', name: 'r2', path: '/x/', description: 'two', maxSessionDuration: 7200, permissionsBoundary: 'arn:aws:iam::111122223333:policy/b', trustPolicy: trust, tags: { k: 'r2' }, attachedPolicyArns: ['arn:aws:iam::aws:policy/A'], inlinePolicies: { p: inline }, id: 'ID-r2' },
  ]);
  const gaad = sent.filter((s) => s.name === 'GetAccountAuthorizationDetailsCommand');
  assert.deepEqual(gaad.map((s) => s.input), [{ Filter: ['Role'], Marker: undefined, MaxItems: 1000 }, { Filter: ['Role'], Marker: 'm1', MaxItems: 1000 }]);
  assert.equal(sent.filter((s) => s.name === 'ListRolesCommand').length, 2);
});

test('listRoleDetails: path prefix filters client-side; a role missing from ListRoles (created in between) is read with getRole', async () => {
  const detail = (name: string, path: string) => ({ RoleName: name, RoleId: `ID-${name}`, Arn: `arn:r/${name}`, Path: path, AssumeRolePolicyDocument: '{}' });
  const { client, sent } = fakeClient(({ name, input }) => {
    switch (name) {
      case 'GetAccountAuthorizationDetailsCommand':
        return { RoleDetailList: [detail('in', '/irsa/'), detail('late', '/irsa/a/'), detail('out', '/other/')] };
      case 'ListRolesCommand':
        assert.equal(input['PathPrefix'], '/irsa/');
        return { Roles: [{ RoleName: 'in', RoleId: 'ID-in', MaxSessionDuration: 3600 }] };
      case 'GetRoleCommand':
        return { Role: { RoleName: 'late', Arn: 'arn:r/late', Path: '/irsa/a/', Description: 'late', MaxSessionDuration: 3600, AssumeRolePolicyDocument: '{}' } };
      case 'ListAttachedRolePoliciesCommand':
        return { AttachedPolicies: [] };
      case 'ListRolePoliciesCommand':
        return { PolicyNames: [] };
      default:
        throw new Error(`unexpected ${name}`);
    }
  });
  const roles = await createIamGateway(client, { accountId }).listRoleDetails('/irsa/');
  assert.deepEqual(roles.map((r) => [r.name, r.description]), [['in', ''], ['late', 'late']]);
  assert.deepEqual(sent.filter((s) => s.name === 'GetRoleCommand').map((s) => s.input['RoleName']), ['late']);
});

test('listRoleDetails: a denied GetAccountAuthorizationDetails names that action', async () => {
  const { client } = fakeClient(({ name }) => {
    if (name === 'GetAccountAuthorizationDetailsCommand') throw sdkError('AccessDenied', 'User: arn:aws:iam::1:user/ci is not authorized to perform: iam:GetAccountAuthorizationDetails');
    return { Roles: [] };
  });
  const error = await createIamGateway(client, { accountId }).listRoleDetails().then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(error instanceof RemoteError);
  assert.match((error as Error).message, /iam:GetAccountAuthorizationDetails was denied for arn:aws:iam::1:user\/ci/);
});

test('lists follow every page through the SDK paginators, sending Marker and the page size', async () => {
  const twoPages = (input: Record<string, unknown>, key: string, first: unknown, second: unknown) =>
    input['Marker'] === 'm' ? { [key]: [second], IsTruncated: false } : { [key]: [first], IsTruncated: true, Marker: 'm' };
  const { client, sent } = fakeClient(({ name, input }) => {
    switch (name) {
      case 'ListRolesCommand':
        return twoPages(input, 'Roles', { RoleName: 'a', Arn: 'arn:a' }, { RoleName: 'b', Arn: 'arn:b' });
      case 'ListRoleTagsCommand':
        return twoPages(input, 'Tags', { Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v2' });
      case 'ListPoliciesCommand':
        return twoPages(input, 'Policies', { Arn: 'arn:p1', PolicyName: 'p1' }, { Arn: 'arn:p2', PolicyName: 'p2' });
      default:
        throw new Error(`unexpected ${name}`);
    }
  });
  const gateway = createIamGateway(client, { accountId });
  assert.deepEqual(await gateway.listRoles('/irsa/'), [{ name: 'a', arn: 'arn:a' }, { name: 'b', arn: 'arn:b' }]);
  assert.deepEqual(await gateway.listRoleTags('r'), { k1: 'v1', k2: 'v2' });
  assert.deepEqual(await gateway.listPolicies('Local'), [{ arn: 'arn:p1', name: 'p1' }, { arn: 'arn:p2', name: 'p2' }]);
  assert.deepEqual(
    sent.map((s) => [s.name, s.input]),
    [
      ['ListRolesCommand', { PathPrefix: '/irsa/', Marker: undefined, MaxItems: undefined }],
      ['ListRolesCommand', { PathPrefix: '/irsa/', Marker: 'm', MaxItems: undefined }],
      ['ListRoleTagsCommand', { RoleName: 'r', Marker: undefined, MaxItems: undefined }],
      ['ListRoleTagsCommand', { RoleName: 'r', Marker: 'm', MaxItems: undefined }],
      ['ListPoliciesCommand', { Scope: 'Local', Marker: undefined, MaxItems: 1000 }],
      ['ListPoliciesCommand', { Scope: 'Local', Marker: 'm', MaxItems: 1000 }],
    ],
  );
});
