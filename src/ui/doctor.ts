// The doctor report for people: one line per check, observed / expected / fix for the ones that
// are not fine, and a count line. Colour comes from the output object (ui/output.ts).

import type { CheckStatus, DoctorCheck } from '../core/doctor.ts';

export interface Painter {
  pass(text: string): string;
  fail(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const plain: Painter = { pass: (t) => t, fail: (t) => t, warn: (t) => t, dim: (t) => t, bold: (t) => t };
const SYMBOL: Record<CheckStatus, string> = { pass: '✓', fail: '✗', warn: '!', skip: '-' };

/** The text report: one line per check; failures and warnings add observed / expected / fix. */
export function renderDoctorText(checks: DoctorCheck[], heading: string, paint: Painter = plain): string {
  const colour: Record<CheckStatus, (t: string) => string> = { pass: paint.pass, fail: paint.fail, warn: paint.warn, skip: paint.dim };
  const out = [paint.bold(heading), ''];
  for (const check of checks) {
    const line = `${SYMBOL[check.status]} ${check.step}. ${check.title}`;
    if (check.status === 'pass') {
      out.push(`${colour.pass(line)}  ${paint.dim(check.observed)}`);
    } else if (check.status === 'skip') {
      out.push(colour.skip(`${line} (skipped: ${check.observed})`));
    } else {
      out.push(colour[check.status](line));
      out.push(`    observed: ${check.observed}`);
      if (check.expected) out.push(`    expected: ${check.expected}`);
      // One line per pod / container (the admission and running-pod checks).
      for (const detail of check.details ?? []) out.push(`      ${detail}`);
      if (check.fix) out.push(`    fix:      ${check.fix}`);
    }
  }
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const warnings = count('warn');
  out.push('', `${count('pass')} passed, ${count('fail')} failed, ${warnings} warning${warnings === 1 ? '' : 's'}, ${count('skip')} skipped`);
  return out.join('\n') + '\n';
}
