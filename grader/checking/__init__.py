"""Checking: a course's pytest checks, run in the trusted process against a live kernel.

The runner keeps one pytest session per exercise (:mod:`.runner`) with the plugin that turns
outcomes into results (:mod:`.plugin`); checks talk to the notebook through one API with two back
ends (:mod:`.remote`); in the kernel, probes answer as data (:mod:`.probe`) over a wire that
carries no code (:mod:`.wire`). Expected values are computed once (:mod:`.reference`), every check
seeded alike (:mod:`.seeds`), and hard-coded public answers earn nothing (:mod:`.twins`).

Nothing is imported here: a student's kernel imports :mod:`.probe` for every check.
"""
