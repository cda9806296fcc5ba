"""Preflight: is the live mesh the one a drill needs? Checked before anything changes.

Modules: `findings` (what a check says), `needs` (what each tier needs of the
mesh), `placement` and `config` (pure checks over objects already read, as the
Kubernetes API returns them), `access` (the drill's RBAC, asked with
SelfSubjectAccessReview), `reading` (the only I/O: reads through
`chaosext.clusters`), `run` (reads every context and runs every check), `cli`
(`meshdrill mesh check`).
"""
