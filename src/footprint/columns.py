"""Canonical column names, source-column aliases, CRS and defaults: the one place these facts live.

Readers (:mod:`footprint.readers`) rename source columns to the canonical names below exactly once; every later
stage may assume them. A source column is found, in this order, by the name the scenario gives for it
(``inputs.<table>.columns.<field>``), then by the aliases here. Aliases are regular expressions matched against the
*normalised* header: lower case with everything but letters and digits removed, so ``"Partner\\nOrganisation\\nCode"``
becomes ``partnerorganisationcode`` and ``LSOA21CD``, ``lsoa21cd`` and ``LSOA 2021 Code`` all match one pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Projected CRS every geometry and coordinate is held in (British National Grid, metres).
CRS_WORKING = "EPSG:27700"
#: CRS of GeoJSON output (RFC 7946).
CRS_GEOJSON = "EPSG:4326"

# ---- canonical column names -------------------------------------------------------------------------------
LSOA_CODE = "lsoa_code"
LSOA_NAME = "lsoa_name"
LAD_CODE = "lad_code"
LAD_NAME = "lad_name"
PLACE_CODE = "place_code"
PLACE_NAME = "place_name"
GROUP_CODE = "group_code"
POPULATION = "population"
POP_0_15 = "pop_0_15"
POP_65_PLUS = "pop_65_plus"
PRACTICE_CODE = "practice_code"
PRACTICE_NAME = "practice_name"
POSTCODE = "postcode"
STATUS = "status"
SETTING = "setting"
PCN_CODE = "pcn_code"
PCN_NAME = "pcn_name"
LIST_SIZE = "list_size"
PATIENTS = "patients"
SEX = "sex"
X = "x"
Y = "y"
LATITUDE = "latitude"
LONGITUDE = "longitude"
HUB_ID = "hub_id"
HUB_NAME = "hub_name"
CAPACITY = "capacity"
REQUIRED = "required"
DEMAND = "demand"
NEIGHBOURHOOD = "neighbourhood_id"
END_DATE = "end_date"
AGE = "age"
IMD_DECILE = "imd_decile"
MSOA_CODE = "msoa_code"
AREA_CODE = "area_code"
AREA_NAME = "area_name"
LSOA11_CODE = "lsoa11_code"
LSOA21_CODE = "lsoa21_code"
CHANGE = "change"


@dataclass(frozen=True)
class Field:
    """A canonical column and the patterns that find it in a source file.

    Attributes
    ----------
    name
        Canonical column name.
    patterns
        Regular expressions over the normalised header (see :func:`normalise`), tried in order.
    required
        Whether the reader fails when no column matches.
    description
        What the column holds, for error messages and docs.
    """

    name: str
    patterns: tuple[str, ...]
    required: bool = True
    description: str = ""

    def matches(self, normalised_header: str) -> bool:
        return any(re.fullmatch(pattern, normalised_header) for pattern in self.patterns)


def normalise(header: object) -> str:
    """Normalise a header for matching: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


_LSOA_CODE = (
    r"lsoa\d{2}cd",
    r"lsoa\d{0,4}code",
    r"lsoacode\d{4}",
    r"lsoa",
    r"lsoacd",
    r"geographycode",
    r"code",
)
_LSOA_NAME = (r"lsoa\d{2}nm", r"lsoa\d{0,4}name", r"lsoaname\d{4}", r"lsoanm", r"name")
_LAD_CODE = (
    r"lad\d{2}cd",
    r"la\d{2}cd",
    r"ladcd",
    r"ladcode",
    r"localauthoritydistrictcode\d{0,4}",
    r"lacode",
)
_LAD_NAME = (
    r"lad\d{2}nm",
    r"la\d{2}nm",
    r"ladnm",
    r"ladname",
    r"localauthoritydistrictname\d{0,4}",
    r"laname",
)

