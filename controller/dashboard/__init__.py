"""`sealops dashboard`: a read-only web view of the GitOps state, served on loopback.

It reads with the user's own kubeconfig, so it shows exactly what that user may read; a kind
the user may not list is shown as "not permitted", not as an error. It never reads a Secret:
key generations come from the published ConfigMap `sealops-public-keys`, values per generation
from the key ids in the SealedSecrets' envelope headers.

    kinds      where each shown kind lives in the API
    common     pure helpers: conditions, ages, status classes, display-safe text and URLs
    rows       pure view-model: one row type per kind, built from API objects
    keygens    pure view-model: key generations and the sealed values per generation
    collect    the only module that talks to the API: one `Snapshot` of every section
    server     aiohttp application, Jinja2 templates (package data), security headers
"""
