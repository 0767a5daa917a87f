"""Every example under examples/ is exercised here: renders, seal checks, the demo key, and the
GitOps repository and plain-YAML example end to end on the local control plane."""
