// The audit report for people and the irsa.yaml it proposes (YAML with review notes as comments).
// Core finds and proposes (data); this module only writes text.

import { Document, YAMLMap, YAMLSeq } from 'yaml';
import { KUBE2IAM_ANNOTATION } from '../core/credential-sources.ts';
import { workloadLabel, type AuditFinding, type AuditReport } from '../core/audit.ts';

/** The proposed irsa.yaml, with review notes as comments; accepted by parseConfig. */
export function proposedIrsaYaml(report: Pick<AuditReport, 'cluster' | 'bindings'>): string {
  const { cluster, bindings } = report;
  const document = new Document({
    version: 1,
    cluster: { name: cluster.name, ...(cluster.region ? { region: cluster.region } : {}), ...(cluster.issuerUrl ? { issuerUrl: cluster.issuerUrl } : {}) },
    bindings: bindings.map((binding) => ({
      namespace: binding.namespace,
      name: binding.name,
      ...(binding.roleName ? { roleName: binding.roleName } : {}),
      ...(binding.managedPolicies.length > 0 ? { managedPolicies: binding.managedPolicies } : {}),
      ...(Object.keys(binding.inlinePolicies).length > 0 ? { inlinePolicies: binding.inlinePolicies } : {}),
      // A proposed new ServiceAccount does not exist yet: irsa creates it with the annotation, and
      // the migration options set the listed workloads' serviceAccountName to it.
      ...(binding.newServiceAccount ? { workloads: binding.workloads.map((w) => `${w.kind.toLowerCase()}/${w.name}`) } : {}),
    })),
  }, { customTags: ['timestamp'] }); // so "2012-10-17" is quoted and stays a string for YAML 1.1 readers too
  document.commentBefore = ' Proposed by irsa audit. Review the notes, then: irsa plan -f <this file>';
  const items = (document.get('bindings') as YAMLSeq).items as YAMLMap[];
  items.forEach((item, index) => {
    const binding = bindings[index]!;
    item.commentBefore = binding.notes.map((note) => ` ${note}`).join('\n');
    // Opt-in migrations, commented out: uncomment to let irsa finish the move in the same apply.
    if (binding.migrationOptions.length > 0) {
      item.comment = [' Uncomment to finish the migration in the same apply:', ...binding.migrationOptions.map((o) => ` ${o.key}: true   # ${o.does.join('; ')}`)].join('\n');
    }
  });
  return document.toString({ lineWidth: 0 });
}

/** The text report for people. */
export function renderAuditText(report: AuditReport): string {
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (lines.length === 0) return;
    out.push(title, ...lines, '');
  };
  const of = <K extends AuditFinding['kind']>(kind: K) => report.findings.filter((f): f is Extract<AuditFinding, { kind: K }> => f.kind === kind);
  section(
    'Static AWS access keys',
    [
      ...of('credential-secret').flatMap((f) => [
        `✗ Secret ${f.namespace}/${f.secret} holds AWS keys${f.keys.length > 0 ? ` in ${f.keys.join(', ')}` : ''}${f.accessKeyIds.length > 0 ? ` (access key ${f.accessKeyIds.join(', ')})` : ''}`,
        ...(f.usedBy.length > 0 ? f.usedBy.map((w) => `    loaded by ${workloadLabel(w)} via ${w.via.join(', ')}`) : ['    loaded by no Deployment, StatefulSet, DaemonSet or CronJob']),
      ]),
      ...of('credential-configmap').flatMap((f) => [
        `✗ ConfigMap ${f.namespace}/${f.configMap} holds AWS keys in ${f.keys.join(', ')}${f.accessKeyIds.length > 0 ? ` (access key ${f.accessKeyIds.join(', ')})` : ''} (readable by anyone who may read ConfigMaps)`,
        ...(f.usedBy.length > 0 ? f.usedBy.map((w) => `    loaded by ${workloadLabel(w)} via ${w.via.join(', ')}`) : ['    loaded by no Deployment, StatefulSet, DaemonSet or CronJob']),
      ]),
      ...of('credential-env').map((f) => `✗ ${workloadLabel(f.workload)} container ${f.container} has keys in its environment: ${f.variables.join(', ')}${f.accessKeyIds.length > 0 ? ` (access key ${f.accessKeyIds.join(', ')})` : ''}`),
    ],
  );
  section('kube2iam / kiam', of('kube2iam').map((f) => `✗ ${workloadLabel(f.workload)} uses role ${f.role} (${KUBE2IAM_ANNOTATION}); policies: ${f.policies}`));
  section('Workloads without an IRSA ServiceAccount (they get the node\'s role if they call AWS)', of('no-irsa').map((f) => `! ${workloadLabel(f.workload)}: ${f.reason}`));
  if (report.findings.length === 0) out.push('No static AWS keys, kube2iam/kiam annotations or workloads without an IRSA ServiceAccount found.', '');
  if (report.bindings.length > 0) {
    out.push(`Proposed irsa.yaml (${report.bindings.length} binding${report.bindings.length === 1 ? '' : 's'}; write it with --out irsa.yaml, then irsa plan -f irsa.yaml):`, '');
    out.push(proposedIrsaYaml(report).trimEnd());
  }
  return out.join('\n') + '\n';
}
