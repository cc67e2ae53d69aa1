// Is the Kubernetes context irsa is about to read and write the cluster whose issuer the roles
// will trust? Pure: the command reads what the API server says about itself, this decides.
//
// Proofs, strongest first:
// 1. discovery — the API server's own service-account issuer, from GET
//    /.well-known/openid-configuration through the kubeconfig connection. It is the `iss` of every
//    token the cluster mints, i.e. exactly what the trust policy must name. Default RBAC grants it
//    only to system:serviceaccounts (ClusterRole system:service-account-issuer-discovery), so a
//    user's credentials may get 403.
// 2. token — the `iss` claim of a TokenRequest token for an existing ServiceAccount (needs create
//    on serviceaccounts/token; stores nothing). Same value as 1.
// 3. endpoint — the kubeconfig's server equals eks:DescribeCluster's endpoint. Proves a match; a
//    difference proves nothing (proxies, Rancher/Teleport, private DNS), so it is "unknown".
// An issuer that differs is a mismatch: the trust policy would name the other cluster's issuer.

export interface ExpectedCluster {
  /** For people: `EKS cluster "prod"` or `the cluster of issuer https://…`. */
  label: string;
  issuerUrl: string;
  /** eks:DescribeCluster's endpoint; null for --issuer-url. */
  endpoint: string | null;
}

export type Observed<T> = { value: T } | { error: string };

export interface ContextObservation {
  context: string;
  server: string;
  discovery: Observed<string>;
  /** Absent when no ServiceAccount was available to mint a token for, or discovery answered. */
  token?: Observed<string>;
}

export type ClusterJudgement =
  | { verdict: 'match'; proof: 'discovery' | 'token' | 'endpoint'; detail: string }
  | { verdict: 'mismatch'; proof: 'discovery' | 'token'; observedIssuer: string; detail: string }
  | { verdict: 'unknown'; reasons: string[] };

export const normalizeIssuer = (url: string): string => url.trim().replace(/\/+$/, '');

/** https://Host:443/ → https://host:443 (scheme, lower-case host, explicit port, no trailing slash). */
export function normalizeEndpoint(url: string): string {
  try {
    const parsed = new URL(url.trim());
    const port = parsed.port || (parsed.protocol === 'http:' ? '80' : '443');
    return `${parsed.protocol}//${parsed.hostname.toLowerCase()}:${port}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url.trim().replace(/\/+$/, '').toLowerCase();
  }
}

export function judgeContext(expected: ExpectedCluster, observed: ContextObservation): ClusterJudgement {
  const want = normalizeIssuer(expected.issuerUrl);
  const reasons: string[] = [];
  for (const proof of ['discovery', 'token'] as const) {
    const read = observed[proof];
    if (!read) continue;
    if ('error' in read) {
      reasons.push(`${proof === 'discovery' ? 'GET /.well-known/openid-configuration' : 'TokenRequest'}: ${read.error}`);
      continue;
    }
    const got = normalizeIssuer(read.value);
    const source = proof === 'discovery' ? 'service-account issuer (discovery document)' : 'token issuer (TokenRequest)';
    if (got === want) return { verdict: 'match', proof, detail: `the API server's ${source} is ${got}, the issuer of ${expected.label}` };
    return { verdict: 'mismatch', proof, observedIssuer: got, detail: `the API server's ${source} is ${got}; ${expected.label} has ${want}` };
  }
  if (expected.endpoint) {
    if (normalizeEndpoint(expected.endpoint) === normalizeEndpoint(observed.server)) {
      return { verdict: 'match', proof: 'endpoint', detail: `the kubeconfig server ${observed.server} is the endpoint of ${expected.label}` };
    }
    reasons.push(`the kubeconfig server ${observed.server} is not the endpoint of ${expected.label} (${expected.endpoint}), which proves nothing when a proxy sits in between`);
  }
  return { verdict: 'unknown', reasons };
}

/** Another context of the kubeconfig, as probed when the current one is the wrong cluster. */
export interface CandidateContext {
  context: string;
  server: string;
  issuer: string | null;
}

/** Contexts that are the expected cluster (same issuer, or the EKS endpoint as their server). */
export function matchingContexts(expected: ExpectedCluster, candidates: CandidateContext[]): string[] {
  const want = normalizeIssuer(expected.issuerUrl);
  return candidates
    .filter((c) => (c.issuer !== null && normalizeIssuer(c.issuer) === want) || (expected.endpoint !== null && normalizeEndpoint(c.server) === normalizeEndpoint(expected.endpoint)))
    .map((c) => c.context);
}

/** The error for a mismatch: both clusters, and the context to use instead when one matches. */
export function mismatchMessage(
  expected: ExpectedCluster,
  observed: ContextObservation,
  judgement: Extract<ClusterJudgement, { verdict: 'mismatch' }>,
  matching: string[],
  otherClusterName: string | null,
): string {
  const lines = [
    `The kubeconfig context "${observed.context}" (${observed.server}) is not ${expected.label}: ${judgement.detail}` +
      `${otherClusterName ? ` (that is EKS cluster "${otherClusterName}")` : ''}. ` +
      'A role trusting one cluster\'s issuer does nothing for ServiceAccounts of another, so nothing was read further or changed.',
  ];
  if (matching.length === 1) lines.push(`Context "${matching[0]}" of the kubeconfig is ${expected.label}: run the command again with --context ${matching[0]}.`);
  else if (matching.length > 1) lines.push(`These contexts of the kubeconfig are ${expected.label}: ${matching.join(', ')}. Run the command again with --context <name>.`);
  else lines.push(`No context of the kubeconfig is ${expected.label}. Add one (for EKS: aws eks update-kubeconfig --name <cluster>) and pass --context, or pass the cluster that context belongs to.`);
  return lines.join('\n');
}

/** The error (writes) or warning (reads) when no proof could be made. */
export function unknownMessage(expected: ExpectedCluster, observed: ContextObservation, judgement: Extract<ClusterJudgement, { verdict: 'unknown' }>): string {
  return (
    `irsa could not prove that the kubeconfig context "${observed.context}" (${observed.server}) is ${expected.label}:\n` +
    judgement.reasons.map((reason) => `  - ${reason}\n`).join('') +
    'Allow the proof (grant "get" on the non-resource URL /.well-known/openid-configuration, e.g. bind the ClusterRole ' +
    'system:service-account-issuer-discovery to your user or group), or pass --skip-cluster-check when you are sure.'
  );
}
