// The audit report for people and the irsa.yaml it proposes (YAML with review notes as comments).
// Core finds and proposes (data); this module only writes text.

import type { Closing, OldPathsSummary } from '../core/close-paths.ts';
import { Document, YAMLMap, YAMLSeq } from 'yaml';
import { KUBE2IAM_ANNOTATION } from '../core/credential-sources.ts';
import { workloadLabel, type AuditFinding, type AuditReport } from '../core/audit.ts';

/** The proposed irsa.yaml, with review notes as comments; accepted by parseConfig. */
export function proposedIrsaYaml(report: Pick<AuditReport, 'cluster' | 'bindings'>, closings: Closing[] = []): string {
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
  // The closing steps, commented out: blocked while a workload runs without its own role, so they
  // belong after the bindings above are applied (docs/closing-old-paths.md).
  if (closings.length > 0) {
    document.comment = [
      ' Close the old credential paths (node role, IMDS, kube2iam trust) once the bindings above are applied:',
      ` closePaths: [${closings.join(', ')}]`,
    ].join('\n');
  }
  return document.toString({ lineWidth: 0 });
}

/** The text report for people. */
export function renderAuditText(report: AuditReport, oldPaths?: OldPathsSummary): string {
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
  if (oldPaths) section('Old credential paths (node roles, IMDS, kube2iam leftovers)', oldPathLines(report.cluster.name, oldPaths));
  if (report.findings.length === 0) out.push('No static AWS keys, kube2iam/kiam annotations or workloads without an IRSA ServiceAccount found.', '');
  if (report.bindings.length > 0) {
    out.push(`Proposed irsa.yaml (${report.bindings.length} binding${report.bindings.length === 1 ? '' : 's'}; write it with --out irsa.yaml, then irsa plan -f irsa.yaml):`, '');
    out.push(proposedIrsaYaml(report, oldPaths?.closings).trimEnd());
  }
  return out.join('\n') + '\n';
}

/** Per node role: reachability, what it holds beyond worker needs, who trusts it; then what close-paths would do. */
function oldPathLines(cluster: string, summary: OldPathsSummary): string[] {
  const lines: string[] = [];
  for (const role of summary.nodeRoles) {
    lines.push(`node role ${role.name} (nodegroups ${role.nodegroups.map((g) => g.name).join(', ')})`);
    for (const g of role.nodegroups) lines.push(`  ${g.reachable === 'yes' ? '✗' : g.reachable === 'no' ? '✓' : '!'} ${g.name}: ${g.reachable === 'yes' ? 'pods reach it through IMDS' : g.reachable === 'no' ? 'IMDS closed to pods' : 'IMDS undecided'} (${g.why})`);
    lines.push(role.excess === null ? '  ! not read: grant iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies (or iam:GetAccountAuthorizationDetails)'
      : role.excess.length > 0 ? `  ✗ holds beyond worker-node needs: ${role.excess.join(', ')}` : '  ✓ holds only worker-node policies');
    for (const t of role.trustedBy) lines.push(`  ✗ role ${t.role} trusts it${t.usedBy.length > 0 ? ` (kube2iam, still used by ${t.usedBy.join(', ')})` : ' (no pod of the cluster names it: a kube2iam leftover)'}`);
  }
  for (const line of summary.undecided) lines.push(line);
  for (const blocker of summary.blockers) lines.push(`! blocked: ${blocker}`);
  if (summary.proposed.length > 0) {
    lines.push(`Proposed (irsa close-paths --cluster ${cluster}, or closePaths: in irsa.yaml):`, ...summary.proposed.map((p) => `  ${p}`));
  } else {
    lines.push('Nothing to close that irsa can close.');
  }
  return lines;
}
