"""What the referrals app tells the apps above it. The one way a lower app reaches a higher one: casework
listens, so a withdrawal of consent recorded on the referral also stops the case."""

from django.dispatch import Signal

# Sent inside the withdrawal's transaction, after the actor's right was checked, with referral and actor.
consent_withdrawn = Signal()
