"""ETSI GS QKD 014 over real sockets on 127.0.0.1, driven by the published client
`etsi-qkd-014-client` (and by `requests` for the malformed requests the client cannot send).

Spec: ETSI GS QKD 014 V1.1.1 (2019-02), sections 5 (API) and 6 (data formats).
"""

from __future__ import annotations

import base64
import uuid

import pytest
import requests

from tests.kme._service import chain_config, start_service

pytestmark = pytest.mark.ns3


def _raw(service, sae: str, method: str, path: str, via: str | None = None, **kwargs):
    """A request as SAE `sae` with its client certificate (for what the client cannot send)."""
    pair = service.certs.saes[sae]
    url = f"https://{service.url(via or sae)}{path}"
    return requests.request(
        method,
        url,
        cert=(str(pair.cert), str(pair.key)),
        verify=str(service.certs.ca.cert),
        timeout=30,
        **kwargs,
    )


def test_master_and_slave_get_the_same_simulated_key(chain_service) -> None:
    service = chain_service
    delivered: list[bytes] = []
    take = service.network.take_delivered_keys

    def observed():  # record what ns-3 handed over, for the check below
        records = take()
        delivered.extend(key for demand, _, key in records if demand == 0)
        return records

    service.network.take_delivered_keys = observed

    def body():
        master, slave = service.client("sae-a"), service.client("sae-c")
        code, status = master.get_status("sae-c")
        assert code == 200
        assert (status.source_kme_id, status.target_kme_id) == ("N0", "N2")
        assert (status.master_sae_id, status.slave_sae_id) == ("sae-a", "sae-c")
        assert status.key_size == 256 and status.max_sae_id_count == 0
        code, container = master.get_key("sae-c", number=3, size=512)
        assert code == 200, container.message
        assert len(container.keys) == 3
        code, again = slave.get_key_with_key_IDs("sae-a", [k.key_id for k in container.keys])
        assert code == 200, again.message
        # fetching them a second time fails: each key is handed to each side once
        code2, error = slave.get_key_with_key_IDs("sae-a", [container.keys[0].key_id])
        code3, default = master.get_key("sae-c")  # simplified GET: 1 key of key_size
        return container, again, (code2, error), (code3, default)

    container, again, (code2, error), (code3, default) = service.drive(body)
    master_keys = [(k.key_id, base64.b64decode(k.key)) for k in container.keys]
    slave_keys = [(k.key_id, base64.b64decode(k.key)) for k in again.keys]
    assert master_keys == slave_keys
    assert all(len(key) == 64 for _, key in master_keys)
    assert len({key_id for key_id, _ in master_keys}) == 3
    assert all(uuid.UUID(key_id) for key_id, _ in master_keys)
    assert code2 == 400 and "not found" in error.message
    assert code3 == 200 and len(base64.b64decode(default.keys[0].key)) == 32
    # the bytes are the simulation's delivered key for demand 0, in delivery order
    handed = b"".join(key for _, key in master_keys) + base64.b64decode(default.keys[0].key)
    assert b"".join(delivered).startswith(handed)
    store = service.network.store_for("sae-a", "sae-c")
    store.check_accounting()
    assert store.counters.issued_keys == 4 and store.counters.claimed_keys == 3


def test_direct_link_demand_serves_link_key(chain_service) -> None:
    service = chain_service

    def body():
        code, container = service.client("sae-b").get_key("sae-a2", number=2, size=128)
        assert code == 200, container.message
        code, again = service.client("sae-a2").get_key_with_key_IDs(
            "sae-b", [k.key_id for k in container.keys]
        )
        assert code == 200, again.message
        return container, again

    container, again = service.drive(body)
    assert [k.key for k in container.keys] == [k.key for k in again.keys]
    assert len(set(k.key for k in container.keys)) == 2


def test_wrong_sae_is_refused(chain_service) -> None:
    service = chain_service

    def body():
        out = {}
        code, container = service.client("sae-a").get_key("sae-c", number=1)
        assert code == 200
        key_id = container.keys[0].key_id
        # a valid certificate of an SAE this network does not know
        out["stranger"] = service.client("sae-stranger", via="sae-a").get_status("sae-c")
        # an SAE asking a KME it is not attached to
        out["wrong_kme"] = service.client("sae-a", via="sae-b").get_status("sae-c")
        # SAEs that share no key
        out["no_pair"] = service.client("sae-b").get_key("sae-c", number=1)
        # another pair's slave asking for sae-c's key IDs
        out["not_addressed"] = service.client("sae-b").get_key_with_key_IDs("sae-a2", [key_id])
        # the right slave still gets it afterwards
        out["right"] = service.client("sae-c").get_key_with_key_IDs("sae-a", [key_id])
        return out

    out = service.drive(body)
    for name in ("stranger", "wrong_kme", "no_pair", "not_addressed"):
        code, error = out[name]
        assert code == 401, (name, code)
        assert error.message
    assert "attached to KME N0" in out["wrong_kme"][1].message
    assert out["right"][0] == 200
    # without a client certificate there is no HTTP at all
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(
            f"https://{service.url('sae-a')}/api/v1/keys/sae-c/status",
            verify=str(service.certs.ca.cert),
            timeout=10,
        )


