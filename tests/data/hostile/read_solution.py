# base: stub
# status: graded
# score: 0
# says: No such file or directory
# Tries to print the reference solution.
print(open("@@SOLUTION@@").read())
