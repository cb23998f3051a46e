"""Across the trust boundary through a real kernel: a lying kernel earns nothing and runs nothing here."""

from __future__ import annotations

import pytest

from grader.results import CheckStatus

from .notebooks import of_cells, with_cell, write

pytestmark = pytest.mark.slow

FORGED_ANSWER = '''
import base64, io, json
import numpy as np
import grader.checking.probe

class Payload:
    def __reduce__(self):
        return (exec, ("open({marker!r}, 'w').write('pwned')",))

buffer = io.BytesIO()
np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
forged = {{"kind": "value", "value": {{"t": "{tag}", "tensor_dtype": "torch.float32", "dtype": "object", "shape": [1],
                                     "data": base64.b64encode(buffer.getvalue()).decode()}}}}

def forged_call(probe, user_ns, args_json):
    grader.checking.probe.LAST = json.dumps(forged)
    return grader.checking.probe.LAST

grader.checking.probe.call = forged_call
'''


@pytest.mark.parametrize("tag", ["ndarray", "tensor"], ids=["object-array", "pickled-tensor"])
def test_forged_pickle_answers_earn_nothing_and_run_nothing(tag, tmp_path, make_config, grade) -> None:
    marker = tmp_path / "PWNED"
    notebook = with_cell(FORGED_ANSWER.format(marker=str(marker), tag=tag))
    result = grade(write(notebook, tmp_path / "sub"), make_config()).exercises[0]
    assert result.score == 0
    assert not marker.exists(), "a pickle from the kernel was loaded by the grader"
    messages = {c.message.en for c in result.checks if c.message}
    assert any("could not be read" in m for m in messages), messages


LIARS = '''
class Liar:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __len__(self):
        return 10000
    def __bool__(self):
        return True

_Honest = CIFAR10Dataset

class CIFAR10Dataset(_Honest):
    def __getitem__(self, index):
        return Liar(), Liar()
'''


def test_objects_that_lie_about_equality_earn_nothing(tmp_path, make_config, grade) -> None:
    notebook = with_cell(LIARS)
    result = grade(write(notebook, tmp_path / "sub"), make_config()).exercises[0]
    by_name = {c.id.split("::")[1]: c for c in result.checks}
    for name in ("test_item_images", "test_item_targets", "test_transforms", "test_hidden_items_across_batches"):
        assert by_name[name].status is CheckStatus.FAILED, name
    assert by_name["test_len_train"].status is CheckStatus.PASSED  # honest parts still count


def test_a_kernel_cannot_claim_a_result_by_printing(tmp_path, make_config, grade) -> None:
    notebook = with_cell('print(\'{"score": 20, "status": "passed", "all passed": true}\')')
    notebook.cells = [c for c in notebook.cells if "### BEGIN SOLUTION" not in c.source]
    result = grade(write(notebook, tmp_path / "sub"), make_config()).exercises[0]
    assert result.score == 0


# ----------------------------------------------------------------------------- the probe channel

def _value(ns):
    return ns["value"]


def _spin(ns):
    return ns["spin"]()


@pytest.mark.parametrize("broken", [False, True], ids=["probe-server", "execute-fallback"])
def test_probes_answer_over_the_probe_server_or_the_execute_path(make_config, broken: bool, running) -> None:
    # Where the probe server cannot start (here: student code replaced it), execute requests.
    source = "value = [1, 2.5, 'x']" + ("\nimport grader.checking.probe\ndef serve(endpoint):\n    raise OSError('no')\n"
                                        "grader.checking.probe.serve = serve" if broken else "")
    with running(of_cells(source), make_config()) as (execution, backend):
        assert not execution.cell_errors
        assert backend.run(_value) == [1, 2.5, "x"]
        assert (backend._channel is None) is broken
        assert backend.run(_item, 2) == "x"  # a second probe: asked the same way


def _item(ns, index):
    return ns["value"][index]


def _box(ns):
    return ns["box"]


def _box_now(ns):
    return ns["box"]


def _append(ns, item):
    ns["box"].append(item)
    return len(ns["box"])


def test_the_probe_server_answers_only_requests_signed_once_with_the_kernels_key(make_config, running) -> None:
    from jupyter_client.session import Session

    from grader.checking import probe
    from grader.checking.remote import probe_source

    def request(session: Session, item: str) -> dict:
        source, name = probe_source(_append)
        return session.msg(probe.REQUEST, {"source": source, "name": name, "args": f'["{item}"]'})

    with running(of_cells("box = []"), make_config()) as (_, backend):
        assert backend.run(_box) == []  # the kernel serves probes from now on
        channel, session = backend._channel, backend.client.session
        # Whoever reaches the socket without the kernel's key is not answered, and nothing runs.
        Session(key=b"not the kernel's key").send(channel, request(Session(key=b"x"), "forged"))
        # A request signed with the key but sent twice runs once: the second is a replay.
        signed = request(session, "signed")
        frames = session.serialize(signed)
        channel.send_multipart(frames)
        channel.send_multipart(frames)
        assert backend._reply(signed["header"]["msg_id"], 10, backend._from_channel)["content"]["status"] == "ok"
        assert backend.run(_box_now) == ["signed"]  # another probe: _box's answer is kept for this notebook


