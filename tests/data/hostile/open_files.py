# base: solution
# status: limit
# score: full
# says: open files limit
# Opens files until the descriptor limit; the cell fails, the notebook goes on.
def hoard():
    kept = []
    while True:
        kept.append(open(os.devnull))
hoard()
