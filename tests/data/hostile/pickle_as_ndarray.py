# base: stub
# status: graded
# score: 0
# The answer is forged as an "ndarray" whose bytes are a pickle that would create a file.
import base64, json, pickle
import grader.probe as _probe

class Boom:
    def __reduce__(self):
        return (open, ("@@MARKER@@", "w"))

_payload = base64.b64encode(pickle.dumps(Boom())).decode()

def run_source(source, name, args_json):
    _probe.LAST = json.dumps({"t": "dict", "v": [["kind", "value"], ["value", {"t": "ndarray", "npy": _payload}]]})

_probe.run_source = run_source
