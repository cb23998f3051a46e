"""The course service: students hand in from a browser or the shell and get their feedback there;
instructors release it. One process (:mod:`.app`, served by uvicorn) in front of one service
folder (:mod:`.folder`); uploads are checked (:mod:`.intake`), kept in the gradebook's database
(:mod:`grader.store.service`) and graded by the bulk engine's warm workers (:mod:`.grading`)."""
