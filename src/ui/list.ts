// irsa list as a table for people: one row per annotated ServiceAccount, problems after it.

import { Chalk } from 'chalk';
import type { BindingRow } from '../core/inventory.ts';

/** pods / needRestart: with `irsa list --pods` only. */
export type ListRow = BindingRow & { trustFindings: string[]; pods?: number; needRestart?: number };

export function renderListTable(rows: ListRow[], color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  if (rows.length === 0) return 'No ServiceAccount carries an eks.amazonaws.com/role-arn annotation or has an EKS Pod Identity association.\n';
  const yesNo = (value: boolean) => (value ? 'yes' : 'NO');
  const withPods = rows.some((row) => row.pods !== undefined);
  const header = ['NAMESPACE', 'SERVICEACCOUNT', 'MECHANISM', 'ROLE', 'ROLE EXISTS', 'TRUST OK', 'PROVIDER', 'OWNER', 'TRUST LINT', ...(withPods ? ['RESTART'] : [])];
  const cells = rows.map((row) => [
    row.namespace,
    row.serviceAccount,
    row.mechanism,
    row.roleArn,
    yesNo(row.roleExists),
    row.trustVerdict === 'cannot-decide' ? '?' : yesNo(row.trustAdmits),
    // EKS Pod Identity needs no OIDC provider.
    row.mechanism === 'pod-identity' ? '-' : yesNo(row.providerExists),
    row.owner,
    row.trustFindings.length === 0 ? '-' : [...new Set(row.trustFindings.map((f) => f.split(' ')[0]))].join(','),
    // pods that still lack the role / pods using the ServiceAccount
    ...(withPods ? [`${row.needRestart ?? 0}/${row.pods ?? 0}`] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [c.bold(line(header))];
  rows.forEach((row, index) => {
    const text = line(cells[index]!);
    out.push(row.problem ? c.red(text) : text);
  });
  const problems = rows.filter((row) => row.problem);
  if (problems.length > 0) {
    out.push('', ...problems.map((row) => c.yellow(`${row.namespace}/${row.serviceAccount}: ${row.problem}`)));
  }
  const linted = rows.filter((row) => row.trustFindings.length > 0);
  if (linted.length > 0) {
    out.push('', ...linted.map((row) => c.yellow(`${row.namespace}/${row.serviceAccount}: trust lint of its role: ${row.trustFindings.join(', ')} (irsa audit --iam shows the statements and fixes)`)));
  }
  return out.join('\n') + '\n';
}
