// Loads irsa.yaml: YAML with positions (yaml), shape checked by JSON Schema (ajv), then names,
// ARNs, duplicates and shared-role consistency. Every problem is reported at once with
// file:line:column and the field.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { assertPolicyArn } from '../core/arn.ts';
import type { BindingRequest } from '../core/binding.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import {
  assertClusterName,
  assertNamespace,
  assertRoleName,
  assertRolePath,
  assertServiceAccountName,
  assertTags,
  defaultRoleName,
} from '../core/names.ts';
import { normalizeThumbprint } from '../core/thumbprint.ts';
import { DEFAULT_AUDIENCE } from '../core/trust-policy.ts';
import { parsePolicyDocument } from '../core/policy-document.ts';
import { parseWorkloadRef } from '../core/migration.ts';
import { CONFIG_SCHEMA } from './schema.ts';
import type { SavedConfig } from '../core/saved-plan.ts';

export type IrsaConfig = SavedConfig;

type Path = Array<string | number>;

interface RawBinding {
  namespace: string;
  name: string;
  roleName?: string;
  path?: string;
  managedPolicies?: string[];
  inlinePolicies?: Record<string, Record<string, unknown> | { file: string }>;
  permissionsBoundary?: string;
  maxSessionDuration?: number;
  description?: string;
  tags?: Record<string, string>;
  audience?: string;
  stsRegionalEndpoints?: boolean;
  tokenExpiration?: number;
  annotations?: Record<string, string>;
  subjectPattern?: string;
  restart?: boolean;
  roleOnly?: boolean;
  createNamespace?: boolean;
  adopt?: boolean;
  removeStaticKeys?: boolean;
  deleteKeySecrets?: boolean;
  migrateKube2iam?: boolean;
  workloads?: string[];
}

interface RawConfig {
  version?: 1;
  cluster: { name: string; region?: string; profile?: string; issuerUrl?: string };
  oidcProvider?: { manage?: boolean; thumbprints?: string[] };
  bindings: RawBinding[];
}

export function loadConfigFile(file: string): IrsaConfig {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`-f: cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Give the path of an irsa.yaml file.`, '-f');
  }
  return parseConfig(source, file, (path) => readFileSync(resolve(dirname(file), path), 'utf8'));
}

