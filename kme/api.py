"""ETSI GS QKD 014 v1.1.1 request handling, apart from any socket: one call per HTTP request,
(method, path, query, body, calling SAE, this KME) in, (status, JSON object) out.

Why separate from the server: the rules (who may ask for what, which request is malformed, what
an empty store answers) are the spec; the HTTPS server only finds out who is calling (the client
certificate) and moves bytes. Endpoints (all under /api/v1/keys/):

  GET       {slave_SAE_ID}/status     Status of the key shared with that slave
  GET|POST  {slave_SAE_ID}/enc_keys   Get key (caller is the master): number, size
  GET|POST  {master_SAE_ID}/dec_keys  Get key with key IDs (caller is the slave)

Status codes as the spec gives them: 200; 400 bad request format; 401 unauthorized (caller not
an SAE of this KME, no key shared with that SAE, or key IDs issued to other SAEs); 503 error on
the server side (here: not enough key in store). Errors carry the spec's Error object
{"message": ..., "details": [...]}.
"""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from kme.network import KeyDeliveryNetwork
from kme.store import PairKeyStore, StoreEmptyError, UnknownKeysError

DEFAULT_KEY_SIZE_BITS = 256
MIN_KEY_SIZE_BITS = 64
MAX_KEY_SIZE_BITS = 8192
MAX_KEYS_PER_REQUEST = 128
MAX_SAE_ID_COUNT = 0  # no key multicast: additional_slave_SAE_IDs is refused
MAX_BODY_BYTES = 64 * 1024

_PATH = re.compile(r"^/api/v1/keys/(?P<sae>[^/]+)/(?P<op>status|enc_keys|dec_keys)/?$")

Response = tuple[int, dict[str, Any]]


