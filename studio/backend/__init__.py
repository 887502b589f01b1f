"""The reference team backend: signs S3 multipart part URLs for devices, never hands out storage keys.

Uppy Companion's S3 multipart routes (so a browser with ``@uppy/aws-s3`` can use it too), device
bearer tokens (only their sha256 stored), server-chosen keys under each device's prefix, a durable
webhook outbox signed like the desktop's, and no state outside its database: any number of
instances may serve one database.
"""