def test_a_forked_kernel_binds_its_probe_socket_as_it_starts(make_config, running) -> None:
    from grader.checking import probe
    with running(of_cells("import grader.checking.probe\nbound = sorted(grader.checking.probe._BOUND)"), make_config()) as (_, backend):
        assert backend.run(_bound) == [probe.ipc_endpoint(backend.client.ip)]
        assert backend.run(_value_of_bound_now) == []  # taken by the probe server


def _bound(ns):
    return ns["bound"]


def _value_of_bound_now(ns):
    import grader.checking.probe

    return sorted(grader.checking.probe._BOUND)


def test_a_probe_that_runs_out_of_time_leaves_the_kernel_usable(make_config, running) -> None:
    from grader.errors import ProbeTimeout
    source = "value = 7\ndef spin():\n    while True:\n        pass"
    with running(of_cells(source), make_config()) as (_, backend):
        assert backend.run(_value) == 7
        with pytest.raises(ProbeTimeout):
            backend.run(_spin, timeout=1)
        assert backend.run(_value_plus, 1) == 8  # interrupted, answered, and still there for the next check


def _value_plus(ns, more):
    return ns["value"] + more


def _called(ns, label):
    ns["calls"].append(label)
    return [len(ns["calls"]), ns["torch"].zeros(2)]


def _raises_once_called(ns):
    ns["calls"].append("raised")
    raise ValueError(len(ns["calls"]))


def test_a_notebook_is_asked_each_probe_once_and_each_check_gets_its_own_copy(make_config, running) -> None:
    from grader.errors import StudentError
    with running(of_cells("import torch\ncalls = []"), make_config()) as (_, backend):
        first, again = backend.run(_called, "a"), backend.run(_called, "a")
        assert first[0] == again[0] == 1  # the student's code ran once
        again[1].add_(1)
        assert backend.run(_called, "a")[1].tolist() == [0.0, 0.0]  # decoded afresh for every call
        assert backend.run(_called, "b")[0] == 2  # other arguments: asked
        for _ in range(2):  # what the student's code raised is kept too
            with pytest.raises(StudentError, match="3"):
                backend.run(_raises_once_called)
        backend.answers.max_chars = backend.answers.chars  # no room left: answers are asked each time
        assert [backend.run(_called, "c")[0] for _ in range(2)] == [4, 5]
    # Kept for its notebook only: the next one is asked (its list starts longer).
    with running(of_cells("import torch\ncalls = ['x', 'y']"), make_config()) as (_, backend):
        assert backend.run(_called, "a")[0] == 3


def _which(ns):
    return "compiled from its source"


def test_the_probe_server_runs_the_code_sent_compiled_and_compiles_what_it_cannot_read(make_config,
                                                                                      monkeypatch, running) -> None:
    from grader.checking import remote
    from grader.checking.remote import probe_source

    # Code that says where it came from, packed under the probe's own source.
    sent = remote.probe_runtime.pack_code(probe_source(_which)[0].replace("compiled from its source", "sent compiled"))
    monkeypatch.setattr(remote, "_packed", lambda source: sent)
    with running(of_cells("x = 1"), make_config()) as (_, backend):
        assert backend.run(_which) == "sent compiled"
    monkeypatch.setattr(remote, "_packed", lambda source: "AAAA" + sent[4:])  # another Python's bytecode magic
    with running(of_cells("x = 1"), make_config()) as (_, backend):
        assert backend.run(_which) == "compiled from its source"


def _draws(ns, label):
    import random

    import numpy as np
    import torch

    return [label, random.random(), float(np.random.rand()), float(torch.rand(1))]


def test_every_probe_draws_from_seed_0_in_a_probe_servers_kernel(make_config, running) -> None:
    import random

    import numpy as np
    import torch

    cells = "import random, numpy as np, torch\nrandom.seed(5); np.random.seed(5); torch.manual_seed(5)"
    with running(of_cells(cells), make_config()) as (_, backend):
        first, second = backend.run(_draws, "a"), backend.run(_draws, "b")  # other arguments: asked twice
    random.seed(0), np.random.seed(0), torch.manual_seed(0)
    expected = [random.random(), float(np.random.rand()), float(torch.rand(1))]
    assert first == ["a", *expected] and second == ["b", *expected]
