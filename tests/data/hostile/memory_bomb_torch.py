# base: solution
# status: limit
# score: max full
# says: memory limit
# One huge tensor: torch's allocator reports the failed allocation.
big = torch.ones(2**34, dtype=torch.uint8)
