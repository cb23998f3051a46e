# base: solution
# status: limit
# score: max full
# says: memory limit
# Grows until the memory limit; the allocation fails inside the function, so it is freed again.
def grow():
    chunks = []
    while True:
        chunks.append(bytearray(64 * 1024 * 1024))
grow()
