"""Intake: what was handed in, read safely. A class's submissions (folders, zips, LMS exports)
become one entry per student (:mod:`.submissions`, through the safe extractor of
:mod:`.extract`); a submission's notebooks are validated and mapped to exercises
(:mod:`.notebooks`); edited given cells are found (:mod:`.tamper`)."""