#: Fields of each input table, keyed by the table's name in the scenario file (``inputs.<table>``).
FIELDS: dict[str, tuple[Field, ...]] = {
    "units": (
        Field(LSOA_CODE, _LSOA_CODE[:4], description="LSOA code (LSOA11CD or LSOA21CD)"),
        Field(LSOA_NAME, _LSOA_NAME[:-1], required=False, description="LSOA name"),
        Field(LAD_CODE, _LAD_CODE, description="local authority (borough) code"),
        Field(LAD_NAME, _LAD_NAME, required=False, description="local authority (borough) name"),
        Field(
            MSOA_CODE,
            (r"msoa\d{2}cd", r"msoacode", r"msoacd"),
            required=False,
            description="MSOA code (joins inputs.area_names)",
        ),
        Field(
            GROUP_CODE, (), required=False, description="keep-together group (e.g. MSOA11CD); set explicitly"
        ),
        Field(
            POPULATION,
            (),
            required=False,
            description="population column, when population is in the units file",
        ),
    ),
    "population": (
        Field(LSOA_CODE, _LSOA_CODE, description="LSOA code"),
        Field(
            POPULATION,
            (r"personsallages", r"allages", r"population", r"totalpopulation", r"total", r"persons", r"pop"),
            description="residents, all ages",
        ),
        Field(
            POP_0_15,
            (r"persons015", r"aged015", r"age015"),
            required=False,
            description="residents aged 0-15",
        ),
        Field(
            POP_65_PLUS,
            (r"persons65", r"persons65plus", r"aged65", r"aged65plus", r"age65"),
            required=False,
            description="residents aged 65 and over",
        ),
    ),
    "places": (
        Field(LAD_CODE, _LAD_CODE, description="local authority code"),
        Field(PLACE_CODE, (r"placecode", r"placecd", r"place"), description="place code"),
        Field(PLACE_NAME, (r"placename", r"placenm"), required=False, description="place name"),
    ),
    "practice_locations": (
        Field(PRACTICE_CODE, (r"practicecode", r"orgcode", r"organisationcode", r"code", r"odscode")),
        Field(PRACTICE_NAME, (r"practicename", r"name", r"organisationname"), required=False),
        Field(POSTCODE, (r"postcode", r"pcd", r"pcds"), required=False),
        Field(LATITUDE, (r"latitude", r"lat"), required=False),
        Field(LONGITUDE, (r"longitude", r"long", r"lon", r"lng"), required=False),
        Field(X, (r"easting", r"x", r"oseast1m"), required=False),
        Field(Y, (r"northing", r"y", r"osnrth1m"), required=False),
    ),
    "list_sizes": (
        Field(PRACTICE_CODE, (r"code", r"practicecode", r"orgcode")),
        Field(PATIENTS, (r"numberofpatients", r"patients", r"listsize", r"registeredpatients")),
        Field(SEX, (r"sex",), required=False),
        Field(AGE, (r"age",), required=False),
    ),
    "pcns": (
        Field(PRACTICE_CODE, (r"partnerorganisationcode", r"practicecode", r"practice", r"orgcode")),
        Field(PCN_CODE, (r"pcncode", r"pcn")),
        Field(PCN_NAME, (r"pcnname",), required=False),
        Field(
            END_DATE,
            (r"practicetopcnrelationshipenddate", r"enddate", r"relationshipenddate"),
            required=False,
        ),
    ),
    "registrations": (
        Field(PRACTICE_CODE, (r"practicecode", r"orgcode", r"code")),
        Field(LSOA_CODE, (r"lsoacode", r"lsoa\d{2}cd", r"lsoa", r"lsoa\d{4}code")),
        Field(PATIENTS, (r"numberofpatients", r"patients", r"count")),
        Field(SEX, (r"sex",), required=False),
    ),
    "hubs": (
        Field(HUB_ID, (r"hubid", r"id", r"code", r"siteid", r"sitecode")),
        Field(HUB_NAME, (r"hubname", r"name", r"sitename"), required=False),
        Field(X, (r"easting", r"x"), required=False),
        Field(Y, (r"northing", r"y"), required=False),
        Field(LATITUDE, (r"latitude", r"lat"), required=False),
        Field(LONGITUDE, (r"longitude", r"long", r"lon", r"lng"), required=False),
        Field(CAPACITY, (r"capacity",), required=False),
        Field(REQUIRED, (r"required", r"fixed", r"existing"), required=False),
    ),
    "demand": (Field(LSOA_CODE, _LSOA_CODE, description="LSOA code"),),
    "baseline": (
        Field(LSOA_CODE, _LSOA_CODE, description="LSOA code"),
        Field(
            NEIGHBOURHOOD,
            (r"neighbourhoodid", r"neighbourhood", r"neighborhood", r"int", r"intcode", r"pcncode"),
        ),
    ),
    "locks": (
        Field(LSOA_CODE, _LSOA_CODE, description="LSOA code"),
        Field(HUB_ID, (r"hubid", r"hub", r"centre", r"center")),
    ),
    "area_names": (
        Field(
            AREA_CODE,
            (r"msoa\d{2}cd", r"lsoa\d{2}cd", r"msoacode", r"lsoacode", r"areacode", r"code"),
            description="MSOA or LSOA code (e.g. msoa11cd)",
        ),
        Field(
            AREA_NAME,
            (r"msoa\d{2}hclnm", r"\w*hclnm", r"localname", r"areaname", r"name"),
            description="recognisable area name (e.g. msoa11hclnm)",
        ),
    ),
    "lsoa_lookup": (
        Field(
            LSOA11_CODE,
            (r"lsoa11cd", r"lsoa2011cd", r"lsoa11code", r"lsoa2011code", r"lsoacode2011"),
            description="LSOA 2011 code (LSOA11CD)",
        ),
        Field(
            LSOA21_CODE,
            (r"lsoa21cd", r"lsoa2021cd", r"lsoa21code", r"lsoa2021code", r"lsoacode2021"),
            description="LSOA 2021 code (LSOA21CD)",
        ),
        Field(
            CHANGE,
            (r"chgind", r"chngind", r"changeindicator", r"change", r"changeind"),
            description="ONS change indicator (CHGIND: U, S, M or X)",
        ),
    ),
}

# ---- NHS epraccur.csv (header-less; columns by position, per the ODS specification) --------------------------
EPRACCUR_POSITIONS: dict[str, int] = {
    PRACTICE_CODE: 0,
    PRACTICE_NAME: 1,
    POSTCODE: 9,
    STATUS: 12,
    SETTING: 25,
}
#: Status values meaning "active" in epraccur (older editions spell it out).
EPRACCUR_ACTIVE = frozenset({"A", "ACTIVE"})
#: Prescribing settings meaning "GP practice" (4 in the ODS file; RO76 is the role code in newer feeds).
EPRACCUR_GP_SETTINGS = frozenset({"4", "RO76"})

#: Pseudo-LSOA codes in NHS registration files that mean "no usable residence".
PSEUDO_LSOA_PATTERN = r"^(CLOSED|NO\d{4}|UNKNOWN|NULL|)$"

#: ONS GSS code patterns of the two LSOA vintages (2021 added codes above E01033768 and W01001958).
LSOA_CODE_PATTERN = r"^[EW]01\d{6}$"
LSOA11_LAST_ENGLAND = 33768
LSOA11_LAST_WALES = 1958
#: ONS change indicators of the LSOA 2011 -> 2021 lookup (CHGIND) and what each means.
LSOA_CHANGES = {"U": "unchanged", "S": "split", "M": "merged", "X": "complex"}
