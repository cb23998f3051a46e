# base: solution
# status: graded
# score: full
# says: did not finish within
# cell-timeout: 6
# A busy loop: the cell times out, is interrupted, and the rest of the notebook runs.
while True:
    pass
