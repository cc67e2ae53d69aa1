// Field paths of a binding, and how each entry point names them. The validator and the planner
// report a path; the entry point's Terms turn it into a flag (`--role-name`), an irsa.yaml key
// (`bindings[2].roleName`) or a wizard question, so one rule reads right wherever it fires.

import { FIELDS, type FieldPath, type Terms } from './fields.ts';

export type { BindingField, FieldPath, Terms } from './fields.ts';

/** Command-line flags (create-sa-role, delete-sa-role). */
export const FLAG_TERMS: Terms = {
  name: (path) => (path.field === 'inlinePolicies' && path.part === 'name' ? '--inline-policy-name' : (FIELDS[path.field].flag ?? path.field)),
  enable: (path) => `pass ${FIELDS[path.field].flag ?? path.field}`,
};

/** The irsa.yaml key of a field: `bindings[2].managedPolicies[0]`, `cluster.name`. */
export function configKey(path: FieldPath): string {
  const key = FIELDS[path.field].yaml;
  // A command-line-only field (--prune) is named as its flag.
  if (key === null) return FIELDS[path.field].flag ?? path.field;
  if (/^(cluster|oidcProvider|iam)\./.test(key)) return key;
  const base = path.binding === undefined ? key : `bindings[${path.binding}].${key}`;
  if (path.item === undefined) return base;
  return typeof path.item === 'number' ? `${base}[${path.item}]` : `${base}.${path.item}`;
}

/** irsa.yaml keys. */
export function configTerms(file: string): Terms {
  return {
    name: configKey,
    enable: (path) => {
      if (path.field === 'prune') return 'pass --prune';
      // A namespace is declared once for all its bindings.
      if (path.field === 'createNamespace') return `list it under namespaces.create in ${file}`;
      return `set ${configKey(path)}: true in ${file}`;
    },
  };
}
