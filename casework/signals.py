"""What casework tells the apps above it (api listens: it cannot be imported from here)."""

from django.dispatch import Signal

# Sent inside the transaction that handed a referral over to a provider outside hjp with a FHIR server, with
# send_id (casework.models.PartnerSend): api sends the handover after the commit.
partner_send_queued = Signal()
