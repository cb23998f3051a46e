# base: stub
# status: graded
# score: 0
# Prints what a passing run looks like; the kernel's claims are never read for a score.
from IPython.display import display
print("All checks passed: 20 / 20")
display({"application/json": {"score": 20, "max_score": 20, "all_passed": True}}, raw=True)
