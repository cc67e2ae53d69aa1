// Doctor's admission checks: what the apiserver did with a dry-run pod of the ServiceAccount
// (server-side dry run calls mutating webhooks whose sideEffects is None/NoneOnDryRun and returns
// the mutated pod without storing it), and the running pods judged per container. Pure.
// Why a dry run: reading MutatingWebhookConfigurations cannot see a webhook that is down, a
// selector that excludes the namespace, or a webhook whose answers the apiserver rejects; the
// apiserver's own answer can. When the dry run is not allowed, the configuration is read instead
// and the verdict says it is weaker (never a ✓).

import type { DoctorCheck, LabelSelector, MutatingWebhookState, Read } from './model/doctor.ts';
import {
  describeContainer,
  expectationFor,
  isPodIdentityPod,
  judgePod,
  POD_IDENTITY_VOLUME,
  SKIP_WEBHOOK_LABEL,
  TOKEN_VOLUME,
  type ContainerVerdict,
  type PodSpecState,
} from './pod-identity.ts';
import { KUBE2IAM_ANNOTATION } from './audit.ts';
import type { PodState, ServiceAccountState, WorkloadRef } from './state.ts';

export type { LabelSelector } from './model/doctor.ts';

/** Kubernetes label selector semantics (apimachinery labels.SelectorFromValidatedSet / matchExpressions). */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = expression.key in labels;
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In': if (!has || !values.includes(labels[expression.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(labels[expression.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

export const describeSelector = (selector: LabelSelector): string => {
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return `{${parts.join(', ')}}`;
};

const labelsText = (labels: Record<string, string>) => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? 'no labels' : `labels ${entries.map(([k, v]) => `${k}=${v}`).join(', ')}`;
};

/** Does the webhook handle pod CREATE at all (operations, API group/version, resource, scope)? */
export function rulesMatchPodCreate(webhook: MutatingWebhookState): boolean {
  const has = (list: string[] | undefined, value: string) => list === undefined || list.includes('*') || list.includes(value);
  return webhook.rules.some(
    (rule) =>
      has(rule.operations, 'CREATE') &&
      has(rule.apiGroups, '') &&
      has(rule.apiVersions, 'v1') &&
      (rule.scope === undefined || rule.scope === '*' || rule.scope === 'Namespaced') &&
      rule.resources.some((resource) => resource === '*' || resource === '*/*' || resource === 'pods'),
  );
}

/** Why a webhook is not called for this pod, or null when the apiserver calls it. */
export function whyNotCalled(webhook: MutatingWebhookState, namespace: string, namespaceLabels: Record<string, string> | null, podLabels: Record<string, string>): string | null {
  if (!rulesMatchPodCreate(webhook)) return 'its rules do not cover CREATE of pods (v1)';
  if (webhook.namespaceSelector && namespaceLabels && !selectorMatches(webhook.namespaceSelector, namespaceLabels)) {
    return `its namespaceSelector ${describeSelector(webhook.namespaceSelector)} does not select namespace ${namespace} (${labelsText(namespaceLabels)})`;
  }
  if (webhook.objectSelector && !selectorMatches(webhook.objectSelector, podLabels)) {
    return `its objectSelector ${describeSelector(webhook.objectSelector)} does not select the pod (${labelsText(podLabels)})`;
  }
  return null;
}

/** Names, service or URL that identify amazon-eks-pod-identity-webhook (EKS, its chart, its docs). */
export function looksLikePodIdentityWebhook(webhook: MutatingWebhookState): boolean {
  const text = [webhook.configuration, webhook.webhook, webhook.service?.name ?? '', webhook.url ?? ''].join(' ').toLowerCase();
  return /pod-identity-webhook|iam-for-pods|amazon-eks-pod-identity/.test(text);
}

