"""The course service as an LTI 1.3 tool: launches from the course's LMS, its roster (NRPS), its grades (AGS).

Synchronous on purpose: the web app calls it through a thread pool, never on its event loop. Network I/O
happens in ``LtiTool.launch`` (the platform's key set, cached) and in every ``PlatformServices`` method
(the token endpoint, AGS, NRPS); ``LtiTool.login`` and ``LtiTool.jwks`` only touch the store and memory.

::

    GraderError          a registration or key file that cannot be used (file and key named)
    └── LtiError
        ├── LaunchRefused  a login or launch that signs nobody in (the reason can be shown)
        └── PlatformError  the platform refused or failed a call, after the retries
"""

from __future__ import annotations

from grader.service.lti.errors import LaunchRefused, LtiError, PlatformError
from grader.service.lti.launch import AgsEndpoint, LoginRedirect, LtiLaunch, LtiTool
from grader.service.lti.registration import Registration, ToolKey, load_or_create_key, load_registration
from grader.service.lti.roles import map_role
from grader.service.lti.services import LineItem, Member, PlatformServices, PublishReport, Score
from grader.service.lti.store import LaunchStore, ScoreLedger, SqliteLtiStore

__all__ = [
    "AgsEndpoint",
    "LaunchRefused",
    "LaunchStore",
    "LineItem",
    "LoginRedirect",
    "LtiError",
    "LtiLaunch",
    "LtiTool",
    "Member",
    "PlatformError",
    "PlatformServices",
    "PublishReport",
    "Registration",
    "Score",
    "ScoreLedger",
    "SqliteLtiStore",
    "ToolKey",
    "load_or_create_key",
    "load_registration",
    "map_role",
]


