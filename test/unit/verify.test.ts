import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPropagationError, parseVerifyTimeout, verifyBindings } from '../../src/engine/verify.ts';

const target = { namespace: 'prod', name: 'app', roleArn: 'arn:aws:iam::111122223333:role/app', audience: 'sts.amazonaws.com' };
const denied = () => Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), { name: 'AccessDenied' });

function fakes(answers: Array<'deny' | 'ok' | 'invalid'>) {
  let clock = 0;
  const calls = { sts: 0, tokens: 0, audiences: [] as string[] };
  return {
    calls,
    options: {
      kube: { createToken: async (_ns: string, _name: string, audience: string) => (calls.tokens++, calls.audiences.push(audience), 'token') },
      sts: {
        assumeRoleWithWebIdentity: async (roleArn: string) => {
          const answer = answers[calls.sts++] ?? answers.at(-1);
          if (answer === 'deny') throw denied();
          if (answer === 'invalid') throw Object.assign(new Error('Request ARN is invalid'), { name: 'ValidationError' });
          return { arn: `${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/s`, account: '111122223333' };
        },
      },
      now: () => clock,
      sleep: async (ms: number) => { clock += ms; },
    },
  };
}

test('verify: AccessDenied while IAM propagates is retried until STS answers', async () => {
  const { calls, options } = fakes(['deny', 'deny', 'ok']);
  const [result] = await verifyBindings([{ ...target, audience: 'custom' }], { ...options, timeoutMs: 60_000 });
  assert.equal(result!.ok, true);
  assert.equal(result!.attempts, 3);
  assert.equal(result!.assumedRoleArn, 'arn:aws:sts::111122223333:assumed-role/app/s');
  assert.deepEqual(calls.audiences, ['custom', 'custom', 'custom']);
});

test('verify: gives up at the deadline, and at once on an error that is not propagation', async () => {
  const timeout = fakes(['deny']);
  const [late] = await verifyBindings([target], { ...timeout.options, timeoutMs: 3000 });
  assert.equal(late!.ok, false);
  assert.match(late!.error!, /Not authorized/);
  assert.ok(late!.attempts >= 3 && late!.attempts <= 5, String(late!.attempts));
  const invalid = fakes(['invalid']);
  const [wrong] = await verifyBindings([target], { ...invalid.options, timeoutMs: 60_000 });
  assert.equal(wrong!.attempts, 1);
  assert.equal(isPropagationError(Object.assign(new Error('x'), { name: 'InvalidIdentityToken' })), true);
});

test('--verify-timeout: whole seconds 1–3600, default 60', () => {
  assert.equal(parseVerifyTimeout(undefined), 60_000);
  assert.equal(parseVerifyTimeout('5'), 5000);
  for (const bad of ['0', '-1', '1.5', 'soon', '3601']) assert.equal(parseVerifyTimeout(bad), null, bad);
});