export const describeWebhook = (w: MutatingWebhookState): string =>
  `${w.configuration} (webhook ${w.webhook} → ${w.url ?? (w.service ? `service ${w.service.namespace}/${w.service.name}${w.service.path ?? ''}` : 'no endpoint')}, failurePolicy ${w.failurePolicy})`;

// ---- the dry run -----------------------------------------------------------------------------

export type DryRunOutcome =
  | { admitted: PodSpecState }
  /** The apiserver refused the pod; its message, verbatim. */
  | { rejected: string }
  /** RBAC does not allow creating pods in the namespace. */
  | { forbidden: string }
  | { error: string };

export interface DryRunInput {
  /** "the pod template of Deployment web" or "a minimal pod". */
  source: string;
  fromWorkload: boolean;
  submitted: PodSpecState;
  outcome: DryRunOutcome;
}

export interface AdmissionInput {
  namespace: string;
  serviceAccount: ServiceAccountState;
  roleArn: string;
  webhooks: Read<MutatingWebhookState[]>;
  namespaceLabels: Read<Record<string, string>>;
  /** undefined: not attempted (no usable role). */
  dryRun: DryRunInput | undefined;
  secretKeys: ReadonlyMap<string, string[]> | null;
  configMapKeys?: ReadonlyMap<string, string[]> | null;
}

export interface AdmissionVerdict {
  check: DoctorCheck;
  /** New pods get the expected environment: restarting old pods helps. */
  newPodsOk: boolean;
}

const TITLE = 'New pods of the ServiceAccount get the IRSA environment (server-side dry run)';
const base = { step: 5, id: 'admission', title: TITLE };
const audienceText = (audience: string) => (audience === '' ? "the apiserver's default" : audience);
const EXPECTED = (roleArn: string, audience: string, expiration: number) =>
  `every container (init containers included) gets AWS_ROLE_ARN=${roleArn} and AWS_WEB_IDENTITY_TOKEN_FILE on a projected token (audience ${audienceText(audience)}, ${expiration} s)`;

const ownEnvOf = (pod: PodSpecState) => new Map(pod.containers.map((c) => [c.name, new Set(c.env.map((e) => e.name))]));

