"""What the referrals app tells the apps above it. The ways a lower app reaches a higher one: casework
listens here, so a withdrawal of consent recorded on the referral also stops the case; and the apps above
register erasers (`referrals.services.erasure.register_eraser`) for what they hold about a patient."""

from django.dispatch import Signal

# Sent inside the withdrawal's transaction, after the actor's right was checked, with referral and actor.
consent_withdrawn = Signal()
