// The IRSA trust lint report (irsa audit --iam) for people.

import type { TrustLintReport } from '../core/trust-lint.ts';

export function renderTrustLintText(report: TrustLintReport): string {
  const lines: string[] = [];
  lines.push(`IRSA trust lint: ${report.rolesScanned} role${report.rolesScanned === 1 ? '' : 's'} read, ${report.irsaRoles} trust an OIDC provider.`);
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