/** Did admission change anything IRSA-related in the pod? */
function touched(submitted: PodSpecState, admitted: PodSpecState): boolean {
  const volumes = (p: PodSpecState) => new Set(p.volumes.map((v) => v.name));
  const before = volumes(submitted);
  if ([TOKEN_VOLUME, POD_IDENTITY_VOLUME].some((name) => volumes(admitted).has(name) && !before.has(name))) return true;
  const injected = ['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];
  return admitted.containers.some((c) => {
    const old = submitted.containers.find((s) => s.name === c.name);
    return injected.some((name) => c.env.some((e) => e.name === name) && !old?.env.some((e) => e.name === name));
  });
}

export const verdictLine = (v: ContainerVerdict): string => `${v.status === 'pass' ? '✓' : v.status === 'fail' ? '✗' : '!'} ${describeContainer(v)}: ${v.detail}`;

/** The configuration-reading verdict, used when the dry run cannot be made: never a ✓. */
function configurationVerdict(input: AdmissionInput, why: string, podLabels: Record<string, string>): AdmissionVerdict {
  const weaker = `weaker verdict (${why}; read the webhook configuration instead, which cannot see a webhook that is down or answers wrongly)`;
  const expected = 'a MutatingWebhookConfiguration of the pod identity webhook that the apiserver calls for pods of this ServiceAccount';
  if ('error' in input.webhooks) {
    return { newPodsOk: false, check: { ...base, status: 'warn', observed: `${weaker}; could not list MutatingWebhookConfigurations either: ${input.webhooks.error}`, expected, fix: null } };
  }
  const nsLabels = 'value' in input.namespaceLabels ? input.namespaceLabels.value : null;
  const candidates = input.webhooks.value.filter(looksLikePodIdentityWebhook);
  const applying = candidates.filter((w) => whyNotCalled(w, input.namespace, nsLabels, podLabels) === null);
  if (applying.length > 0) {
    return { newPodsOk: true, check: { ...base, status: 'warn', observed: `${weaker}: ${applying.map(describeWebhook).join('; ')} should be called for this ServiceAccount's pods`, expected, fix: null } };
  }
  const reasons = candidates.map((w) => `${describeWebhook(w)}: ${whyNotCalled(w, input.namespace, nsLabels, podLabels)}`);
  return {
    newPodsOk: false,
    check: {
      ...base,
      status: 'fail',
      observed: `${weaker}: ${reasons.length > 0 ? reasons.join('; ') : 'no admission webhook mutates pods of this ServiceAccount (none looks like the pod identity webhook)'}`,
      expected,
      fix: reasons.length > 0 ? 'change the webhook configuration or the namespace/pod labels so that the webhook is called' : 'EKS runs the webhook itself; on other clusters deploy amazon-eks-pod-identity-webhook and register it for pod CREATE',
    },
  };
}

export function admissionVerdict(input: AdmissionInput): AdmissionVerdict {
  const dryRun = input.dryRun;
  if (!dryRun) return { newPodsOk: false, check: { ...base, status: 'skip', observed: 'no usable role ARN on the ServiceAccount', expected: '', fix: null } };
  const podLabels = dryRun.submitted.labels;
  const outcome = dryRun.outcome;
  if ('forbidden' in outcome) return configurationVerdict(input, `RBAC forbids the dry-run pod create: ${outcome.forbidden}`, podLabels);
  if ('error' in outcome) return configurationVerdict(input, `the dry-run pod create failed: ${outcome.error}`, podLabels);
  const nsLabels = 'value' in input.namespaceLabels ? input.namespaceLabels.value : null;
  const webhooks = 'value' in input.webhooks ? input.webhooks.value : [];
  if ('rejected' in outcome) {
    // A webhook with sideEffects Unknown/Some makes every dry run fail; that says nothing about real pods.
    if (/does not support dry run/i.test(outcome.rejected)) return configurationVerdict(input, `the apiserver cannot dry-run this pod: ${outcome.rejected}`, podLabels);
    const failing = /failed calling webhook "([^"]+)"/.exec(outcome.rejected)?.[1];
    const culprit = failing ? webhooks.filter((w) => w.webhook === failing) : [];
    const webhookCaused = failing !== undefined || /admission webhook/i.test(outcome.rejected);
    if (!webhookCaused && !dryRun.fromWorkload) {
      // A minimal pod may break a policy the real pods satisfy (Pod Security, quotas): no verdict.
      return configurationVerdict(input, `the minimal dry-run pod was refused for a reason unrelated to the webhook: "${outcome.rejected}"`, podLabels);
    }
    return {
      newPodsOk: false,
      check: {
        ...base,
        status: 'fail',
        observed:
          `the apiserver refused ${dryRun.source}: "${outcome.rejected}"` +
          (culprit.length > 0 ? `; ${culprit.map(describeWebhook).join('; ')}: with failurePolicy Fail every pod create it matches fails until it answers correctly` : ''),
        expected: 'the pod is admitted',
        fix: failing
          ? `make webhook ${failing} reachable and answer AdmissionReview correctly${culprit[0] ? ` (configuration ${culprit[0].configuration})` : ''}; restarting pods cannot help while it fails`
          : null,
      },
    };
  }

  const admitted = outcome.admitted;
  const expected = expectationFor(input.roleArn, input.serviceAccount.annotations, admitted.annotations);
  const expectedText = EXPECTED(expected.roleArn, expected.audience, expected.expirationSeconds);
  const verdicts = judgePod(admitted, expected, { ownEnv: ownEnvOf(dryRun.submitted), secretKeys: input.secretKeys, configMapKeys: input.configMapKeys ?? null });
  const details = verdicts.map(verdictLine);
  if (!touched(dryRun.submitted, admitted)) {
    if (SKIP_WEBHOOK_LABEL in podLabels) {
      return { newPodsOk: false, check: { ...base, status: 'warn', observed: `${dryRun.source} is labelled ${SKIP_WEBHOOK_LABEL}: deliberately not mutated`, expected: expectedText, fix: null, details } };
    }
    const candidates = webhooks.filter(looksLikePodIdentityWebhook);
    const reasons: string[] = [];
    for (const w of candidates) {
      const why = whyNotCalled(w, input.namespace, nsLabels, podLabels);
      if (why) reasons.push(`${describeWebhook(w)} is not called: ${why}`);
      else if (w.failurePolicy === 'Ignore') reasons.push(`webhook registered but not answering: ${describeWebhook(w)} applies to this pod, yet the pod came back unchanged (with failurePolicy Ignore the apiserver admits pods unmutated when the webhook fails)`);
      else reasons.push(`${describeWebhook(w)} was called and answered without injecting anything (does it see the ServiceAccount's annotation? the real webhook caches ServiceAccounts)`);
    }
    const unreadable = 'error' in input.webhooks ? ` (MutatingWebhookConfigurations could not be listed: ${input.webhooks.error})` : '';
    // A pod identity webhook deployed under another name still shows up here, with why it did nothing.
    const others = webhooks.filter((w) => !looksLikePodIdentityWebhook(w) && rulesMatchPodCreate(w));
    const otherText = others.length > 0
      ? ` (other webhooks for pod CREATE: ${others.map((w) => `${w.configuration}/${w.webhook}${whyNotCalled(w, input.namespace, nsLabels, podLabels) ? ` — not called: ${whyNotCalled(w, input.namespace, nsLabels, podLabels)}` : ' — called, injected nothing'}`).join('; ')})`
      : '';
    const observed = reasons.length > 0
      ? `${dryRun.source} came back without the IRSA environment: ${reasons.join('; ')}`
      : `no admission webhook mutates pods of this ServiceAccount: ${dryRun.source} came back unchanged${unreadable}${otherText}`;
    const notCalled = candidates.some((w) => whyNotCalled(w, input.namespace, nsLabels, podLabels));
    return {
      newPodsOk: false,
      check: {
        ...base,
        status: 'fail',
        observed,
        expected: expectedText,
        fix: reasons.length === 0
          ? 'EKS runs the pod identity webhook itself; on other clusters deploy amazon-eks-pod-identity-webhook and register it for pod CREATE'
          : notCalled
            ? 'change the webhook configuration or the namespace/pod labels so that the webhook is called for these pods'
            : 'make the pod identity webhook answer (check its pods, service and certificate)',
        details,
      },
    };
  }
  const status = verdicts.some((v) => v.status === 'fail') ? 'fail' : verdicts.some((v) => v.status === 'warn') ? 'warn' : 'pass';
  const podIdentity = isPodIdentityPod(admitted) && verdicts.every((v) => v.kind !== 'mutated');
  const passed = verdicts.filter((v) => v.status === 'pass').map(describeContainer);
  return {
    newPodsOk: status !== 'fail',
    check: {
      ...base,
      status,
      observed: podIdentity
        ? `${dryRun.source} was set up for EKS Pod Identity, not IRSA: new pods use the Pod Identity association's role, not ${input.roleArn}`
        : status === 'pass'
          ? `dry run of ${dryRun.source}: ${passed.join(', ')} get AWS_ROLE_ARN=${expected.roleArn} and the token (audience ${audienceText(expected.audience)}, ${expected.expirationSeconds} s)`
          : `dry run of ${dryRun.source}: ${verdicts.filter((v) => v.status !== 'pass').map((v) => `${describeContainer(v)}: ${v.detail}`).join('; ')}`,
      expected: expectedText,
      fix: status === 'fail' ? fixFor(verdicts) : null,
      details,
    },
  };
}

