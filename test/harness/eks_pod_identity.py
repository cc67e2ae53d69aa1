"""EKS Pod Identity associations and EKS add-ons for the local stack's moto.

moto 5.2.x implements neither (its EKS backend has clusters, nodegroups and Fargate profiles only),
so this module adds the routes to moto's own EKS service, backed by moto's cluster registry: the
same account/region backends, the same clusters, cleared by the same `/moto-api/reset`. Requests
are parsed and answers serialised by moto from botocore's EKS service model, so the wire format is
the real one; the SDK clients cannot tell the difference.

Behaviour follows the Amazon EKS API Reference (CreatePodIdentityAssociation,
DescribePodIdentityAssociation, ListPodIdentityAssociations, UpdatePodIdentityAssociation,
DeletePodIdentityAssociation, CreateAddon, DescribeAddon, ListAddons, DeleteAddon):
https://docs.aws.amazon.com/eks/latest/APIReference/API_Operations.html

Errors, as the reference and the team's notes (../../docs/local-stack.md) describe them:
- unknown cluster, unknown association or add-on: ResourceNotFoundException (404);
- a second association for one namespace/ServiceAccount, a second add-on of one name:
  ResourceInUseException (409; no upsert);
- roleArn in another account than the cluster without targetRoleArn, an empty roleArn, a session
  `policy` over 2,048 characters or with session tags enabled, maxResults outside 1-100, an update
  that changes nothing: InvalidParameterException (400);
- update or delete of an association an add-on owns (ownerArn): InvalidRequestException (400) —
  our choice, the reference says such associations are managed through the add-on.
Not checked (as fakecloud, and unverified against real EKS): whether the roles exist.
"""

from __future__ import annotations

import json
import secrets
import string
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.eks import urls as eks_urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.models import EKSBackend
from moto.eks.responses import EKSResponse

# "a-" and 17 characters of [0-9a-z], as real association ids look (a-abcdefgh123456789).
_ID_ALPHABET = string.ascii_lowercase + string.digits
# The API Reference: policy "Length Constraints: Maximum length of 2048" (the session policy).
POLICY_MAX = 2048


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _association_id() -> str:
    return "a-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def _account_of(arn: str | None) -> str | None:
    parts = (arn or "").split(":")
    return parts[4] if len(parts) > 5 and parts[2] == "iam" else None


def _state(cluster: Any) -> dict[str, Any]:
    # Kept on moto's Cluster object: gone with the cluster (delete or /moto-api/reset).
    if not hasattr(cluster, "_irsa_pod_identity"):
        cluster._irsa_pod_identity = {"associations": {}, "addons": {}}
    return cluster._irsa_pod_identity  # type: ignore[no-any-return]


def _cluster(backend: EKSBackend, name: str | None) -> Any:
    cluster = backend.clusters.get(name or "")
    if cluster is None:
        raise ResourceNotFoundException(
            clusterName=name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"No cluster found for name: {name}.",
        )
    return cluster


def _invalid(message: str, **kw: Any) -> InvalidParameterException:
    return InvalidParameterException(message=message, **kw)


def _check_max_results(value: Any) -> int:
    if value is None:
        return 100
    n = int(value)
    if n < 1 or n > 100:
        raise _invalid(f"maxResults must be between 1 and 100, got {n}.")
    return n


def _page(items: list[Any], max_results: int, next_token: str | None) -> tuple[list[Any], str | None]:
    # nextToken is opaque to callers; an offset wrapped so that nobody relies on its form.
    start = 0
    if next_token:
        try:
            start = int(bytes.fromhex(next_token).decode().removeprefix("irsa-page:"))
        except ValueError:
            raise _invalid("The nextToken is not valid.")
    page = items[start:start + max_results]
    end = start + len(page)
    return page, (f"irsa-page:{end}".encode().hex() if end < len(items) else None)


def _validate_roles(cluster: Any, role_arn: str | None, target_role_arn: str | None) -> None:
    if not role_arn:
        raise _invalid("roleArn must be a non-empty IAM role ARN.")
    if not role_arn.startswith("arn:") or ":role/" not in role_arn:
        raise _invalid(f"roleArn {role_arn} is not an IAM role ARN.")
    cluster_account = cluster.arn.split(":")[4]
    if _account_of(role_arn) != cluster_account:
        if target_role_arn:
            raise _invalid(f"roleArn {role_arn} must be in the cluster's account {cluster_account}; the role in the other account goes in targetRoleArn.")
        raise _invalid(f"roleArn {role_arn} is in another account than the cluster ({cluster_account}); use a role in the cluster's account and set targetRoleArn for cross-account access.")
    if target_role_arn is not None and target_role_arn != "" and (not target_role_arn.startswith("arn:") or ":role/" not in target_role_arn):
        raise _invalid(f"targetRoleArn {target_role_arn} is not an IAM role ARN.")


