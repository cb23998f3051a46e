"""The wire format: what a kernel can send back, and what it cannot get past the decoder."""

from __future__ import annotations

import base64
import io
import json
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from grader.checking import wire
from grader.errors import WireError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    | st.tuples(inner, inner),
    max_leaves=20,
)


@given(json_values)
def test_plain_values_round_trip(value) -> None:
    assert wire.decode(wire.encode(value)) == value


def test_types_survive_the_round_trip() -> None:
    value = {"t": (1, 2.5), 3: [True, None], "s": b"\x00\x01"}
    back = wire.decode(wire.encode(value))
    assert back == value
    assert type(back["t"]) is tuple and type(back[3][0]) is bool


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"])
def test_non_finite_floats(number: float) -> None:
    back = wire.decode(wire.encode(number))
    assert (np.isnan(back) and np.isnan(number)) or back == number


def test_tensor_keeps_dtype_shape_values_and_grad_flag() -> None:
    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3).requires_grad_()
    back = wire.decode(wire.encode(tensor))
    assert isinstance(back, torch.Tensor) and back.dtype == torch.float32 and back.shape == (2, 3)
    assert back.requires_grad
    torch.testing.assert_close(back, tensor.detach())


def test_a_transposed_tensor_arrives_with_its_values() -> None:
    tensor = torch.arange(6, dtype=torch.int64).reshape(2, 3).t()  # not contiguous
    back = wire.decode(wire.encode(tensor))
    assert back.shape == (3, 2) and torch.equal(back, tensor)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int64", "float16", "float32", "float64", "complex64",
                                   "complex128"])
def test_arrays_keep_dtype_shape_and_values(dtype: str) -> None:
    array = (np.arange(24) % 5).astype(dtype).reshape(2, 3, 4)[:, ::2]  # not contiguous
    back = wire.decode(wire.encode(array))
    assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)
    back[...] = 0  # writable, as a check may expect


@pytest.mark.parametrize("array", [np.arange(3, dtype=">i4"), np.array(2.5), np.zeros((0, 3), np.float32)],
                         ids=["big-endian", "zero-dimensional", "empty"])
def test_unusual_arrays_arrive_in_this_machines_byte_order(array: np.ndarray) -> None:
    back = wire.decode(wire.encode(array))
    assert back.shape == array.shape and np.array_equal(back, array)
    assert back.dtype == array.dtype.newbyteorder("=")


def test_bfloat16_tensor() -> None:
    back = wire.decode(wire.encode(torch.ones(3, dtype=torch.bfloat16)))
    assert back.dtype == torch.bfloat16


def test_numpy_scalar_stays_numpy() -> None:
    back = wire.decode(wire.encode(np.int64(7)))
    assert type(back) is np.int64 and back == 7


def test_pil_image_becomes_a_fresh_image() -> None:
    image = Image.fromarray(np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3))
    back = wire.decode(wire.encode(image))
    assert isinstance(back, Image.Image) and back.mode == "RGB"
    assert np.array_equal(np.asarray(back), np.asarray(image))


class LiesAboutEquality:
    def __eq__(self, other: object) -> bool:
        return True

    def __len__(self) -> int:
        return 10000


def test_object_that_lies_about_equality_arrives_opaque() -> None:
    back = wire.decode(wire.encode(LiesAboutEquality()))
    assert isinstance(back, wire.Opaque)
    assert back != 10000 and back != back.__class__ and not back
    assert "LiesAboutEquality" in back.type_name


def test_tensor_subclass_is_sent_as_its_plain_data() -> None:
    class Liar(torch.Tensor):
        def __eq__(self, other):  # noqa: ANN001
            return True

    liar = torch.zeros(3).as_subclass(Liar)
    back = wire.decode(wire.encode(liar))
    assert type(back) is torch.Tensor and not torch.equal(back, torch.ones(3))


def test_object_array_is_not_sent() -> None:
    back = wire.decode(wire.encode(np.array([object()], dtype=object)))
    assert isinstance(back, wire.Opaque)


