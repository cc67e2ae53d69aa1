// The change-kind seam: every kind has a spec (core/resources/registry.ts), an executor
// (engine/executors/index.ts) and a place in the documented JSON schema. The registries are typed
// as "every kind", so a kind without an executor does not compile; these checks hold the run-time
// side and the docs to the same list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { asDone, type ChangeOf, type ResourceKind } from '../../src/core/plan.ts';
import { KINDS } from '../../src/core/resources/registry.ts';
import { createExecutor, EXECUTORS, type Executor } from '../../src/engine/execute.ts';
import { executeNamespace } from '../../src/engine/executors/namespace.ts';

// @ts-expect-error a registry that misses a kind does not type-check (typecheck fails if this line compiles)
const incomplete: { [K in ResourceKind]: Executor<K> } = { namespace: executeNamespace };
void incomplete;

test('every registered kind has an executor and the executor registry names no unknown kind', () => {
  assert.deepEqual(Object.keys(EXECUTORS).sort(), Object.keys(KINDS).sort());
  for (const [kind, spec] of Object.entries(KINDS)) assert.equal(spec.kind, kind, `KINDS['${kind}'] is the spec of ${spec.kind}`);
});

test('docs/plan.schema.json lists exactly the registered kinds', () => {
  const schema = JSON.parse(readFileSync(new URL('../../docs/plan.schema.json', import.meta.url), 'utf8')) as {
    definitions: { change: { properties: { kind: { enum: string[] } } } };
  };
  assert.deepEqual([...schema.definitions.change.properties.kind.enum].sort(), Object.keys(KINDS).sort());
});

test('the apply loop looks executors up by kind: a namespace create calls createNamespace once', async () => {
  const calls: string[] = [];
  const kube = { createNamespace: async (name: string) => void calls.push(name) } as never;
  const change: ChangeOf<'namespace'> = { kind: 'namespace', id: 'team', action: 'create', before: null, after: { name: 'team' }, dependsOn: [] };
  assert.deepEqual(await createExecutor({ kube })(change), { notes: [] });
  assert.deepEqual(calls, ['team']);
});

test('asDone turns any kind into a no-op that leaves its settled value', () => {
  const create: ChangeOf<'namespace'> = { kind: 'namespace', id: 'team', action: 'create', before: null, after: { name: 'team' }, dependsOn: [] };
  assert.deepEqual(asDone(create), { ...create, action: 'no-op', before: { name: 'team' }, after: { name: 'team' } });
  const remove: ChangeOf<'secret'> = { kind: 'secret', id: 'ns/keys', action: 'delete', before: { namespace: 'ns', name: 'keys', keys: ['a'] }, after: null, dependsOn: [] };
  assert.deepEqual(asDone(remove), { ...remove, action: 'no-op', before: remove.before, after: remove.before });
  const restart: ChangeOf<'workload-restart'> = {
    kind: 'workload-restart', id: 'ns/deployment/web', action: 'update', before: null, after: { kind: 'Deployment', namespace: 'ns', name: 'web', serviceAccount: 'sa' }, dependsOn: [],
  };
  assert.deepEqual(asDone(restart), { ...restart, action: 'no-op' });
});
