#!/usr/bin/env bash
# Builds the Gradescope grading image: run once, as root, when the autograder is uploaded.
# Made by `grader package gradescope` (grader @VERSION@). Everything it installs is readable by
# every user: in this container the kernels run as uids of their own (65534 and below).
set -euo pipefail
SOURCE=/autograder/source
VENV=/opt/grader-venv
DATA=/opt/grader-data

apt-get update -q
# The default image's python3 is 3.10; the grader needs 3.11 or newer. libseccomp2: the kernels' filter.
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3.11 python3.11-venv libseccomp2
python3.11 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
TORCH_INDEX="@TORCH_INDEX@"  # an index of CPU-only torch wheels, if the package named one
if [ -n "$TORCH_INDEX" ]; then
  "$VENV/bin/pip" install --quiet --index-url "$TORCH_INDEX" torch torchvision
fi
"$VENV/bin/pip" install --quiet "$SOURCE"/dist/*.whl

# The data set, where every uid can read it; the kernel uids need no account.
"$VENV/bin/grader" data --course "$SOURCE/course/exercises" --data-root "$DATA"
chmod -R a+rX "$VENV" "$DATA"

# A smoke grade of the bundled stub: a broken image fails here, at upload, not on the first student.
SMOKE=$(mktemp -d)
mkdir -p "$SMOKE/submission" "$SMOKE/results"
cp "$SOURCE/course/exercises/@SMOKE_NOTEBOOK@" "$SMOKE/submission/"
"$VENV/bin/grader" autograde gradescope --root "$SMOKE" --course "$SOURCE/course/exercises" --data-root "$DATA" @EXERCISE_ARGS@
"$VENV/bin/python" - "$SMOKE/results/results.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))
if not results.get("tests") or "error" in results.get("extra_data", {}):
    sys.exit("the smoke grade of the bundled stub failed: " + results.get("output", "no output"))
print("smoke grade:", results["output"].splitlines()[0])
PY
rm -rf "$SMOKE"