class _Payload:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def _npy_with_pickle() -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.array([_Payload()], dtype=object), allow_pickle=True)
    return base64.b64encode(buffer.getvalue()).decode()


def _pickle() -> bytes:
    return pickle.dumps(_Payload())


@pytest.mark.parametrize("payload", [
    json.dumps({"t": "ndarray", "dtype": "object", "shape": [1], "data": _npy_with_pickle()}),
    json.dumps({"t": "tensor", "tensor_dtype": "torch.float32", "npy": _npy_with_pickle()}),
    json.dumps({"t": "ndarray", "dtype": "uint8", "shape": [1], "data": base64.b64encode(_pickle()).decode()}),
    base64.b64encode(_pickle()).decode(),
    _pickle().decode("latin1"),
], ids=["object-dtype", "npy-as-tensor", "pickle-as-data", "base64-pickle", "raw-pickle-text"])
def test_pickle_payloads_are_refused_and_never_run(payload: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WireError):
        wire.decode(payload)
    assert not (tmp_path / "PWNED").exists()


def test_a_pickle_sent_as_an_arrays_bytes_is_only_numbers(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    raw = _pickle()
    payload = json.dumps({"t": "ndarray", "dtype": "uint8", "shape": [len(raw)], "data": base64.b64encode(raw).decode()})
    back = wire.decode(payload)
    assert back.dtype == np.uint8 and back.tobytes() == raw
    assert not (tmp_path / "PWNED").exists()


def _float32_pair() -> dict:
    return json.loads(wire.encode(np.zeros(2, np.float32)))


@pytest.mark.parametrize("payload", [
    json.dumps({**_float32_pair(), "t": "tensor", "tensor_dtype": "torch.int64"}),
    json.dumps({**json.loads(wire.encode(np.zeros((2, 2), np.float32))), "t": "image", "mode": "RGB"}),
    json.dumps({**_float32_pair(), "shape": [3]}),
    json.dumps({**_float32_pair(), "shape": [-1]}),
    json.dumps({**_float32_pair(), "shape": [2.0]}),
    json.dumps({**_float32_pair(), "shape": [1] * 65}),
    json.dumps({**_float32_pair(), "dtype": "<U1"}),
    json.dumps({**_float32_pair(), "dtype": "V8"}),
    json.dumps({**_float32_pair(), "dtype": ["float32"]}),
    json.dumps({**_float32_pair(), "data": "not base64!"}),
    json.dumps({**_float32_pair(), "data": None}),
    json.dumps({"t": "no-such-tag"}),
    json.dumps({"t": "dict", "v": [[[1, 2], 3]]}),
    "[" * 100000 + "]" * 100000,
    "not json",
], ids=["dtype-mismatch", "image-not-uint8", "shape-does-not-fit", "negative-size", "float-size", "too-many-dims",
        "string-dtype", "void-dtype", "dtype-not-a-name", "not-base64", "no-data", "unknown-tag", "unhashable-key",
        "deep-nesting", "not-json"])
def test_malformed_answers_are_refused(payload: str) -> None:
    with pytest.raises(WireError):
        wire.decode(payload)


def test_oversized_payload_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(wire, "MAX_PAYLOAD", 100)
    with pytest.raises(WireError, match="exceeds"):
        wire.decode(json.dumps("x" * 200))


class _Helper:
    def value(self):
        return 41


def test_probe_helpers_travel_with_the_probe_and_decorators_stay_behind() -> None:
    from grader.checks import probe_uses
    from grader.checking.remote import LocalNotebook, probe_source

    @probe_uses(_Helper)
    def probe_with_helper(ns):
        return _Helper().value() + ns["offset"]

    source, name = probe_source(probe_with_helper)
    assert name == "probe_with_helper" and "class _Helper" in source and "@probe_uses" not in source
    assert LocalNotebook({"offset": 1}).run(probe_with_helper) == 42