def _validate_policy(policy: str | None, disable_session_tags: bool) -> None:
    if policy is None or policy == "":
        return
    if len(policy) > POLICY_MAX:
        raise _invalid(f"policy is {len(policy)} characters; the maximum is {POLICY_MAX}.")
    if not disable_session_tags:
        raise _invalid("A session policy requires disableSessionTags to be true.")
    try:
        json.loads(policy)
    except ValueError:
        raise _invalid("policy is not a JSON document.")


def _public(assoc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in assoc.items() if v is not None}


def _summary(assoc: dict[str, Any]) -> dict[str, Any]:
    keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
    return {k: assoc[k] for k in keys if assoc.get(k) is not None}


def _new_association(backend: EKSBackend, cluster: Any, namespace: str, service_account: str, role_arn: str,
                     target_role_arn: str | None, disable_session_tags: bool, policy: str | None,
                     tags: dict[str, str] | None, owner_arn: str | None) -> dict[str, Any]:
    associations = _state(cluster)["associations"]
    for existing in associations.values():
        if existing["namespace"] == namespace and existing["serviceAccount"] == service_account:
            raise ResourceInUseException(
                clusterName=cluster.name, nodegroupName=None, addonName=None,
                message=f"Association already exists: {existing['associationId']} for ServiceAccount {namespace}/{service_account}.",
            )
    assoc_id = _association_id()
    now = _now()
    assoc = {
        "clusterName": cluster.name,
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": role_arn,
        "associationArn": f"arn:{cluster.arn.split(':')[1]}:eks:{backend.region_name}:{backend.account_id}:podidentityassociation/{cluster.name}/{assoc_id}",
        "associationId": assoc_id,
        "tags": dict(tags or {}),
        "createdAt": now,
        "modifiedAt": now,
        "ownerArn": owner_arn,
        "disableSessionTags": bool(disable_session_tags),
        "targetRoleArn": target_role_arn or None,
        # EKS returns an external id for a target role, to put in the target role's trust
        # (API Reference, PodIdentityAssociation.externalId).
        "externalId": str(uuid.uuid4()) if target_role_arn else None,
        "policy": policy or None,
    }
    associations[assoc_id] = assoc
    return assoc


def _association(cluster: Any, association_id: str | None) -> dict[str, Any]:
    assoc = _state(cluster)["associations"].get(association_id or "")
    if assoc is None:
        raise ResourceNotFoundException(
            clusterName=cluster.name, nodegroupName=None, addonName=None,
            message=f"Association not found: {association_id}.",
        )
    return assoc  # type: ignore[no-any-return]


def _refuse_owned(assoc: dict[str, Any], verb: str) -> None:
    if assoc.get("ownerArn"):
        raise InvalidRequestException(
            clusterName=assoc["clusterName"], nodegroupName=None, addonName=None,
            message=f"Cannot {verb} association {assoc['associationId']}: it is owned by {assoc['ownerArn']}; change it through the add-on.",
        )


# ---- the operations, as methods of moto's EKSResponse (moto dispatches on botocore's model) ----

def create_pod_identity_association(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    if not namespace or not service_account:
        raise _invalid("namespace and serviceAccount are required.")
    role_arn = self._get_param("roleArn")
    target_role_arn = self._get_param("targetRoleArn")
    disable = bool(self._get_param("disableSessionTags") or False)
    policy = self._get_param("policy")
    _validate_roles(cluster, role_arn, target_role_arn)
    _validate_policy(policy, disable)
    assoc = _new_association(self.eks_backend, cluster, namespace, service_account, role_arn, target_role_arn,
                             disable, policy, self._get_param("tags"), None)
    return ActionResult({"association": _public(assoc)})


def describe_pod_identity_association(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"association": _public(_association(cluster, self._get_param("associationId")))})


