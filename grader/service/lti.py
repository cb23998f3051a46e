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

import base64
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grader.errors import GraderError

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

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LEEWAY_S = 60  # the LMS's clock and ours may disagree by this much
LOGIN_TTL_S = 600  # a login's state and nonce wait this long for its launch
KEYSET_TTL_S = 3600  # the platform's key set is fetched again after this long ...
KEYSET_REFETCH_S = 10  # ... or on an unknown key id, at most this often (a rotated key, not a flood)
TOKEN_MARGIN_S = 60  # an access token is renewed this long before the platform says it expires
ACTIVITY = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING = ("NotReady", "Failed", "Pending", "PendingManual", "FullyGraded")


class LtiError(GraderError):
    """Base of what LTI can refuse or fail."""


class LaunchRefused(LtiError):
    """A login or launch that must sign nobody in; the message says why and can be shown."""


class PlatformError(LtiError):
    """The platform refused or failed a call (after the retries); ``status`` is None without a response."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# -- the registration: what the LMS told the instructor, and the tool's key ------------------------------------

_REQUIRED = ("issuer", "client_id", "deployment_ids", "auth_login_url", "auth_token_url", "keyset_url")
_OPTIONAL = ("key_file", "auth_audience")


@dataclass(frozen=True)
class Registration:
    issuer: str  # the platform's "iss"
    client_id: str  # the tool's id at the platform: the id_token's audience
    deployment_ids: tuple[str, ...]  # the deployments of this tool that may launch
    auth_login_url: str  # the platform's OIDC authorization endpoint
    auth_token_url: str  # the platform's OAuth2 token endpoint
    keyset_url: str  # the platform's JWKS
    key_file: Path  # the tool's RSA private key (made once by load_or_create_key)
    auth_audience: str = ""  # the token endpoint's "aud", where a platform wants other than its URL

    @classmethod
    def from_table(cls, table: Mapping[str, Any], *, source: Path) -> Registration:
        """A registration from a TOML table (``[lti]`` of ``source``); a relative key file is beside ``source``."""
        where = f"{source}: [lti]"
        if not isinstance(table, Mapping):
            raise GraderError(f"{where} must be a table")
        unknown = sorted(set(table) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise GraderError(f"{where}: unknown key {', '.join(unknown)} (known: "
                              f"{', '.join(sorted(_REQUIRED + _OPTIONAL))})")
        for key in _REQUIRED:
            if key not in table:
                raise GraderError(f"{where}: no {key}")
        for key in (k for k in _REQUIRED + _OPTIONAL if k in table and k != "deployment_ids"):
            if not isinstance(table[key], str) or (key != "auth_audience" and not table[key].strip()):
                raise GraderError(f"{where}: {key} must be a non-empty string, not {table[key]!r}")
        deployments = table["deployment_ids"]
        if (not isinstance(deployments, list) or not deployments
                or not all(isinstance(d, str) and d.strip() for d in deployments)):
            raise GraderError(f"{where}: deployment_ids must be a list of non-empty strings, not {deployments!r}")
        for key in ("auth_login_url", "auth_token_url", "keyset_url"):
            if not _acceptable_url(table[key]):
                raise GraderError(f"{where}: {key} must be an https:// URL (http:// only on this machine), "
                                  f"not {table[key]!r}")
        key_file = Path(table.get("key_file", "lti-key.pem"))
        return cls(issuer=table["issuer"], client_id=table["client_id"], deployment_ids=tuple(deployments),
                   auth_login_url=table["auth_login_url"], auth_token_url=table["auth_token_url"],
                   keyset_url=table["keyset_url"], auth_audience=table.get("auth_audience", ""),
                   key_file=key_file if key_file.is_absolute() else Path(source).parent / key_file)


def load_registration(settings_path: Path) -> Registration | None:
    """The ``[lti]`` table of a settings file (the service folder's ``service.toml``); None when it has none."""
    try:
        data = tomllib.loads(Path(settings_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise GraderError(f"{settings_path}: {error}") from None
    return None if "lti" not in data else Registration.from_table(data["lti"], source=Path(settings_path))


def _acceptable_url(url: str) -> bool:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    return bool(parts.netloc) and (parts.scheme == "https" or (parts.scheme == "http" and loopback))


@dataclass(frozen=True)
class ToolKey:
    """The tool's RSA key: it signs the client assertions; its public half is the tool's JWKS."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    kid: str  # the public key's RFC 7638 thumbprint: stable for the key, new for a new key

    def jwks(self) -> dict[str, Any]:
        """The public key set the tool serves (no secret in it)."""
        public = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid})


def load_or_create_key(path: Path) -> ToolKey:
    """The tool's key in ``path``, made there (0600) on the first call; refused if others can read it."""
    path = Path(path)
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as sink:
            sink.write(pem)
        try:  # a link, not a rename: whoever made the key first wins, and nobody reads half a file
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise GraderError(f"{path}: the tool's private key is readable by others (chmod 600 {path})")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise GraderError(f"{path}: cannot read the tool's private key: {error}") from None
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise GraderError(f"{path}: the tool's key must be an RSA key")
    return ToolKey(loaded, _thumbprint(loaded.public_key()))


def _thumbprint(public: rsa.RSAPublicKey) -> str:
    jwk_dict = RSAAlgorithm.to_jwk(public, as_dict=True)
    canonical = json.dumps({k: jwk_dict[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


# -- what the tool remembers: logins, used nonces, scores sent -------------------------------------------------

class LaunchStore(Protocol):
    """Where logins wait for their launch and used nonces are kept, so that a replay is refused."""

    def save_login(self, state: str, nonce: str, *, expires_at: float) -> None: ...

    def login_nonce(self, state: str) -> str | None:
        """The nonce issued with ``state``; None when unknown or expired."""

    def remember_nonce(self, nonce: str, *, expires_at: float) -> bool:
        """Record a launch's nonce as used: False when it was used before (a replay)."""


class ScoreLedger(Protocol):
    """What was sent to each line item for each user, so that a second publish sends only what changed."""

    def sent_digest(self, line_item: str, user_id: str) -> str | None: ...

    def record_sent(self, line_item: str, user_id: str, digest: str, *, timestamp: str) -> None: ...


class SqliteLtiStore:
    """Both stores in one SQLite file (the gradebook's will do: its tables are named ``lti_*``)."""

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS lti_logins (state TEXT PRIMARY KEY, nonce TEXT NOT NULL, expires_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS lti_nonces (nonce TEXT PRIMARY KEY, expires_at REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS lti_scores (line_item TEXT NOT NULL, user_id TEXT NOT NULL, digest TEXT NOT NULL,
                                               sent_at TEXT NOT NULL, PRIMARY KEY (line_item, user_id));
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))  # a new file is its owner's only
        with closing(self._connect()) as db:
            db.executescript(self._SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: the app calls from a thread pool, and sqlite3 connections stay in their thread.
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def _write(self, sql: str, args: tuple[Any, ...], purge: str) -> int:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"DELETE FROM {purge} WHERE expires_at < ?", (time.time(),))
            changed = db.execute(sql, args).rowcount
            db.execute("COMMIT")
            return changed

    def save_login(self, state: str, nonce: str, *, expires_at: float) -> None:
        self._write("INSERT INTO lti_logins VALUES (?, ?, ?)", (state, nonce, expires_at), "lti_logins")

    def login_nonce(self, state: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT nonce FROM lti_logins WHERE state = ? AND expires_at >= ?",
                             (state, time.time())).fetchone()
        return None if row is None else str(row[0])

    def remember_nonce(self, nonce: str, *, expires_at: float) -> bool:
        return self._write("INSERT OR IGNORE INTO lti_nonces VALUES (?, ?)", (nonce, expires_at), "lti_nonces") == 1

    def sent_digest(self, line_item: str, user_id: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT digest FROM lti_scores WHERE line_item = ? AND user_id = ?",
                             (line_item, user_id)).fetchone()
        return None if row is None else str(row[0])

    def record_sent(self, line_item: str, user_id: str, digest: str, *, timestamp: str) -> None:
        with closing(self._connect()) as db:
            db.execute("INSERT OR REPLACE INTO lti_scores VALUES (?, ?, ?, ?)", (line_item, user_id, digest, timestamp))


# -- roles -----------------------------------------------------------------------------------------------------

_LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def _role_parts(role: str) -> tuple[str, str, str]:
    """(scope, role, sub-role) of one role URI, short name or LTI 1.1 URN; scope: context, institution, system."""
    role = role.strip()
    if role.startswith(_LIS):
        path, _, name = role[len(_LIS):].partition("#")
        if path.startswith("membership/"):  # membership/Instructor#TeachingAssistant: a sub-role
            return "context", path.split("/", 1)[1], name
        scope = "context" if path == "membership" else path.split("/", 1)[0]
        return scope, name, ""
    for prefix, scope in (("urn:lti:role:ims/lis/", "context"), ("urn:lti:instrole:ims/lis/", "institution"),
                          ("urn:lti:sysrole:ims/lis/", "system")):
        if role.startswith(prefix):
            principal, _, sub = role[len(prefix):].partition("/")
            return scope, principal, sub
    return ("context", role, "") if ":" not in role and "/" not in role else ("other", role, "")


def map_role(roles: Iterable[str]) -> str:
    """Our role for an LTI roles claim: "instructor", "ta" or "student" (the least, when nothing else fits).

    Administrators (of the course, the institution or the system) are instructors; a teaching assistant or a
    grader (the Instructor#TeachingAssistant... and Instructor#Grader sub-roles, sent beside Instructor) is a
    ta; a course role wins over an institution's (a faculty member enrolled as a learner is a student there);
    Instructor or Faculty as an institution role counts only when the course gave no role that fits.
    """
    parts = [_role_parts(role) for role in roles if isinstance(role, str)]
    if any(name == "Administrator" and scope in ("context", "institution", "system") for scope, name, _ in parts):
        return "instructor"
    if any(scope == "context" and (name == "TeachingAssistant" or sub.startswith("TeachingAssistant")
                                   or (name == "Instructor" and sub == "Grader"))
           for scope, name, sub in parts):
        return "ta"
    if any(scope == "context" and name == "Instructor" for scope, name, _ in parts):
        return "instructor"
    if any(scope == "context" and name == "Learner" for scope, name, _ in parts):
        return "student"
    if any(scope == "institution" and name in ("Instructor", "Faculty") for scope, name, _ in parts):
        return "instructor"
    return "student"


# -- the launch ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LoginRedirect:
    url: str  # send the browser here (a 302)
    state: str  # also set it in a cookie where the app can, and pass that cookie to launch()


@dataclass(frozen=True)
class AgsEndpoint:
    lineitems: str  # the context's line items; "" when the platform gave none
    lineitem: str  # the resource link's own line item; "" when none
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class LtiLaunch:
    """A verified resource link launch: who, in which course and link, and the services it offers."""

    user_id: str  # the platform's stable id of the person ("sub")
    role: str  # ours: instructor, ta or student
    roles: tuple[str, ...]  # the launch's roles claim as sent
    name: str
    email: str
    deployment_id: str
    context_id: str
    context_title: str
    resource_link_id: str
    target_link_uri: str
    ags: AgsEndpoint | None
    memberships_url: str  # NRPS; "" when the platform offers none
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)  # the whole verified id_token


class LtiTool:
    """The tool's side of a launch: OIDC login initiation, then the id_token verified and its claims checked."""

    def __init__(self, registration: Registration, *, key: ToolKey, store: LaunchStore, launch_url: str,
                 http: httpx.Client | None = None) -> None:
        self.registration = registration
        self.key = key
        self.launch_url = launch_url  # the redirect URI registered at the platform
        self._store = store
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=10.0)
        self._keys = _PlatformKeys(registration.keyset_url, self._http)
        self.services = PlatformServices(registration, key=key, http=self._http)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> LtiTool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def jwks(self) -> dict[str, Any]:
        """The tool's public key set, to serve at the JWKS URL the platform was given."""
        return self.key.jwks()

    def login(self, params: Mapping[str, str]) -> LoginRedirect:
        """Third-party initiated login (the request's query or form): a state and a nonce are saved in the
        store, and the browser goes on to the platform's authorization endpoint. No network I/O."""
        registration = self.registration
        for name in ("iss", "login_hint", "target_link_uri"):
            if not params.get(name):
                raise LaunchRefused(f"the login request has no {name}")
        if params["iss"] != registration.issuer:
            raise LaunchRefused(f"unknown issuer {params['iss']!r}: this tool is registered with "
                                f"{registration.issuer!r} only")
        if params.get("client_id") and params["client_id"] != registration.client_id:
            raise LaunchRefused(f"unknown client_id {params['client_id']!r}")
        deployment = params.get("lti_deployment_id")
        if deployment and deployment not in registration.deployment_ids:
            raise LaunchRefused(f"unknown deployment {deployment!r}")
        if not _same_origin(params["target_link_uri"], self.launch_url):
            raise LaunchRefused("the target link is not on this service")
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._store.save_login(state, nonce, expires_at=time.time() + LOGIN_TTL_S)
        query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                 "client_id": registration.client_id, "redirect_uri": self.launch_url,
                 "login_hint": params["login_hint"], "state": state, "nonce": nonce}
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = params["lti_message_hint"]
        return LoginRedirect(_with_query(registration.auth_login_url, query), state)

    def launch(self, form: Mapping[str, str], *, state_cookie: str | None = None) -> LtiLaunch:
        """The launch's form post (id_token, state) verified; ``state_cookie``, where the app set one at login,
        must be that state. Network I/O: the platform's key set, fetched when not cached (``PlatformError``
        when it cannot be read); every refusal is a ``LaunchRefused``."""
        id_token, state = form.get("id_token") or "", form.get("state") or ""
        if not id_token or not state:
            raise LaunchRefused("the launch carries no id_token or no state")
        if state_cookie is not None and not hmac.compare_digest(state_cookie, state):
            raise LaunchRefused("this browser did not start this login")
        expected_nonce = self._store.login_nonce(state)
        if expected_nonce is None:
            raise LaunchRefused("unknown or expired login; start again from the LMS")
        claims = self._verified(id_token)
        self._check(claims, expected_nonce)
        if not self._store.remember_nonce(claims["nonce"], expires_at=float(claims["exp"]) + LEEWAY_S):
            raise LaunchRefused("replayed launch: this nonce was used already")
        return _launch_from(claims)

    def _verified(self, id_token: str) -> dict[str, Any]:
        registration = self.registration
        try:
            header = jwt.get_unverified_header(id_token)
            issuer = jwt.decode(id_token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise LaunchRefused("the id_token is not a JWT") from None
        if header.get("alg") != "RS256":
            raise LaunchRefused(f"the id_token is signed with {header.get('alg')!r}, not RS256")
        if issuer != registration.issuer:
            raise LaunchRefused(f"unknown issuer {issuer!r}")
        key = self._keys.key(header.get("kid"))
        try:
            return jwt.decode(id_token, key, algorithms=["RS256"], audience=registration.client_id,
                              issuer=registration.issuer, leeway=LEEWAY_S,
                              options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]})
        except jwt.ExpiredSignatureError:
            raise LaunchRefused("the id_token has expired") from None
        except jwt.InvalidAudienceError:
            raise LaunchRefused(f"the id_token is not for this tool (audience is not {registration.client_id!r})") \
                from None
        except jwt.InvalidSignatureError:
            raise LaunchRefused("the id_token's signature does not verify with the platform's key") from None
        except jwt.PyJWTError as error:
            raise LaunchRefused(f"the id_token is refused: {error}") from None

    def _check(self, claims: Mapping[str, Any], expected_nonce: str) -> None:
        client_id = self.registration.client_id
        audiences = [claims["aud"]] if isinstance(claims["aud"], str) else list(claims["aud"])
        if len(audiences) > 1 and "azp" not in claims:
            raise LaunchRefused("the id_token has several audiences and no azp")
        if "azp" in claims and claims["azp"] != client_id:
            raise LaunchRefused(f"the id_token was issued to {claims['azp']!r} (azp), not to this tool")
        if not isinstance(claims["nonce"], str) or not hmac.compare_digest(claims["nonce"], expected_nonce):
            raise LaunchRefused("the nonce is not the one issued for this login")
        if claims.get(CLAIM + "deployment_id") not in self.registration.deployment_ids:
            raise LaunchRefused(f"unknown deployment {claims.get(CLAIM + 'deployment_id')!r}")
        if claims.get(CLAIM + "message_type") != "LtiResourceLinkRequest":
            raise LaunchRefused(f"message type {claims.get(CLAIM + 'message_type')!r} is not a resource link launch")
        if claims.get(CLAIM + "version") != "1.3.0":
            raise LaunchRefused(f"LTI version {claims.get(CLAIM + 'version')!r} is not 1.3.0")
        if not isinstance(claims.get(CLAIM + "roles"), list):
            raise LaunchRefused("the launch has no roles claim")
        if not isinstance(claims.get(CLAIM + "resource_link"), dict) or not claims[CLAIM + "resource_link"].get("id"):
            raise LaunchRefused("the launch has no resource link id")
        if not _same_origin(str(claims.get(CLAIM + "target_link_uri", "")), self.launch_url):
            raise LaunchRefused("the launch's target link is not on this service")


def _launch_from(claims: Mapping[str, Any]) -> LtiLaunch:
    context = claims.get(CLAIM + "context") or {}
    ags = claims.get(AGS_CLAIM)
    roles = tuple(role for role in claims[CLAIM + "roles"] if isinstance(role, str))
    return LtiLaunch(
        user_id=str(claims["sub"]), role=map_role(roles), roles=roles, name=str(claims.get("name", "")),
        email=str(claims.get("email", "")), deployment_id=claims[CLAIM + "deployment_id"],
        context_id=str(context.get("id", "")), context_title=str(context.get("title", "")),
        resource_link_id=str(claims[CLAIM + "resource_link"]["id"]),
        target_link_uri=str(claims[CLAIM + "target_link_uri"]),
        ags=None if not isinstance(ags, dict) else AgsEndpoint(
            str(ags.get("lineitems", "")), str(ags.get("lineitem", "")), tuple(ags.get("scope") or ())),
        memberships_url=str((claims.get(NRPS_CLAIM) or {}).get("context_memberships_url", "")),
        claims=dict(claims))


class _PlatformKeys:
    """The platform's key set, fetched on first use, kept an hour, fetched again for an unknown key id."""

    def __init__(self, url: str, http: httpx.Client) -> None:
        self._url, self._http = url, http
        self._keys: dict[str | None, Any] = {}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched
            if age > KEYSET_TTL_S or (kid not in self._keys and age > KEYSET_REFETCH_S):
                self._fetch()
            if kid not in self._keys:
                raise LaunchRefused(f"the platform's key set has no key {kid!r}")
            return self._keys[kid]

    def _fetch(self) -> None:
        try:
            response = self._http.get(self._url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as error:
            raise PlatformError(f"cannot read the platform's key set at {self._url}: {error}") from None
        # The bare public key, not the JWK: the algorithm is RS256 whatever the key set says.
        self._keys = {key.key_id: key.key for key in keys}
        if len(keys) == 1:  # a token without a key id may use the only key there is
            self._keys[None] = keys[0].key
        self._fetched = time.monotonic()


def _same_origin(url: str, other: str) -> bool:
    a, b = urlsplit(url), urlsplit(other)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *((k, v) for k, v in params.items() if v)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _with_path(url: str, suffix: str) -> str:
    # A line item's URL may carry a query (some LMSs put the item's id there): the suffix goes on the path.
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


# -- the platform's services: roster (NRPS) and grades (AGS) ---------------------------------------------------

@dataclass(frozen=True)
class Member:
    user_id: str  # the same id as a launch's user_id
    role: str  # ours: instructor, ta or student
    roles: tuple[str, ...]
    name: str
    email: str
    status: str  # Active, Inactive or Deleted
    sourced_id: str  # lis_person_sourcedid: often the student number the roster CSV has; "" when not shared


@dataclass(frozen=True)
class LineItem:
    id: str  # its URL
    label: str
    score_maximum: float
    resource_id: str
    tag: str
    resource_link_id: str

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> LineItem:
        return cls(str(item["id"]), str(item.get("label", "")), float(item.get("scoreMaximum", 0)),
                   str(item.get("resourceId", "")), str(item.get("tag", "")), str(item.get("resourceLinkId", "")))


@dataclass(frozen=True)
class Score:
    """One user's score on one line item, as the caller decided it; nothing is added but the timestamp."""

    user_id: str
    score_given: float
    score_maximum: float
    comment: str | None = None  # sent as given; None sends no comment
    activity_progress: str = "Completed"  # or "Submitted"
    grading_progress: str = "FullyGraded"

    def __post_init__(self) -> None:
        if self.activity_progress not in ACTIVITY or self.grading_progress not in GRADING:
            raise ValueError(f"activityProgress {self.activity_progress!r} / gradingProgress "
                             f"{self.grading_progress!r} are not AGS values")
        if self.score_given < 0 or self.score_maximum <= 0:
            raise ValueError(f"a score of {self.score_given} out of {self.score_maximum} cannot be sent")

    def body(self, timestamp: str) -> dict[str, Any]:
        body: dict[str, Any] = {"userId": self.user_id, "scoreGiven": self.score_given,
                                "scoreMaximum": self.score_maximum, "activityProgress": self.activity_progress,
                                "gradingProgress": self.grading_progress, "timestamp": timestamp}
        if self.comment is not None:
            body["comment"] = self.comment
        return body

    def digest(self) -> str:
        """What makes two sends the same, the timestamp aside."""
        return hashlib.sha256(json.dumps(self.body(""), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PublishReport:
    timestamp: str  # every score of this publish carries it
    sent: tuple[Score, ...]
    unchanged: tuple[Score, ...]  # sent before as they are now: not sent again
    failed: tuple[tuple[Score, str], ...]  # with the platform's reason; a later publish sends them again


class PlatformServices:
    """Calls to the platform on the tool's own authority: OAuth2 client credentials with a JWT assertion
    signed by the tool's key (RFC 7523), a token cached per set of scopes until it expires. Every method
    does network I/O; a 5xx, a 429 or a broken connection is tried again (``attempts`` in all)."""

    def __init__(self, registration: Registration, *, key: ToolKey, http: httpx.Client | None = None,
                 attempts: int = 3, backoff_s: float = 0.5) -> None:
        self.registration = registration
        self.key = key
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=10.0)
        self._attempts, self._backoff_s = max(1, attempts), backoff_s
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._token_lock = threading.Lock()
        self._line_item_lock = threading.Lock()  # one find-or-create at a time: no line item made twice

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PlatformServices:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def access_token(self, scopes: Iterable[str]) -> str:
        wanted = tuple(sorted(set(scopes)))
        with self._token_lock:
            cached = self._tokens.get(wanted)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            now = int(time.time())
            registration = self.registration
            assertion = self.key.sign({
                "iss": registration.client_id, "sub": registration.client_id,
                "aud": registration.auth_audience or registration.auth_token_url,
                "iat": now, "exp": now + 300, "jti": secrets.token_urlsafe(16)})
            response = self._request("POST", registration.auth_token_url, scopes=None, data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion, "scope": " ".join(wanted)})
            try:
                body = response.json()
                token, lifetime = str(body["access_token"]), float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError):
                raise PlatformError(f"{registration.auth_token_url}: the token response has no access_token") \
                    from None
            self._tokens[wanted] = token, time.monotonic() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return token

    def members(self, memberships_url: str) -> list[Member]:
        """The course's whole roster, page after page (``Link: rel="next"``)."""
        accept = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        members = []
        for page in self._pages(memberships_url, scopes=(SCOPE_NRPS,), accept=accept):
            for member in page.get("members", []) if isinstance(page, dict) else []:
                roles = tuple(role for role in member.get("roles", []) if isinstance(role, str))
                members.append(Member(
                    user_id=str(member["user_id"]), role=map_role(roles), roles=roles,
                    name=str(member.get("name") or " ".join(filter(None, (member.get("given_name"),
                                                                          member.get("family_name"))))),
                    email=str(member.get("email", "")), status=str(member.get("status", "Active")),
                    sourced_id=str(member.get("lis_person_sourcedid", ""))))
        return members

    def line_items(self, lineitems_url: str, *, resource_id: str = "", tag: str = "") -> list[LineItem]:
        """The context's line items (those with this resource id and tag, when given), every page."""
        url = _with_query(lineitems_url, {"resource_id": resource_id, "tag": tag})
        accept = "application/vnd.ims.lis.v2.lineitemcontainer+json"
        items = [LineItem.from_json(item) for page in self._pages(url, scopes=(SCOPE_LINEITEM,), accept=accept)
                 for item in (page if isinstance(page, list) else [])]
        # A platform may ignore the filters: they are applied here too.
        return [item for item in items if (not resource_id or item.resource_id == resource_id)
                and (not tag or item.tag == tag)]

    def ensure_line_item(self, lineitems_url: str, *, resource_id: str, label: str, score_maximum: float,
                         tag: str = "grader", resource_link_id: str = "") -> LineItem:
        """Ours for ``resource_id`` and ``tag`` (an exercise, or the whole assignment: the caller decides), made
        when the platform has none; an existing one is used as it is (its label and maximum are the LMS's)."""
        with self._line_item_lock:
            found = self.line_items(lineitems_url, resource_id=resource_id, tag=tag)
            if found:
                return found[0]
            body: dict[str, Any] = {"label": label, "scoreMaximum": score_maximum, "resourceId": resource_id,
                                    "tag": tag}
            if resource_link_id:
                body["resourceLinkId"] = resource_link_id
            response = self._request("POST", lineitems_url, scopes=(SCOPE_LINEITEM,), content=json.dumps(body),
                                     headers={"Content-Type": "application/vnd.ims.lis.v2.lineitem+json",
                                              "Accept": "application/vnd.ims.lis.v2.lineitem+json"})
            return LineItem.from_json(_json(response))

    def post_score(self, line_item_url: str, score: Score, *, timestamp: str) -> None:
        self._request("POST", _with_path(line_item_url, "/scores"), scopes=(SCOPE_SCORE,),
                      content=json.dumps(score.body(timestamp)),
                      headers={"Content-Type": "application/vnd.ims.lis.v1.score+json"})

    def results(self, line_item_url: str) -> list[dict[str, Any]]:
        """The platform's results for a line item, as it sends them."""
        accept = "application/vnd.ims.lis.v2.resultcontainer+json"
        return [result for page in self._pages(_with_path(line_item_url, "/results"), scopes=(SCOPE_RESULT,),
                                               accept=accept)
                for result in (page if isinstance(page, list) else [])]

    def publish(self, line_item: LineItem | str, scores: Iterable[Score], *, ledger: ScoreLedger,
                force: bool = False, now: datetime | None = None) -> PublishReport:
        """Every score that differs from what was last sent for its user, each with this publish's time; a
        score the platform took is recorded in ``ledger`` at once, so that a retry sends only the rest."""
        url = line_item.id if isinstance(line_item, LineItem) else line_item
        timestamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")
        sent, unchanged, failed = [], [], []
        for score in scores:
            digest = score.digest()
            if not force and ledger.sent_digest(url, score.user_id) == digest:
                unchanged.append(score)
                continue
            try:
                self.post_score(url, score, timestamp=timestamp)
            except PlatformError as error:
                failed.append((score, str(error)))
                continue
            ledger.record_sent(url, score.user_id, digest, timestamp=timestamp)
            sent.append(score)
        return PublishReport(timestamp, tuple(sent), tuple(unchanged), tuple(failed))

    def _pages(self, url: str, *, scopes: tuple[str, ...], accept: str) -> Iterator[Any]:
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen:
            seen.add(next_url)
            response = self._request("GET", next_url, scopes=scopes, headers={"Accept": accept})
            yield _json(response)
            link = response.links.get("next", {}).get("url")
            next_url = urljoin(next_url, link) if link else None

    def _request(self, method: str, url: str, *, scopes: tuple[str, ...] | None, **options: Any) -> httpx.Response:
        """One call, tried again on a 5xx, a 429 or a broken connection, and once with a new token on a 401."""
        headers = dict(options.pop("headers", {}))
        renewed = False
        problem, status = "", None
        attempt = 0
        while attempt < self._attempts:
            if scopes is not None:
                headers["Authorization"] = f"Bearer {self.access_token(scopes)}"
            try:
                response = self._http.request(method, url, headers=headers, **options)
            except httpx.TransportError as error:
                problem, status = f"{method} {url}: {type(error).__name__}: {error}", None
            else:
                if response.is_success:
                    return response
                if response.status_code == 401 and scopes is not None and not renewed:
                    renewed = True  # the platform forgot our token (say, it restarted): one new token, once
                    with self._token_lock:
                        self._tokens.pop(tuple(sorted(set(scopes))), None)
                    continue
                problem, status = f"{method} {url}: HTTP {response.status_code}: {response.text[:300]}", \
                    response.status_code
                if response.status_code < 500 and response.status_code != 429:
                    break
            attempt += 1
            if attempt < self._attempts:
                time.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise PlatformError(problem, status)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PlatformError(f"{response.request.url}: the platform answered with no JSON") from None
