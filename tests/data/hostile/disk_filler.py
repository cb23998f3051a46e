# base: solution
# status: limit
# score: full
# says: file size limit
# One ever-growing file: the file size limit stops it.
with open("filler.bin", "wb") as f:
    while True:
        f.write(b"0" * (1024 * 1024))
