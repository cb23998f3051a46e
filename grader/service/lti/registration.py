"""The registration: what the LMS told the instructor (the ``[lti]`` table), and the tool's own key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grader.errors import GraderError

__all__ = ["Registration", "ToolKey", "load_or_create_key", "load_registration"]


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
