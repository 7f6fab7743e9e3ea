"""Admin pieces every app uses, written once."""


class PatientRecordAdminMixin:
    """For the admin of a model that holds patient data (and its inlines): nothing is deleted through the
    admin, neither one record (no Delete link; a POST to the delete page is refused with 403) nor many (no
    "Delete selected" action: Django offers an action only to those who hold its permission). Patient records
    are removed only by the retention and withdrawal services, which write the audit entry, remove the files
    and keep what the statistics need; a cascade from the admin would do none of that."""

    def has_delete_permission(self, request, obj=None):
        return False
