"""The cluster's key generations: persisted in Secrets, renewed on schedule, published."""
