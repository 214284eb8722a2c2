"""Token realms on addresses a registry must not steer a client to.

Reference: go-containerregistry (pkg/v1/remote/transport) refuses a realm whose host is a link-local, unspecified,
loopback or private IP literal unless it is the registry's own host; the docker daemon does not check. We follow
go-containerregistry, and refuse link-local and unspecified addresses even on the registry's own host.

No test here sends anything to those addresses: the table checks the rule alone, and the end-to-end cases use a
session whose adapter for those addresses records the attempt and refuses it, and assert that it recorded none.
"""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ProtocolError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.realms import check_realm_address
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session
from tests.kit.bearer import BearerRegistry
from tests.kit.faults import FaultServer, RecordingAdapter
from tests.unit.ids import case_id


class Realm(t.NamedTuple):
    registry: str
    realm: str
    refused: str | None  # what the message says, or None when the realm is fine


LOOPBACK = "a loopback address, and the registry is not on that host"
PRIVATE = "a private address, and the registry is not on that host"

REALMS = [
    # Public names and addresses: nothing to check.
    Realm("https://ghcr.io/v2/", "https://ghcr.io/token", None),
    Realm("https://registry-1.docker.io/v2/", "https://auth.docker.io/token", None),
    Realm("https://registry.example.com/v2/", "https://8.8.8.8/token", None),
    # Link-local (the cloud metadata service) and unspecified: always refused.
    Realm("https://registry.example.com/v2/", "https://169.254.169.254/latest/meta-data", "a link-local address"),
    Realm("https://169.254.169.254/v2/", "https://169.254.169.254:8443/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://[fe80::1]/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://0.0.0.0/token", "an unspecified address"),
    Realm("https://registry.example.com/v2/", "https://[::]/token", "an unspecified address"),
    Realm("https://registry.example.com/v2/", "https://[::ffff:169.254.169.254]/token", "a link-local address"),
    # The same addresses in the spellings getaddrinfo reads as IPv4 literals (inet_aton's), found by fuzzing: a
    # check that knew only the dotted form sent the token request to the metadata service.
    Realm("https://registry.example.com/v2/", "https://2852039166/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://0xa9fea9fe/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://169.254.43518/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://0251.0376.0251.0376/token", "a link-local address"),
    Realm("https://registry.example.com/v2/", "https://0/token", "an unspecified address"),
    Realm("https://registry.example.com/v2/", "https://10.5/token", PRIVATE),
    Realm("https://registry.example.com/v2/", "https://127.1/token", LOOPBACK),
    Realm("https://127.0.0.1:5000/v2/", "https://127.1:5001/token", None),
    # Names that only look numeric-ish are names: DNS decides, as for any other.
    Realm("https://registry.example.com/v2/", "https://cafe.beef/token", None),
    Realm("https://registry.example.com/v2/", "https://1.2.3.4.5/token", None),
    # Loopback and private: refused unless the registry is on that same host.
    Realm("https://registry.example.com/v2/", "https://127.0.0.1/token", LOOPBACK),
    Realm("https://registry.example.com/v2/", "https://[::1]/token", LOOPBACK),
    Realm("https://registry.example.com/v2/", "https://10.0.0.5/token", PRIVATE),
    Realm("https://registry.example.com/v2/", "https://192.168.1.10:5001/token", PRIVATE),
    Realm("https://10.0.0.6/v2/", "https://10.0.0.5/token", PRIVATE),
    Realm("https://127.0.0.1:5000/v2/", "https://10.0.0.5/token", PRIVATE),
    Realm("https://127.0.0.1:5000/v2/", "https://127.0.0.1:5001/token", None),
    Realm("https://localhost:5000/v2/", "https://127.0.0.1:5001/token", None),
    Realm("https://[::1]:5000/v2/", "https://127.0.0.1:5001/token", None),
    Realm("https://10.0.0.5:5000/v2/", "https://10.0.0.5/token", None),
    Realm("https://192.168.1.10/v2/", "https://192.168.1.10:8443/auth", None),
]


@pytest.mark.parametrize("case", REALMS, ids=[case_id(f"{c.registry}->{c.realm}") for c in REALMS])
def test_realm_address_rule(case: Realm) -> None:
    if case.refused is None:
        check_realm_address(case.realm, case.registry, "GET")
        return
    with pytest.raises(ProtocolError) as caught:
        check_realm_address(case.realm, case.registry, "GET")
    error = caught.value
    assert str(error) == (
        f"GET {case.registry}: 401 with a Bearer realm {case.realm} on {case.refused}; refusing to ask it for a token; "
        "a registry must not steer credentials to internal addresses; check the registry's auth configuration"
    )
    assert error.context() == {"method": "GET", "url": case.registry, "status": 401}


FORBIDDEN = ("https://169.254.169.254", "https://10.0.0.5", "https://0.0.0.0", "https://2852039166")


@pytest.mark.parametrize(
    "realm",
    [
        "https://169.254.169.254/latest/meta-data/iam",
        "https://10.0.0.5/token",
        "https://0.0.0.0:8443/token",
        "https://2852039166/latest/meta-data/iam",
    ],
    ids=case_id,
)
@pytest.mark.parametrize(
    "identity", [None, Identity(username="alice", password="Canary-realm-pw", source="options")], ids=case_id
)
def test_refused_before_any_connection(faults: FaultServer, realm: str, identity: Identity | None) -> None:
    challenge = f'Bearer realm="{realm}",service="svc",scope="repository:org/app:pull"'
    faults.handler = BearerRegistry(challenge, denied={"errors": [{"code": "UNAUTHORIZED"}]})
    session = make_session()
    recorder = RecordingAdapter()
    for prefix in FORBIDDEN:
        session.mount(prefix, recorder)
    client = RegistryClient(
        session, ClientOptions(ca_path=faults.ca, timeout=5, environ={"HOME": "/nonexistent"}, credentials=identity)
    )
    with pytest.raises(ProtocolError) as caught:
        client.list_tags(ImageReference.parse(f"{faults.host}/org/app"))
    assert recorder.attempts == []
    assert str(caught.value).startswith(
        f"GET https://{faults.host}/v2/org/app/tags/list: 401 with a Bearer realm {realm.split('?', maxsplit=1)[0]} on "
    )
    assert "refusing to ask it for a token" in str(caught.value)
    assert "Canary-realm-pw" not in str(caught.value)
    # The registry was asked once; nothing followed.
    assert [r.path for r in faults.requests] == ["/v2/org/app/tags/list"]