export function parseConfig(source: string, file: string, readRelative: (path: string) => string): IrsaConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `${file}:${line}:${col}`;
  };
  for (const error of document.errors) problems.push(`${at(error.pos[0])}: ${error.message.split('\n')[0]}`);
  if (problems.length > 0) throw new ValidationErrors(problems);

  const locate = (path: Path, key = false): string => at(nodeOffset(document, path, key));
  const report = (path: Path, message: string, key = false) => problems.push(`${locate(path, key)}: ${fieldName(path)}: ${message}`);

  const raw = document.toJS() as RawConfig;
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  if (!ajv.validate(CONFIG_SCHEMA, raw)) {
    for (const error of dedupeAjvErrors(ajv.errors ?? [])) {
      const path = pointerToPath(error.instancePath);
      if (error.keyword === 'additionalProperties') {
        const extra = String((error.params as { additionalProperty: string }).additionalProperty);
        report([...path, extra], `unknown field "${extra}"${suggestField(error, extra)}`, true);
      } else {
        report(path, schemaMessage(error));
      }
    }
    throw new ValidationErrors(problems);
  }

  const check = (path: Path, fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      report(path, error.message.replace(/^[-\w]+: /, ''));
    }
  };
  check(['cluster', 'name'], () => assertClusterName(raw.cluster.name, 'cluster.name'));
  const thumbprints: string[] = [];
  (raw.oidcProvider?.thumbprints ?? []).forEach((hex, i) => check(['oidcProvider', 'thumbprints', i], () => thumbprints.push(normalizeThumbprint(hex))));

  const seen = new Map<string, number>();
  const bindings: BindingRequest[] = [];
  raw.bindings.forEach((binding, index) => {
    const here = (...rest: Path): Path => ['bindings', index, ...rest];
    check(here('namespace'), () => assertNamespace(binding.namespace, 'namespace'));
    check(here('name'), () => assertServiceAccountName(binding.name, 'name'));
    const key = `${binding.namespace}/${binding.name}`;
    if (seen.has(key)) report(here('name'), `duplicate binding: ${key} is already bound by bindings[${seen.get(key)}]; each ServiceAccount has one binding`);
    else seen.set(key, index);
    const roleName = binding.roleName ?? defaultRoleName(raw.cluster.name, binding.namespace, binding.name);
    check(here('roleName'), () => assertRoleName(roleName, 'roleName'));
    if (binding.path !== undefined) check(here('path'), () => assertRolePath(binding.path!, 'path'));
    (binding.managedPolicies ?? []).forEach((arn, i) => check(here('managedPolicies', i), () => assertPolicyArn(arn, 'managedPolicies')));
    if (binding.permissionsBoundary) check(here('permissionsBoundary'), () => assertPolicyArn(binding.permissionsBoundary!, 'permissionsBoundary'));
    if (binding.tags) check(here('tags'), () => assertTags(binding.tags!, 'tags'));
    if (binding.subjectPattern !== undefined && !/^system:serviceaccount:[^:]+:[^:]+$/.test(binding.subjectPattern)) {
      report(here('subjectPattern'), `"${binding.subjectPattern}" is not a ServiceAccount subject pattern; use system:serviceaccount:<namespace>:<name> with * or ? wildcards`);
    }
    const workloads = (binding.workloads ?? []).flatMap((text, i) => {
      const parsed = parseWorkloadRef(text);
      if (!parsed) report(here('workloads', i), `"${text}" is not a workload; write <kind>/<name>, e.g. deployment/${binding.name} (kinds: deployment, statefulset, daemonset, cronjob, job, pod)`);
      return parsed ? [parsed] : [];
    });
    if (binding.deleteKeySecrets && !binding.removeStaticKeys) {
      report(here('deleteKeySecrets'), 'deletes the key Secrets only once the workloads no longer load them; add removeStaticKeys: true to this binding');
    }
    if (binding.roleOnly && (binding.removeStaticKeys || binding.migrateKube2iam || workloads.length > 0)) {
      report(here('roleOnly'), 'roleOnly skips Kubernetes, so it cannot be combined with removeStaticKeys, migrateKube2iam or workloads');
    }
    const migration = {
      removeStaticKeys: binding.removeStaticKeys === true,
      deleteKeySecrets: binding.deleteKeySecrets === true,
      migrateKube2iam: binding.migrateKube2iam === true,
      workloads,
    };
    const inlinePolicies: Record<string, unknown> = {};
    for (const [policyName, value] of Object.entries(binding.inlinePolicies ?? {})) {
      if (!/^[\w+=,.@-]{1,128}$/.test(policyName)) report(here('inlinePolicies', policyName), `"${policyName}" is not a valid IAM policy name`, true);
      check(here('inlinePolicies', policyName), () => {
        if ('file' in value && typeof value.file === 'string') {
          let text: string;
          try {
            text = readRelative(value.file);
          } catch (error) {
            throw new UserError(`cannot read policy file "${value.file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); paths are relative to ${file}`);
          }
          inlinePolicies[policyName] = parsePolicyDocument(text, value.file);
        } else {
          inlinePolicies[policyName] = parsePolicyDocument(JSON.stringify(value), 'policy');
        }
      });
    }
    bindings.push({
      cluster: raw.cluster.name,
      namespace: binding.namespace,
      name: binding.name,
      roleName,
      rolePath: binding.path ?? '/',
      attachRoleArn: null,
      audience: binding.audience ?? DEFAULT_AUDIENCE,
      subjectPattern: binding.subjectPattern ?? null,
      policyArns: binding.managedPolicies ?? [],
      inlinePolicies,
      ...(binding.permissionsBoundary !== undefined ? { permissionsBoundary: binding.permissionsBoundary } : {}),
      ...(binding.maxSessionDuration !== undefined ? { maxSessionDuration: binding.maxSessionDuration } : {}),
      ...(binding.description !== undefined ? { description: binding.description } : {}),
      ...(binding.tokenExpiration !== undefined ? { tokenExpiration: binding.tokenExpiration } : {}),
      tags: binding.tags ?? {},
      extraAnnotations: binding.annotations ?? {},
      prune: true,
      adopt: binding.adopt === true,
      roleOnly: binding.roleOnly === true,
      createNamespace: binding.createNamespace === true,
      overrideExistingServiceAccounts: false,
      stsRegionalEndpoints: binding.stsRegionalEndpoints === true,
      restartWorkloads: binding.restart === true,
      ...(migration.removeStaticKeys || migration.migrateKube2iam || migration.workloads.length > 0 ? { migration } : {}),
    });
  });

  // Bindings that share a role must agree on the role's own settings.
  const byRole = new Map<string, number>();
  raw.bindings.forEach((binding, index) => {
    const roleName = bindings[index]!.roleName;
    const first = byRole.get(roleName);
    if (first === undefined) {
      byRole.set(roleName, index);
      return;
    }
    for (const field of ['path', 'permissionsBoundary', 'maxSessionDuration', 'description'] as const) {
      const a = raw.bindings[first]![field];
      const b = binding[field];
      if (a !== undefined && b !== undefined && a !== b) {
        report(['bindings', index, field], `role "${roleName}" is shared with bindings[${first}], which sets ${field} to ${JSON.stringify(a)}; bindings of one role must agree`);
      }
    }
  });
  if (problems.length > 0) throw new ValidationErrors(problems);
  return {
    file,
    cluster: raw.cluster,
    manageOidcProvider: raw.oidcProvider?.manage ?? true,
    thumbprints,
    bindings,
  };
}

