// The trust lint report (irsa audit --iam) for people: IRSA (OIDC provider) and EKS Pod Identity
// (pods.eks.amazonaws.com) trusts alike, so the header counts both.

import type { TrustLintReport } from '../core/trust-lint.ts';

export function renderTrustLintText(report: TrustLintReport): string {
  const lines: string[] = [];
  lines.push(
    `Trust lint: ${report.rolesScanned} role${report.rolesScanned === 1 ? '' : 's'} read, ${report.irsaRoles} trust an OIDC provider (IRSA), ` +
      `${report.podIdentityRoles} trust pods.eks.amazonaws.com (EKS Pod Identity).`,
  );
  if (report.findings.length === 0) {
    lines.push('No findings.');
    return lines.join('\n') + '\n';
  }
  for (const finding of report.findings) {
    const where = finding.statement === null ? '' : ` statement ${finding.statement}${finding.sid ? ` (${finding.sid})` : ''}`;
    lines.push('', `${finding.severity.toUpperCase()} ${finding.rule}: role ${finding.roleName}${where}`, `  ${finding.message}`, `  fix: ${finding.fix}`);
  }
  lines.push('', `${report.counts.critical} critical, ${report.counts.broken} broken, ${report.counts.warning} warning.`);
  return lines.join('\n') + '\n';
}