class ApiError(Exception):
    """An answer other than 200, with the spec's Error object."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if details:
            self.body["details"] = [{k: v} for k, v in details.items()]


#: Called (without the store lock) when a request needs more key than is stored: in
#: as-fast-as-requests mode it advances the simulation; in real time it does nothing.
KeySupply = Callable[[PairKeyStore, int], None]


def _no_supply(store: PairKeyStore, size_bytes: int) -> None:
    return None


@dataclass
class KmeApi:
    """The API of every KME of one simulated network (each call says which KME answers)."""

    network: KeyDeliveryNetwork
    supply: KeySupply = _no_supply

    # entry point ------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: str, body: bytes, caller: str | None, kme_id: str
    ) -> Response:
        """Answer one request to KME `kme_id` from SAE `caller` (None: no identity)."""
        try:
            match = _PATH.match(path)
            if match is None:
                raise ApiError(404, f"no such resource: {path}")
            sae, op = match["sae"], match["op"]
            allowed = ("GET",) if op == "status" else ("GET", "POST")
            if method not in allowed:
                raise ApiError(405, f"{method} not allowed on {op}")
            me = self._caller(caller, kme_id)
            if op == "status":
                return 200, self._status(me, sae, kme_id)
            if op == "enc_keys":
                number, size = self._key_request(method, query, body)
                return 200, self._enc_keys(me, sae, number, size)
            return 200, self._dec_keys(me, sae, self._key_ids(method, query, body))
        except ApiError as exc:
            return exc.status, exc.body

    # identity and pairs -----------------------------------------------------------------
    def _caller(self, caller: str | None, kme_id: str) -> str:
        directory = self.network.directory
        if caller is None:
            raise ApiError(401, "no client identity: a client certificate is required")
        sae = directory.saes.get(caller)
        if sae is None:
            raise ApiError(401, f"SAE {caller!r} is not known to this network")
        if sae.kme_id != kme_id:
            raise ApiError(401, f"SAE {caller!r} is attached to KME {sae.kme_id}, not {kme_id}")
        return caller

    def _store(self, me: str, other: str) -> PairKeyStore:
        directory = self.network.directory
        if other not in directory.saes:
            raise ApiError(400, f"SAE {other!r} is not known to this network", SAE_ID=other)
        store = self.network.store_for(me, other)
        if store is None:
            raise ApiError(401, f"no key is shared between SAE {me!r} and SAE {other!r}")
        return store

    # status -----------------------------------------------------------------------------
    def _status(self, me: str, slave: str, kme_id: str) -> dict[str, Any]:
        store = self._store(me, slave)
        size_bytes = DEFAULT_KEY_SIZE_BITS // 8
        with self.network.lock:
            stored = store.stored_keys(size_bytes)
        return {
            "source_KME_ID": kme_id,
            "target_KME_ID": self.network.directory.saes[slave].kme_id,
            "master_SAE_ID": me,
            "slave_SAE_ID": slave,
            "key_size": DEFAULT_KEY_SIZE_BITS,
            "stored_key_count": stored,
            "max_key_count": store.capacity_bytes // size_bytes,
            "max_key_per_request": MAX_KEYS_PER_REQUEST,
            "max_key_size": MAX_KEY_SIZE_BITS,
            "min_key_size": MIN_KEY_SIZE_BITS,
            "max_SAE_ID_count": MAX_SAE_ID_COUNT,
        }

    # enc_keys ---------------------------------------------------------------------------
    def _key_request(self, method: str, query: str, body: bytes) -> tuple[int, int]:
        if method == "GET":
            params = _query(query, ("number", "size"))
            number = _int_param(params.get("number", "1"), "number")
            size = _int_param(params.get("size", str(DEFAULT_KEY_SIZE_BITS)), "size")
        else:
            request = _json_object(body)
            known = {
                "number",
                "size",
                "additional_slave_SAE_IDs",
                "extension_mandatory",
                "extension_optional",
            }
            unknown = sorted(set(request) - known)
            if unknown:
                raise ApiError(400, f"unknown field(s) in key request: {', '.join(unknown)}")
            if request.get("additional_slave_SAE_IDs"):
                raise ApiError(
                    400,
                    "key multicast is not supported (max_SAE_ID_count is 0)",
                    additional_slave_SAE_IDs=request["additional_slave_SAE_IDs"],
                )
            if request.get("extension_mandatory"):
                raise ApiError(
                    400,
                    "mandatory extension parameters are not supported",
                    extension_mandatory=request["extension_mandatory"],
                )
            number = _int_value(request.get("number", 1), "number")
            size = _int_value(request.get("size", DEFAULT_KEY_SIZE_BITS), "size")
        if not 1 <= number <= MAX_KEYS_PER_REQUEST:
            raise ApiError(
                400,
                f"number must be 1..{MAX_KEYS_PER_REQUEST} (max_key_per_request), not {number}",
            )
        if size % 8 != 0:
            raise ApiError(400, f"size shall be a multiple of 8, not {size}")
        if not MIN_KEY_SIZE_BITS <= size <= MAX_KEY_SIZE_BITS:
            raise ApiError(
                400, f"size must be {MIN_KEY_SIZE_BITS}..{MAX_KEY_SIZE_BITS} bits, not {size}"
            )
        return number, size

    def _enc_keys(self, master: str, slave: str, number: int, size: int) -> dict[str, Any]:
        store = self._store(master, slave)
        need = number * size // 8
        with self.network.lock:
            short = store.pool_bytes < need
        if short:
            self.supply(store, need)
        with self.network.lock:
            try:
                keys = store.issue(master, slave, number, size // 8)
            except StoreEmptyError as exc:
                raise ApiError(503, f"not enough key in store for SAE {slave!r}: {exc}") from None
        return {"keys": [_key_json(k.key_id, k.key) for k in keys]}

    # dec_keys ---------------------------------------------------------------------------
    def _key_ids(self, method: str, query: str, body: bytes) -> list[str]:
        if method == "GET":
            params = _query(query, ("key_ID",))
            if "key_ID" not in params:
                raise ApiError(400, "key_ID is required")
            ids = [params["key_ID"]]
        else:
            request = _json_object(body)
            unknown = sorted(set(request) - {"key_IDs", "key_IDs_extension"})
            if unknown:
                raise ApiError(400, f"unknown field(s) in key ID request: {', '.join(unknown)}")
            entries = request.get("key_IDs")
            if not isinstance(entries, list) or not entries:
                raise ApiError(400, 'key_IDs must be a non-empty array of {"key_ID": UUID}')
            if len(entries) > MAX_KEYS_PER_REQUEST:
                raise ApiError(
                    400, f"at most {MAX_KEYS_PER_REQUEST} key_IDs per request, got {len(entries)}"
                )
            ids = []
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("key_ID"), str):
                    raise ApiError(400, 'each key_IDs entry must be {"key_ID": UUID}')
                ids.append(entry["key_ID"])
        for key_id in ids:
            try:
                uuid.UUID(key_id)
            except ValueError:
                raise ApiError(400, f"key_ID is not a UUID: {key_id[:64]!r}") from None
        return ids

    def _dec_keys(self, slave: str, master: str, key_ids: list[str]) -> dict[str, Any]:
        store = self._store(slave, master)
        with self.network.lock:
            try:
                keys = store.claim(master, slave, key_ids)
            except UnknownKeysError as exc:
                elsewhere = [k for k in exc.key_ids if self._issued_elsewhere(k, master, slave)]
                if elsewhere:
                    raise ApiError(
                        401, f"key_IDs not addressed to SAE {slave!r}", key_IDs=elsewhere
                    ) from None
                raise ApiError(400, "key_IDs not found", key_IDs=exc.key_ids) from None
        return {"keys": [_key_json(k.key_id, k.key) for k in keys]}

    def _issued_elsewhere(self, key_id: str, master: str, slave: str) -> bool:
        """The ID waits for another (master, slave) pair: someone asked for keys not theirs."""
        for store in self.network.stores.values():
            issued = store.awaiting(key_id)
            if issued is not None and (issued.master, issued.slave) != (master, slave):
                return True
        return False


def _key_json(key_id: str, key: bytes) -> dict[str, str]:
    return {"key_ID": key_id, "key": base64.b64encode(key).decode("ascii")}


def _json_object(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(400, f"request body larger than {MAX_BODY_BYTES} bytes")
    try:
        value = (
            json.loads(body.decode("utf-8"), object_pairs_hook=_unique_members)
            if body.strip()
            else {}
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "request body must be a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose member names are unique. Why: `json` keeps the last of two equal
    names silently, so {"number": 1, "number": 100} would be served as 100 keys (RFC 8259 leaves
    duplicates to the parser; we refuse them, as the query string's repeated parameters are)."""
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise ApiError(400, f"request body gives {name[:64]!r} more than once")
        obj[name] = value
    return obj


def _query(query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    params = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown query parameter(s): {', '.join(unknown)}")
    repeated = sorted(k for k, v in params.items() if len(v) > 1)
    if repeated:
        raise ApiError(400, f"query parameter given more than once: {', '.join(repeated)}")
    return {k: v[0] for k, v in params.items()}


def _int_param(text: str, name: str) -> int:
    if not re.fullmatch(r"[0-9]{1,12}", text):
        raise ApiError(400, f"{name} must be a positive integer, not {text[:32]!r}")
    return int(text)


def _int_value(value: Any, name: str) -> int:
    # JSON true is an int to Python; 2.0 is not an integer in the spec's sense either.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        raise ApiError(400, f"{name} must be an integer, not {json.dumps(value)[:32]}")
    return value
