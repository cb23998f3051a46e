# base: stub
# status: graded
# score: 0
# The answer is a tensor of dtype object: its bytes a real .npy file of dtype object (a pickle inside).
import base64, io, json
import grader.checking.probe as _probe

class Boom:
    def __reduce__(self):
        return (open, ("@@MARKER@@", "w"))

_buffer = io.BytesIO()
np.save(_buffer, np.array([Boom(), 1], dtype=object), allow_pickle=True)
_payload = base64.b64encode(_buffer.getvalue()).decode()
_forged = {"t": "tensor", "tensor_dtype": "torch.float32", "dtype": "object", "shape": [2], "data": _payload}

def run_source(source, name, args_json):
    _probe.LAST = json.dumps({"t": "dict", "v": [["kind", "value"], ["value", _forged]]})

_probe.run_source = run_source
