"""Private file storage for patients' documents: encrypted at rest, on the local disk or in S3-compatible object
storage, and served only through permission-checked views (no URL, public or signed, ever names a file).

`EncryptedPrivateStorage` encrypts and decrypts; where the bytes are kept is the backend EVIDENCE_STORAGE names:
- "filesystem" (the default): under PRIVATE_MEDIA_ROOT, which no URL serves. Files are 0600 and folders 0700
  whatever the process's umask, so a copied disk or backup reveals neither the documents nor, to other local
  users, their names. Only for one host (or a disk every web process and worker shares).
- "s3": objects in AWS_STORAGE_BUCKET_NAME (under AWS_LOCATION), through django-storages and boto3, at
  AWS_S3_ENDPOINT_URL for S3-compatible servers (MinIO, Ceph ...). The bucket must not be public; hjp sets no ACL
  and makes no URL. Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the host's
  role, as boto3 finds them, never from settings.

Each stored file is a Fernet token (AES-128-CBC with an HMAC-SHA256, from `cryptography`) made with the first of
EVIDENCE_ENCRYPTION_KEYS; every key in the list decrypts, so a new key can be put first while files made with
the old one are re-encrypted (`manage.py rotate_evidence_keys`, through `reencrypt`).

A document is encrypted and decrypted whole in memory: uploads are capped at 10 MB before they get here
(hjp/core/uploads.py), so a file is at most about 13.4 MB stored.

Every removal of a stored file goes through `EncryptedPrivateStorage.delete`, and a re-encryption never brings a
deleted document back: on the disk a lock file makes the two wait for each other; in a bucket, shared by many
hosts, the re-encrypted object is written only if the object read is still there unchanged (If-Match)."""

import contextlib
import functools
import io
import os
import stat
import uuid
from collections.abc import Iterator

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File, locks
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
LOCK_FILE = ".storage.lock"
# Every Fernet token starts with its version byte 0x80, which base64 writes as "gA". A file without it was
# stored before encryption (PDF, PNG and JPEG files start %PDF, \x89PNG and \xff\xd8).
TOKEN_PREFIX = b"gA"


class UnreadableFile(Exception):
    """A stored file that none of EVIDENCE_ENCRYPTION_KEYS decrypts (a key was removed too early, or the
    file was altered on disk)."""

    def __init__(self, name: str):
        super().__init__(f"{name}: no key in EVIDENCE_ENCRYPTION_KEYS decrypts this file")
        self.name = name


