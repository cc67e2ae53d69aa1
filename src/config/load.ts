// Loads irsa.yaml: YAML with positions (yaml), shape checked by JSON Schema (ajv), then names,
// ARNs, duplicates and shared-role consistency. Every problem is reported at once with
// file:line:column and the field.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { validateBindings, type BindingInput } from '../core/binding-input.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { configKey, configTerms, type FieldPath } from '../core/terms.ts';
import { normalizeThumbprint } from '../core/thumbprint.ts';
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
  const thumbprints: string[] = [];
  (raw.oidcProvider?.thumbprints ?? []).forEach((hex, i) => check(['oidcProvider', 'thumbprints', i], () => thumbprints.push(normalizeThumbprint(hex))));

  // Bindings are validated by the one binding validator; its field paths become positions here.
  const inputs: BindingInput[] = raw.bindings.map((binding, index) => {
    const inlinePolicies: NonNullable<BindingInput['inlinePolicies']> = {};
    for (const [policyName, value] of Object.entries(binding.inlinePolicies ?? {})) {
      if ('file' in value && typeof value.file === 'string') {
        try {
          inlinePolicies[policyName] = { text: readRelative(value.file), source: value.file };
        } catch (error) {
          report(
            ['bindings', index, 'inlinePolicies', policyName],
            `cannot read policy file "${value.file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); paths are relative to ${file}`,
          );
        }
      } else {
        inlinePolicies[policyName] = { text: JSON.stringify(value), source: 'policy' };
      }
    }
    return {
      cluster: raw.cluster.name,
      namespace: binding.namespace,
      name: binding.name,
      roleName: binding.roleName,
      rolePath: binding.path,
      policyArns: binding.managedPolicies,
      inlinePolicies,
      permissionsBoundary: binding.permissionsBoundary,
      maxSessionDuration: binding.maxSessionDuration,
      description: binding.description,
      tags: binding.tags,
      audience: binding.audience,
      subjectPattern: binding.subjectPattern,
      tokenExpiration: binding.tokenExpiration,
      extraAnnotations: binding.annotations ?? {},
      adopt: binding.adopt,
      roleOnly: binding.roleOnly,
      createNamespace: binding.createNamespace,
      stsRegionalEndpoints: binding.stsRegionalEndpoints,
      restartWorkloads: binding.restart,
    };
  });
  const validated = validateBindings(inputs, configTerms(file));
  for (const problem of validated.problems) {
    // A policy's name is wrong at its key; everything else at its value.
    const atKey = problem.path.field === 'inlinePolicies' && / is not a valid IAM policy name/.test(problem.message);
    problems.push(`${locate(yamlPath(problem.path), atKey)}: ${configKey(problem.path)}: ${problem.message}`);
  }
  const bindings = validated.requests;
  if (problems.length > 0) throw new ValidationErrors(problems);
  return {
    file,
    cluster: raw.cluster,
    manageOidcProvider: raw.oidcProvider?.manage ?? true,
    thumbprints,
    bindings,
  };
}

const YAML_KEYS: Partial<Record<FieldPath['field'], string>> = {
  rolePath: 'path',
  policyArns: 'managedPolicies',
  restartWorkloads: 'restart',
  extraAnnotations: 'annotations',
};

/** Where a validator field path is in the document. */
function yamlPath(path: FieldPath): Path {
  if (path.field === 'cluster') return ['cluster', 'name'];
  const segments: Path = path.binding === undefined ? [] : ['bindings', path.binding];
  // The default role name was computed, not written: point at the binding.
  segments.push(YAML_KEYS[path.field] ?? path.field);
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
