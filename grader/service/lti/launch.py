"""A launch: OIDC login initiation, then the id_token verified against the platform's key set."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from grader.service.lti.errors import LaunchRefused, PlatformError, same_origin, with_query
from grader.service.lti.registration import Registration, ToolKey
from grader.service.lti.roles import map_role
from grader.service.lti.services import PlatformServices
from grader.service.lti.store import LaunchStore

__all__ = ["AgsEndpoint", "LoginRedirect", "LtiLaunch", "LtiTool"]


CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
LEEWAY_S = 60  # the LMS's clock and ours may disagree by this much
LOGIN_TTL_S = 600  # a login's state and nonce wait this long for its launch
KEYSET_TTL_S = 3600  # the platform's key set is fetched again after this long ...
KEYSET_REFETCH_S = 10  # ... or on an unknown key id, at most this often (a rotated key, not a flood)


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
        if not same_origin(params["target_link_uri"], self.launch_url):
            raise LaunchRefused("the target link is not on this service")
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._store.save_login(state, nonce, expires_at=time.time() + LOGIN_TTL_S)
        query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
                 "client_id": registration.client_id, "redirect_uri": self.launch_url,
                 "login_hint": params["login_hint"], "state": state, "nonce": nonce}
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = params["lti_message_hint"]
        return LoginRedirect(with_query(registration.auth_login_url, query), state)

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
        if not same_origin(str(claims.get(CLAIM + "target_link_uri", "")), self.launch_url):
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
