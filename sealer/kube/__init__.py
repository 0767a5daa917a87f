"""The only importer of `kubernetes` in the project: kubeconfig loading and a thin REST client.

Everything above this package talks to the API server in plain JSON dicts (`client.KubeClient`),
which works the same for core kinds and custom resources and for server-side apply. The
`kubernetes` package is used only to load kubeconfig files and in-cluster configuration (its
loader knows every auth method); its generated models are never used, so the client works
across its major versions.
"""
