"""The live mesh: read any Kubernetes API (real clusters and the lab alike, over
HTTP through `chaosext.clusters`) once, then predict, explain and lint from memory
with the mesh model (`chaosext.mesh`). Never imports the lab.

Modules: `reader` (I/O: `read_mesh`, `kubeconfig_file`), `state` (`MeshState`: hosts,
endpoints, the ServiceConfig istiod builds), `choosers` (which proxy chooses for a
client), `explain` (`meshdrill mesh explain`, `predict`), `cli` (the `mesh` group).
"""
