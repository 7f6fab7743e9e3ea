"""What the referrals app tells the apps above it. The ways a lower app reaches a higher one: casework
listens here, so a withdrawal of consent recorded on the referral also stops the case, and casework and
outcomes listen for a scope given or withdrawn later; api listens for changes of a referral's Task to notify
the clients that subscribed; and the apps above register erasers (`referrals.services.erasure.register_eraser`)
for what they hold about a patient."""

from django.dispatch import Signal

# Sent inside the withdrawal's transaction, after the actor's right was checked, with referral and actor.
consent_withdrawn = Signal()

# Sent inside the transaction that gave scope 2 or 3 later or withdrew it on its own, with referral, scope
# (ConsentScope), given (bool) and actor: casework cancels open evidence requests when scope 2 goes, outcomes
# sends the closed case's outcome report when scope 3 is given later.
consent_scope_changed = Signal()

# Sent inside the transaction of every change a FHIR client sees on the referral's Task: its state
# (`referrals.services.transitions._transition`), its case status (`referral_set_case_status`) or an outcome
# recorded (outcomes), with referral_id and change: a name unique to this one change ("audit-<id>", the id of
# the change's audit entry), so that whoever listens acts once per change.
task_changed = Signal()
