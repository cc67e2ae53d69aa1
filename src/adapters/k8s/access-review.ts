// AccessReviewer over @kubernetes/client-node: asks the apiserver whether a user may do something
// (SubjectAccessReview), so "may this ServiceAccount read that Secret?" is the authorizer's own
// answer (RBAC, webhooks, aggregation included) and not a guess from RBAC objects.
// https://kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access

import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { AccessReviewer } from '../../ports.ts';
import { loadKubeConfig, translateKubeError, type KubeGatewayOptions } from './kube.ts';

export function createAccessReviewer(options: KubeGatewayOptions = {}): AccessReviewer {
  const kc = loadKubeConfig(options);
  const api = kc.makeApiClient(AuthorizationV1Api);
  const target = { server: kc.getCurrentCluster()?.server ?? '(unknown server)', context: kc.getCurrentContext() };
  return {
    async allowed(review) {
      const path = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
      options.observer?.onCall('k8s', 'POST subjectaccessreviews', `${review.verb} ${review.resource}${review.name ? `/${review.name}` : ''} in ${review.namespace} as ${review.user}`);
      try {
        const out = await api.createSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: review.user,
              groups: review.groups,
              resourceAttributes: { namespace: review.namespace, verb: review.verb, group: review.group, resource: review.resource, ...(review.name ? { name: review.name } : {}) },
            },
          },
        });
        return out.status?.allowed === true;
      } catch (error) {
        throw translateKubeError(error, 'POST', 'subjectaccessreviews', path, target);
      }
    },
  };
}
