"""Real local servers for tests, `make cluster` and the demo: the Kubernetes control plane."""
