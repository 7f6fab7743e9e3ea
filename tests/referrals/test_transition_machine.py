"""A state machine over the referral transition table (Hypothesis): random people try random moves, with and
without a reason, and withdraw consent at random moments. Whatever the order:

- a move happens exactly when the table allows it for what the person is to this referral (worked out here,
  not by the code under test) and a reason is given where one is needed; otherwise it is refused with a
  message and nothing changes;
- each move adds one line to the timeline, naming who made it, from and to;
- the buttons a person is shown (`allowed_targets`) are exactly the moves they could make;
- once consent is withdrawn the referral is cancelled and nobody can move it again.
"""

import pytest
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from hjp.core.errors import DomainError
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests import factories

S = ReferralStatus
OWNER, COLLEAGUE, OTHER_REFERRER, ADVISOR, SUPERVISOR, OTHER_SUPERVISOR, MANAGER = (
    "owner",
    "colleague",
    "other referrer",
    "advisor",
    "supervisor",
    "other supervisor",
    "manager",
)
PEOPLE = [OWNER, COLLEAGUE, OTHER_REFERRER, ADVISOR, SUPERVISOR, OTHER_SUPERVISOR, MANAGER]
REASON_NEEDED = {S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR}


def capacities(person: str, status: str) -> set[str]:
    """What each person is to the referral: its referrer; the advice service's side once it is sent (a
    supervisor also as supervisor); a colleague of an organisation that does not share referrals, people of
    other organisations and a manager are nothing to it."""
    if person == OWNER:
        return {"referrer"}
    if status == S.DRAFT:
        return set()
    return {ADVISOR: {"advisor"}, SUPERVISOR: {"advisor", "supervisor"}}.get(person, set())


@pytest.fixture
def people(partnership, health_org, advice_org, referrer_user, advisor_user, supervisor_user, manager_user):
    return {
        OWNER: referrer_user,
        COLLEAGUE: factories.referrer(health_org),
        OTHER_REFERRER: factories.referrer(factories.OrganisationFactory()),
        ADVISOR: advisor_user,
        SUPERVISOR: supervisor_user,
        OTHER_SUPERVISOR: factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True),
        MANAGER: manager_user,
    }


@pytest.mark.django_db
def test_random_people_moving_a_referral_follow_the_table(people, partnership, health_org):
    class ReferralLife(RuleBasedStateMachine):
        @initialize(status=st.sampled_from(list(S)))
        def a_referral(self, status):
            """A referral already in any state, so that short runs reach every corner of the table."""
            self.referral = factories.ReferralFactory(
                referrer=people[OWNER],
                referring_organisation=health_org,
                partnership=partnership,
                status=status,
                submitted_at=None if status == S.DRAFT else timezone.now(),
            )
            self.status = status
            self.withdrawn = False
            self.timeline = []

        @rule(person=st.sampled_from(PEOPLE), to=st.sampled_from(list(S)), reason=st.sampled_from(["", "Because"]))
        def someone_tries_a_move(self, person, to, reason):
            allowed_for = services.TRANSITIONS.get((self.status, to), set())
            should_move = (
                not self.withdrawn
                and bool(allowed_for & capacities(person, self.status))
                and (to not in REASON_NEEDED or bool(reason))
            )
            try:
                services.referral_transition(referral=self.referral, to_status=to, actor=people[person], reason=reason)
            except DomainError as refused:
                assert not should_move, f"{person} could not move {self.status} -> {to}: {refused.message}"
                assert refused.message  # the person is told why
            else:
                assert should_move, f"{person} moved {self.status} -> {to}, which the table does not allow"
                self.timeline.append((self.status, to, people[person].pk))
                self.status = to

        @rule(data=st.data(), person=st.sampled_from(PEOPLE), reason=st.sampled_from(["", "Because"]))
        def someone_tries_a_move_the_table_lists_from_here(self, data, person, reason):
            """Mostly moves that exist, so that random runs get deep into a referral's life."""
            listed = sorted(to for frm, to in services.TRANSITIONS if frm == self.status) or list(S)
            self.someone_tries_a_move(person, data.draw(st.sampled_from(listed)), reason)

        @rule(person=st.sampled_from([OWNER, ADVISOR]))
        def consent_is_withdrawn(self, person):
            may = not self.withdrawn and self.status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.CLOSED)
            try:
                services.consent_withdraw(referral=self.referral, actor=people[person])
            except DomainError:
                assert not may, f"{person} could not withdraw consent from a {self.status} referral"
            else:
                assert may, f"{person} withdrew consent from a {self.status} referral (withdrawn: {self.withdrawn})"
                self.withdrawn = True
                if self.status != S.CLOSED:  # a closed case keeps its state; work that was going on stops
                    self.timeline.append((self.status, S.CANCELLED, people[person].pk))
                    self.status = S.CANCELLED

        @invariant()
        def the_referral_is_where_the_table_took_it(self):
            stored = Referral.objects.get(pk=self.referral.pk)
            assert stored.status == self.status
            lines = list(stored.status_changes.order_by("at", "pk").values_list("from_status", "to_status", "actor"))
            assert lines == self.timeline

        @invariant()
        def each_person_is_shown_exactly_the_moves_they_may_make(self):
            stored = Referral.objects.get(pk=self.referral.pk)
            for person in PEOPLE:
                shown = set(services.allowed_targets(referral=stored, user=people[person]))
                may = (
                    set()
                    if self.withdrawn
                    else {
                        to
                        for (frm, to), who in services.TRANSITIONS.items()
                        if frm == self.status and who & capacities(person, self.status)
                    }
                )
                assert shown == may, person

    run_state_machine_as_test(ReferralLife, settings=settings(max_examples=40, stateful_step_count=12))
