"""Publishing: results turned into what people read and what other systems import. HTML reports
per student and for the class (:mod:`.report`, :mod:`.classreport`, jinja2 templates), terminal
tables (:mod:`.terminal`), and the exports: CSV for the LMS, Gradescope, JUnit (:mod:`.exports`)."""
