# base: solution
# status: limit
# score: full
# says: open files limit
# Opens files until the descriptor limit, closes them again and lets the error through: the cell
# fails with "Too many open files", the notebook and the checks go on. (Hoarding them instead can
# leave the kernel unable to send even its error: the student's own loss, never a gain.)
def hoard():
    kept = []
    try:
        while True:
            kept.append(open(os.devnull))
    except OSError:
        for handle in kept:
            handle.close()
        raise
hoard()
