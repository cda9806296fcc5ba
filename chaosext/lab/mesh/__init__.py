"""The mesh model: Istio/Envoy/ztunnel locality routing as pure code (no I/O)."""
