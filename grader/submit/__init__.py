"""What a student hands in: ``grader submit`` builds one zip with a manifest of hashes.

:mod:`.manifest` is the manifest (``grader-submission.json``): written by :mod:`.build`, read back
by bulk grading to tell "changed after submit". It is a consistency check, never proof of
identity or time: the submission time is the LMS's. :mod:`.outputs` strips outputs above the
grader's cap, :mod:`.build` validates, self-checks and writes the zip atomically.
"""
