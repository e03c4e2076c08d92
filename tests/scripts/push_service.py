#!/usr/bin/env python3
"""A local Web Push service for the tests, independent of the hub's code.

POST /new?status=201[&retry_after=N][&then=201]  -> a subscription
    {"endpoint", "p256dh", "auth"}; this service keeps its private key.
POST /push/<id> -> checks the VAPID JWT (ES256, with the key in the
    Authorization header), decrypts the aes128gcm body with http_ece, writes
    one JSON line per delivery to the log file, and answers with the
    subscription's status (the first answer may differ: `then` follows).
GET /log -> every delivery so far, as a JSON list.

Usage: push_service.py PORT   (0 = any free port, printed as `ready PORT`)
"""
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


LOCK = threading.Lock()
SUBSCRIPTIONS = {}
DELIVERIES = []


def verify_vapid(header, endpoint_origin):
    """Returns the JWT claims if the `vapid t=..., k=...` header is valid."""
    if not header.startswith("vapid "):
        raise ValueError("Authorization is not a vapid scheme: " + header[:20])
    parts = dict(p.strip().split("=", 1) for p in header[6:].split(","))
    token, key = parts["t"], parts["k"]
    head_b64, claims_b64, sig_b64 = token.split(".")
    header_json = json.loads(b64d(head_b64))
    if header_json.get("alg") != "ES256":
        raise ValueError("alg is not ES256")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
    raw = b64d(sig_b64)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(signature, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(b64d(claims_b64))
    if claims.get("aud") != endpoint_origin:
        raise ValueError(f"aud {claims.get('aud')} is not {endpoint_origin}")
    if claims.get("exp", 0) < time.time() or claims["exp"] > time.time() + 24 * 3600 + 60:
        raise ValueError("exp out of range")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise ValueError("sub missing")
    return claims, key


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/count":
            with LOCK:
                body = str(len(DELIVERIES)).encode()
            return self.answer(200, body, {"Content-Type": "application/json"})
        if self.path == "/log":
            with LOCK:
                body = json.dumps(DELIVERIES).encode()
            return self.answer(200, body, {"Content-Type": "application/json"})
        self.answer(404)

    def do_POST(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if url.path == "/new":
            query = parse_qs(url.query)
            private = ec.generate_private_key(ec.SECP256R1())
            auth = os.urandom(16)
            with LOCK:
                sub_id = str(len(SUBSCRIPTIONS) + 1)
                SUBSCRIPTIONS[sub_id] = {
                    "private": private,
                    "auth": auth,
                    "status": [int(s) for s in query.get("status", ["201"])[0].split(",")],
                    "retry_after": query.get("retry_after", [None])[0],
                    "delay": float(query.get("delay", ["0"])[0]),
                    "calls": 0,
                }
            public = private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            host = self.headers["Host"]
            reply = {"endpoint": f"http://{host}/push/{sub_id}", "p256dh": b64e(public), "auth": b64e(auth)}
            return self.answer(201, json.dumps(reply).encode(), {"Content-Type": "application/json"})
        if url.path.startswith("/push/"):
            sub_id = url.path.rsplit("/", 1)[1]
            sub = SUBSCRIPTIONS.get(sub_id)
            if sub is None:
                return self.answer(404)
            time.sleep(sub["delay"])
            record = {"subscription": sub_id, "headers": {k: self.headers.get(k) for k in ("TTL", "Urgency", "Topic", "Content-Encoding")}}
            try:
                claims, key = verify_vapid(self.headers.get("Authorization", ""), "http://" + self.headers["Host"])
                record["vapid"] = {"sub": claims.get("sub"), "aud": claims.get("aud"), "k": key}
                plain = http_ece.decrypt(body, private_key=sub["private"], auth_secret=sub["auth"], version="aes128gcm")
                record["payload"] = json.loads(plain)
                record["size"] = len(body)
            except (ValueError, InvalidSignature, KeyError) as err:
                record["error"] = f"{type(err).__name__}: {err}"
            with LOCK:
                calls = sub["calls"]
                sub["calls"] += 1
                statuses = sub["status"]
                status = statuses[min(calls, len(statuses) - 1)]
                record["answered"] = status
                DELIVERIES.append(record)
            headers = {}
            if status == 429 and sub["retry_after"]:
                headers["Retry-After"] = sub["retry_after"]
            if status in (200, 201) and "error" in record:
                status = 400
            return self.answer(status, b"", headers)
        self.answer(404)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    # Port 0 picks a free one; say which.
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()
