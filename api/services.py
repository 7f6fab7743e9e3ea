"""Registering and revoking API clients (the admin and `manage.py create_api_client` call these)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, get_application_model

from api.models import READ_REFERRALS, SCOPES, SERVICE_USER_NAME_PREFIX, WRITE_CASES, WRITE_REFERRALS, ApiClient
from hjp.accounts.models import Membership, Organisation, Profession, Role, User
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record

# The organisation's role its client acts with: what a person of that organisation would do through the pages.
CLIENT_ROLE = {Organisation.Kind.HEALTH: Role.REFERRER, Organisation.Kind.ADVICE: Role.ADVISOR}
# The scopes that mean something for each kind: a health organisation sends referrals, an advice one moves them.
KIND_SCOPES = {
    Organisation.Kind.HEALTH: frozenset({READ_REFERRALS, WRITE_REFERRALS}),
    Organisation.Kind.ADVICE: frozenset({READ_REFERRALS, WRITE_CASES}),
}


def check_client_scopes(*, organisation: Organisation, scopes) -> None:
    """Only health and advice organisations have clients, each with the scopes its kind may use."""
    if organisation.kind not in CLIENT_ROLE:
        raise ValidationError({"organisation": "Only health and advice organisations can have API clients."})
    misplaced = sorted(set(scopes) & set(SCOPES) - KIND_SCOPES[organisation.kind])
    if misplaced:
        kind = organisation.get_kind_display().lower()
        raise ValidationError({"allowed_scopes": f"A client of a {kind} cannot hold {', '.join(misplaced)}."})


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    client_secret: str  # shown once: only its hash is kept


@transaction.atomic
def api_client_create(*, actor, organisation: Organisation, name: str, scopes, expires_at=None) -> NewClient:
    """Register a system client of `organisation`: an OAuth 2.0 application (confidential, client credentials
    only) and the system account it acts as, holding the organisation's role. Returns the client and its secret,
    which is not kept in clear and cannot be shown again."""
    name = (name or "").strip()
    if organisation.kind not in CLIENT_ROLE:
        raise ValidationError({"organisation": "Only health and advice organisations can have API clients."})
    scopes = set(scopes)
    misplaced = sorted(scopes & set(SCOPES) - KIND_SCOPES[organisation.kind])
    if misplaced:
        raise ValidationError(
            {
                "allowed_scopes": f"An {organisation.get_kind_display().lower()}'s client cannot hold {', '.join(misplaced)}."
            }
        )
    Application = get_application_model()
    secret = generate_client_secret()
    application = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
    )
    service_user = User(
        email=f"api-client-{application.client_id.lower()}@api-clients.invalid",
        full_name=f"{SERVICE_USER_NAME_PREFIX}{name}",
        is_system_account=True,  # sent no email, assigned no case (hjp.notifications, casework.permissions)
    )
    service_user.set_unusable_password()  # it can never sign in on the pages
    client = ApiClient(
        name=name,
        organisation=organisation,
        allowed_scopes=" ".join(sorted(set(scopes))),
        expires_at=expires_at,
        created_by=actor,
    )
    client.full_clean(exclude=["application", "service_user"])
    application.save()
    service_user.full_clean()
    service_user.save()
    role = CLIENT_ROLE[organisation.kind]
    Membership.objects.create(
        user=service_user,
        role=role,
        organisation=organisation,
        profession=Profession.OTHER if role == Role.REFERRER else "",
    )
    client.application = application
    client.service_user = service_user
    client.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=client, summary=f"API client {client.pk} registered")
    return NewClient(client=client, client_secret=secret)


@transaction.atomic
def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    """Revoke a client: its tokens stop working at once (they are deleted too) and it gets no new ones."""
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at", "updated_at"])
        AccessToken.objects.filter(application_id=locked.application_id).delete()
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=locked, summary="API client revoked")
    client.refresh_from_db()
    return locked