function nodeOffset(document: Document, path: Path, key: boolean): number | undefined {
  // Walk down as far as the path exists; report at the deepest node found.
  let node: unknown = document.contents;
  let offset = (node as { range?: [number] } | null)?.range?.[0];
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === segment);
      if (!pair) break;
      const last = i === path.length - 1;
      const target = last && key ? pair.key : pair.value;
      offset = (target as { range?: [number] } | null)?.range?.[0] ?? (pair.key as { range?: [number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = (node as { range?: [number] } | null)?.range?.[0] ?? offset;
    } else break;
  }
  return offset;
}

const pointerToPath = (pointer: string): Path =>
  pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));

const fieldName = (path: Path): string =>
  path.reduce<string>((name, segment) => (typeof segment === 'number' ? `${name}[${segment}]` : name ? `${name}.${segment}` : segment), '') || '(top level)';

function schemaMessage(error: ErrorObject): string {
  switch (error.keyword) {
    case 'type':
      return `must be ${(error.params as { type: string }).type}`;
    case 'required':
      return `missing required field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'const':
      return `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    case 'pattern':
      return error.instancePath.endsWith('/region') ? 'is not an AWS region name such as eu-west-1' : 'must be an https:// URL';
    case 'oneOf':
      return 'must be a policy document (with "Statement") or { file: <path> }';
    default:
      return error.message ?? 'is not valid';
  }
}

/** oneOf branches produce noise; keep the most useful error per location. */
function dedupeAjvErrors(errors: ErrorObject[]): ErrorObject[] {
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  return errors.filter((error) => {
    if (error.keyword !== 'oneOf' && [...oneOfPaths].some((p) => error.instancePath === p)) return false;
    const key = `${error.instancePath}|${error.keyword}|${JSON.stringify(error.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function suggestField(error: ErrorObject, extra: string): string {
  const known = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
  const sameLetters = known.find((name) => name.toLowerCase() === extra.toLowerCase());
  if (sameLetters) return ` (did you mean "${sameLetters}"?)`;
  return known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
}
