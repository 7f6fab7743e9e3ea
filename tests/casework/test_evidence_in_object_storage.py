"""Evidence kept in S3-compatible object storage (EVIDENCE_STORAGE=s3), against a real S3 server on loopback:
what the referrer sends is ciphertext in the bucket, the advisor downloads it through hjp's audited view, keys
rotate there too, and nothing of it stays on the web host's disk."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from casework.models import EvidenceRequest
from hjp.audit.models import AuditEvent
from hjp.core.models import StoredFileDeletion
from hjp.core.storage import private_storage
from hjp.core.tasks import delete_stored_files
from referrals import services as referral_services
from tests import factories
from tests.casework.test_evidence_files import _download, _send, _stored_files
from tests.support.documents import PDF_TITLE, pdf_bytes

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def evidence(case_in_progress):
    return factories.EvidenceRequestFactory(case=case_in_progress, what_is_needed="Mobility letter please")


def test_a_sent_document_is_ciphertext_in_the_bucket_and_the_advisor_downloads_it_through_the_audited_view(
    client, evidence, referrer_user, advisor_user, evidence_bucket, private_media, settings
):
    document = pdf_bytes()
    client.force_login(referrer_user)
    assert _send(client, evidence, "letter.pdf", document).status_code == 302

    evidence.refresh_from_db()
    [key] = evidence_bucket.keys()
    assert key == f"private/{evidence.answer_file.name}" and key.startswith("private/evidence/")
    in_bucket = evidence_bucket.read(key)
    assert b"%PDF" not in in_bucket and PDF_TITLE.encode() not in in_bucket
    assert Fernet(settings.EVIDENCE_ENCRYPTION_KEYS[0]).decrypt(in_bucket) == document
    assert _stored_files(private_media) == []  # nothing on this host's disk for another web process to miss

    assert _download(client, advisor_user, evidence) == document
    assert AuditEvent.objects.filter(action="download", object_id=str(evidence.pk), actor=advisor_user).exists()


def test_the_object_is_not_public_and_the_storage_gives_no_url(evidence_bucket):
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    grants = evidence_bucket.client.get_object_acl(Bucket=evidence_bucket.name, Key=f"private/{name}")["Grants"]
    assert [grant["Grantee"].get("URI") for grant in grants if grant["Grantee"]["Type"] == "Group"] == []
    with pytest.raises(ValueError, match="no URL"):
        private_storage.url(name)


def test_a_name_already_taken_in_the_bucket_gets_another_and_the_first_object_is_kept(evidence_bucket):
    first = private_storage.save("evidence/letter.pdf", ContentFile(b"first"))
    second = private_storage.save("evidence/letter.pdf", ContentFile(b"second"))
    assert first != second and sorted(evidence_bucket.keys()) == sorted([f"private/{first}", f"private/{second}"])
    assert private_storage.open(first).read() == b"first" and private_storage.open(second).read() == b"second"


def test_key_rotation_re_encrypts_the_objects_in_the_bucket(evidence_bucket, settings):
    old_key = settings.EVIDENCE_ENCRYPTION_KEYS[0]
    names = [private_storage.save(f"evidence/{n}.pdf", ContentFile(f"document {n}".encode())) for n in range(3)]
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY, old_key]

    out = StringIO()
    call_command("rotate_evidence_keys", "--batch-size", "2", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines() == [
        "Batch 1: 2 re-encrypted, 0 already under the first key",
        "Batch 2: 1 re-encrypted, 0 already under the first key",
        "Done: 3 re-encrypted, 0 already under the first key",
    ]
    for number, name in enumerate(names):
        assert Fernet(NEW_KEY).decrypt(evidence_bucket.read(f"private/{name}")) == f"document {number}".encode()
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY]
    assert private_storage.open(names[0]).read() == b"document 0"


def test_a_re_encryption_never_brings_back_an_object_deleted_meanwhile(evidence_bucket, settings):
    """Many hosts share the bucket, with no lock between them: the re-encrypted object is written only over the
    very object that was read."""
    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    settings.EVIDENCE_ENCRYPTION_KEYS = [NEW_KEY, settings.EVIDENCE_ENCRYPTION_KEYS[0]]
    backend = private_storage.backend
    token, version = backend.read(name)
    private_storage.delete(name)

    assert backend.replace(name, Fernet(NEW_KEY).encrypt(b"content"), version) is False
    assert evidence_bucket.keys() == []
    assert private_storage.reencrypt(name) is False


def test_a_withdrawal_of_consent_removes_the_object_from_the_bucket(
    client, evidence, referrer_user, evidence_bucket, django_capture_on_commit_callbacks
):
    client.force_login(referrer_user)
    _send(client, evidence, "letter.pdf", pdf_bytes())
    assert len(evidence_bucket.keys()) == 1

    with django_capture_on_commit_callbacks(execute=True):
        referral_services.consent_withdraw(referral=evidence.case.referral, actor=referrer_user)

    assert evidence_bucket.keys() == []
    assert not EvidenceRequest.objects.exclude(answer_file="").exists()


def test_a_document_the_storage_fails_to_delete_after_an_erasure_is_deleted_by_the_periodic_job(
    client, evidence, referrer_user, evidence_bucket, settings, django_capture_on_commit_callbacks
):
    """The erasure has committed when the storage is asked: its failure is no error for the user, and the
    document's name stays recorded until a later run deletes it."""
    client.force_login(referrer_user)
    _send(client, evidence, "letter.pdf", pdf_bytes())
    [key] = evidence_bucket.keys()
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"  # the storage fails every request for now

    url = reverse("referrals:withdraw_consent", args=[evidence.case.referral.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"note": "Patient rang", "confirm": "on"})

    assert response.status_code == 302
    assert "Consent withdrawn" in client.get(response.url).content.decode()
    assert not EvidenceRequest.objects.exclude(answer_file="").exists()
    assert evidence_bucket.keys() == [key]
    [left] = StoredFileDeletion.objects.all()
    assert (f"private/{left.name}", left.attempts) == (key, 1)

    delete_stored_files.delay()  # the periodic job (CELERY_BEAT_SCHEDULE "delete-stored-files"): still failing
    assert evidence_bucket.keys() == [key] and StoredFileDeletion.objects.get().attempts == 2

    settings.AWS_STORAGE_BUCKET_NAME = evidence_bucket.name  # the storage is back
    assert delete_stored_files.delay().get() == 1
    assert evidence_bucket.keys() == [] and not StoredFileDeletion.objects.exists()
    assert delete_stored_files.delay().get() == 0  # nothing left: a second run does nothing


def test_a_recorded_file_already_gone_is_no_error(evidence_bucket, django_capture_on_commit_callbacks):
    from hjp.core.file_deletions import stored_files_delete_later

    name = private_storage.save("evidence/letter.pdf", ContentFile(b"content"))
    private_storage.delete(name)
    with django_capture_on_commit_callbacks(execute=True):
        stored_files_delete_later(names=[name])
    assert not StoredFileDeletion.objects.exists()
