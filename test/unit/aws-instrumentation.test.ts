// The AWS clients' instrumentation through public SDK routes (our own initialize-step middleware
// and a wrapped retry strategy), on real SDK clients built by createAwsContext whose HTTP handler
// answers locally. If an SDK upgrade stops either route, the call or retry counts here change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAwsContext } from '../../src/adapters/aws/clients.ts';
import { RemoteError } from '../../src/core/errors.ts';
import { createCallObserver } from '../../src/adapters/verbose.ts';

const xml = (body: string) => new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
const serviceFailure = xml('<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>try again</Message></Error><RequestId>r</RequestId></ErrorResponse>');
const role = xml(`<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>
<Path>/</Path><RoleName>r</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::111122223333:role/r</Arn>
<CreateDate>2024-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>
</Role></GetRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetRoleResponse>`);
const empty = (action: string, list: string) =>
  xml(`<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${action}Result><${list}/><IsTruncated>false</IsTruncated></${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`);

/** An HTTP handler that answers IAM's query protocol by Action; `failures[action]` attempts fail with a 500 first. */
function fakeHandler(failures: Record<string, number>) {
  const actions: string[] = [];
  return {
    actions,
    handler: {
      async handle(request: { body?: unknown }) {
        const action = new URLSearchParams(String(request.body)).get('Action') ?? '';
        actions.push(action);
        const reply = (statusCode: number, body: Uint8Array) => ({ response: { statusCode, headers: { 'content-type': 'text/xml' }, body } });
        if ((failures[action] ?? 0) > 0) {
          failures[action]!--;
          return reply(500, serviceFailure);
        }
        if (action === 'GetRole') return reply(200, role);
        if (action === 'ListAttachedRolePolicies') return reply(200, empty(action, 'AttachedPolicies'));
        if (action === 'ListRolePolicies') return reply(200, empty(action, 'PolicyNames'));
        return reply(400, xml(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/ci is not authorized to perform: iam:${action}</Message></Error><RequestId>r</RequestId></ErrorResponse>`));
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    },
  };
}

const credentials = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };

test('each call is reported once and each SDK retry with its operation and the failed attempt\'s error', async () => {
  Object.assign(process.env, credentials);
  const observer = createCallObserver();
  const { handler, actions } = fakeHandler({ GetRole: 2, ListRolePolicies: 1 });
  const aws = createAwsContext({ region: 'us-east-1', observer, requestHandler: handler });
  try {
    const iam = await aws.iam();
    const state = await iam.getRole('r');
    assert.equal(state?.arn, 'arn:aws:iam::111122223333:role/r');
    assert.equal(actions.filter((a) => a === 'GetRole').length, 3, 'the SDK retried GetRole twice (sanity: the fake failed it)');
    assert.deepEqual(observer.counts(), { 'iam GetRole': 1, 'iam ListAttachedRolePolicies': 1, 'iam ListRolePolicies': 1 });
    assert.equal(observer.retries(), 3);
    assert.deepEqual(observer.retryCounts(), { 'iam GetRole ServiceFailureException': 2, 'iam ListRolePolicies ServiceFailureException': 1 });
  } finally {
    aws.destroy();
  }
});

test('a failure leaves as irsa\'s error naming service:Operation, the SDK error as cause', async () => {
  Object.assign(process.env, credentials);
  const observer = createCallObserver();
  const aws = createAwsContext({ region: 'us-east-1', observer, requestHandler: fakeHandler({}).handler });
  try {
    const error = await (await aws.iam()).deleteRole('r').then(() => assert.fail('expected a rejection'), (e: unknown) => e);
    assert.ok(error instanceof RemoteError);
    assert.match(error.message, /^iam:DeleteRole was denied for arn:aws:iam::111122223333:user\/ci\./);
    assert.equal((error.cause as Error).name, 'AccessDenied');
    assert.deepEqual(observer.counts(), { 'iam DeleteRole': 1 });
    assert.equal(observer.retries(), 0, 'AccessDenied is not retried');
  } finally {
    aws.destroy();
  }
});
