"""``grader submit --to URL``: the zip sent to a course service, and its receipt back.

The service answers with its own receipt time (the submission time the late policy uses, never
this machine's clock), the SHA-256 of what it received, and the submission's id.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from grader.errors import GraderError

__all__ = ["send"]


def send(zip_path: Path, url: str, token: str, *, kind: str = "handin", timeout: float = 120.0) -> dict[str, Any]:
    """Upload ``zip_path`` to the service at ``url`` as ``token``'s; the service's receipt."""
    if not url.startswith(("http://", "https://")):
        raise GraderError(f"--to {url!r}: give the service's address, http:// or https://")
    query = urllib.parse.urlencode({"kind": kind, "name": zip_path.name})
    request = urllib.request.Request(f"{url.rstrip('/')}/api/uploads?{query}", data=zip_path.read_bytes(),
                                     method="POST", headers={"Authorization": f"Bearer {token}",
                                                             "Content-Type": "application/zip",
                                                             "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        try:
            said = json.load(error).get("error", "")
        except (ValueError, AttributeError):
            said = ""
        raise GraderError(f"{url}: the service refused the upload ({error.code}): "
                          f"{said or error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise GraderError(f"{url}: cannot reach the service: {getattr(error, 'reason', error)}") from None
