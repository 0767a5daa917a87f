"""Notifications (issue 14 item 3): `Alert` objects forward the controller's own Events about
chosen objects (Ready transitions, failures) to a generic or a Slack-compatible webhook.

    spec       an Alert's spec, parsed; the webhook address policy
    dispatch   matching Events to Alerts, rate limits, the payloads, delivery on a thread

`controller.handlers.alerts` is the kopf adapter; `controller.status.EventRecorder` feeds
`dispatch.Dispatcher.observe` with every Event it posts.
"""
