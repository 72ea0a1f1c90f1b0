"""A client of the Axis Body Worn Integration API, written from the API's text: what an Axis body
worn system sends to a content destination."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote, urlparse

import httpx2
from fastapi.testclient import TestClient

AUTH_PATH = "/api/axis/auth/v1.0"


@dataclass
class AxisSystem:
    """Signs in with the connection file's ``BlobAPIUserName`` and ``BlobAPIKey``, then speaks Swift
    under the ``X-Storage-Url`` it is given, with ``X-Auth-Token`` on every call."""

    http: TestClient
    user: str
    key: str
    token: str = ""
    storage_path: str = ""
    extra_headers: dict[str, str] = field(default_factory=dict)

    def sign_in(self) -> httpx2.Response:
        response = self.http.get(AUTH_PATH, headers={"X-Auth-User": self.user, "X-Auth-Key": self.key})
        if response.status_code == 200:
            self.token = response.headers["X-Auth-Token"]
            self.storage_path = urlparse(response.headers["X-Storage-Url"]).path
        return response

    def call(
        self, method: str, path: str = "", *, headers: dict[str, str] | None = None, body: bytes | None = None
    ) -> httpx2.Response:
        url = self.storage_path + ("/" + path if path else "")
        sent = {"X-Auth-Token": self.token, **self.extra_headers, **(headers or {})}
        return self.http.request(method, url, headers=sent, content=body)

    def put_container(self, name: str, **meta: str) -> httpx2.Response:
        return self.call("PUT", quote(name), headers=container_meta(meta))

    def post_container(self, name: str, **meta: str) -> httpx2.Response:
        return self.call("POST", quote(name), headers=container_meta(meta))

    def put_object(
        self, container: str, name: str, body: bytes, *, etag: str | None = None, **meta: str
    ) -> httpx2.Response:
        headers = object_meta(meta)
        headers["ETag"] = etag if etag is not None else hashlib.md5(body).hexdigest()
        return self.call("PUT", f"{quote(container)}/{quote(name)}", headers=headers, body=body)


def _meta(prefix: str, meta: dict[str, str]) -> dict[str, str]:
    # "All characters are lowercase except the first letter as well as any letter that follows a
    # hyphen"; values URL-encoded UTF-8.
    return {f"{prefix}{key.capitalize()}": quote(value, safe="") for key, value in meta.items()}


def container_meta(meta: dict[str, str]) -> dict[str, str]:
    return _meta("X-Container-Meta-", meta)


def object_meta(meta: dict[str, str]) -> dict[str, str]:
    return _meta("X-Object-Meta-", meta)