def list_pod_identity_associations(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    max_results = _check_max_results(self._get_param("maxResults"))
    namespace = self._get_param("namespace")
    service_account = self._get_param("serviceAccount")
    items = [
        a for a in _state(cluster)["associations"].values()
        if (not namespace or a["namespace"] == namespace) and (not service_account or a["serviceAccount"] == service_account)
    ]
    page, token = _page(items, max_results, self._get_param("nextToken"))
    result: dict[str, Any] = {"associations": [_summary(a) for a in page]}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def update_pod_identity_association(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    assoc = _association(cluster, self._get_param("associationId"))
    _refuse_owned(assoc, "update")
    role_arn = self._get_param("roleArn")
    target_role_arn = self._get_param("targetRoleArn")
    disable_param = self._get_param("disableSessionTags")
    policy = self._get_param("policy")
    if role_arn is None and target_role_arn is None and disable_param is None and policy is None:
        raise _invalid("An update must change at least one of roleArn, targetRoleArn, disableSessionTags or policy.")
    # An empty roleArn is an error, not "keep the role" (eksctl#8718 sent one).
    new_role = assoc["roleArn"] if role_arn is None else role_arn
    # targetRoleArn "" removes the target role; absent keeps it.
    new_target = assoc["targetRoleArn"] if target_role_arn is None else (target_role_arn or None)
    new_disable = assoc["disableSessionTags"] if disable_param is None else bool(disable_param)
    new_policy = assoc["policy"] if policy is None else (policy or None)
    _validate_roles(cluster, new_role, new_target)
    _validate_policy(new_policy, new_disable)
    if new_target and new_target != assoc["targetRoleArn"]:
        assoc["externalId"] = assoc["externalId"] or str(uuid.uuid4())
    if not new_target:
        assoc["externalId"] = None
    assoc.update(roleArn=new_role, targetRoleArn=new_target, disableSessionTags=new_disable, policy=new_policy, modifiedAt=_now())
    return ActionResult({"association": _public(assoc)})


def delete_pod_identity_association(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    assoc = _association(cluster, self._get_param("associationId"))
    _refuse_owned(assoc, "delete")
    del _state(cluster)["associations"][assoc["associationId"]]
    return ActionResult({"association": _public(assoc)})


def _addon(cluster: Any, name: str | None) -> dict[str, Any]:
    addon = _state(cluster)["addons"].get(name or "")
    if addon is None:
        raise ResourceNotFoundException(
            clusterName=cluster.name, nodegroupName=None, addonName=name,
            message=f"No addon: {name} found in cluster: {cluster.name}",
        )
    return addon  # type: ignore[no-any-return]


def _addon_view(addon: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in addon.items() if v is not None}


def create_addon(self: EKSResponse) -> ActionResult:
    backend = self.eks_backend
    cluster = _cluster(backend, self._get_param("name"))
    name = self._get_param("addonName")
    if not name:
        raise _invalid("addonName is required.")
    addons = _state(cluster)["addons"]
    if name in addons:
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=name, message=f"Addon already exists: {name}")
    partition = cluster.arn.split(":")[1]
    addon_arn = f"arn:{partition}:eks:{backend.region_name}:{backend.account_id}:addon/{cluster.name}/{name}/{uuid.uuid4()}"
    owned: list[str] = []
    for entry in self._get_param("podIdentityAssociations") or []:
        _validate_roles(cluster, entry.get("roleArn"), None)
        assoc = _new_association(backend, cluster, "kube-system", entry.get("serviceAccount"), entry.get("roleArn"),
                                 None, False, None, None, addon_arn)
        owned.append(assoc["associationArn"])
    now = _now()
    addons[name] = {
        "addonName": name,
        "clusterName": cluster.name,
        "status": "ACTIVE",
        "addonVersion": self._get_param("addonVersion") or "v1.3.0-eksbuild.1",
        "health": {"issues": []},
        "addonArn": addon_arn,
        "createdAt": now,
        "modifiedAt": now,
        "serviceAccountRoleArn": self._get_param("serviceAccountRoleArn"),
        "tags": dict(self._get_param("tags") or {}),
        "configurationValues": self._get_param("configurationValues"),
        "podIdentityAssociations": owned,
    }
    # Real add-ons start CREATING and become ACTIVE: the create call answers CREATING, every
    # describe afterwards ACTIVE, so callers that wait for ACTIVE see both states without sleeping.
    return ActionResult({"addon": {**_addon_view(addons[name]), "status": "CREATING"}})


def describe_addon(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"addon": _addon_view(_addon(cluster, self._get_param("addonName")))})


def list_addons(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    max_results = _check_max_results(self._get_param("maxResults"))
    page, token = _page(sorted(_state(cluster)["addons"]), max_results, self._get_param("nextToken"))
    result: dict[str, Any] = {"addons": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def delete_addon(self: EKSResponse) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    addon = _addon(cluster, self._get_param("addonName"))
    state = _state(cluster)
    # The add-on's own associations go with it.
    for assoc_id in [a["associationId"] for a in state["associations"].values() if a.get("ownerArn") == addon["addonArn"]]:
        del state["associations"][assoc_id]
    del state["addons"][addon["addonName"]]
    return ActionResult({"addon": {**_addon_view(addon), "status": "DELETING"}})


_OPERATIONS = [
    create_pod_identity_association, describe_pod_identity_association, list_pod_identity_associations,
    update_pod_identity_association, delete_pod_identity_association,
    create_addon, describe_addon, list_addons, delete_addon,
]


def install() -> None:
    """Adds the routes and operations to moto's EKS service. Call before the server starts."""
    for operation in _OPERATIONS:
        setattr(EKSResponse, operation.__name__, operation)
    dispatch = eks_urls.response.dispatch
    eks_urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$": dispatch,
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$": dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons$": dispatch,
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$": dispatch,
    })
