"""The embedded mesh lab: Kubernetes API servers, a controller, pods and a mesh
data plane, all on 127.0.0.1."""
