# base: solution
# status: graded
# score: full
# Writes to the host's /tmp, the grader's package and the output folder: none of it lands.
import os
for path in ("@@MARKER@@", os.path.join(os.path.dirname(__import__("grader").__file__), "pwned.py"),
             "@@OUT@@/pwned.txt"):
    try:
        with open(path, "w") as f:
            f.write("pwned")
        print("wrote", path)
    except OSError as exc:
        print("refused", path, exc)
