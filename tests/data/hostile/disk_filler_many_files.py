# base: solution
# status: limit
# score: full
# says: scratch folder
# needs: scratch_size
# Many files under the size limit: the private scratch folder fills up, the host disk does not.
index = 0
while True:
    with open(f"filler-{index}.bin", "wb") as f:
        f.write(b"0" * (8 * 1024 * 1024))
    index += 1
