# base: solution
# status: graded
# score: full
# says: SystemExit
# IPython turns SystemExit into a cell error; the kernel and the checks go on.
import sys
sys.exit("bye")
