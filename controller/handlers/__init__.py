"""kopf adapters: each handler reads like the stage list and calls the engines."""
