"""Turning SealedSecrets into Secrets: the pure plan (`desired`) and its cluster shell
(`reconcile`)."""