@functools.lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def encryption_keys() -> tuple[MultiFernet, Fernet]:
    """All the configured keys (to decrypt and rotate), and the first one alone (the one that encrypts)."""
    keys = tuple(settings.EVIDENCE_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("EVIDENCE_ENCRYPTION_KEYS is empty: private files cannot be encrypted.")
    return _fernets(keys)


class PrivateFileSystem(FileSystemStorage):
    """The bytes of private files under PRIVATE_MEDIA_ROOT, 0600 in 0700 folders. The root is read from settings
    at each use, so tests can point it elsewhere."""

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def file_permissions_mode(self):
        return FILE_MODE

    @property
    def directory_permissions_mode(self):
        return DIRECTORY_MODE

    def read(self, name: str) -> tuple[bytes, None]:
        with open(self.path(name), "rb") as stored:
            return stored.read(), None

    def create(self, name: str, data: bytes) -> None:
        """Write a new file; FileExistsError if the name is taken."""
        self._make_private_directories(os.path.dirname(self.path(name)))
        self._write_new(self.path(name), data)

    def replace(self, name: str, data: bytes, version: None) -> bool:
        """Replace a file in one rename (an interrupted run leaves the old file or the new). Called holding
        `exclusive`, which deletions wait for, so the file read is still there."""
        full_path = self.path(name)
        temporary = os.path.join(os.path.dirname(full_path), f".{uuid.uuid4().hex}.tmp")
        try:
            self._write_new(temporary, data)
            os.replace(temporary, full_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
        return True

    def names(self) -> Iterator[str]:
        """Every stored file's name (folders and files sorted), skipping the lock and temporary files."""
        for directory, folders, files in os.walk(self.location):
            folders.sort()
            for file_name in sorted(files):
                if not file_name.startswith("."):
                    full_path = os.path.join(directory, file_name)
                    yield os.path.relpath(full_path, self.location).replace(os.sep, "/")

    def check(self, *, timeout: float | None = None) -> None:
        """Raise unless files can be written here (a local folder: `timeout` does not apply)."""
        self._make_private_directories(self.location)
        if not os.access(self.location, os.W_OK):
            raise PermissionError("PRIVATE_MEDIA_ROOT is not writable")

    @staticmethod
    def _write_new(full_path: str, data: bytes) -> None:
        # Created 0600 (the umask can only take bits away) and set to exactly 0600 before any byte is written.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(full_path, flags, FILE_MODE)
        with os.fdopen(fd, "wb") as stored:
            os.fchmod(fd, FILE_MODE)
            stored.write(data)
            stored.flush()
            os.fsync(fd)

    def _make_private_directories(self, directory: str) -> None:
        """Create the folders from the root down to `directory` as 0700 (without touching the process-wide
        umask, which other threads share), and narrow any of them this user owns that is wider."""
        root = self.location
        os.makedirs(os.path.dirname(root), exist_ok=True)  # the root's parents are not the storage's own
        relative = os.path.relpath(directory, root)
        paths = [root]
        for part in [] if relative == "." else relative.split(os.sep):
            paths.append(os.path.join(paths[-1], part))
        for path in paths:
            try:
                os.mkdir(path, DIRECTORY_MODE)
            except FileExistsError:
                if not os.path.isdir(path):
                    raise FileExistsError(f"{path} exists and is not a folder.") from None
            info = os.stat(path)
            if stat.S_IMODE(info.st_mode) != DIRECTORY_MODE and info.st_uid == os.geteuid():
                os.chmod(path, DIRECTORY_MODE)

    @contextlib.contextmanager
    def exclusive(self):
        """Hold the storage's lock file: a re-encryption and a deletion of the same file never interleave."""
        self._make_private_directories(self.location)
        fd = os.open(os.path.join(self.location, LOCK_FILE), os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            locks.lock(fd, locks.LOCK_EX)
            yield
        finally:
            locks.unlock(fd)
            os.close(fd)


class PrivateBucket:
    """The bytes of private files as objects in an S3-compatible bucket (django-storages' S3Storage for the
    connection, names and listing). Writes are conditional, so many hosts can share the bucket without a lock:
    a new object never replaces another (If-None-Match), a re-encrypted one only the very object read (If-Match)."""

    def __init__(self, *, bucket_name: str, endpoint_url: str | None, region_name: str | None, location: str):
        from storages.backends.s3 import S3Storage

        self.s3 = S3Storage(
            bucket_name=bucket_name,
            endpoint_url=endpoint_url,
            region_name=region_name,
            location=location,
            file_overwrite=False,
            default_acl=None,  # the bucket's own (private) policy; hjp never makes an object public
            querystring_auth=False,
        )
        self._check_clients = {}

    @property
    def _client(self):
        return self.s3.connection.meta.client

    def _key(self, name: str) -> str:
        from storages.utils import clean_name

        return self.s3._normalize_name(clean_name(name))

    @staticmethod
    def _status(error) -> int:
        return error.response["ResponseMetadata"]["HTTPStatusCode"]

    def read(self, name: str) -> tuple[bytes, str]:
        from botocore.exceptions import ClientError

        try:
            stored = self._client.get_object(Bucket=self.s3.bucket_name, Key=self._key(name))
        except ClientError as error:
            if self._status(error) == 404:
                raise FileNotFoundError(name) from None
            raise
        return stored["Body"].read(), stored["ETag"]

    def create(self, name: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.put_object(Bucket=self.s3.bucket_name, Key=self._key(name), Body=data, IfNoneMatch="*")
        except ClientError as error:
            if self._status(error) in (409, 412):
                raise FileExistsError(name) from None
            raise

    def replace(self, name: str, data: bytes, version: str) -> bool:
        """Write `data` over the object only if it is still the one read (its ETag): False if it was deleted
        or changed since."""
        from botocore.exceptions import ClientError

        try:
            self._client.put_object(Bucket=self.s3.bucket_name, Key=self._key(name), Body=data, IfMatch=version)
        except ClientError as error:
            if self._status(error) in (404, 409, 412):
                return False
            raise
        return True

    def delete(self, name: str) -> None:
        # S3 answers a deletion of a missing object with success already; S3Storage.delete would also take a
        # missing *bucket* (a 404 too) for success, and a document would stay, unrecorded, in the right one.
        self._client.delete_object(Bucket=self.s3.bucket_name, Key=self._key(name))

    def exists(self, name: str) -> bool:
        return self.s3.exists(name)

    def size(self, name: str) -> int:
        return self.s3.size(name)

    def listdir(self, path: str):
        return self.s3.listdir(path)

    def names(self) -> Iterator[str]:
        prefix = self._key("")
        prefix = f"{prefix}/" if prefix and not prefix.endswith("/") else prefix
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.s3.bucket_name, Prefix=prefix)
        for page in pages:
            for entry in page.get("Contents", ()):
                yield entry["Key"][len(prefix) :]

    def check(self, *, timeout: float | None = None) -> None:
        """Raise unless the bucket answers; within `timeout` seconds (one try) when given, not boto's default of
        60 seconds a try, with retries."""
        client = self._client if timeout is None else self._check_client(timeout)
        client.head_bucket(Bucket=self.s3.bucket_name)

    def _check_client(self, timeout: float):
        if timeout not in self._check_clients:
            self._check_clients[timeout] = self._new_client_with_timeout(timeout)
        return self._check_clients[timeout]

    def _new_client_with_timeout(self, timeout: float):
        from botocore.config import Config

        config = self.s3.client_config.merge(
            Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
        )
        return self.s3._create_session().client(
            "s3",
            region_name=self.s3.region_name,
            use_ssl=self.s3.use_ssl,
            endpoint_url=self.s3.endpoint_url,
            config=config,
            verify=self.s3.verify,
        )

    def exclusive(self):
        return contextlib.nullcontext()


@functools.lru_cache(maxsize=4)
def _backend(kind: str, bucket_name: str, endpoint_url: str, region_name: str, location: str):
    if kind == "filesystem":
        return PrivateFileSystem()
    return PrivateBucket(
        bucket_name=bucket_name, endpoint_url=endpoint_url or None, region_name=region_name or None, location=location
    )


def private_backend() -> PrivateFileSystem | PrivateBucket:
    """Where the encrypted bytes are kept, as EVIDENCE_STORAGE and the AWS_* settings say (read at each use)."""
    return _backend(
        settings.EVIDENCE_STORAGE,
        getattr(settings, "AWS_STORAGE_BUCKET_NAME", ""),
        getattr(settings, "AWS_S3_ENDPOINT_URL", ""),
        getattr(settings, "AWS_S3_REGION_NAME", ""),
        getattr(settings, "AWS_LOCATION", ""),
    )


@deconstructible(path="hjp.core.storage.EncryptedPrivateStorage")
class EncryptedPrivateStorage(Storage):
    """Encrypts what is saved and decrypts what is opened, whichever backend keeps the bytes. Files have no URL."""

    @property
    def backend(self) -> PrivateFileSystem | PrivateBucket:
        return private_backend()

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a permission-checked view.")

    def _open(self, name, mode="rb"):
        if mode != "rb":
            raise ValueError("Private files open read-only, as bytes.")
        token, _ = self.backend.read(name)
        all_keys, _ = encryption_keys()
        try:
            content = all_keys.decrypt(token)
        except InvalidToken:
            raise UnreadableFile(name) from None
        return File(io.BytesIO(content), name=name)

    def _save(self, name, content):
        data = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in content.chunks())
        _, first_key = encryption_keys()
        token = first_key.encrypt(data)
        while True:
            try:
                self.backend.create(name, token)
            except FileExistsError:
                name = self.get_available_name(name)
            else:
                return name

    def exists(self, name):
        return self.backend.exists(name)

    def size(self, name):
        return self.backend.size(name)

    def listdir(self, path):
        return self.backend.listdir(path)

    def delete(self, name):
        """Remove a stored file (a missing one is no error). The one way files leave this storage."""
        with self.backend.exclusive():
            self.backend.delete(name)

    def reencrypt(self, name: str) -> bool:
        """Make `name` a token of the first key, if it is not one already: re-encrypt a token of another key,
        or encrypt a file stored before encryption. Return whether the file was rewritten. The new file
        replaces the old at once, so an interrupted run leaves either the old file or the new one."""
        backend = self.backend
        with backend.exclusive():
            try:
                token, version = backend.read(name)
            except FileNotFoundError:
                return False  # deleted since it was listed
            all_keys, first_key = encryption_keys()
            if not token.startswith(TOKEN_PREFIX):
                new_token = first_key.encrypt(token)
            else:
                with contextlib.suppress(InvalidToken):
                    first_key.extract_timestamp(token)  # checks the signature only: no decryption
                    return False
                try:
                    new_token = all_keys.rotate(token)
                except InvalidToken:
                    raise UnreadableFile(name) from None
            return backend.replace(name, new_token, version)

    def stored_names(self) -> Iterator[str]:
        """Every stored file's name, in a stable order."""
        return self.backend.names()

    def check(self, *, timeout: float | None = None) -> None:
        """Raise unless the backend can be reached (the readiness probe, hjp.operations.probes), within
        `timeout` seconds when given."""
        self.backend.check(timeout=timeout)


private_storage = EncryptedPrivateStorage()
