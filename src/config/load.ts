// Loads irsa.yaml: YAML with positions (yaml), shape checked by JSON Schema (ajv), then names,
// ARNs, duplicates and shared-role consistency. Every problem is reported at once with
// file:line:column and the field.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { validateBindings, type BindingInput } from '../core/binding-input.ts';
import { checkAccess } from '../core/access-request.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { assertClusterName, assertNamespace } from '../core/names.ts';
import { configKey, configTerms, type FieldPath } from '../core/terms.ts';
import { FIELDS, VALUE_FIELDS, valueFromYaml } from '../core/fields.ts';
import { normalizeThumbprint } from '../core/thumbprint.ts';
import { parseWorkloadRef } from '../core/migration.ts';
import { CONFIG_SCHEMA } from './schema.ts';
import { didYouMean } from '../core/suggest.ts';
import type { SavedConfig } from '../core/saved-plan.ts';

export type IrsaConfig = SavedConfig;

type Path = Array<string | number>;

// The keys load.ts reads itself; the fields core/fields.ts handles from their rows are read from there.
interface RawBinding {
  namespace: string;
  name: string;
  roleName?: string;
  path?: string;
  managedPolicies?: string[];
  inlinePolicies?: Record<string, Record<string, unknown> | { file: string }>;
  permissionsBoundary?: string;
  tags?: Record<string, string>;
  audience?: string;
  annotations?: Record<string, string>;
  subjectPattern?: string;
  allowWideSubjects?: boolean;
  roleOnly?: boolean;
  createNamespace?: boolean;
  removeStaticKeys?: boolean;
  deleteKeySecrets?: boolean;
  migrateKube2iam?: boolean;
  workloads?: string[];
  attachRoleArn?: string;
  access?: Array<{ resource?: unknown; level?: unknown }>;
  mechanism?: string;
  targetRoleArn?: string;
  disableSessionTags?: boolean;
  sessionPolicy?: Record<string, unknown> | { file: string };
  installPodIdentityAgent?: boolean;
}

interface RawConfig {
  version?: 1;
  cluster: { name: string; region?: string; profile?: string; issuerUrl?: string };
  iam?: { profile?: string; maxTrustPolicySize?: number };
  oidcProvider?: { manage?: boolean; thumbprints?: string[] | 'none'; caBundle?: string };
  namespaces?: { create?: string[] };
  accounts?: Record<string, { profile: string }>;
  closePaths?: Array<'kube2iam' | 'node-permissions' | 'imds'>;
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

interface Problem {
  line: number;
  col: number;
  text: string;
}

export function parseConfig(source: string, file: string, readRelative: (path: string) => string): IrsaConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  const position = (offset: number | undefined) => lineCounter.linePos(offset ?? 0);
  const fail = (): never => {
    // All at once, in the order they appear in the file.
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ValidationErrors(problems.map((p) => `${file}:${p.line}:${p.col}: ${p.text}`));
  };
  for (const error of document.errors) {
    const { line, col } = position(error.pos[0]);
    if (error.code === 'DUPLICATE_KEY') {
      // The yaml library says only "Map keys must be unique": name the key, where it is, and its first use.
      const found = keyAt(document, error.pos[0]);
      const first = found?.first !== undefined ? `, first given on line ${position(found.first).line}` : '';
      problems.push({ line, col, text: `${found ? fieldName(found.path) : 'a key'}: duplicate key${found ? ` "${String(found.path[found.path.length - 1])}"` : ''}${first}; give each key once per mapping` });
      continue;
    }
    problems.push({ line, col, text: error.message.split('\n')[0]! });
  }
  if (problems.length > 0) fail();

  const report = (path: Path, message: string, key = false) => {
    const { line, col } = position(nodeOffset(document, path, key));
    problems.push({ line, col, text: `${fieldName(path)}: ${message}` });
  };

