# base: solution
# status: graded
# score: full
# says: attached to 0 processes
# Tries to ptrace every process it can see (its zygote, a forked sibling, the grader): it must
# get none of them, or it could rewrite the kernels forked for the next students.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
attached = 0
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        if libc.ptrace(16, int(entry), 0, 0) == 0:  # PTRACE_ATTACH
            attached += 1
            libc.ptrace(17, int(entry), 0, 0)  # PTRACE_DETACH
raise RuntimeError(f"attached to {attached} processes")
