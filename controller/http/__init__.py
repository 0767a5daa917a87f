"""The controller's HTTP endpoints: public keys, verify, rotate, health and metrics."""
