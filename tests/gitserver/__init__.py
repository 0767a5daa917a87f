"""A git smart-HTTP server on 127.0.0.1 and repository helpers, for integration tests."""
