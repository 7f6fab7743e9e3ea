"""Private file storage for patients' documents: readable only by the application's user, encrypted at rest.

Files live under PRIVATE_MEDIA_ROOT, which no URL serves; only permission-checked views read them. Each file
is a Fernet token (AES-128-CBC with an HMAC-SHA256, from `cryptography`) made with the first of
EVIDENCE_ENCRYPTION_KEYS; every key in the list decrypts, so a new key can be put first while files made with
the old one are re-encrypted (`manage.py rotate_evidence_keys`, through `reencrypt`). Files are 0600 and
folders 0700 whatever the process's umask, so a copied disk or backup reveals neither the documents nor, to
other local users, their names.

A document is encrypted and decrypted whole in memory: uploads are capped at 10 MB before they get here
(casework/uploads.py), so a file is at most about 13.4 MB on disk.

Every removal of a stored file goes through `EncryptedPrivateStorage.delete`, which waits for a re-encryption
of the same file to finish, so a deleted document never comes back."""

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
from django.core.files.storage import FileSystemStorage

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


class EncryptedPrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, encrypted, 0600 in 0700 folders. The root is read from settings at
    each use, so tests can point it elsewhere. Files have no URL."""

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

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a permission-checked view.")

    def _open(self, name, mode="rb"):
        if mode != "rb":
            raise ValueError("Private files open read-only, as bytes.")
        with open(self.path(name), "rb") as stored:
            token = stored.read()
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
        self._make_private_directories(os.path.dirname(self.path(name)))
        while True:
            try:
                self._write_new(self.path(name), token)
            except FileExistsError:
                name = self.get_available_name(name)
            else:
                break
        return os.path.relpath(self.path(name), self.location).replace("\\", "/")

    def delete(self, name):
        """Remove a stored file (a missing one is no error). The one way files leave this storage."""
        with self._exclusive():
            super().delete(name)

    def reencrypt(self, name: str) -> bool:
        """Make `name` a token of the first key, if it is not one already: re-encrypt a token of another key,
        or encrypt a file stored before encryption. Return whether the file was rewritten. The new file
        replaces the old in one rename, so an interrupted run leaves either the old file or the new one."""
        with self._exclusive():
            full_path = self.path(name)
            try:
                with open(full_path, "rb") as stored:
                    token = stored.read()
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
            temporary = os.path.join(os.path.dirname(full_path), f".{uuid.uuid4().hex}.tmp")
            try:
                self._write_new(temporary, new_token)
                os.replace(temporary, full_path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(temporary)
            return True

    def stored_names(self) -> Iterator[str]:
        """Every stored file's name, in a stable order (folders and files sorted), skipping this storage's
        own lock and temporary files."""
        for directory, folders, files in os.walk(self.location):
            folders.sort()
            for file_name in sorted(files):
                if not file_name.startswith("."):
                    full_path = os.path.join(directory, file_name)
                    yield os.path.relpath(full_path, self.location).replace(os.sep, "/")

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
    def _exclusive(self):
        """Hold the storage's lock file: a re-encryption and a deletion of the same file never interleave."""
        self._make_private_directories(self.location)
        fd = os.open(os.path.join(self.location, LOCK_FILE), os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            locks.lock(fd, locks.LOCK_EX)
            yield
        finally:
            locks.unlock(fd)
            os.close(fd)


private_storage = EncryptedPrivateStorage()
