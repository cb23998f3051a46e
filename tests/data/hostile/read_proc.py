# base: stub
# status: graded
# score: 0
# Prints the environment and the command line of every process it can see: a secret in the
# grader's environment (the test puts one there) must not be among them.
import os
seen = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        for name in ("environ", "cmdline"):
            try:
                with open(f"/proc/{entry}/{name}", "rb") as handle:
                    seen.append(handle.read().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError as exc:
                seen.append(f"{entry}/{name}: {exc.strerror}")
print("\n".join(seen))
