"""Typed upload errors. ``str(e)`` is a sentence for the user; none ever contains a secret."""

from __future__ import annotations

from studio.errors import StudioError


class UploadError(StudioError):
    """Base: something the user can act on. ``user_message`` is what the CLI prints."""

    def __init__(self, message: str):
        super().__init__(message)


class PermanentUploadError(UploadError):
    """Retrying will not help until the user changes something (credentials, bucket, clock...)."""


class TransientUploadError(UploadError):
    """A timeout, reset or 5xx: worth retrying after a pause."""

    def __init__(self, message: str, *, slow_down: bool = False):
        super().__init__(message)
        self.slow_down = slow_down


class OfflineError(TransientUploadError):
    """The endpoint cannot be reached at all: the job pauses until it can."""


class NoSuchUploadError(UploadError):
    """The server no longer knows the multipart upload (aborted or expired)."""


class SourceChangedError(UploadError):
    """The frozen snapshot no longer matches its fingerprint."""


class NoKeyringError(UploadError):
    def __init__(self):
        super().__init__(
            "This computer has no keyring (secret service) to keep credentials safely, and Reel Studio does "
            "not store secrets in plain files. Use the AWS credential chain instead: add the target with "
            "--credentials aws and set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.")


class TargetNotFound(UploadError, KeyError):
    def __init__(self, name: str):
        UploadError.__init__(self, f"There is no upload target named {name!r}. "
                                   "See `studio targets list`, or add one with `studio targets add`.")

    def __str__(self) -> str:
        return self.user_message


class JobNotFound(UploadError, KeyError):
    def __init__(self, job_id: str):
        UploadError.__init__(self, f"There is no upload job {job_id!r}. See `studio uploads list`.")

    def __str__(self) -> str:
        return self.user_message


class LocalS3Error(UploadError):
    """The embedded SeaweedFS server could not be started or reached."""


# S3 error codes that retrying cannot fix, with what to do about each.
PERMANENT_CODES = {
    "AccessDenied": "The storage refused access to {bucket}: check the target's credentials (access key and "
                    "secret key) and that they may write to this bucket.",
    "InvalidAccessKeyId": "The storage does not know this access key: check the target's credentials.",
    "SignatureDoesNotMatch": "The storage rejected the secret key: check the target's credentials.",
    "NoSuchBucket": "The bucket {bucket} does not exist: create it or fix the target's bucket name.",
    "RequestTimeTooSkewed": "This computer's clock is too far from the storage's: set the clock correctly "
                            "(enable automatic time) and retry.",
    "InvalidBucketName": "{bucket} is not a valid bucket name: fix the target's bucket name.",
    "AllAccessDisabled": "All access to {bucket} is disabled: check the bucket in the storage's console.",
    "AccountProblem": "The storage account has a problem: check it in the provider's console.",
    "EntityTooLarge": "The file is larger than this storage accepts.",
    "InvalidArgument": "The storage rejected the request ({detail}): check the target's settings "
                       "(try --checksums-when-required for services that refuse checksums).",
    "NotImplemented": "The storage does not support this request ({detail}): try the target option "
                      "--checksums-when-required.",
    "XAmzContentSHA256Mismatch": "The storage says a part arrived damaged.",
}


def classify(exc: BaseException, *, bucket: str = "") -> UploadError:
    """Turn a botocore/socket error into a typed error with a sentence for the user."""
    from botocore.exceptions import (BotoCoreError, ClientError, ConnectionClosedError, ConnectTimeoutError,
                                     EndpointConnectionError, NoCredentialsError, ReadTimeoutError)

    if isinstance(exc, UploadError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        detail = str(err.get("Message", code))[:200]
        if code == "NoSuchUpload":
            return NoSuchUploadError("The storage no longer knows this multipart upload.")
        if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
            return TransientUploadError("A part arrived damaged (its checksum differs); resending it.")
        if code in ("SlowDown", "503") or status == 503:
            return TransientUploadError("The storage asked to slow down (503).", slow_down=True)
        if code in PERMANENT_CODES:
            return PermanentUploadError(PERMANENT_CODES[code].format(bucket=bucket, detail=detail))
        if code in ("404", "NotFound") and status == 404:
            return PermanentUploadError(PERMANENT_CODES["NoSuchBucket"].format(bucket=bucket))
        if code == "403" or status == 403:
            return PermanentUploadError(PERMANENT_CODES["AccessDenied"].format(bucket=bucket))
        if status >= 500 or code in ("InternalError", "RequestTimeout", "ServiceUnavailable"):
            return TransientUploadError(f"The storage had a temporary problem ({code or status}).")
        return PermanentUploadError(f"The storage refused the request: {code} ({detail}).")
    if isinstance(exc, NoCredentialsError):
        return PermanentUploadError("No credentials were found for this target: set AWS_PROFILE or "
                                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or store keys in the keyring.")
    if isinstance(exc, EndpointConnectionError) and not isinstance(exc, ConnectTimeoutError):
        return OfflineError("The storage cannot be reached (no network, or the server is down).")
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)):
        return TransientUploadError("The connection to the storage timed out or was reset.")
    if isinstance(exc, (BotoCoreError, ConnectionError, TimeoutError, OSError)):
        return TransientUploadError(f"The connection to the storage failed ({type(exc).__name__}).")
    return PermanentUploadError(f"Unexpected error while uploading ({type(exc).__name__}); see the log.")
