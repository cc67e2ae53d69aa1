// After apply, every trust change is read back once more and checked against the plan's intent
// (issue 21). IAM has no conditional write: a concurrent run that read the role before this run's
// write can overwrite it *after* the executor's own read-back (engine/executors/iam-role.ts), and
// that run's check only covers its own subjects. Checking again once the rest of the plan is
// applied widens the window in which such an overwrite is noticed; a change found missing is
// replayed onto the newest document through the executor (re-check, write, read-back), and one
// that still is not in place turns the run into a failure naming the role and the subject —
// never exit 0 without the change in place. The intent is the change's subjects, not its bytes:
// other runs may have added or removed others.

import type { ApplyReport, ChangeResult } from '../core/model/apply.ts';
import type { Change, ChangeOf } from '../core/plan.ts';
import { replayTrustChange, trustIntentGaps } from '../core/recheck.ts';
import { roleValue } from '../core/resources/iam-role.ts';
import type { PolicyDocument } from '../core/trust-policy.ts';
import type { IamGateway } from '../ports.ts';
import type { RoleSettings, RoleState } from '../core/state.ts';
import { chooseRoleReads } from './bulk-reads.ts';
import { TRUST_BATCH_MIN } from './trust-batch.ts';
import type { ExecuteChange } from './apply.ts';

function trustIntent(change: Change): { name: string; before: PolicyDocument; after: PolicyDocument } | null {
  // Creates are not re-checked here: a run that meets "already exists" merges through an update
  // (read back by the executor), and a role just created may not be readable yet (IAM is
  // eventually consistent), which must not read as "gone".
  if (change.kind !== 'iam-role') return null;
  if (change.action === 'update') return { name: change.after.name, before: change.before.trustPolicy, after: change.after.trustPolicy };
  return null;
}

async function verifyOne(result: ChangeResult, iam: IamGateway, execute: ExecuteChange, read: (name: string) => Promise<RoleSettings | null>): Promise<ChangeResult> {
  const intent = trustIntent(result.change);
  if (!intent) return result;
  const current = await read(intent.name);
  const gaps = current ? trustIntentGaps(intent.before, intent.after, current.trustPolicy) : null;
  if (gaps && gaps.missing.length === 0 && gaps.unexpected.length === 0) return result;
  const fail = (why: string): ChangeResult => ({ ...result, status: 'failed', error: new Error(`the trust policy of role ${intent.name} does not hold this change after apply: ${why}. Run the command again to merge into what is there now.`) });
  if (!current || !gaps) return fail('the role is gone');
  const what = [...gaps.missing.map((s) => `${s} is missing`), ...gaps.unexpected.map((s) => `${s} is still trusted`)].join('; ');
  const replayed = replayTrustChange(intent.before, intent.after, current.trustPolicy);
  if (!replayed) return fail(`${what} (another writer changed it at the same time)`);
  const now = roleValue(current);
  const repair: ChangeOf<'iam-role'> = { kind: 'iam-role', id: result.change.id, action: 'update', before: now, after: { ...now, trustPolicy: replayed }, dependsOn: [] };
  try {
    const outcome = await execute(repair);
    const note = `another run overwrote the trust policy of ${intent.name} after this change was written (${what}); this change's subjects were merged into the newer policy again`;
    return { ...result, notes: [...(result.notes ?? []), note, ...(outcome?.notes ?? [])] };
  } catch (error) {
    return fail(`${what} (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * How the roles are read back: one GetRole each, or — for many, where bulk-reads.ts's cost model
 * says it is faster — all of them in one bulk read (GetAccountAuthorizationDetails); denied, one
 * GetRole each after all.
 */
async function trustReader(iam: IamGateway, names: string[], onBulkRead?: (roles: RoleState[]) => void): Promise<(name: string) => Promise<RoleSettings | null>> {
  const single = (name: string) => iam.getRoleSettings(name);
  const unique = [...new Set(names)];
  if (unique.length < TRUST_BATCH_MIN || chooseRoleReads({ roles: unique.length, accountScan: false, concurrency: VERIFY_CONCURRENCY }).strategy !== 'bulk') return single;
  try {
    const all = await iam.listRoleDetails();
    onBulkRead?.(all);
    const byName = new Map(all.map((role) => [role.name, role]));
    return async (name) => byName.get(name) ?? null;
  } catch {
    return single;
  }
}

/** The read-backs run side by side; the cost model prices them at this many in flight. */
const VERIFY_CONCURRENCY = 16;

export interface VerifyOptions {
  /** Told the account's roles when they were read in bulk. */
  onBulkRead?: (roles: RoleState[]) => void;
  /**
   * Without a trust lock: wait this long before each read-back, so that a concurrent run that read
   * the role before our write and writes after it (re-adding or dropping a subject) is seen. A
   * repair is checked again the same way, at most `rounds` times in all.
   */
  settleMs?: number;
  rounds?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The report with every applied trust change re-checked; a change not in place and not repairable becomes a failure. */
export async function verifyTrustIntents(report: ApplyReport, iam: IamGateway | undefined, execute: ExecuteChange, options: VerifyOptions = {}): Promise<ApplyReport> {
  if (!iam || !report.results.some((result) => result.status === 'applied' && trustIntent(result.change))) return report;
  const settleMs = options.settleMs ?? 0;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const rounds = settleMs > 0 ? (options.rounds ?? 3) : 1;
  let results = report.results;
  for (let round = 0; round < rounds; round++) {
    if (settleMs > 0) await sleep(settleMs);
    const before = results;
    const read = await trustReader(iam, before.flatMap((result) => (result.status === 'applied' ? [trustIntent(result.change)?.name ?? []].flat() : [])), options.onBulkRead);
    results = await Promise.all(before.map((result) => (result.status === 'applied' ? verifyOne(result, iam, execute, read) : result)));
    // Nothing repaired this round: what is there holds every change.
    if (results.every((result, i) => result === before[i])) break;
  }
  const failed = results.filter((result) => result.status === 'failed').length;
  const applied = results.filter((result) => result.status === 'applied').length;
  return { ...report, results, failed, applied, ok: report.ok && failed === report.failed };
}
