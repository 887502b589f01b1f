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
