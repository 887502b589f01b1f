"""The backend against a real SeaweedFS, through real uvicorn processes, with plain HTTP clients:
create, sign, PUT to the signed URL, list, complete; an expired URL; wrong tokens; another device's
upload; bounded bodies and validated part numbers; two instances on one database; the signed webhook."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

from backend_helpers import MiB, ROOT, add_device, api, put


def _create(base, token, name="reel.mp4", **extra):
    status, body = api(base, "POST", "/s3/multipart", token,
                       {"filename": name, "type": "video/mp4", "metadata": {"title": "Sunset"}, **extra})
    assert status == 200, body
    return body["key"], body["uploadId"]


def _q(key):
    return f"?key={quote(key, safe='')}"


def _sign(base, token, upload_id, key, n):
    status, body = api(base, "GET", f"/s3/multipart/{quote(upload_id, safe='')}/{n}{_q(key)}", token)
    assert status == 200, body
    return body


def test_create_sign_put_list_complete_with_plain_http(start_backend, raw_s3, s3_server, webhook_receiver):
    from studio.uploader.webhook import verify_signature

    b = start_backend(webhook=webhook_receiver.url, webhook_secret="hook-secret")
    token = add_device(b.db, "laptop")
    data = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123_457)]
    key, uid = _create(b.url, token, name="../../etc/passwd evil.mp4")
    assert key.startswith("devices/") and ".." not in key and key.endswith("/passwd-evil.mp4")

    signed = _sign(b.url, token, uid, key, 1)
    assert signed["expires"] == 900 and "X-Amz-Signature" in signed["url"]
    assert s3_server["secret_key"] not in json.dumps(signed)
    status, headers, _ = put(signed["url"], data[0])
    assert status == 200
    etags = {1: headers["etag"]}
    status, batch = api(b.url, "GET", f"/s3/multipart/{quote(uid, safe='')}/batch{_q(key)}&partNumbers=2,3", token)
    assert status == 200 and set(batch["presignedUrls"]) == {"2", "3"}
    for n in (2, 3):
        status, headers, _ = put(batch["presignedUrls"][str(n)], data[n - 1])
        assert status == 200
        etags[n] = headers["etag"]

    status, parts = api(b.url, "GET", f"/s3/multipart/{quote(uid, safe='')}{_q(key)}", token)
    assert status == 200
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == \
        [(n, len(data[n - 1]), etags[n]) for n in (1, 2, 3)]

    status, done = api(b.url, "POST", f"/s3/multipart/{quote(uid, safe='')}/complete{_q(key)}", token,
                       {"parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    assert status == 200, done
    assert done["key"] == key and done["size"] == sum(map(len, data)) and key in done["location"]
    got = raw_s3.get_object(Bucket=s3_server["bucket"], Key=key)["Body"].read()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(b"".join(data)).hexdigest()

    # completing again (a lost answer retried) gives the same answer and no second webhook
    status, again = api(b.url, "POST", f"/s3/multipart/{quote(uid, safe='')}/complete{_q(key)}", token,
                        {"parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    assert status == 200 and again["key"] == key

    hooks = webhook_receiver.wait(1)
    assert len(hooks) == 1
    hook = hooks[0]
    assert verify_signature("hook-secret", hook["headers"]["X-Studio-Signature"], hook["body"])
    assert not verify_signature("other-secret", hook["headers"]["X-Studio-Signature"], hook["body"])
    event = json.loads(hook["body"])
    assert event["event"] == "upload.completed" and event["key"] == key and event["size"] == sum(map(len, data))
    assert event["device"]["name"] == "laptop" and event["metadata"] == {"title": "Sunset"}
    assert hook["headers"]["X-Studio-Delivery"] == event["delivery_id"]
    time.sleep(0.5)
    assert len(webhook_receiver.received) == 1


def test_expired_url_is_refused_with_request_has_expired_and_signed_again(start_backend):
    b = start_backend(ttl=1)
    token = add_device(b.db, "laptop")
    key, uid = _create(b.url, token)
    stale = _sign(b.url, token, uid, key, 1)["url"]
    time.sleep(2.5)
    status, _, body = put(stale, b"x" * 1000)
    assert status == 403 and b"Request has expired" in body
    fresh = _sign(b.url, token, uid, key, 1)["url"]
    status, headers, _ = put(fresh, b"x" * 1000)
    assert status == 200 and headers["etag"]


def test_tokens_and_ownership(start_backend):
    b = start_backend()
    alice, bob = add_device(b.db, "alice"), add_device(b.db, "bob")
    for token in (None, "rsd_wrong", "Bearer"):
        status, body = api(b.url, "POST", "/s3/multipart", token, {"filename": "a.mp4", "type": "video/mp4"})
        assert status == 401 and "token" in body["error"]
    assert api(b.url, "GET", "/s3/device", "x" * 5000)[0] == 401

    key, uid = _create(b.url, alice)
    u = quote(uid, safe="")
    # bob sees alice's upload as unknown: no signing, listing, completing or aborting it
    assert api(b.url, "GET", f"/s3/multipart/{u}/1{_q(key)}", bob)[0] == 404
    assert api(b.url, "GET", f"/s3/multipart/{u}{_q(key)}", bob)[0] == 404
    assert api(b.url, "POST", f"/s3/multipart/{u}/complete{_q(key)}", bob,
               {"parts": [{"PartNumber": 1, "ETag": "x"}]})[0] == 404
    assert api(b.url, "DELETE", f"/s3/multipart/{u}{_q(key)}", bob)[0] == 404
    assert api(b.url, "GET", f"/s3/object{_q(key)}", bob)[0] == 404
    # alice with a key that is not the upload's (a path of her choosing) is refused too
    assert api(b.url, "GET", f"/s3/multipart/{u}/1?key=devices/{'x' * 10}/a.mp4", alice)[0] == 404
    assert api(b.url, "GET", f"/s3/multipart/{u}/1", alice)[0] == 400

    # part numbers and bodies are checked
    for bad in ("0", "10001", "-1", "abc"):
        status, body = api(b.url, "GET", f"/s3/multipart/{u}/{bad}{_q(key)}", alice)
        assert status == 400, (bad, body)
    status, _ = api(b.url, "POST", "/s3/multipart", alice, {"filename": "a" * 70_000, "type": "video/mp4"})
    assert status == 413
    status, body = api(b.url, "POST", f"/s3/multipart/{u}/complete{_q(key)}", alice,
                       {"parts": [{"PartNumber": 1, "ETag": "a"}, {"PartNumber": 1, "ETag": "b"}]})
    assert status == 400 and "distinct" in body["error"]
    status, body = api(b.url, "POST", "/s3/multipart", alice, {"filename": "a.mp4", "type": "video/mp4",
                                                               "size": 6 * MiB})
    sized_key, sized = body["key"], quote(body["uploadId"], safe="")
    assert api(b.url, "GET", f"/s3/multipart/{sized}/2{_q(sized_key)}", alice)[0] == 200
    assert api(b.url, "GET", f"/s3/multipart/{sized}/3{_q(sized_key)}", alice)[0] == 400   # beyond 6 MiB

    # alice aborts her own; a revoked token stops working at once
    assert api(b.url, "DELETE", f"/s3/multipart/{u}{_q(key)}", alice)[0] == 200
    assert api(b.url, "GET", f"/s3/multipart/{u}/1{_q(key)}", alice)[0] == 404
    out = subprocess.run([sys.executable, "-m", "studio", "backend", "revoke-device", "bob", "--db", b.db, "--json"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["device"]["active"] is False
    assert api(b.url, "GET", "/s3/device", bob)[0] == 401
    assert api(b.url, "GET", "/s3/device", alice)[0] == 200


def test_two_instances_on_one_database(start_backend, raw_s3, s3_server):
    one = start_backend()
    two = start_backend(db=one.db)
    out = subprocess.run([sys.executable, "-m", "studio", "backend", "add-device", "studio-pc", "--db", one.db,
                          "--json"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    token = json.loads(out.stdout)["token"]
    assert token.startswith("rsd_")
    assert token not in open(one.db, "rb").read().decode("latin-1")   # only its hash is stored

    data = os.urandom(5 * MiB + 17)
    key, uid = _create(one.url, token)                       # created on one
    u = quote(uid, safe="")
    s1, h1, _ = put(_sign(two.url, token, uid, key, 1)["url"], data[:5 * MiB])   # signed on two
    s2, h2, _ = put(_sign(one.url, token, uid, key, 2)["url"], data[5 * MiB:])
    assert s1 == s2 == 200
    status, parts = api(two.url, "GET", f"/s3/multipart/{u}{_q(key)}", token)
    assert [p["PartNumber"] for p in parts] == [1, 2]
    status, done = api(two.url, "POST", f"/s3/multipart/{u}/complete{_q(key)}", token,
                       {"parts": [{"PartNumber": 1, "ETag": h1["etag"]}, {"PartNumber": 2, "ETag": h2["etag"]}]})
    assert status == 200, done                              # completed on two
    assert raw_s3.get_object(Bucket=s3_server["bucket"], Key=key)["Body"].read() == data
    status, info = api(one.url, "GET", f"/s3/object{_q(key)}", token)
    assert status == 200 and info["size"] == len(data)


def test_filer_notification_confirms_the_stored_object(start_backend):
    b = start_backend(filer_token="filer-token")
    token = add_device(b.db, "laptop")
    key, uid = _create(b.url, token)
    status, headers, _ = put(_sign(b.url, token, uid, key, 1)["url"], b"tiny")
    api(b.url, "POST", f"/s3/multipart/{quote(uid, safe='')}/complete{_q(key)}", token,
        {"parts": [{"PartNumber": 1, "ETag": headers["etag"]}]})
    event = {"key": f"/buckets/reels/{key}", "event_type": "create",
             "message": {"new_entry": {"name": key.rsplit("/", 1)[-1]}, "new_parent_path": ""}}
    assert api(b.url, "POST", "/storage/notify", "wrong", event)[0] == 401
    status, body = api(b.url, "POST", "/storage/notify", "filer-token", event)
    assert status == 200 and body == {"matched": True}
    assert api(b.url, "GET", f"/s3/object{_q(key)}", token)[1]["storage_confirmed"] is True
