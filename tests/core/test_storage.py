"""Private files: 0600 in 0700 folders whatever the umask, encrypted with the first key, opened with any, and
re-encrypted by `rotate_evidence_keys` batch by batch."""

import os
import stat
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from hjp.core.storage import EncryptedPrivateStorage, UnreadableFile, private_storage
from tests.support.documents import PDF_TITLE, pdf_bytes
from tests.support.production import PRODUCTION_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent.parent
NEW_KEY = Fernet.generate_key().decode()
OLD_KEY = Fernet.generate_key().decode()


@pytest.fixture
def root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    settings.EVIDENCE_ENCRYPTION_KEYS = [OLD_KEY]
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def widest_umask():
    """The process creates files with no permission bits masked: the storage alone must narrow them."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_evidence_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_stored_file_and_every_folder_above_it_are_readable_by_the_application_user_only(root, widest_umask):
    name = private_storage.save("evidence/2026/11/letter.pdf", ContentFile(pdf_bytes()))

    stored = root / name
    assert _mode(stored) == 0o600
    folders = [stored.parent, stored.parent.parent, stored.parent.parent.parent, root]
    assert [path.relative_to(root.parent).as_posix() for path in folders] == [
        "private_media/evidence/2026/11",
        "private_media/evidence/2026",
        "private_media/evidence",
        "private_media",
    ]
    assert [oct(_mode(path)) for path in folders] == ["0o700"] * 4


def test_a_folder_left_wider_by_an_older_version_is_narrowed_on_the_next_save(root, widest_umask):
    (root / "evidence" / "2026").mkdir(parents=True, mode=0o755)
    os.chmod(root, 0o755)
    name = private_storage.save("evidence/2026/letter.pdf", ContentFile(b"%PDF-1.7 text"))
    assert _mode(root) == _mode(root / "evidence") == _mode(root / "evidence" / "2026") == 0o700
    assert _mode(root / name) == 0o600


def test_the_bytes_on_disk_do_not_reveal_the_document_and_opening_gives_it_back(root):
    document = pdf_bytes()
    name = private_storage.save("evidence/letter.pdf", ContentFile(document))

    on_disk = (root / name).read_bytes()
    assert b"%PDF" not in on_disk and PDF_TITLE.encode() not in on_disk
    assert Fernet(OLD_KEY).decrypt(on_disk) == document  # a Fernet token of the first key
    with private_storage.open(name) as opened:
        assert opened.read() == document


def test_a_name_already_taken_gets_another_and_the_first_file_is_kept(root):
    first = private_storage.save("evidence/letter.pdf", ContentFile(b"first"))
    second = private_storage.save("evidence/letter.pdf", ContentFile(b"second"))
    assert first != second
    assert private_storage.open(first).read() == b"first" and private_storage.open(second).read() == b"second"


def test_with_a_new_key_first_an_old_file_still_opens_and_after_rotation_the_new_key_alone_opens_it(root, settings):
    document = pdf_bytes()
    name = private_storage.save("evidence/letter.pdf", ContentFile(document))

    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert private_storage.open(name).read() == document
    newer = private_storage.save("evidence/newer.pdf", ContentFile(b"newer"))
    assert Fernet(NEW_KEY).decrypt((root / newer).read_bytes()) == b"newer"  # the first key encrypts

    output = _rotate()
    assert "Done: 1 re-encrypted, 1 already under the first key" in output

    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY]
    assert private_storage.open(name).read() == document
    assert _mode(root / name) == 0o600
    settings.EVIDENCE_ENCRYPTION_KEYS = [OLD_KEY]
    with pytest.raises(UnreadableFile):
        private_storage.open(name)


def test_rotation_runs_batch_by_batch_and_a_second_run_rewrites_nothing(root, settings):
    names = [private_storage.save(f"evidence/{n}.pdf", ContentFile(f"document {n}".encode())) for n in range(5)]
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    private_storage.reencrypt(names[3])  # as if an earlier run stopped part way

    output = _rotate("--batch-size", "2")
    assert output.splitlines() == [
        "Batch 1: 2 re-encrypted, 0 already under the first key",
        "Batch 2: 1 re-encrypted, 1 already under the first key",
        "Batch 3: 1 re-encrypted, 0 already under the first key",
        "Done: 4 re-encrypted, 1 already under the first key",
    ]
    before = {name: (root / name).read_bytes() for name in names}
    assert _rotate().splitlines()[-1] == "Done: 0 re-encrypted, 5 already under the first key"
    assert {name: (root / name).read_bytes() for name in names} == before
    assert sorted(os.listdir(root / "evidence")) == sorted(Path(name).name for name in names)  # no leftovers


def test_rotation_encrypts_a_file_stored_before_encryption(root, settings):
    (root / "evidence").mkdir(parents=True)
    document = pdf_bytes()
    (root / "evidence" / "legacy.pdf").write_bytes(document)

    assert "1 re-encrypted" in _rotate()
    assert b"%PDF" not in (root / "evidence" / "legacy.pdf").read_bytes()
    assert private_storage.open("evidence/legacy.pdf").read() == document


def test_rotation_stops_with_an_error_naming_what_no_key_opens_and_leaves_it_as_it_was(root, settings):
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    before = (root / name).read_bytes()
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed before rotating

    with pytest.raises(CommandError, match="1 file\\(s\\) could not be decrypted with any key"):
        _rotate()
    assert (root / name).read_bytes() == before


def test_deleting_removes_the_file(root):
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    private_storage.delete(name)
    assert not (root / name).exists() and list(private_storage.stored_names()) == []
    private_storage.delete(name)  # already gone: no error


def test_a_deletion_waits_while_a_file_is_being_re_encrypted_so_the_file_cannot_come_back(root):
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    deleted = threading.Event()
    deleting = threading.Thread(target=lambda: (private_storage.delete(name), deleted.set()))
    with private_storage.backend.exclusive():  # what reencrypt holds from reading a file to renaming its new copy
        deleting.start()
        assert not deleted.wait(0.5)
        assert (root / name).exists()
    deleting.join(10)
    assert deleted.is_set() and not (root / name).exists()


def test_the_storage_has_no_urls_and_opens_read_only(root):
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    with pytest.raises(ValueError):
        private_storage.url(name)
    with pytest.raises(ValueError):
        private_storage.open(name, "wb")


def test_the_evidence_field_deconstructs_to_the_encrypting_storage():
    from casework.models import EvidenceRequest

    field = EvidenceRequest._meta.get_field("answer_file")
    assert isinstance(field.storage, EncryptedPrivateStorage)
    assert field.storage.deconstruct()[0] == "hjp.core.storage.EncryptedPrivateStorage"


def _check_with(settings_module: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG")}
    environment.update(DJANGO_SETTINGS_MODULE=settings_module, SECRET_KEY="x7$Kq!2vLr9#Tz@Wm4&Np8^Hs6*Bd3(Fg5)", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_evidence_keys():
    environment = {k: v for k, v in PRODUCTION_ENVIRONMENT.items() if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    result = _check_with("hjp.settings.production", **{**environment, "EVIDENCE_ENCRYPTION_KEYS": ""})
    assert result.returncode != 0 and "EVIDENCE_ENCRYPTION_KEYS must be set in production" in result.stderr


def test_a_key_that_is_not_a_fernet_key_is_refused_at_start():
    result = _check_with("hjp.settings.local", EVIDENCE_ENCRYPTION_KEYS=f"{NEW_KEY},not-a-key")
    assert result.returncode != 0 and "EVIDENCE_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr


def test_local_settings_have_a_development_key_when_none_is_set():
    result = _check_with("hjp.settings.local", EVIDENCE_ENCRYPTION_KEYS="")
    assert result.returncode == 0, result.stderr
