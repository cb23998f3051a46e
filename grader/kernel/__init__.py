"""Kernels: where a notebook's cells run. A kernel per notebook, caged (:mod:`.sandbox`), forked
from a warm zygote (:mod:`.forkserver`) or started fresh (:mod:`.managers`); the cells run by
nbclient (:mod:`.cells`); the kernels a grading process keeps warm (:mod:`.pool`, on the folders,
cgroup and zygotes of :mod:`.host`); what a kernel's end says (:mod:`.breaches`).

Nothing is imported here: a student's kernel imports :mod:`.sandbox.environment` on any platform.
"""
