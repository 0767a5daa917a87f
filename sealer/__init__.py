"""sealops' library: sealing Kubernetes Secrets into SealedSecrets, and the `seal` CLI."""