def test_empty_store_answers_503(tmp_path) -> None:
    config = chain_config(tmp_path, steps=8)
    with start_service(config, tmp_path / "certs", max_steps=5) as service:

        def body():
            master = service.client("sae-a")
            served = 0
            while True:
                code, container = master.get_key("sae-c", number=16, size=256)
                if code != 200:
                    break
                served += 1
                assert served < 1000
            code_status, status = master.get_status("sae-c")
            return served, code, container, status

        served, code, error, status = service.drive(body)
        assert served > 0  # it served until the delivered key ran out
        assert code == 503
        assert "not enough key" in error.message
        assert status.stored_key_count < 16
        assert service.network.finished
        service.network.store_for("sae-a", "sae-c").check_accounting()


MALFORMED = [
    ("POST", "enc_keys", {"data": b"{not json"}, "not valid JSON"),
    ("POST", "enc_keys", {"json": [1, 2]}, "must be a JSON object"),
    ("POST", "enc_keys", {"data": b'{"number": 1, "number": 5}'}, "'number' more than once"),
    (
        "POST",
        "dec_keys",
        {"data": b'{"key_IDs": [{"key_ID": "a", "key_ID": "b"}]}'},
        "'key_ID' more than once",
    ),
    ("POST", "enc_keys", {"json": {"number": 10**30}}, "number must be"),
    ("POST", "enc_keys", {"json": {"number": 0}}, "number must be"),
    ("POST", "enc_keys", {"json": {"number": "2"}}, "number must be an integer"),
    ("POST", "enc_keys", {"json": {"number": True}}, "number must be an integer"),
    ("POST", "enc_keys", {"json": {"size": 100}}, "multiple of 8"),
    ("POST", "enc_keys", {"json": {"size": 10**6}}, "size must be"),
    ("POST", "enc_keys", {"json": {"nmber": 2}}, "unknown field"),
    ("POST", "enc_keys", {"json": {"additional_slave_SAE_IDs": ["sae-b"]}}, "multicast"),
    ("POST", "enc_keys", {"json": {"extension_mandatory": [{"x": 1}]}}, "mandatory extension"),
    ("GET", "enc_keys?number=99999999999999999999", {}, "number must be a positive integer"),
    ("GET", "enc_keys?size=abc", {}, "size must be a positive integer"),
    ("GET", "enc_keys?bogus=1", {}, "unknown query parameter"),
    ("POST", "dec_keys", {"data": b"]"}, "not valid JSON"),
    ("POST", "dec_keys", {"json": {"key_IDs": []}}, "non-empty array"),
    ("POST", "dec_keys", {"json": {"key_IDs": [{"key_ID": "not-a-uuid"}]}}, "not a UUID"),
    ("POST", "dec_keys", {"json": {"key_IDs": [{"key_ID": str(uuid.uuid4())}]}}, "not found"),
    ("GET", "dec_keys", {}, "key_ID is required"),
    ("GET", f"dec_keys?key_ID={uuid.uuid4()}", {}, "not found"),
]


def test_malformed_requests_get_400(chain_service) -> None:
    service = chain_service

    def body():
        out = []
        for method, op, kwargs, _ in MALFORMED:
            # dec_keys is asked by the slave about its master; enc_keys by the master
            caller, other = ("sae-c", "sae-a") if op.startswith("dec_keys") else ("sae-a", "sae-c")
            response = _raw(service, caller, method, f"/api/v1/keys/{other}/{op}", **kwargs)
            out.append((response.status_code, response.json()))
        unknown_sae = _raw(service, "sae-a", "GET", "/api/v1/keys/sae-nobody/status")
        wrong_method = _raw(service, "sae-a", "POST", "/api/v1/keys/sae-c/status", json={})
        return out, unknown_sae, wrong_method

    out, unknown_sae, wrong_method = service.drive(body)
    for (method, op, _, expected), (code, payload) in zip(MALFORMED, out, strict=True):
        assert code == 400, (method, op, code, payload)
        assert expected in payload["message"], (method, op, payload)
    assert unknown_sae.status_code == 400
    assert wrong_method.status_code == 405
    # nothing was taken from the store by a refused request
    assert service.network.store_for("sae-a", "sae-c").counters.issued_keys == 0


def test_get_forms_of_enc_and_dec_keys(chain_service) -> None:
    service = chain_service

    def body():
        enc = _raw(service, "sae-a", "GET", "/api/v1/keys/sae-c/enc_keys?number=2&size=128")
        key_id = enc.json()["keys"][1]["key_ID"]
        dec = _raw(service, "sae-c", "GET", f"/api/v1/keys/sae-a/dec_keys?key_ID={key_id}")
        return enc, dec

    enc, dec = service.drive(body)
    assert enc.status_code == 200 and dec.status_code == 200
    assert enc.headers["Content-Type"] == "application/json"
    assert dec.json()["keys"] == [enc.json()["keys"][1]]


def test_plain_http_only_when_asked_for(tmp_path) -> None:
    """certs=None (the CLI's --insecure-http) serves plain HTTP; the SAE names itself."""
    from kme.api import KmeApi
    from kme.network import KeyDeliveryNetwork
    from kme.server import INSECURE_IDENTITY_HEADER, KmeServers

    with (
        KeyDeliveryNetwork(chain_config(tmp_path)) as network,
        KmeServers(KmeApi(network), certs=None) as servers,
    ):
        url = f"http://{servers.endpoints['N0'].url}/api/v1/keys/sae-c/status"
        named = requests.get(url, headers={INSECURE_IDENTITY_HEADER: "sae-a"}, timeout=30)
        anonymous = requests.get(url, timeout=30)
        assert servers.endpoints["N0"].host == "127.0.0.1"
    assert named.status_code == 200 and named.json()["master_SAE_ID"] == "sae-a"
    assert anonymous.status_code == 401
    assert "client certificate is required" in anonymous.json()["message"]
