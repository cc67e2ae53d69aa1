// Every resource kind's spec (core/resources/kind.ts), one line per kind. Typed as "every key of
// ChangeValues", so a kind declared without registering its spec here does not compile.

import type { Change } from '../plan.ts';
import type { AbsentVerdict, KindRegistry, KindSpec } from './kind.ts';
import { eksAddonKind } from './eks-addon.ts';
import { iamRoleKind } from './iam-role.ts';
import { inlinePolicyKind } from './inline-policy.ts';
import { namespaceKind } from './namespace.ts';
import { oidcProviderKind } from './oidc-provider.ts';
import { podIdentityAssociationKind } from './pod-identity-association.ts';
import { rolePolicyAttachmentKind } from './role-policy-attachment.ts';
import { secretKind } from './secret.ts';
import { configMapKind } from './config-map.ts';
import { keyPolicyKind, secretPolicyKind } from './resource-policy.ts';
import { serviceAccountKind } from './service-account.ts';
import { targetRoleTrustKind } from './target-role-trust.ts';
import { nodeRoleTrustKind } from './node-role-trust.ts';
import { nodegroupMetadataKind } from './nodegroup-metadata.ts';
import { workloadRestartKind } from './workload.ts';
import { workloadTemplateKind } from './workload-template.ts';

export const KINDS: KindRegistry = {
  'oidc-provider': oidcProviderKind,
  'iam-role': iamRoleKind,
  'role-policy-attachment': rolePolicyAttachmentKind,
  'inline-policy': inlinePolicyKind,
  namespace: namespaceKind,
  'service-account': serviceAccountKind,
  'workload-restart': workloadRestartKind,
  'workload-template': workloadTemplateKind,
  secret: secretKind,
  'config-map': configMapKind,
  'pod-identity-association': podIdentityAssociationKind,
  'eks-addon': eksAddonKind,
  'secret-policy': secretPolicyKind,
  'key-policy': keyPolicyKind,
  'target-role-trust': targetRoleTrustKind,
  'node-role-trust': nodeRoleTrustKind,
  'nodegroup-metadata': nodegroupMetadataKind,
};

/** The spec of a change's kind (the registry's key ties the two; the union cannot say so itself). */
export function kindOf(change: Change): KindSpec<Change['kind']> {
  return KINDS[change.kind] as KindSpec<Change['kind']>;
}

/** The API a change writes to (apply keeps one concurrency bound per API). */
export function apiOf(change: Change): 'aws' | 'kubernetes' {
  return kindOf(change).api;
}

export function absentFromFreshPlan(change: Change): AbsentVerdict {
  return (kindOf(change).absentFromFreshPlan as (change: Change) => AbsentVerdict)(change);
}
