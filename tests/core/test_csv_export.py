"""CSV cells: text a spreadsheet could run as a formula is guarded with an apostrophe, also after leading
whitespace and in the full-width forms; numbers stay numbers."""

import csv
import io
import sys
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hjp.core.csv_export import csv_cell, csv_response, neutralise_formula

WHITESPACE = [chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()]
TRIGGERS = ["=", "+", "-", "@", "＝", "＋", "－", "＠"]


@given(
    leading=st.text(alphabet=WHITESPACE, max_size=6),
    trigger=st.sampled_from(TRIGGERS),
    rest=st.text(max_size=30),
)
def test_text_that_starts_a_formula_after_any_whitespace_comes_out_quoted(leading, trigger, rest):
    text = leading + trigger + rest
    assert csv_cell(text) == neutralise_formula(text) == f"'{text}"


@given(text=st.text(max_size=40))
def test_guarding_only_ever_adds_one_apostrophe_in_front(text):
    guarded = csv_cell(text)
    assert guarded in (text, f"'{text}")
    if guarded == text:
        # What is left alone does not start a formula, even once the leading whitespace is gone.
        assert text.lstrip()[:1] not in TRIGGERS and text[:1] not in ("\t", "\r", "\n")


@given(text=st.text(alphabet=st.characters(exclude_characters=[*TRIGGERS, *WHITESPACE]), min_size=1))
def test_ordinary_text_is_left_as_it_is(text):
    assert csv_cell(text) == text


@given(
    number=st.one_of(
        st.integers(),
        st.decimals(allow_nan=False, allow_infinity=False, places=2),
        st.decimals(allow_nan=False, allow_infinity=False),
    )
)
def test_numbers_negative_ones_too_are_written_as_numbers(number):
    cell = csv_cell(number)
    assert not cell.startswith("'") and "E" not in cell.upper()
    assert Decimal(cell) == number


def test_examples():
    assert [
        csv_cell(value)
        for value in [
            "=1+1",
            '  =HYPERLINK("http://evil.test")',
            "\n+cmd|' /C calc'!A0",
            "\t-2",
            "\u3000＝SUM(A1:A9)",
            "＠SUM(A1)",
            "－1",
            "Riverside Surgery",
            "A&E - Ward 7",
            "fewer than 5",
            Decimal("-1.5"),
            -20,
            Decimal("1E+3"),
            date(2026, 1, 31),
            None,
        ]
    ] == [
        "'=1+1",
        '\'  =HYPERLINK("http://evil.test")',
        "'\n+cmd|' /C calc'!A0",
        "'\t-2",
        "'\u3000＝SUM(A1:A9)",
        "'＠SUM(A1)",
        "'－1",
        "Riverside Surgery",
        "A&E - Ward 7",
        "fewer than 5",
        "-1.5",
        "-20",
        "1000",
        "2026-01-31",
        "",
    ]


def test_a_csv_response_writes_every_cell_through_the_guard():
    response = csv_response(filename="x.csv", header=["name", "=value"], rows=[[" @evil", Decimal("-2.50")]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [["name", "'=value"], ["' @evil", "-2.50"]]
