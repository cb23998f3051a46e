"""Final grades: what an instructor publishes, derived from the automatic results.

- :mod:`.adjustments`: an instructor's decision (set, add, excuse, revoke), checked;
- :mod:`.late`: the course's late policy, extensions and submission times, and what lateness costs;
- :mod:`.final`: the final grade of a student, derived, never stored;
- :mod:`.book`: these operations on a gradebook file, each under its writer lock.

The gradebook (:mod:`grader.store.gradebook`) stores the inputs; nothing here runs a notebook.
Import the modules themselves: this package's own import costs nothing, and the gradebook
imports its data types.
"""
