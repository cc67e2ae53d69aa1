import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyDocument } from '../../src/core/policy-document.ts';

test('a valid policy document parses', () => {
  const document = parsePolicyDocument('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}', 'p.json');
  assert.deepEqual((document as { Statement: unknown[] }).Statement.length, 1);
});

test('invalid documents name the file and what is wrong', () => {
  assert.throws(() => parsePolicyDocument('{', 'p.json'), /^UserError: p\.json: not valid JSON/);
  assert.throws(() => parsePolicyDocument('{"Version":"2012-10-17"}', 'p.json'), /needs a "Statement" list/);
  assert.throws(() => parsePolicyDocument('{"Statement":[{"Effect":"Maybe","Action":"x"}]}', 'p.json'), /"Effect": "Allow" or "Deny"/);
  assert.throws(() => parsePolicyDocument('{"Statement":[{"Effect":"Allow"}]}', 'p.json'), /needs "Action"/);
  const huge = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) }] });
  assert.throws(() => parsePolicyDocument(huge, 'p.json'), /IAM allows 10240/);
});
