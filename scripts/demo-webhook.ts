// For `npm run demo`: the local stack has no pod identity webhook (EKS runs the real one), so the
// demo runs the harness's test double of it (test/harness/webhook-double.ts) and registers it as
// EKS registers the real one — then irsa doctor can check the whole chain and pass. Runs until
// SIGTERM; writes "ready" to the file given as its argument once registered.

import { writeFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { startWebhookDouble } from '../test/harness/webhook-double.ts';

const readyFile = process.argv[2];
const config = new k8s.KubeConfig();
config.loadFromDefault(); // KUBECONFIG from the stack's environment
const core = config.makeApiClient(k8s.CoreV1Api);
const admission = config.makeApiClient(k8s.AdmissionregistrationV1Api);
const NAME = 'irsa-demo-pod-identity-webhook';

const double = await startWebhookDouble({
  region: process.env['AWS_REGION'] ?? 'us-east-1',
  // The real webhook watches ServiceAccounts; the double reads the one a pod uses.
  serviceAccount: (namespace, name) =>
    core.readNamespacedServiceAccount({ namespace, name }).then((sa) => ({ annotations: sa.metadata?.annotations ?? {} }), () => null),
});
const registration = double.registration(NAME) as k8s.V1MutatingWebhookConfiguration;
await admission.deleteMutatingWebhookConfiguration({ name: NAME }).catch(() => {});
await admission.createMutatingWebhookConfiguration({ body: registration });
if (readyFile) writeFileSync(readyFile, 'ready\n');

const stop = async () => {
  await admission.deleteMutatingWebhookConfiguration({ name: NAME }).catch(() => {});
  await double.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
setInterval(() => {}, 1 << 30);
