"""The bucket, seen from the backend: boto3 with the credentials of the backend's own environment
(the AWS chain: environment, profile, instance role). Only pre-signed URLs ever leave this module."""

from __future__ import annotations

from dataclasses import dataclass

MAX_LIST_PAGES = 12   # ListParts: 10,000 parts at 1,000 a page, and a margin


@dataclass(frozen=True)
class StorageConfig:
    bucket: str
    endpoint_url: str = ""
    region: str = "us-east-1"
    addressing_style: str = "path"
    part_url_ttl: int = 900


class Storage:
    """Thread-safe (boto3 clients are); one per process."""

    def __init__(self, config: StorageConfig):
        import boto3
        from botocore.config import Config

        self.config = config
        kwargs = {"region_name": config.region or "us-east-1",
                  "config": Config(signature_version="s3v4", s3={"addressing_style": config.addressing_style},
                                   retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10,
                                   read_timeout=60)}
        if config.endpoint_url:
            kwargs["endpoint_url"] = config.endpoint_url
        self.s3 = boto3.session.Session().client("s3", **kwargs)

    @property
    def bucket(self) -> str:
        return self.config.bucket

    def check(self) -> None:
        """The bucket answers with these credentials (raises botocore's errors otherwise)."""
        self.s3.head_bucket(Bucket=self.bucket)

    def create(self, key: str, content_type: str, metadata: dict[str, str]) -> str:
        resp = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type,
                                               Metadata=metadata)
        return resp["UploadId"]

    def sign_part(self, key: str, upload_id: str, part_number: int) -> str:
        return self.s3.generate_presigned_url(
            "upload_part", Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id,
                                   "PartNumber": part_number}, ExpiresIn=self.config.part_url_ttl)

    def sign_get(self, key: str) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                              ExpiresIn=self.config.part_url_ttl)

    def list_parts(self, key: str, upload_id: str) -> list[dict]:
        """Every part, all pages (Companion's answer is one list)."""
        out, marker = [], 0
        for _ in range(MAX_LIST_PAGES):
            resp = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker,
                                      MaxParts=1000)
            out += [{"PartNumber": int(p["PartNumber"]), "Size": int(p["Size"]), "ETag": p["ETag"]}
                    for p in resp.get("Parts", [])]
            nxt = resp.get("NextPartNumberMarker")
            if not resp.get("IsTruncated") or nxt is None or int(nxt) <= marker:
                return out
            marker = int(nxt)
        return out

    def list_uploads(self, prefix: str) -> list[dict]:
        """Unfinished multipart uploads under ``prefix`` (all pages, bounded)."""
        out, kwargs = [], {"Bucket": self.bucket, "Prefix": prefix}
        for _ in range(100):
            resp = self.s3.list_multipart_uploads(**kwargs)
            out += [{"Key": u["Key"], "UploadId": u["UploadId"],
                     "Initiated": u["Initiated"].isoformat() if u.get("Initiated") else None}
                    for u in resp.get("Uploads", [])]
            if not resp.get("IsTruncated"):
                break
            kwargs.update(KeyMarker=resp.get("NextKeyMarker"), UploadIdMarker=resp.get("NextUploadIdMarker"))
        return out

    def complete(self, key: str, upload_id: str, parts: list[dict]) -> None:
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                          MultipartUpload={"Parts": parts})

    def abort(self, key: str, upload_id: str) -> None:
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        try:
            h = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return {"size": int(h["ContentLength"]), "etag": h.get("ETag", "")}

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)


def s3_code(exc: BaseException) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if hasattr(exc, "response") else ""