function fixFor(verdicts: ContainerVerdict[]): string | null {
  const keys = verdicts.filter((v) => v.kind === 'static-keys');
  if (keys.length > 0) {
    const secrets = [...new Set(keys.flatMap((v) => v.credentials.secrets))];
    const configMaps = [...new Set(keys.flatMap((v) => v.credentials.configMaps ?? []))];
    const from = [...(secrets.length > 0 ? [`Secret ${secrets.join(', ')}`] : []), ...(configMaps.length > 0 ? [`ConfigMap ${configMaps.join(', ')}`] : [])];
    return `remove AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from ${keys.map(describeContainer).join(', ')}${from.length > 0 ? ` (${from.join('; ')})` : ''}; irsa audit lists every such workload`;
  }
  return 'the webhook injected something else than the annotations ask for: check the ServiceAccount annotations and the webhook version';
}

const STATUS_RANK = { fail: 3, warn: 2, pass: 1, skip: 0 } as const;

/**
 * Every dry run of the ServiceAccount (one per distinct workload template): the worst verdict
 * decides, and each line names the template it is about, so the verdict names the failing workload.
 */
export function admissionVerdicts(input: AdmissionInput, dryRuns: DryRunInput[] | undefined): AdmissionVerdict {
  if (!dryRuns || dryRuns.length === 0) return admissionVerdict({ ...input, dryRun: undefined });
  if (dryRuns.length === 1) return admissionVerdict({ ...input, dryRun: dryRuns[0] });
  const each = dryRuns.map((dryRun) => ({ dryRun, verdict: admissionVerdict({ ...input, dryRun }) }));
  const worst = each.reduce((a, b) => (STATUS_RANK[b.verdict.check.status] > STATUS_RANK[a.verdict.check.status] ? b : a));
  const status = worst.verdict.check.status;
  const notPassing = each.filter((e) => e.verdict.check.status !== 'pass');
  const fixes = [...new Set(each.flatMap((e) => (e.verdict.check.fix ? [e.verdict.check.fix] : [])))];
  return {
    newPodsOk: each.every((e) => e.verdict.newPodsOk),
    check: {
      ...worst.verdict.check,
      status,
      observed: notPassing.length === 0
        ? each.map((e) => e.verdict.check.observed).join('; ')
        : notPassing.sort((a, b) => STATUS_RANK[b.verdict.check.status] - STATUS_RANK[a.verdict.check.status]).map((e) => e.verdict.check.observed).join('; ') +
          (each.length > notPassing.length ? `; ${each.length - notPassing.length} other pod template${each.length - notPassing.length === 1 ? '' : 's'} ✓` : ''),
      fix: fixes.length > 0 ? fixes.join('; ') : null,
      details: each.flatMap((e) => (e.verdict.check.details ?? []).map((line) => `${e.dryRun.source}: ${line}`)),
    },
  };
}

