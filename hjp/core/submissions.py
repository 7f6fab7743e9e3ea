"""Each submission of a create form saves once, however many times it is POSTed.

A create form carries a one-time token (`hjp.core.forms.SubmissionTokenMixin`, a UUID made when the form is
rendered). A create service decorated with `once_per_submission` records that token, under a unique
constraint, in the transaction that creates the object. A second POST of the same form finds the token
taken and saves nothing: it raises `AlreadySubmitted`, which carries what the first POST created, for the
view to lead the user to. While the first POST is still in flight, the second waits on the unique index;
if the first rolls back, the second goes ahead as if it were the first."""

import functools
import uuid
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from hjp.core.errors import DomainError
from hjp.core.models import SubmissionToken

TOKEN_LIFETIME = timedelta(days=1)


class AlreadySubmitted(DomainError):
    """This form was sent before and saved then. `created` is what that submission created (or None)."""

    MESSAGE = "This form was already sent, and was saved then: nothing was saved twice."

    def __init__(self, created: Model | None):
        super().__init__(self.MESSAGE)
        self.created = created


def _created_object(claim: SubmissionToken) -> Model | None:
    if claim.object_type_id is None:
        return None
    return claim.object_type.model_class()._default_manager.filter(pk=claim.object_id).first()


def submission_claim(*, token: uuid.UUID, user) -> SubmissionToken:
    """Record `token` as used by `user`, in the caller's transaction; raise AlreadySubmitted if it was."""
    try:
        with transaction.atomic():
            return SubmissionToken.objects.create(token=token, user=user)
    except IntegrityError:
        # Under READ COMMITTED this read sees the submission that took the token, committed.
        earlier = SubmissionToken.objects.select_related("object_type").filter(token=token).first()
        if earlier is None or earlier.user_id != user.pk:
            raise DomainError("This form cannot be sent again: reload the page and send it once more.") from None
        raise AlreadySubmitted(_created_object(earlier)) from None


def submission_record(claim: SubmissionToken, created) -> None:
    """Note what the submission created, so that a second POST of the same form can lead to it."""
    if isinstance(created, Model) and created.pk is not None:
        claim.object_type = ContentType.objects.get_for_model(created)
        claim.object_id = created.pk
        claim.save(update_fields=["object_type", "object_id"])


def once_per_submission(service):
    """Make a create service idempotent per form submission. The decorated service takes an extra keyword,
    `submission_token` (a form's one-time token, or None from callers that are not forms), and needs `actor`.
    The token is recorded with what the service returns, in one transaction with the service's own writes."""

    @functools.wraps(service)
    def wrapper(*args, submission_token: uuid.UUID | None = None, **kwargs):
        if submission_token is None:
            return service(*args, **kwargs)
        with transaction.atomic():
            claim = submission_claim(token=submission_token, user=kwargs["actor"])
            created = service(*args, **kwargs)
            submission_record(claim, created)
        return created

    return wrapper


def submission_tokens_purge(*, older_than: timedelta = TOKEN_LIFETIME) -> int:
    """Delete the tokens of submissions older than `older_than` (a form is not sent twice a day apart)."""
    deleted, _ = SubmissionToken.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
