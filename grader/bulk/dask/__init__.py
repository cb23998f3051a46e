"""Grading on many machines: ``grader bulk`` with Dask distributed running the unit of work.

The coordinator stays the only gradebook writer; only where a submission is graded changes.

- :mod:`.payload`: what travels: a submission as zip bytes with its sha256, the grading settings
  as JSON, and the result back as JSON (never a pickle).
- :mod:`.worker`: the worker side: a Dask worker plugin (also a ``--preload`` module) that
  loads the course, refuses to start without a cage, keeps a warm zygote, and the task itself.
- :mod:`.coordinator`: the client side: connecting, checking every worker's version and course,
  a bounded window of tasks, hash checks, budgets, releasing each future once its row is in.

Nothing here is imported unless ``--scheduler``, ``--scheduler-file`` or ``--cluster`` is given:
Dask is an optional extra (``notebook-grader[dask]``).
"""