// ---- running pods ----------------------------------------------------------------------------

export interface RunningPodsInput {
  namespace: string;
  serviceAccount: ServiceAccountState;
  roleArn: string | null;
  pods: Read<PodState[]>;
  /** Variables each workload's template sets itself, by "Kind/name" then container. */
  templateEnv: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;
  secretKeys: ReadonlyMap<string, string[]> | null;
  configMapKeys?: ReadonlyMap<string, string[]> | null;
  /** From the admission check: would a restart give the pods the right environment? */
  newPodsOk: boolean;
}

const restartCommand = (pod: PodState): string =>
  pod.ownerWorkload
    ? `kubectl rollout restart ${pod.ownerWorkload.kind.toLowerCase()}/${pod.ownerWorkload.name} -n ${pod.namespace}`
    : `kubectl delete pod ${pod.name} -n ${pod.namespace} (and recreate it)`;

const workloadKey = (ref: WorkloadRef) => `${ref.kind}/${ref.name}`;

export function runningPodsCheck(input: RunningPodsInput): DoctorCheck {
  const check = { step: 5, id: 'pod-environment', title: 'Running pods: which credentials each container uses' };
  const sa = `${input.namespace}/${input.serviceAccount.name}`;
  if ('error' in input.pods) return { ...check, status: 'warn', observed: `could not list pods: ${input.pods.error}`, expected: '', fix: null };
  if (!input.roleArn) return { ...check, status: 'skip', observed: 'no usable role ARN on the ServiceAccount', expected: '', fix: null };
  const pods = input.pods.value;
  if (pods.length === 0) return { ...check, status: 'skip', observed: `no pods use ${sa}`, expected: '', fix: null };
  const details: string[] = [];
  const restart: PodState[] = [];
  const keys: string[] = [];
  const warnings: string[] = [];
  let failed = 0;
  for (const pod of pods) {
    const spec = pod.spec;
    if (!spec) continue;
    const expected = expectationFor(input.roleArn, input.serviceAccount.annotations, spec.annotations);
    const ownEnv = pod.ownerWorkload ? input.templateEnv.get(workloadKey(pod.ownerWorkload)) : undefined;
    const verdicts = judgePod(spec, expected, { ...(ownEnv ? { ownEnv } : {}), secretKeys: input.secretKeys, configMapKeys: input.configMapKeys ?? null });
    // Every line says which credentials the container will use (once).
    for (const v of verdicts) details.push(`pod ${pod.name} ${verdictLine(v)}${v.detail.includes(v.credentials.text) ? '' : `; credentials: ${v.credentials.text}`}`);
    if (spec.annotations[KUBE2IAM_ANNOTATION]) {
      warnings.push(`pod ${pod.name} still carries the kube2iam/kiam annotation ${KUBE2IAM_ANNOTATION}=${spec.annotations[KUBE2IAM_ANNOTATION]} (IRSA wins over it; remove it once migrated)`);
    }
    if (verdicts.some((v) => v.kind === 'missing' || v.kind === 'mismatch')) restart.push(pod);
    for (const v of verdicts.filter((v) => v.kind === 'static-keys')) keys.push(`pod ${pod.name} ${describeContainer(v)}: ${v.detail}`);
    if (verdicts.some((v) => v.status === 'fail')) failed++;
    for (const v of verdicts.filter((v) => v.status === 'warn')) warnings.push(`pod ${pod.name} ${describeContainer(v)}: ${v.detail}`);
  }
  const problems: string[] = [];
  if (restart.length > 0) {
    problems.push(
      input.newPodsOk
        ? `${restart.length} of ${pods.length} pods need a restart (created before the annotation or the webhook): ${restart.map((p) => `${p.name} (created ${p.createdAt || 'at an unknown time'})`).join(', ')}`
        : `${restart.length} of ${pods.length} pods lack the IRSA environment, and new pods would not get it either (see the admission check): ${restart.map((p) => p.name).join(', ')}`,
    );
  }
  problems.push(...keys);
  const fixes: string[] = [];
  if (keys.length > 0) fixes.push('remove the static keys from those containers: irsa create-sa-role … --remove-static-keys (irsa.yaml: removeStaticKeys: true; --delete-key-secrets retires the Secret) plans it; irsa audit proposes the whole migration');
  if (restart.length > 0) {
    fixes.push(input.newPodsOk ? [...new Set(restart.map(restartCommand))].join('; ') : 'fix the admission check first: restarting pods cannot help until new pods get the environment');
  }
  const status = failed > 0 ? 'fail' : warnings.length > 0 ? 'warn' : 'pass';
  return {
    ...check,
    status,
    observed: status === 'pass'
      ? `${pods.length} pod${pods.length === 1 ? '' : 's'}: every container uses web identity with ${input.roleArn}`
      : [...problems, ...warnings].join('; '),
    expected: `every container of every pod of ${sa} uses web identity with ${input.roleArn}`,
    fix: fixes.length > 0 ? fixes.join('; ') : null,
    details,
  };
}
