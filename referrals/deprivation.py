"""The patient's deprivation decile, looked up from their postcode rather than typed by the referrer: postcode ->
LSOA (2011) -> Index of Multiple Deprivation 2019 decile, from two files the admin downloads and loads with
`manage.py load_imd` (README, "Deprivation deciles from postcodes"):

- the English Indices of Deprivation 2019, File 1 (Index of Multiple Deprivation), saved as CSV: the columns
  "LSOA code (2011)" and "Index of Multiple Deprivation (IMD) Decile" (File 7's CSV, whose decile column goes on
  "(where 1 is most deprived 10% of LSOAs)", does too);
- an ONS postcode directory or lookup (ONSPD, NSPL, or "Postcode to OA to LSOA to MSOA to LAD"), CSV: a postcode
  column ("pcds", else "pcd", "pcd7", "pcd8" or "postcode") and the 2011 LSOA column ("lsoa11" or "lsoa11cd").

Loading replaces both tables in one transaction, so a re-run with the same files changes nothing and a failed one
leaves the tables as they were. Only postcodes in an LSOA of the IMD file are kept (England's)."""

import csv
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from hjp.core.errors import DomainError
from referrals.models import DeprivationArea, PostcodeArea
from referrals.validators import normalise_postcode

BATCH = 5000
IMD_LSOA_COLUMNS = ("lsoa code (2011)", "lsoa11cd", "lsoa11")
IMD_DECILE_PREFIX = "index of multiple deprivation (imd) decile"
POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8", "postcode")
POSTCODE_LSOA_COLUMNS = ("lsoa11", "lsoa11cd")
NOT_LOADED = (
    "No postcode-to-deprivation table is loaded, so the patient's deprivation decile is left blank. An "
    "administrator can load one (manage.py load_imd)."
)
LOOKED_UP = "Looked up from the postcode (Index of Multiple Deprivation 2019): you do not need to know it."


class ImdFileError(DomainError):
    """A file that is not what `load_imd` expects, with what is wrong and where."""


def deprivation_decile_for(postcode: str) -> int | None:
    """The IMD 2019 decile of the LSOA the postcode lies in (normalised or as typed), or None when the postcode is
    blank or not in the loaded tables (or none are loaded): one query."""
    postcode = normalise_postcode(postcode or "")
    if not postcode:
        return None
    lsoa = PostcodeArea.objects.filter(postcode=postcode).values("lsoa_code")[:1]
    return DeprivationArea.objects.filter(lsoa_code=Subquery(lsoa)).values_list("imd_decile", flat=True).first()


def deprivation_lookup_loaded() -> bool:
    """Whether a postcode table is loaded that leads to deciles: one query, which stops at the first match."""
    return PostcodeArea.objects.filter(Exists(DeprivationArea.objects.filter(lsoa_code=OuterRef("lsoa_code")))).exists()


def deprivation_note() -> str:
    """What the referral form says where the decile would be typed: that it is looked up, or that it cannot be."""
    return LOOKED_UP if deprivation_lookup_loaded() else NOT_LOADED


