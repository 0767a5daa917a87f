"""The runnable examples (see examples/README.md); a package only so tests and the demo can
import `examples.reseal`."""
