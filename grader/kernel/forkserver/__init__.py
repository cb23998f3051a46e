"""The warm fork server: kernels forked from one process that imported torch once.

Three pieces, in the order a kernel comes to life:

- :mod:`.client` (in the grader) starts a *zygote* per interpreter-start environment, asks it
  for a child and wraps the answer in a Popen-like handle (:mod:`.process`). :func:`.client.zygote_command` is
  the one place that builds the zygote's command line (the sandbox prefixes it, e.g.
  ``bwrap ... --``).
- :mod:`.zygote` (its own process) imports torch, torchvision, numpy, PIL and ipykernel, then
  only forks, reaps and reports.
- :mod:`.child` (in the forked child) turns the copy into a kernel: closes the zygote's channel,
  applies the per-kernel environment, working folder, limits and seeds in one function,
  :func:`.child.apply_child_setup` (the sandbox adds its per-kernel setup there), then runs
  ipykernel and leaves through ``os._exit``.

:mod:`.provisioner` plugs this into jupyter_client as a kernel provisioner, so stock
``NotebookClient`` drives a forked kernel exactly as a fresh one.
"""

from __future__ import annotations

__all__ = ["PROVISIONER_NAME"]

# The entry point name under "jupyter_client.kernel_provisioners" (pyproject.toml).
PROVISIONER_NAME = "grader-forkserver"
