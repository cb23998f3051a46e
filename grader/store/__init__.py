"""The store: the gradebook (one SQLite file) and the records it keeps. Everything that reads or
writes grading state goes through :mod:`.gradebook`, so that a move to a server database is one
module's work; the records themselves (:mod:`.records`) import nothing of it."""
