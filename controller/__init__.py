"""sealops' controller: key generations, unsealing, Vault sync and the GitOps loop."""
