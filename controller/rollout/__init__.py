"""Rolling workloads when a Secret they use changes (issue 13 items 2 and 3).

A Deployment, StatefulSet or DaemonSet opts in with `sealops.dev/restart-on: auto` (every
Secret its pod template references) or a comma-separated list of Secret names. When the data of
such a Secret changes, the controller stamps the pod template with a keyed hash of the data
(`sealops.dev/secret-hash`), so the workload's own controller rolls it once.

    refs      pure: opt-in annotation, the Secrets a pod template references, resources
    digest    pure: the keyed hash over the referenced Secrets' data (never the data itself)
    index     Secret -> opted-in workloads of a namespace, kept from watch events
    patcher   one workload: read, hash, server-side apply of that one annotation, Event
    service   glue: Secret changes -> debounced queue -> patcher; GitSync claims; metrics
    stamp     the GitSync side: the hash put into planned workloads before they are applied

Import the modules, not names: `from controller.rollout import service`.
"""
