# base: solution
# status: kernel_died
# score: 0
# says: exited by itself with status 3
# The kernel process leaves in the middle of the notebook.
import os
os._exit(3)