def _rows(path: Path, what: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (lower case, trimmed) and the numbered rows of a CSV file, or an ImdFileError saying why not."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.reader(handle)
        header = [name.strip().lower() for name in next(reader, [])]
    except FileNotFoundError:
        raise ImdFileError(f"{what}: there is no file {path}.") from None
    except OSError as error:  # a folder, a file hjp may not read
        raise ImdFileError(f"{what}: {path} cannot be read ({error.strerror}).") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImdFileError(f"{what}: {path} is not a CSV file in UTF-8 ({error}). Save it as CSV (UTF-8).") from None
    if not header:
        raise ImdFileError(f"{what}: {path} is empty.")

    def numbered():
        try:
            with handle:
                yield from enumerate(reader, start=2)
        except (UnicodeDecodeError, csv.Error) as error:
            raise ImdFileError(f"{what}: {path} is not a CSV file in UTF-8 ({error}).") from None

    return header, numbered()


def _column(header: list[str], names, what: str, path: Path, *, prefix: bool = False) -> int:
    for name in names:
        for index, column in enumerate(header):
            if column == name or (prefix and column.startswith(name)):
                return index
    wanted = " or ".join(f'"{name}{"..." if prefix else ""}"' for name in names)
    found = ", ".join(f'"{column}"' for column in header[:12]) + (", ..." if len(header) > 12 else "")
    raise ImdFileError(f"{what}: {path} has no column {wanted}. Its columns are {found}.")


def read_imd(path: Path) -> dict[str, int]:
    """LSOA code -> IMD decile, from File 1 (or File 7) of the English Indices of Deprivation 2019, as CSV."""
    what = "The IMD file"
    header, rows = _rows(path, what)
    lsoa = _column(header, IMD_LSOA_COLUMNS, what, path)
    decile = _column(header, (IMD_DECILE_PREFIX,), what, path, prefix=True)
    areas = {}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            code, value = row[lsoa].strip().upper(), int(row[decile].strip())
        except (IndexError, ValueError):
            raise ImdFileError(f"{what}: line {line} of {path} has no LSOA code and decile from 1 to 10.") from None
        if not code or len(code) > 9 or not 1 <= value <= 10:  # an LSOA code is 9 characters (E01000001)
            raise ImdFileError(f"{what}: line {line} of {path} has no LSOA code and decile from 1 to 10.")
        areas[code] = value
    if not areas:
        raise ImdFileError(f"{what}: {path} holds no areas.")
    return areas


def _postcodes(path: Path, areas: dict[str, int]) -> Iterator[PostcodeArea]:
    what = "The postcode file"
    header, rows = _rows(path, what)
    if "lsoa21cd" in header and not any(name in header for name in POSTCODE_LSOA_COLUMNS):
        raise ImdFileError(
            f"{what}: {path} gives 2021 LSOAs only (lsoa21cd); IMD 2019 is by 2011 LSOA. Use a directory with "
            "the lsoa11 column (ONSPD or NSPL)."
        )
    postcode = _column(header, POSTCODE_COLUMNS, what, path)
    lsoa = _column(header, POSTCODE_LSOA_COLUMNS, what, path)
    for line, row in rows:
        try:
            code, area = normalise_postcode(row[postcode]), row[lsoa].strip().upper()
        except IndexError:
            raise ImdFileError(f"{what}: line {line} of {path} is shorter than its header.") from None
        if code and area in areas and len(code) <= 8:
            yield PostcodeArea(postcode=code, lsoa_code=area)


@transaction.atomic
def load_imd(*, imd_path: Path, postcodes_path: Path) -> tuple[int, int]:
    """Replace the deprivation tables with the two files' (see the module's docstring), in one transaction: a file
    that is not what is expected raises ImdFileError and changes nothing. Returns (areas, postcodes) loaded."""
    areas = read_imd(Path(imd_path))
    DeprivationArea.objects.all().delete()
    PostcodeArea.objects.all().delete()
    DeprivationArea.objects.bulk_create(
        (DeprivationArea(lsoa_code=code, imd_decile=decile) for code, decile in areas.items()), batch_size=BATCH
    )
    loaded, batch, seen = 0, [], set()
    for row in _postcodes(Path(postcodes_path), areas):
        if row.postcode in seen:
            continue
        seen.add(row.postcode)
        batch.append(row)
        if len(batch) == BATCH:
            PostcodeArea.objects.bulk_create(batch)
            loaded, batch = loaded + len(batch), []
    PostcodeArea.objects.bulk_create(batch)
    loaded += len(batch)
    if not loaded:
        raise ImdFileError(
            f"The postcode file: no postcode of {postcodes_path} lies in an LSOA of the IMD file. Are they the "
            "English IMD 2019 and a postcode directory with 2011 LSOAs?"
        )
    return len(areas), loaded
