"""GitOps: one GitSync's reconcile pipeline, its schedule and its one-shot CLI side. No kopf
here (`controller.handlers.gitsyncs` is the kopf adapter).

    spec         a GitSync's spec, parsed; the namespaces it may manage (`policy_for`)
    pipeline     fetch -> render -> plan -> apply in stages -> prune, one `Outcome`
    dependencies spec.dependsOn: Ready at the current revision, cycles reported
    health       spec.wait / spec.healthChecks: kstatus rules after apply
    remote       spec.kubeConfig: a client of another cluster from inline credentials
    report       the GitSync's status and Events from an `Outcome`, written only when changed
    reconciler   one GitSync: read it, credentials from its secretRef, fetch, run, report
    scheduler    when each GitSync runs (intervals, triggers, backoff), one run at a time
    service      the above wired together for a running controller
    oneshot      `sealops sync|diff|build`: sources, names, the inventory ConfigMap

The cluster writes themselves live in `controller.apply` (`applier`, `wait`, `prune`).
"""
