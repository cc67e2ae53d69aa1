"""moto for the irsa local stack.

EKS clusters created here report the local kube-apiserver's issuer, endpoint and CA, like a real
EKS cluster would. Prints one JSON line {"ready": true, "port": N} on stdout once it accepts
connections, then exits when stdin closes so it never outlives the harness.
"""

import argparse
import base64
import json
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--issuer", required=True)
parser.add_argument("--endpoint", required=True)
parser.add_argument("--ca-file", required=True)
parser.add_argument("--port", type=int, default=0)
args = parser.parse_args()

# Read by moto when the IAM backend is created, so it must be set before the first request.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

import moto.eks.models as eks_models  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

# Cluster.__init__ formats these module globals with region=..., so braces must not appear.
eks_models.ISSUER_TEMPLATE = args.issuer.replace("{", "{{").replace("}", "}}")
eks_models.ENDPOINT_TEMPLATE = args.endpoint.replace("{", "{{").replace("}", "}}")

with open(args.ca_file, "rb") as f:
    ca_data = base64.b64encode(f.read()).decode()
_cluster_init = eks_models.Cluster.__init__


def _cluster_init_with_ca(self, *a, **kw):  # type: ignore[no-untyped-def]
    _cluster_init(self, *a, **kw)
    # moto returns random text here; tools that build a kubeconfig need the real CA.
    self.certificate_authority = {"data": ca_data}


eks_models.Cluster.__init__ = _cluster_init_with_ca  # type: ignore[method-assign]

# moto has no EKS Pod Identity and no add-on operations: eks_pod_identity.py adds them.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eks_pod_identity  # noqa: E402

eks_pod_identity.install()

# moto ignores SourceVersion and has no UpdateNodegroupVersion: nodegroup_versions.py adds them.
import nodegroup_versions  # noqa: E402

nodegroup_versions.install()

server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
server.start()
_, port = server.get_host_and_port()
print(json.dumps({"ready": True, "port": port}), flush=True)

sys.stdin.read()  # returns at EOF: the harness closed the pipe or died
server.stop()
