# base: solution
# status: graded|kernel_died
# score: max full
# SIGSTOP to every process it can see, then kill(-1, SIGKILL): a process of the grader's own user
# (the test's bystander) must be out of its reach, stopped no more than killed.
import os, signal
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) not in (os.getpid(), 1):
        try:
            os.kill(int(entry), signal.SIGSTOP)
        except OSError:
            pass
os.kill(-1, signal.SIGKILL)
