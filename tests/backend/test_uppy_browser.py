"""A browser client: Uppy's @uppy/aws-s3 (the npm `uppy` bundle, vendored in tests/backend/uppy) in
Debian's headless Chromium uploads a file through the same backend, in parts, with a device token."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from backend_helpers import add_device

HERE = Path(__file__).resolve().parent
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

PAGE = """<!doctype html><meta charset="utf-8"><title>uppy</title>
<script src="uppy.min.js"></script>
<script>
async function go(endpoint, token) {
  const n = 5 * 1024 * 1024 + 4321, bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)));
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
    .map(b => b.toString(16).padStart(2, "0")).join("");
  const uppy = new Uppy.Uppy({ autoProceed: false });
  uppy.use(Uppy.AwsS3, { endpoint, headers: { Authorization: "Bearer " + token },
                         shouldUseMultipart: () => true, getChunkSize: () => 5 * 1024 * 1024 });
  const id = uppy.addFile({ name: "browser reel.mp4", type: "video/mp4", data: new Blob([bytes]) });
  const result = await uppy.upload();
  const file = uppy.getFile(id);
  return { sha256: digest, ok: result.successful.length === 1, failed: result.failed.map(f => String(f.error)),
           key: file && file.s3Multipart && file.s3Multipart.key };
}
</script>"""


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed")
def test_uppy_in_headless_chromium_uploads_through_the_backend(start_backend, raw_s3, s3_server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(PAGE)
    shutil.copy(HERE / "uppy" / "uppy.min.js", site / "uppy.min.js")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    # the browser reads each part's ETag from the storage's answer: the bucket exposes it to the page
    raw_s3.put_bucket_cors(Bucket=s3_server["bucket"], CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [origin], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    backend = start_backend(extra=["--cors-origin", origin])
    token = add_device(backend.db, "browser")

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_script_timeout(120)
        driver.get(origin + "/index.html")
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "go(arguments[0], arguments[1]).then(done, e => done({ok: false, failed: [String(e)]}));",
            backend.url, token)
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
    assert result["ok"], json.dumps(result)
    assert result["key"].startswith("devices/") and result["key"].endswith("/browser-reel.mp4")
    body = raw_s3.get_object(Bucket=s3_server["bucket"], Key=result["key"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
