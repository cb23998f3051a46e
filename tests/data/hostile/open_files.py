# base: solution
# status: limit
# score: max full
# says: open files limit
# Opens files until the descriptor limit; the cell fails, the notebook goes on (the open files stay
# referenced from IPython's last traceback, so later checks may fail: the student's own doing).
def hoard():
    kept = []
    while True:
        kept.append(open(os.devnull))
hoard()
