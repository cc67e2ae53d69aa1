"""Launch template versions from a source version, and UpdateNodegroupVersion, for the local stack's moto.

moto 5.2.x ignores CreateLaunchTemplateVersion's SourceVersion (the new version holds only the data
sent) and has no UpdateNodegroupVersion. `irsa close-paths` needs both to require IMDSv2 on a managed
nodegroup: a new version of its launch template based on the current one, then the nodegroup moved
to it. This module adds them to moto's own EC2 and EKS services (as eks_pod_identity.py does), from
the API references:

- CreateLaunchTemplateVersion, SourceVersion: "the new version inherits the launch parameters from
  the source version. If you specify additional launch parameters for the new version, they
  overwrite any corresponding launch parameters inherited from the source version."
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
  (top-level parameters of LaunchTemplateData are what is overwritten here.)
- UpdateNodegroupVersion (POST /clusters/{name}/node-groups/{nodegroupName}/update-version):
  "You can update a node group using a launch template only if the node group was originally
  deployed with a launch template" — InvalidRequestException otherwise; the launch template named
  must be the nodegroup's own (by id or name) and the version must exist. The answer is an Update
  (type VersionUpdate, param LaunchTemplateVersion). Real EKS then rolls the nodes; here the
  nodegroup names the new version at once (status Successful).
  https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupVersion.html
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.eks import urls as eks_urls
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException, ResourceNotFoundException
from moto.eks.responses import EKSResponse
from moto.ec2.models import ec2_backends

def _ec2_create_launch_template_version_patch() -> None:
    from moto.ec2.responses.launch_templates import LaunchTemplates

    original = LaunchTemplates.create_launch_template_version

    def create_launch_template_version(self: Any) -> ActionResult:
        source = self._get_param("SourceVersion")
        if source:
            name = self._get_param("LaunchTemplateName")
            tmpl_id = self._get_param("LaunchTemplateId")
            template = self.ec2_backend.get_launch_template(tmpl_id) if tmpl_id else self.ec2_backend.get_launch_template_by_name(name)
            base = dict(template.get_version(source).data)
            given = self._get_param("LaunchTemplateData", {}) or {}
            merged = {**base, **given}
            # moto reads the request's LaunchTemplateData through _get_param: answer it with the merge.
            get_param = self._get_param

            def _get_param(key: str, *args: Any, **kwargs: Any) -> Any:
                return merged if key == "LaunchTemplateData" else get_param(key, *args, **kwargs)

            self._get_param = _get_param
            try:
                return original(self)
            finally:
                self._get_param = get_param
        return original(self)

    LaunchTemplates.create_launch_template_version = create_launch_template_version  # type: ignore[method-assign]


def update_nodegroup_version(self: EKSResponse) -> ActionResult:
    cluster_name = self._get_param("name")
    nodegroup_name = self._get_param("nodegroupName")
    cluster = self.eks_backend.clusters.get(cluster_name)
    if cluster is None:
        raise ResourceNotFoundException(clusterName=cluster_name, nodegroupName=nodegroup_name, fargateProfileName=None, addonName=None,
                                        message=f"No cluster found for name: {cluster_name}.")
    nodegroup = cluster.nodegroups.get(nodegroup_name)
    if nodegroup is None:
        raise ResourceNotFoundException(clusterName=cluster_name, nodegroupName=nodegroup_name, fargateProfileName=None, addonName=None,
                                        message=f"No node group found for name: {nodegroup_name}.")
    wanted = self._get_param("launchTemplate")
    params: list[dict[str, str]] = []
    if wanted:
        own = nodegroup.launch_template
        if not own:
            raise InvalidRequestException(clusterName=cluster_name, nodegroupName=nodegroup_name, addonName=None,
                                          message="You can update a node group using a launch template only if the node group was originally deployed with a launch template.")
        if (wanted.get("id") and wanted["id"] != own.get("id")) or (wanted.get("name") and wanted["name"] != own.get("name")):
            raise InvalidParameterException(clusterName=cluster_name, nodegroupName=nodegroup_name, addonName=None,
                                            message="The launch template must be the one the node group was created with.")
        version = wanted.get("version")
        if version:
            template = ec2_backends[self.current_account][self.region].get_launch_template(own["id"])
            try:
                template.get_version(version)
            except (IndexError, ValueError):
                raise InvalidParameterException(clusterName=cluster_name, nodegroupName=nodegroup_name, addonName=None,
                                                message=f"Launch template version {version} does not exist.")
            own["version"] = str(version)
            params.append({"type": "LaunchTemplateVersion", "value": str(version)})
    update = {
        "id": str(uuid.uuid4()),
        "status": "Successful",
        "type": "VersionUpdate",
        "params": params,
        "createdAt": datetime.now(timezone.utc),
        "errors": [],
    }
    return ActionResult({"update": update})


def install() -> None:
    """Adds the operations to moto's EC2 and EKS services. Call before the server starts."""
    _ec2_create_launch_template_version_patch()
    setattr(EKSResponse, "update_nodegroup_version", update_nodegroup_version)
    eks_urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$": eks_urls.response.dispatch,
    })
