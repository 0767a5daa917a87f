"""Git sources: a URL and a ref in, an immutable checkout of one revision out.

Modules (the controller imports them as namespaces):

    urls         URL allow-list (`check_url`) and redaction (`redact_url`, `scrub_text`)
    credentials  `Credentials` and the short-lived askpass / SSH files that carry them
    proc         a bounded subprocess runner (no shell, deadline, process-group kill)
    gitcli       one hardened `git` invocation, errors scrubbed
    git          `resolve`, `fetch`, `Ref`, `Checkout`, `GitSource`
    errors       `FetchError`, `SourceRefusedError`, `CheckoutTooLargeError`

The renderer never imports this package's git code: it consumes `Checkout.root`.
"""

from __future__ import annotations

from controller.sources.credentials import Credentials
from controller.sources.errors import CheckoutTooLargeError, FetchError, SourceRefusedError
from controller.sources.git import Checkout, CheckoutLimits, GitSource, Ref, fetch, resolve
from controller.sources.urls import check_url, redact_url

__all__ = [
    "Checkout",
    "CheckoutLimits",
    "CheckoutTooLargeError",
    "Credentials",
    "FetchError",
    "GitSource",
    "Ref",
    "SourceRefusedError",
    "check_url",
    "fetch",
    "redact_url",
    "resolve",
]
