"""The safe wire format between a kernel and the trusted grader: data only, never code.

A value crosses as JSON. Containers and arrays are tagged objects; an array travels as its raw
little-endian bytes with its dtype's name and its shape, rebuilt here only for plain numeric and
boolean dtypes (no pickle, no ``.npy`` header to parse: the bytes are numbers whatever they hold).
Anything else (an object that lies about ``__eq__``, a module, a model) arrives as an
:class:`Opaque` that equals nothing. ``decode`` trusts nothing in its input: types are
rebuilt on this side from bytes, sizes and depth are bounded, and no pickle is ever read.

The same module encodes on the kernel's side (``grader.checking.probe``) and for the arguments that the
trusted side sends in.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

from grader.errors import WireError

__all__ = ["MAX_DEPTH", "MAX_PAYLOAD", "Opaque", "decode", "encode"]

MAX_PAYLOAD = 64 * 1024 * 1024  # characters of JSON, per answer
MAX_DEPTH = 48
_ARRAY_KINDS = set("biufc")  # bool, int, uint, float, complex: no objects, no structs, no strings
# The dtypes an array may have, by name ("float32", "bool", ...): numpy's own numeric and boolean ones.
_DTYPES = {np.dtype(code).name: np.dtype(code).newbyteorder("<")
           for code in "?" + np.typecodes["AllInteger"] + np.typecodes["AllFloat"]}
_PLAIN = frozenset((type(None), bool, int, str))  # values that are JSON as they are (a float may not be finite)
_LEAVES = frozenset((type(None), bool, int, float, str))  # JSON values that decode to themselves
MAX_DIMS = 64  # numpy's own limit


class Opaque:
    """A value of a type the wire does not carry; it equals nothing but itself."""

    __slots__ = ("type_name", "text")

    def __init__(self, type_name: str, text: str = "") -> None:
        self.type_name = type_name
        self.text = text

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


# ----------------------------------------------------------------------------- encoding

def _array(array: np.ndarray) -> dict[str, Any]:
    """``dtype``, ``shape`` and ``data`` (the raw little-endian bytes, base64) of a numeric array."""
    array = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def _type_name(value: object) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _short_repr(value: object) -> str:
    try:
        text = object.__repr__(value)
    except Exception:  # noqa: BLE001 - a hostile repr must not break encoding
        text = "?"
    return text[:200]


def _encode(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return {"t": "float", "v": repr(value)}
    if kind in (list, tuple):
        types = set(map(type, value))
        if types <= _PLAIN or (types == {float} and all(map(math.isfinite, value))):
            items = list(value)  # labels, indices, losses, names: as they are, in one pass
        else:
            items = [_encode(v, depth + 1) for v in value]
        return items if kind is list else {"t": "tuple", "v": items}
    if kind is dict:
        return {"t": "dict", "v": [[_encode(k, depth + 1), _encode(v, depth + 1)] for k, v in value.items()]}
    if kind is bytes:
        return {"t": "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.ndarray) and kind is np.ndarray:
        if value.dtype.kind not in _ARRAY_KINDS:
            return {"t": "opaque", "type": f"numpy.ndarray[{value.dtype}]", "repr": ""}
        return {"t": "ndarray", **_array(value)}
    if isinstance(value, np.generic) and value.dtype.kind in _ARRAY_KINDS:
        return {"t": "npscalar", **_array(np.asarray(value))}
    encoded = _encode_torch(value) or _encode_image(value)
    if encoded is not None:
        return encoded
    return {"t": "opaque", "type": _type_name(value), "repr": _short_repr(value)}


def _encode_torch(value: Any) -> dict[str, Any] | None:
    torch = _module("torch")
    if torch is None or not isinstance(value, torch.Tensor):
        return None
    if value.layout != torch.strided or value.is_quantized:
        return {"t": "opaque", "type": f"torch.Tensor[{value.layout}]", "repr": ""}
    # Plain-tensor methods, so that a subclass cannot choose what is sent.
    plain = torch.Tensor.detach(value)
    plain = torch.Tensor.cpu(plain).as_subclass(torch.Tensor).resolve_conj().resolve_neg()
    dtype = str(plain.dtype)
    if plain.dtype == torch.bfloat16:
        plain = plain.to(torch.float32)
    return {
        "t": "tensor",
        "tensor_dtype": dtype,  # bfloat16 travels as float32 ("dtype", its data's)
        "requires_grad": bool(value.requires_grad),
        "device": str(value.device),
        **_array(plain.numpy()),
    }


def _encode_image(value: Any) -> dict[str, Any] | None:
    image_module = _module("PIL.Image")
    if image_module is None or not isinstance(value, image_module.Image):
        return None
    if value.mode not in ("RGB", "L", "RGBA"):
        return {"t": "opaque", "type": f"PIL.Image.Image[{value.mode}]", "repr": ""}
    return {"t": "image", "mode": str(value.mode), **_array(np.asarray(value))}


def _module(name: str) -> Any:
    # Only encode types whose library is already loaded: the kernel never imports for us.
    import sys

    return sys.modules.get(name)


def encode(value: Any) -> str:
    """JSON text for ``value``; unknown types become opaque markers, never errors."""
    return json.dumps(_encode(value, 0), allow_nan=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- decoding

def _load_array(node: dict) -> np.ndarray:
    """The array ``node`` describes, rebuilt from its bytes: a dtype of ours, a shape that fits them."""
    name = node.get("dtype")
    dtype = _DTYPES.get(name) if type(name) is str else None
    if dtype is None:
        raise WireError(f"array of dtype {str(node.get('dtype'))[:40]!r} is not allowed")
    shape = node.get("shape")
    if (type(shape) is not list or len(shape) > MAX_DIMS
            or not all(type(n) is int and n >= 0 for n in shape)):
        raise WireError("array shape is not a list of sizes")
    text = node.get("data")
    if not isinstance(text, str):
        raise WireError("array payload is not text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("array payload is not base64") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"array payload of {len(raw)} bytes does not fit its shape {shape[:8]} and dtype")
    # From a bytearray: writable, as a check may expect, without a second copy.
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def _decode(node: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    if type(node) in _LEAVES:
        return node
    if type(node) is list:
        if _LEAVES.issuperset(map(type, node)):  # fresh from json.loads: nothing to rebuild
            return node
        return [_decode(v, depth + 1) for v in node]
    if type(node) is not dict:
        raise WireError(f"unexpected JSON value of type {type(node).__name__}")
    tag = node.get("t")
    if tag == "tuple":
        return tuple(_decode(v, depth + 1) for v in _list(node.get("v")))
    if tag == "dict":
        result = {}
        for pair in _list(node.get("v")):
            if type(pair) is not list or len(pair) != 2:
                raise WireError("malformed dict entry")
            key = _decode(pair[0], depth + 1)
            try:
                result[key] = _decode(pair[1], depth + 1)
            except TypeError:
                raise WireError("unhashable dict key") from None
        return result
    if tag == "float":
        text = node.get("v")
        if text not in ("nan", "inf", "-inf"):
            raise WireError("malformed float")
        return float(text)
    if tag == "bytes":
        try:
            return base64.b64decode(str(node.get("v", "")).encode("ascii"), validate=True)
        except ValueError:
            raise WireError("malformed bytes") from None
    if tag == "ndarray":
        return _load_array(node)
    if tag == "npscalar":
        array = _load_array(node)
        if array.shape != ():
            raise WireError("numpy scalar with a shape")
        return array[()]
    if tag == "tensor":
        return _tensor(node)
    if tag == "image":
        return _image(node)
    if tag == "opaque":
        return Opaque(str(node.get("type", "?"))[:200], str(node.get("repr", ""))[:200])
    raise WireError(f"unknown tag {str(tag)[:40]!r}")


def _list(value: Any) -> list:
    if type(value) is not list:
        raise WireError("malformed container")
    return value


def _tensor(node: dict) -> Any:
    import torch

    tensor = torch.from_numpy(_load_array(node))
    dtype_name = str(node.get("tensor_dtype", ""))
    if dtype_name == "torch.bfloat16":
        tensor = tensor.to(torch.bfloat16)
    elif dtype_name != str(tensor.dtype):
        raise WireError(f"tensor dtype {dtype_name[:40]!r} does not match its data ({tensor.dtype})")
    if node.get("requires_grad") is True and tensor.is_floating_point():
        tensor.requires_grad_(True)
    return tensor


def _image(node: dict) -> Any:
    from PIL import Image

    array = _load_array(node)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise WireError("image data is not a uint8 (H, W) or (H, W, C) array")
    try:
        image = Image.fromarray(array)
    except (TypeError, ValueError) as exc:
        raise WireError(f"image data is not an image: {exc}") from None
    if image.mode != str(node.get("mode", "")):
        raise WireError(f"image mode {str(node.get('mode'))[:10]!r} does not match its data")
    return image


def decode(text: str) -> Any:
    """The value ``text`` encodes, rebuilt on this side; raises :class:`WireError` otherwise."""
    if not isinstance(text, str):
        raise WireError("payload is not text")
    if len(text) > MAX_PAYLOAD:
        raise WireError(f"payload of {len(text)} characters exceeds the {MAX_PAYLOAD} limit")
    try:
        node = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise WireError(f"payload is not JSON: {str(exc)[:100]}") from None
    return _decode(node, 0)
