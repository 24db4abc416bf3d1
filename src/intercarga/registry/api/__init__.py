"""HTTP routers of the registry layer, each built by the composition root and passed to the app."""
