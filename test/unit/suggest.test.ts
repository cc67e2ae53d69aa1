import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestNames, didYouMean, editDistance } from '../../src/core/suggest.ts';
import { describeMissingPolicies, missingPolicyHint } from '../../src/engine/policy-suggestions.ts';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('roleName', 'roleName'), 0);
  assert.equal(editDistance('roleNmae', 'roleName'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('closest names: case first, then near misses; nothing for far-off words', () => {
  assert.deepEqual(closestNames('rolename', ['roleName', 'path']), ['roleName']);
  assert.deepEqual(closestNames('managedPolicy', ['managedPolicies', 'inlinePolicies', 'namespace']), ['managedPolicies']);
  assert.deepEqual(closestNames('zzz', ['roleName', 'path']), []);
  assert.equal(didYouMean('namspace', ['namespace', 'name']), ' (did you mean "namespace"?)');
});

test('a misspelt AWS managed policy gets the real ARN suggested (policy lists read only on this error path)', async () => {
  const calls: string[] = [];
  const iam = {
    listPolicies: async (scope: 'AWS' | 'Local' | 'All') => {
      calls.push(scope);
      return scope === 'AWS'
        ? [{ arn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', name: 'AmazonS3ReadOnlyAccess' }, { arn: 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess', name: 'AmazonSQSReadOnlyAccess' }]
        : [];
    },
  };
  const lines = await describeMissingPolicies(iam, ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess']);
  assert.deepEqual(lines, ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess (did you mean arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess?)']);
  assert.deepEqual(calls, ['AWS']);
  assert.deepEqual(await describeMissingPolicies(iam, ['arn:aws:iam::aws:policy/NothingLikeIt']), ['arn:aws:iam::aws:policy/NothingLikeIt']);
  assert.equal(await missingPolicyHint(iam, ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess']), ' Did you mean arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess?');
  assert.equal(await missingPolicyHint(iam, ['arn:aws:iam::aws:policy/NothingLikeIt']), '');
});
