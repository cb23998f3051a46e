# expect: nothing
# The reference solution itself.