  let raw: RawConfig;
  try {
    // The yaml library's default alias limit (maxAliasCount 100) stops an alias bomb ("billion laughs").
    raw = document.toJS() as RawConfig;
  } catch (error) {
    if (!(error instanceof ReferenceError || error instanceof TypeError || error instanceof RangeError)) throw error;
    const alias = firstAliasOffset(document);
    const { line, col } = position(alias);
    const text = /alias/i.test(error.message)
      ? `YAML aliases expand too far (${error.message.split('\n')[0]}); irsa refuses such a file. Write the values out, or use far fewer aliases`
      : `cannot be read as YAML values (${error.message.split('\n')[0]})`;
    problems.push({ line, col, text });
    return fail();
  }
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
  const shapeOk = ajv.validate(CONFIG_SCHEMA, raw);
  // Paths with a shape problem are not checked further (their values may be any type).
  const badPaths: string[] = [];
  if (!shapeOk) {
    for (const error of dedupeAjvErrors(ajv.errors ?? [])) {
      const path = pointerToPath(error.instancePath);
      if (error.keyword === 'additionalProperties') {
        const extra = String((error.params as { additionalProperty: string }).additionalProperty);
        badPaths.push(`${error.instancePath}/${extra}`);
        report([...path, extra], `unknown field "${extra}"${suggestField(error, extra)}`, true);
      } else {
        badPaths.push(error.instancePath);
        report(path, schemaMessage(error));
      }
    }
  }
  if (!raw || typeof raw !== 'object' || !raw.cluster || typeof raw.cluster !== 'object' || !Array.isArray(raw.bindings)) fail();
  // A path is bad when it is a bad path, lies under one, or holds one. Indexed by every "/"-prefix,
  // because it is asked about every key of every binding: a scan of the list made 5,000 bindings
  // with a typo each quadratic (82 s).
  const prefixes = (pointer: string) => [...pointer.matchAll(/\//g)].map((m) => pointer.slice(0, m.index));
  const badExact = new Set(badPaths);
  const holdsBad = new Set(badPaths.flatMap(prefixes));
  const shapeBad = (...path: Path) => {
    const pointer = path.length === 0 ? '' : '/' + path.join('/');
    return badExact.has(pointer) || holdsBad.has(pointer) || prefixes(pointer).some((prefix) => badExact.has(prefix));
  };

  const check = (path: Path, fn: () => void) => {
    if (shapeBad(...path)) return;
    try {
      fn();
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      report(path, error.message.replace(/^[-\w]+: /, ''));
    }
  };
  check(['cluster', 'name'], () => assertClusterName(raw.cluster.name, 'cluster.name'));
  const thumbprints: string[] = [];
  const thumbprintSetting = raw.oidcProvider?.thumbprints;
  if (Array.isArray(thumbprintSetting)) {
    thumbprintSetting.forEach((hex, i) => check(['oidcProvider', 'thumbprints', i], () => thumbprints.push(normalizeThumbprint(hex))));
  }
  const createNamespaces = new Set(Array.isArray(raw.namespaces?.create) ? raw.namespaces.create : []);
  (Array.isArray(raw.namespaces?.create) ? raw.namespaces.create : []).forEach((ns, i) => check(['namespaces', 'create', i], () => assertNamespace(ns, 'namespace')));

  // Bindings are validated by the one binding validator (core/binding-input.ts); its field paths
  // become positions here. Values of the wrong type were reported by the schema and are left out.
  const given = <T>(index: number, key: string, value: T, type: 'string' | 'number' | 'boolean' | 'object'): T | undefined =>
    !shapeBad('bindings', index, key) && typeof value === type && value !== null ? value : undefined;
  const usable = raw.bindings.map((binding, index) =>
    !!binding && typeof binding === 'object' && !shapeBad('bindings', index, 'namespace') && !shapeBad('bindings', index, 'name'),
  );
  const inputs: BindingInput[] = raw.bindings.map((binding, index) => {
    if (!usable[index]) return { namespace: 'default', name: 'default' }; // a placeholder: its problems are the schema's
    const here = (...rest: Path): Path => ['bindings', index, ...rest];
    // Fields that cannot go together (attachRoleArn, roleOnly) are core/fields.ts's rules, applied by validateBindings.
    const workloads = (binding.workloads ?? []).flatMap((text, i) => {
      const parsed = parseWorkloadRef(text);
      if (!parsed) report(here('workloads', i), `"${text}" is not a workload; write <kind>/<name>, e.g. deployment/${binding.name} (kinds: deployment, statefulset, daemonset, cronjob, job, pod)`);
      return parsed ? [parsed] : [];
    });
    // roleOnly with a migration key, deleteKeySecrets without removeStaticKeys: core/fields.ts's rules, applied by validateBindings.
    const migration = {
      removeStaticKeys: binding.removeStaticKeys === true,
      deleteKeySecrets: binding.deleteKeySecrets === true,
      migrateKube2iam: binding.migrateKube2iam === true,
      workloads,
    };
    const inlinePolicies: NonNullable<BindingInput['inlinePolicies']> = {};
    const inlineOk = !shapeBad('bindings', index, 'inlinePolicies') && !!binding.inlinePolicies && typeof binding.inlinePolicies === 'object';
    for (const [policyName, value] of Object.entries(inlineOk ? binding.inlinePolicies! : {})) {
      if ('file' in value && typeof value.file === 'string') {
        try {
          inlinePolicies[policyName] = { text: readRelative(value.file), source: value.file };
        } catch (error) {
          report(here('inlinePolicies', policyName), `cannot read policy file "${value.file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); paths are relative to ${file}`);
        }
      } else {
        inlinePolicies[policyName] = { text: JSON.stringify(value), source: 'policy' };
      }
    }
    // EKS Pod Identity's session policy: a document, or a file like inlinePolicies'.
    let sessionPolicy: BindingInput['sessionPolicy'];
    const sessionValue = given(index, 'sessionPolicy', binding.sessionPolicy, 'object');
    if (sessionValue && 'file' in sessionValue && typeof sessionValue.file === 'string') {
      try {
        sessionPolicy = { text: readRelative(sessionValue.file), source: sessionValue.file };
      } catch (error) {
        report(here('sessionPolicy'), `cannot read policy file "${sessionValue.file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); paths are relative to ${file}`);
      }
    } else if (sessionValue) {
      sessionPolicy = { text: JSON.stringify(sessionValue), source: 'policy' };
    }
    const managed = given(index, 'managedPolicies', binding.managedPolicies, 'object');
    return {
      cluster: typeof raw.cluster.name === 'string' ? raw.cluster.name : undefined,
      namespace: binding.namespace,
      name: binding.name,
      roleName: given(index, 'roleName', binding.roleName, 'string'),
      rolePath: given(index, 'path', binding.path, 'string'),
      attachRoleArn: given(index, 'attachRoleArn', binding.attachRoleArn, 'string'),
      policyArns: Array.isArray(managed) ? managed.filter((arn): arn is string => typeof arn === 'string') : undefined,
      inlinePolicies,
      permissionsBoundary: given(index, 'permissionsBoundary', binding.permissionsBoundary, 'string'),
      tags: given(index, 'tags', binding.tags, 'object'),
      audience: given(index, 'audience', binding.audience, 'string'),
      subjectPattern: given(index, 'subjectPattern', binding.subjectPattern, 'string'),
      allowWideSubjects: binding.allowWideSubjects === true,
      ...(raw.iam?.maxTrustPolicySize !== undefined && !shapeBad('iam', 'maxTrustPolicySize') ? { trustPolicySizeLimit: raw.iam.maxTrustPolicySize } : {}),
      extraAnnotations: given(index, 'annotations', binding.annotations, 'object') ?? {},
      roleOnly: binding.roleOnly === true,
      // Declared once under namespaces.create, or on any binding of the namespace.
      createNamespace: createNamespaces.has(binding.namespace) || binding.createNamespace === true,
      mechanism: given(index, 'mechanism', binding.mechanism, 'string'),
      targetRoleArn: given(index, 'targetRoleArn', binding.targetRoleArn, 'string'),
      disableSessionTags: binding.disableSessionTags === true,
      sessionPolicy,
      installPodIdentityAgent: binding.installPodIdentityAgent === true,
      ...(migration.removeStaticKeys || migration.deleteKeySecrets || migration.migrateKube2iam || migration.workloads.length > 0 ? { migration } : {}),
      // The fields core/fields.ts handles from their row alone (a value of the wrong type was the schema's problem).
      ...Object.fromEntries(
        VALUE_FIELDS.map((field) => [field, FIELDS[field].yaml !== null && shapeBad('bindings', index, FIELDS[field].yaml!) ? undefined : valueFromYaml(field, binding)]),
      ),
    };
  });
  const validated = validateBindings(inputs, configTerms(file));
  for (const problem of validated.problems) {
    const path = yamlPath(problem.path);
    if (problem.path.binding !== undefined && !usable[problem.path.binding]) continue;
    if (shapeBad(...path) || (problem.path.field === 'cluster' && shapeBad('cluster', 'name'))) continue; // reported by the schema
    // A policy's name is wrong at its key; everything else at its value.
    // A field that cannot be combined with another is wrong where it is written: at its key.
    const atKey = (problem.path.field === 'inlinePolicies' && / is not a valid IAM policy name/.test(problem.message)) || /^cannot be combined with /.test(problem.message);
    const { line, col } = position(nodeOffset(document, path, atKey));
    problems.push({ line, col, text: `${configKey(problem.path)}: ${problem.message}` });
  }
  const bindings = validated.requests;
  // Access requests (core/access-request.ts): checked here, where their positions are known.
  raw.bindings.forEach((binding, index) => {
    if (!usable[index] || !Array.isArray(binding.access) || shapeBad('bindings', index, 'access') || !bindings[index]) return;
    const access = binding.access.flatMap((entry, i) => {
      try {
        return [checkAccess({ service: 'secretsmanager', level: entry.level, arn: entry.resource }, `bindings[${index}].access[${i}].resource`)];
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        report(['bindings', index, 'access', i, 'resource'], error.message.replace(/^\S+: /, ''));
        return [];
      }
    });
    if (access.length > 0) bindings[index]!.access = access;
  });
  // A createNamespace on one binding creates the namespace for all of its bindings.
  const namespacesToCreate = new Set(bindings.filter((b) => b.createNamespace).map((b) => b.namespace));
  for (const binding of bindings) if (namespacesToCreate.has(binding.namespace)) binding.createNamespace = true;

  // Bindings that share a role: attached (attachRoleArn) by all of them or by none.
  const byRole = new Map<string, number>();
  bindings.forEach((binding, index) => {
    const first = byRole.get(binding.roleName);
    if (first === undefined) {
      byRole.set(binding.roleName, index);
      return;
    }
    const a = raw.bindings[first]!.attachRoleArn;
    const b = raw.bindings[index]!.attachRoleArn;
    if (a !== undefined && b !== undefined && a !== b) {
      report(['bindings', index, 'attachRoleArn'], `role "${binding.roleName}" is shared with bindings[${first}], which sets attachRoleArn to ${JSON.stringify(a)}; bindings of one role must agree`);
    }
    if ((a === undefined) !== (b === undefined)) {
      report(['bindings', index, b === undefined ? 'name' : 'attachRoleArn'], `role "${binding.roleName}" is attached (attachRoleArn) by one binding and managed by another; give every binding of that role attachRoleArn, or none`);
    }
  });
  if (problems.length > 0) fail();
  const caBundle = raw.oidcProvider?.caBundle;
  return {
    file,
    cluster: raw.cluster,
    ...(raw.iam?.profile ? { iamProfile: raw.iam.profile } : {}),
    ...(raw.accounts && !shapeBad('accounts') ? { accountProfiles: Object.fromEntries(Object.entries(raw.accounts).map(([id, entry]) => [id, entry.profile])) } : {}),
    manageOidcProvider: raw.oidcProvider?.manage ?? true,
    thumbprints,
    ...(thumbprintSetting === 'none' ? { noThumbprint: true } : {}),
    ...(caBundle ? { caBundle: isAbsolute(caBundle) ? caBundle : resolve(dirname(file), caBundle) } : {}),
    ...(Array.isArray(raw.closePaths) && raw.closePaths.length > 0 && !shapeBad('closePaths') ? { closePaths: raw.closePaths } : {}),
    bindings,
  };
}


/** Where a validator field path is in the document. */
function yamlPath(path: FieldPath): Path {
  if (path.field === 'cluster') return ['cluster', 'name'];
  if (path.field === 'trustPolicySizeLimit') return ['iam', 'maxTrustPolicySize'];
  const segments: Path = path.binding === undefined ? [] : ['bindings', path.binding];
  const key: string | null = FIELDS[path.field].yaml;
  segments.push(key !== null && !key.includes('.') ? key : path.field);
  if (path.item !== undefined) segments.push(path.item);
  return segments;
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

/** The mapping key that starts at `offset` (a duplicate): its path, and where the key was first given. */
function keyAt(document: Document, offset: number): { path: Path; first?: number } | null {
  const walk = (node: unknown, path: Path): { path: Path; first?: number } | null => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as { range?: [number]; value?: unknown } | null;
        const name = isScalar(key) ? String(key.value) : String(key);
        if (key?.range?.[0] === offset) {
          const first = node.items.find((other) => isScalar(other.key) && String(other.key.value) === name && other !== pair);
          const start = (first?.key as { range?: [number] } | undefined)?.range?.[0];
          return { path: [...path, name], ...(start !== undefined ? { first: start } : {}) };
        }
        const inner = walk(pair.value, [...path, name]);
        if (inner) return inner;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const inner = walk(node.items[i], [...path, i]);
        if (inner) return inner;
      }
    }
    return null;
  };
  return walk(document.contents, []);
}

/** Where the first alias (*name) of the document is. */
function firstAliasOffset(document: Document): number | undefined {
  let offset: number | undefined;
  visit(document, {
    Alias(_key, node) {
      if (isAlias(node)) offset = node.range?.[0];
      return visit.BREAK;
    },
  });
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
      return error.instancePath.endsWith('/thumbprints')
        ? 'must be a list of at most 5 thumbprints (40 hex digits each), or "none"'
        : 'must be a policy document (with "Statement") or { file: <path> }';
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

// The same typo in many bindings is one suggestion (5,000 of them took 3 s of edit distances).
const suggestions = new Map<string, string>();

function suggestField(error: ErrorObject, extra: string): string {
  const key = `${error.schemaPath}\n${extra}`;
  if (!suggestions.has(key)) suggestions.set(key, suggestFieldOnce(error, extra));
  return suggestions.get(key)!;
}

function suggestFieldOnce(error: ErrorObject, extra: string): string {
  const known = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
  const close = didYouMean(extra, known);
  if (close) return close;
  return known.length > 0 ? ` (allowed: ${known.join(', ')})` : '';
}
