"""Uploads: targets and credentials, the embedded local S3, the multipart engine, the persistent
queue and its QThread worker.

    targets.py      named targets, S3 clients, `targets test`      credentials.py  the OS keyring
    local_s3.py     SeaweedFS on 127.0.0.1 ("This computer")       snapshot.py     frozen sources
    engine.py       one job's multipart upload (no Qt)             store.py        jobs and parts in SQLite
    queue.py        enqueue/control/runner (``studio.uploads``)   worker.py       the QThread around it
    webhook.py      the signed webhook outbox, verify_signature    progress.py     rate, ETA, throttling
"""
