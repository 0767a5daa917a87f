"""The monitoring tests reuse the GitOps git server and the Vault test server fixtures."""

from __future__ import annotations

from tests.integration.gitops.conftest import gitops  # noqa: F401
from tests.integration.vaultsync.conftest import clock, vault  # noqa: F401
