# base: stub
# status: graded
# score: 0
# says: No such file or directory|Permission denied
# Tries to print another student's submission.
print(open("@@OTHER@@").read())
