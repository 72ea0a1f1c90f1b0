"""The connection file an Axis body worn manager imports to use this platform as its content
destination: where to sign in, as which system, with which credential, and what to send."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urlparse

from sqlalchemy.orm import Session

from openbwv import __version__, fleet
from openbwv.errors import InvalidInput
from openbwv.policy import Actor

CONNECTION_FILE_VERSION = "1.0"
APPLICATION_NAME = "openbwv"
SYSTEM_MODEL = "Axis body worn system"
# The sign-in path under the base URL; the storage URL comes back from it.
AUTH_PATH = "/api/axis/auth/v1.0"
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def base_url_of(value: str) -> str:
    """The site's address as the system will reach it, without a trailing slash."""
    url = urlparse(value.strip())
    if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
        raise InvalidInput(
            "base_url", "give the address the system reaches, e.g. https://bwv.example.police.uk"
        )
    return value.strip().rstrip("/")


def certificates_of(pem: str) -> list[str]:
    """The certificates in PEM text, each as the base64 of its DER bytes, as the file wants them."""
    found = []
    for body in _PEM.findall(pem):
        der = base64.b64decode("".join(body.split()), validate=True)
        found.append(base64.b64encode(der).decode())
    if not found:
        raise InvalidInput("certificate", "no PEM certificate found")
    return found


def prepare_system(db: Session, actor: Actor, *, serial: str) -> tuple[str, str]:
    """Register the Axis system as a dock if the fleet does not know it, and issue it a new device
    credential (revoking the one it had); returns its serial and the credential."""
    if fleet.get_device(db, serial.strip().upper()) is None:
        fleet.create_device(db, actor, kind="dock", serial=serial, model=SYSTEM_MODEL)
    device, raw = fleet.issue_credential(db, actor, serial=serial)
    return device.serial, raw


def connection_file(
    *,
    base_url: str,
    serial: str,
    credential: str,
    site_name: str,
    container_type: str = "mp4",
    certificates: list[str] | None = None,
) -> str:
    """The connection file's JSON: every capability is declared in ``System/Capabilities.json``, so
    ``FullStoreAndReadSupport`` is off; end-to-end content encryption is off, as ingest would need the private key to read clips."""
    if container_type not in ("mkv", "mp4"):
        raise InvalidInput("container_type", "must be mkv or mp4")
    document: dict[str, object] = {
        "ConnectionFileVersion": CONNECTION_FILE_VERSION,
        "SiteName": site_name[:64],
        "ApplicationName": APPLICATION_NAME,
        "ApplicationVersion": __version__,
        "ContentDestinationAsNTPServer": False,
        "AuthenticationTokenURI": [base_url_of(base_url) + AUTH_PATH],
        "BlobAPIKey": credential,
        "BlobAPIUserName": serial,
        "ContainerType": container_type,
        "FullStoreAndReadSupport": False,
        "WantEncryption": False,
    }
    if certificates:
        document["HTTPSCertificate"] = certificates[:10]
    return json.dumps(document, indent=2)
