"""The end-to-end demo behind `make demo`.

At this stage it starts the real local control plane, prints the server version and the
namespaces through sealops' own client, and stops it. Later stages extend it until it shows the
whole product.
"""

from __future__ import annotations

import sys

from sealer.kube import client, config
from tests.harness import controlplane


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def main() -> int:
    step("Starting a local Kubernetes control plane (etcd, kube-apiserver, "
         "kube-controller-manager)")
    with controlplane.running() as cp:
        kube = config.connect(kubeconfig=str(cp.kubeconfig))
        version = kube.request("GET", "/version")
        print(f"    server version: {version['gitVersion']} ({cp.server})")
        step("Namespaces, listed through sealops' client")
        for ns in kube.list(client.NAMESPACES):
            print(f"    {ns['metadata']['name']}")
        kube.close()
        step("Stopping the control plane")
    print("    done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
