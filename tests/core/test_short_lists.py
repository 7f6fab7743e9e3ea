"""Several short lists of different models in one query: the same rows, in the same order, with the same values
and related objects as a query of each would give (hjp.core.short_lists)."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.forms.models import model_to_dict

from casework.models import CaseIssue, Deadline, OnwardReferral
from hjp.core.short_lists import ShortList, read_short_lists
from tests import factories
from tests.casework.test_queries import _fill_case

pytestmark = pytest.mark.django_db


def _as_read_alone(queryset):
    return [(obj.pk, model_to_dict(obj)) for obj in queryset]


def test_short_lists_come_back_as_each_query_alone_would_give_them_in_one_query(
    advisor_user, health_org, partnership, django_assert_num_queries
):
    case = factories.CaseFactory(
        advisor=advisor_user,
        referral=factories.ReferralFactory(referring_organisation=health_org, partnership=partnership),
    )
    _fill_case(case, 4)
    factories.DeadlineFactory(case=case, issue=None)  # a relation that is empty
    lists = {
        "issues": ShortList(CaseIssue.objects.filter(case=case), ("category", "sub_category")),
        "deadlines": ShortList(Deadline.objects.filter(case=case), ("issue__category", "done_by")),
        "onward": ShortList(OnwardReferral.objects.filter(case=case).order_by("pk"), ("provider", "made_by")),
        "none": ShortList(CaseIssue.objects.filter(case=None)),
    }
    with django_assert_num_queries(1):
        read = read_short_lists(**lists)
    for name, short_list in lists.items():
        assert [(obj.pk, model_to_dict(obj)) for obj in read[name]] == _as_read_alone(short_list.queryset)
    assert read["none"] == []
    expected = [d.issue.category.name if d.issue else None for d in Deadline.objects.filter(case=case)]
    with django_assert_num_queries(0):  # the related objects came with the rows
        assert [d.issue.category.name if d.issue else None for d in read["deadlines"]] == expected
        names = [(i.category.name, i.sub_category and i.sub_category.name) for i in read["issues"]]
        providers = [o.provider.name for o in read["onward"]]
    assert len(names) == 4 and len(providers) == 4
    assert sum(d.issue is None for d in read["deadlines"]) == 1


def _case(advisor_user, health_org, partnership):
    return factories.CaseFactory(
        advisor=advisor_user,
        referral=factories.ReferralFactory(referring_organisation=health_org, partnership=partnership),
    )


def _case_lists(case):
    return {
        "issues": ShortList(CaseIssue.objects.filter(case=case), ("category", "sub_category")),
        "deadlines": ShortList(Deadline.objects.filter(case=case), ("issue__category", "done_by")),
        "onward": ShortList(OnwardReferral.objects.filter(case=case).order_by("pk"), ("provider", "made_by"), limit=2),
    }


def test_the_query_built_for_one_case_reads_another_case_its_own_rows(advisor_user, health_org, partnership):
    cases = [_case(advisor_user, health_org, partnership) for _ in range(2)]
    _fill_case(cases[0], 3)
    _fill_case(cases[1], 1)
    executed = []

    def capture(execute, sql, params, many, context):
        executed.append((sql, tuple(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        reads = [read_short_lists(**_case_lists(case)) for case in (*cases, cases[0])]
    for case, read in zip((*cases, cases[0]), reads, strict=True):
        for name, short_list in _case_lists(case).items():
            expected = _as_read_alone(short_list.queryset)[: short_list.limit]
            assert [(obj.pk, model_to_dict(obj)) for obj in read[name]] == expected
    assert len(reads[0]["issues"]) == 3 and len(reads[1]["issues"]) == 1 and len(reads[0]["onward"]) == 2
    # One query a read: the same SQL each time, with each case's own parameters.
    assert len(executed) == 3 and len({sql for sql, _ in executed}) == 1
    assert executed[0][1] == executed[2][1] != executed[1][1]


def test_lists_whose_parameters_are_not_their_own_are_still_read_right(advisor_user, health_org, partnership):
    """A list's query that carries an annotation of its own has parameters the union does not: the union is built
    for each read instead of kept, and reads the same rows."""
    case = factories.CaseFactory(
        advisor=advisor_user,
        referral=factories.ReferralFactory(referring_organisation=health_org, partnership=partnership),
    )
    _fill_case(case, 2)
    for label in ("first", "second"):
        lists = {"issues": ShortList(CaseIssue.objects.filter(case=case).annotate(label=Value(label)), ("category",))}
        read = read_short_lists(**lists)
        assert [(obj.pk, model_to_dict(obj)) for obj in read["issues"]] == _as_read_alone(lists["issues"].queryset)
        assert len(read["issues"]) == 2


def test_a_list_ordered_by_an_expression_with_a_parameter_reads_each_case_its_own_rows(
    advisor_user, health_org, partnership
):
    """Ordered by an expression, a list's parameters come in another order in the union (its window is in the
    SELECT): its union is not kept, even when the values happen to line up (here, for the first case, its id in
    both places)."""
    from django.db.models.functions import Abs

    cases = [_case(advisor_user, health_org, partnership) for _ in range(2)]
    _fill_case(cases[0], 2)
    _fill_case(cases[1], 3)
    for case in (*cases, cases[0]):
        queryset = CaseIssue.objects.filter(case=case).order_by(Abs(F("pk") - cases[0].pk), "pk")
        read = read_short_lists(issues=ShortList(queryset, ("category",)))
        assert [obj.pk for obj in read["issues"]] == [obj.pk for obj in queryset]
        assert {obj.case_id for obj in read["issues"]} == {case.pk}
