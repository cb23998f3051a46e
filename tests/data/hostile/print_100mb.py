# base: solution
# status: limit
# score: full
# says: output limit
# 100 MB of printed output: kept up to the output limit, dropped after.
line = "x" * 1_000_000
for _ in range(100):
    print(line)
