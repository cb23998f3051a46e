# base: stub
# status: graded
# score: 0
# says: No such file or directory|Permission denied
# Tries to print the gradebook in the output folder.
print(open("@@GRADEBOOK@@", "rb").read())
