# base: stub
# status: graded
# score: 0
# says: No such file or directory|Permission denied
# Tries to print the reference solution.
print(open("@@SOLUTION@@").read())
