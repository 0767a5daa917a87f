"""Webhook receivers (issue 14 item 2; Flux's Receiver): a push to Git reconciles GitSyncs now.

    spec       a Receiver's spec, parsed; its webhook path (sha256 of token, name, namespace)
    auth       pure: who may call (github, gitlab, generic-hmac), replay caches, body caps
    service    the path index, a request end to end (token read, verify, trigger), the status

`controller.http.hooks` serves `/hook/<digest>` on the controller's HTTP server;
`controller.handlers.receivers` is the kopf adapter.
"""
