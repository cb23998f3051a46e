"""Class insight: what a class got wrong together, and whose code is suspiciously alike.

- :mod:`.clusters`: mistake clusters from the checks' own diagnoses (``why``), with stable ids;
- :mod:`.annotations`: an instructor's answer to a cluster (a comment, optionally points through
  the adjustments history), kept in step with who is in the cluster now;
- :mod:`.fingerprints`: a student's own code, normalised into winnowed token fingerprints;
- :mod:`.similarity`: pairs and groups of students whose own code is alike, flagged on evidence;
- :mod:`.archive`: past terms' fingerprints in SQLite, searched through an index;
- :mod:`.pages`: the similarity pages and CSV.

Nothing here runs a notebook: every input is already in the gradebook. Import the modules
themselves, so that the gradebook and the reports load only what they use.
"""
