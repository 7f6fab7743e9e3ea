"""Deprivation looked up from the postcode, not typed: `load_imd` loads the published files (here small samples in
their layout), the referral's save sets the decile from the postcode, and the form says when it cannot."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from referrals import deprivation, services
from referrals.models import DeprivationArea, PostcodeArea
from tests.referrals.test_services import _form_data
from tests.referrals.test_views import referral_post

pytestmark = pytest.mark.django_db

# The head of IMD 2019 File 1 (sheet IMD2019) saved as CSV, and of the ONS postcode directory (ONSPD), with rows of
# Leeds; a Welsh postcode (W01: not in the English index) and a terminated one are in the directory too.
IMD_CSV = """LSOA code (2011),LSOA name (2011),Local Authority District code (2019),Local Authority District name (2019),Index of Multiple Deprivation (IMD) Rank,Index of Multiple Deprivation (IMD) Decile
E01011264,Leeds 018A,E08000035,Leeds,2021,1
E01011265,Leeds 018B,E08000035,Leeds,15500,5
E01011266,Leeds 018C,E08000035,Leeds,32000,10
"""
ONSPD_CSV = """pcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,oa11,lsoa11,msoa11
LS6 2AB,LS6  2AB,LS6 2AB,198001,,428000,435000,E00057000,E01011264,E02002300
LS7 3CD,LS7  3CD,LS7 3CD,198001,,429000,436000,E00057001,E01011265,E02002301
LS9 8EF,LS9  8EF,LS9 8EF,198001,201012,430000,433000,E00057002,E01011266,E02002302
CF101AA,CF10 1AA,CF10 1AA,198001,,318000,176000,W00009000,W01001900,W02000400
"""


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def loaded(files):
    call_command("load_imd", imd=files("imd.csv", IMD_CSV), postcodes=files("onspd.csv", ONSPD_CSV), stdout=None)


def _load(imd: Path, postcodes: Path) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_imd", imd=imd, postcodes=postcodes, stdout=out)
    return out.getvalue()


def test_the_command_loads_the_areas_and_the_english_postcodes_and_a_rerun_changes_nothing(files):
    imd, onspd = files("imd.csv", IMD_CSV), files("onspd.csv", ONSPD_CSV)
    assert "Loaded 3 areas (LSOAs) with their IMD 2019 decile and 3 postcodes." in _load(imd, onspd)
    before = (list(DeprivationArea.objects.order_by("pk").values_list()), list(PostcodeArea.objects.values_list()))
    assert "Loaded 3 areas" in _load(imd, onspd)
    after = (list(DeprivationArea.objects.order_by("pk").values_list()), list(PostcodeArea.objects.values_list()))
    assert before == after
    assert not PostcodeArea.objects.filter(postcode="CF10 1AA").exists()  # Wales: no IMD 2019 decile


def test_the_lookup_finds_the_decile_of_a_postcode_however_typed(loaded, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert deprivation.deprivation_decile_for(" ls62ab ") == 1
    assert deprivation.deprivation_decile_for("LS9 8EF") == 10  # terminated, but a patient may still give it
    assert deprivation.deprivation_decile_for("LS1 1AA") is None  # not in the directory
    assert deprivation.deprivation_decile_for("") is None
    assert deprivation.deprivation_lookup_loaded()


def test_the_command_also_reads_file_7_and_the_ons_lookup_layout(files):
    file_7 = IMD_CSV.replace("(IMD) Decile", "(IMD) Decile (where 1 is most deprived 10% of LSOAs)")
    lookup = "pcd7,pcd8,pcds,dointr,doterm,usertype,oa11cd,lsoa11cd\nLS6 2AB,LS6  2AB,LS6 2AB,,,0,E00057000,E01011264\n"
    _load(files("file7.csv", "\ufeff" + file_7), files("lookup.csv", lookup))
    assert deprivation.deprivation_decile_for("LS6 2AB") == 1


@pytest.mark.parametrize(
    ("imd", "postcodes", "message"),
    [
        ("missing.csv", ONSPD_CSV, "The IMD file: there is no file"),
        (ONSPD_CSV, ONSPD_CSV, "The IMD file: "),
        (IMD_CSV, IMD_CSV, "The postcode file: "),
        (IMD_CSV.replace(",1\n", ",11\n"), ONSPD_CSV, "line 2 of"),
        (IMD_CSV.replace("E01011264", "E01011264-too-long"), ONSPD_CSV, "line 2 of"),
        (IMD_CSV, "pcds,lsoa21cd\nLS6 2AB,E01011264\n", "2021 LSOAs only"),
        (IMD_CSV, "pcds,lsoa11\nCF10 1AA,W01001900\n", "no postcode of"),
        ("", ONSPD_CSV, "is empty"),
        ("a folder", ONSPD_CSV, "cannot be read"),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message_and_changes_nothing(loaded, files, imd, postcodes, message):
    imd_path = {"missing.csv": Path("/nonexistent/imd.csv"), "a folder": files("bad-imd.csv", "").parent}.get(
        imd
    ) or files("bad-imd.csv", imd)
    with pytest.raises(CommandError, match=message.strip()) as refused:
        _load(imd_path, files("bad-postcodes.csv", postcodes))
    assert "Traceback" not in str(refused.value)
    assert DeprivationArea.objects.count() == 3 and PostcodeArea.objects.count() == 3


def test_a_file_with_no_lsoa_column_names_the_columns_it_has(files):
    with pytest.raises(CommandError, match=r'has no column "pcds" or .* Its columns are "lsoa code \(2011\)"'):
        _load(files("imd.csv", IMD_CSV), files("onspd.csv", IMD_CSV))


def test_the_referral_takes_its_decile_from_the_postcode_whatever_was_typed(loaded, referrer_user, partnership):
    data = _form_data(partnership)
    data["patient_data"] |= {"postcode": "ls6 2ab", "deprivation_decile": 9}
    referral = services.referral_save(actor=referrer_user, submit=False, **data)
    assert referral.patient.deprivation_decile == 1
    data["patient_data"]["postcode"] = "LS7 3CD"  # moved: the draft edited
    referral = services.referral_save(actor=referrer_user, referral=referral, version=referral.version, **data)
    assert referral.patient.deprivation_decile == 5
    data["patient_data"]["postcode"] = ""
    referral = services.referral_save(actor=referrer_user, referral=referral, version=referral.version, **data)
    assert referral.patient.deprivation_decile is None


def test_with_no_table_loaded_the_decile_stays_blank_and_the_form_says_so(as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    html = client.get(reverse("referrals:create")).content.decode()
    assert "No postcode-to-deprivation table is loaded" in html
    assert 'name="patient-deprivation_decile"' not in html  # nothing to type
    response = client.post(
        reverse("referrals:create"), referral_post(partnership, **{"patient-deprivation_decile": "2"})
    )
    assert response.status_code == 302
    assert partnership.referrals.get().patient.deprivation_decile is None


def test_with_the_table_loaded_the_form_says_the_decile_is_looked_up(loaded, as_user, referrer_user, partnership):
    client = as_user(referrer_user)
    assert "Looked up from the postcode" in client.get(reverse("referrals:create")).content.decode()
    client.post(reverse("referrals:create"), referral_post(partnership))
    assert partnership.referrals.get().patient.deprivation_decile == 1  # LS6 2AB
