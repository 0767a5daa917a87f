"""Errors of the Git source stage, each mapping to one Reason on the source's condition.

    ClusterError (sealer.errors)
    └── FetchError              git could not list, fetch or check out          FetchFailed
    PolicyError (sealer.errors)
    ├── SourceRefusedError      URL, ref or credentials refused by policy       SourceRefused
    └── CheckoutTooLargeError   a revision over the size or file-count caps      CheckoutTooLarge

Messages carry the redacted URL (no userinfo, no query) and never a password, token or key.
"""

from __future__ import annotations

from sealer import errors

__all__ = ["CheckoutTooLargeError", "FetchError", "SourceRefusedError"]


class FetchError(errors.ClusterError):
    """git failed: server down, 401, TLS, timeout, missing ref. Retryable with backoff."""

    reason = "FetchFailed"


class SourceRefusedError(errors.PolicyError):
    """The source's URL, ref or credentials are refused before git runs."""

    reason = "SourceRefused"


class CheckoutTooLargeError(errors.PolicyError):
    """The revision has more bytes or files than the configured caps."""

    reason = "CheckoutTooLarge"
