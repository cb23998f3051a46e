# base: solution
# status: graded
# score: full
# says: StdinNotImplementedError
# input() has no stdin while grading: an error in that cell, nothing more.
name = input("your name? ")
