"""Where courses run: the same unit of work behind each platform's own contract.

- :mod:`.adapter`: what every entry point does (collect safely, grade in a cage, write atomically);
- :mod:`.gradescope`: ``/autograder/submission`` in, ``/autograder/results/results.json`` out;
- :mod:`.prairielearn`: ``/grade/student`` in, ``/grade/results/results.json`` out;
- :mod:`.package`: the zip an instructor uploads (Gradescope) or builds an image from (PrairieLearn).

Nothing outside this package knows about platforms.
"""
