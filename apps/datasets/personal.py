"""Columns that look like personal data: names, e-mail addresses, telephone numbers, full dates of birth, postal
addresses and national identity numbers.

A review needs none of them to pool trials, and data minimisation is the receiving side's duty (GDPR art. 5(1)(c)),
so each dictionary entry says why a column looks personal; the version page warns, and a harmonised table takes
such a column only through a rule that names it and says why.

A column is judged by its name and label (in the words trial teams use, in several languages) and by its values:
a name alone decides where it is unambiguous ("surname", "e-mail", "date of birth"); values alone decide where
their shape is ("ana@example.org", "+44 20 7946 0958", "SW1A 1AA"). Values are looked at on a sample of the
column's distinct values, so the cost does not grow with the rows.
"""

import datetime
import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

NAMES = "looks like personal names"
EMAILS = "e-mail addresses"
PHONES = "telephone numbers"
BIRTH_DATES = "full dates of birth"
ADDRESSES = "postal addresses"
IDENTITY_NUMBERS = "national identity numbers"
RECORD_NUMBERS = "hospital record numbers"

SAMPLE_ROWS = 5000
SAMPLE_DISTINCT = 200
# Share of the sampled values that must have the shape, when the name says nothing.
VALUE_SHARE = 0.8

# Words of a column's name or label, lower case without accents, that say what it holds.
NAME_WORDS = {
    "name", "names", "firstname", "lastname", "surname", "surnames", "forename", "forenames", "givenname",
    "familyname", "fullname", "middlename", "maidenname", "patientname", "participantname", "subjectname",
    "initials", "nom", "nombre", "nombres", "prenom", "prenoms", "nomdefamille", "apellido", "apellidos", "nome",
    "cognome", "vorname", "nachname", "familienname", "naam", "voornaam", "achternaam", "imie", "nazwisko",
    "efternamn", "fornavn", "etternavn", "sukunimi", "etunimi",
}  # fmt: skip
# Words next to "name" that make it the name of something else.
NOT_A_PERSON = {
    "drug", "site", "centre", "center", "study", "trial", "product", "hospital", "file", "variable", "arm", "group",
    "treatment", "country", "city", "medication", "med", "event", "test", "lab", "visit", "form", "brand", "generic",
    "device", "sponsor", "company", "institution", "region", "unit", "ward", "school", "condition", "disease",
    "diagnosis", "outcome", "procedure", "dataset", "column", "field", "code", "label", "parameter", "param",
    "sheet", "practice", "clinic", "organisation", "organization", "scale", "questionnaire", "item", "regimen",
    "vaccine", "batch", "lot", "strain", "species", "compound", "agent", "intervention", "category", "type",
    # the same things in the other languages trial teams name columns in
    "farmaco", "medicamento", "medicament", "medikament", "medikaments", "arzneimittel", "medicijn", "geneesmiddel",
    "ziekenhuis", "krankenhaus", "krankenhauses", "hopital", "ospedale", "klinik", "clinica", "kliniek", "centro",
    "zentrum", "zentrums", "centrum", "studie", "estudio", "studio", "etude", "essai", "ensayo", "pays", "pais",
    "paese", "ville", "stadt", "ciudad", "citta", "produit", "produkt", "producto", "prodotto", "sito", "sitio",
    "gruppe", "groupe", "grupo", "gruppo", "groep", "behandlung", "traitement", "tratamiento", "trattamento",
    "behandeling", "substance", "substanz", "sustancia", "sostanza", "laboratoire", "labor",
    "laboratorio", "etablissement", "einrichtung", "servicio", "reparto", "afdeling", "station",
    # columns of terms, not of people: adverse events, diagnoses, countries
    "term", "aeterm", "adverse", "reaction", "symptom", "finding", "llt", "soc", "meddra", "cause",
    "nation", "nationality", "language", "ethnicity", "race", "occupation", "profession", "job",
}  # fmt: skip
# Words of a date column's name that say which event it dates: not a birth, however old the dates.
EVENT_DATE_WORDS = {
    "diagnosis", "diag", "dx", "visit", "admission", "admit", "discharge", "randomisation", "randomization", "rand",
    "surgery", "operation", "onset", "death", "consent", "enrolment", "enrollment", "start", "end", "stop",
    "event", "test", "sample", "exam", "scan", "treatment", "therapy", "infection", "symptom", "fracture",
    "menopause", "menarche", "marriage", "inclusion", "registration", "diagnose", "diagnostic", "diagnostico",
    "aufnahme", "entlassung", "inclusao", "ingreso", "alta", "intervention", "procedure", "hospitalisation",
    "hospitalization", "followup", "fu", "last", "first", "baseline", "study", "trial",
}  # fmt: skip
EMAIL_WORDS = {"email", "mail", "emailaddress", "courriel", "correo", "correoelectronico", "posta"}
PHONE_WORDS = {
    "phone", "telephone", "tel", "telno", "phoneno", "phonenumber", "mobile", "mobilephone", "cellphone",
    "fax", "telefon", "telefono", "telephono", "telefoon", "portable", "handy", "handynummer", "gsm", "telefonnummer",
    "contactnumber",
    "cellnumber", "homephone", "workphone",
}  # fmt: skip
BIRTH_WORDS = {
    "dob", "birth", "birthdate", "dateofbirth", "birthday", "born", "naissance", "datedenaissance", "ddn",
    "geburt", "geburtsdatum", "gebdat", "geboren", "geboorte", "geboortedatum", "nacimiento", "fechadenacimiento",
    "fechanacimiento", "nascita", "datadinascita", "datanascita", "fodelsedatum", "fodselsdato", "syntymaaika",
    "birthdt", "brthdt", "brthdtc", "gebdatum", "geburtstag", "fecnac", "datanasc",
}  # fmt: skip
ADDRESS_WORDS = {
    "address", "addr", "street", "postcode", "postalcode", "zip", "zipcode", "plz", "postleitzahl", "codepostal",
    "adresse", "direccion", "indirizzo", "adres", "strasse", "rue", "housenumber", "streetaddress", "homeaddress",
    "postcodes", "postaladdress", "anschrift", "wohnort", "domicile", "codigopostal", "postnummer",
}  # fmt: skip
IDENTITY_WORDS = {
    "ssn", "socialsecurity", "socialsecuritynumber", "nhsnumber", "nhsno", "nationalid", "nationalidentity",
    "nationalinsurance", "nino", "bsn", "insee", "personnummer", "pesel", "codicefiscale", "dni",
    "nif", "sozialversicherungsnummer", "medicarenumber", "healthcardnumber", "passport", "passportnumber",
    "securitesociale", "numerosecu", "burgerservicenummer", "versichertennummer",
    "nir", "nss", "ahv", "ahvnummer", "avs", "svnr", "cpr", "cprnummer", "fodselsnummer", "henkilotunnus", "hetu",
    "rijksregisternummer", "curp", "cpf", "socialinsurancenumber", "sin", "medicare", "steuerid", "taxid", "tfn",
    "numerodesecuritesociale", "securitysocial", "numeroseguridadsocial",
}  # fmt: skip
RECORD_WORDS = {"mrn", "medicalrecordnumber", "hospitalnumber", "hospitalrecordnumber", "patientrecordnumber"}
EMAIL_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE_VALUE = re.compile(
    r"^\+\d[\d ().\-]{6,18}\d$"  # international: +44 20 7946 0958
    r"|^\(\d{2,5}\) ?\d{3,4}[ \-]?\d{3,4}$"  # (020) 7946 0958, (555) 123-4567
    r"|^0\d{1,4}(?:[ ./\-]\d{2,4}){2,5}$"  # national with separators: 020 7946 0958, 06.12.34.56.78
    r"|^\d{3}[-. ]\d{3}[-. ]\d{4}$"  # North American without brackets: 218-736-5020
)
POSTCODE_VALUE = re.compile(
    r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"  # United Kingdom
    r"|^[A-Z]\d[A-Z] ?\d[A-Z]\d$"  # Canada
    r"|^\d{4} ?[A-Z]{2}$",  # the Netherlands
    re.IGNORECASE,
)
STREET_VALUE = re.compile(
    r"^\d+[a-z]?,? +\S.* (street|st|road|rd|avenue|ave|lane|ln|drive|dr|way|close|court|ct|place|pl|boulevard|"
    r"blvd|crescent|terrace|square|sq)\.?\b"
    # German and Dutch street words end compound names too: Hauptstraße 25, Gartenweg 20, Schillerstr. 40
    r"|(straße|strasse|str\.|weg|gasse|allee|laan|straat|plein|gracht|platz|damm|ufer|steig|pfad|kade|"
    r"singel|dreef|markt)\.? +\d+ ?[a-z]?\b"
    r"|^\d+,? +(rue|avenue|boulevard|chemin|place|allée|impasse|via|viale|piazza|calle|avenida|plaza)\b"
    # the street word first and the number last: Via Roma 18, Calle de Alcalá 51, Rua Augusta 2
    r"|^(rue|avenue|av\.|boulevard|bd|chemin|place|allée|impasse|via|viale|piazza|corso|largo|calle|c/|avenida|"
    r"plaza|paseo|carrer|rua|travessa|ulica|ul\.) .+ \d+[a-z]?$",
    re.IGNORECASE,
)
# A postcode and its town: 38312 Berlin, 75001 Paris, 2000 Antwerpen
POSTCODE_TOWN_VALUE = re.compile(r"^(?:[A-Z]{1,2}-)?\d{4,5} +[A-ZÀ-Þ][^\W\d_'’.\- ]{2,}(?:[ \-][^\W\d_]+)*$")
# Words after a number that make it a dose or a count, not a postcode and a town: "1000 Tablets", "2000 Units".
UNIT_WORDS = {
    "tablets", "tablet", "units", "unit", "capsules", "capsule", "doses", "dose", "days", "weeks", "months",
    "years", "hours", "minutes", "patients", "participants", "cells", "copies", "steps", "calories", "kcal",
}  # fmt: skip
COMPACT_DATE_VALUE = re.compile(r"^(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
SSN_VALUE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
FULL_DATE_TEXT = re.compile(r"\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}|\d{1,2}[ \-]?[A-Za-z]{3,9}[ \-]?\d{2,4}")
EMAIL_PLACEHOLDER = re.compile(r"@")


def _plain(text: str) -> str:
    """Lower case without accents: "Prénom" -> "prenom", "Straße" -> "strasse"."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def words(text: str) -> list[str]:
    """The words of a name or label: split at anything not a letter or digit and at camelCase humps."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text or "")
    return [word for word in re.split(r"[^a-z0-9]+", _plain(spaced)) if word]


def _name_hints(name: str, label: str) -> set[str]:
    """Each word, the words run together ("date of birth" -> "dateofbirth") and each pair of neighbours."""
    hints: set[str] = set()
    for text in (name, label):
        found = words(text)
        hints.update(found)
        hints.add("".join(found))
        hints.update(first + second for first, second in zip(found, found[1:], strict=False))
    hints.discard("")
    return hints


# Words of names the readers give or trial teams use for any column: they say nothing of what it holds.
GENERIC_WORDS = {"column", "col", "field", "code", "label", "item", "type", "variable", "var", "value", "param",
                 "parameter", "form", "file", "dataset"}  # fmt: skip


def _names_something_else(name: str, label: str) -> bool:
    """The column's name says what it names, and that is not a person: a drug, a site, a country, an event
    ("column_3" or "field7" say nothing)."""
    return bool((set(words(name)) | set(words(label))) & (NOT_A_PERSON - GENERIC_WORDS))


def _is_person_name_hint(hints: set[str], name: str, label: str) -> bool:
    """The name says a person's name: "surname", "Vorname", "patient name", but not "drug name" or "site name"."""
    return bool(hints & NAME_WORDS) and not _names_something_else(name, label)


def _is_person_name(value) -> bool:
    """Two to four capitalised words of letters: "Ana López", "SMITH, John", "Jean-Pierre Dupont"."""
    parts = [part for part in re.split(r"[ ,]+", str(value).strip()) if part]
    if not 2 <= len(parts) <= 4:
        return False
    for part in parts:
        letters = part.replace("-", "").replace("'", "").replace("’", "")
        if not letters.isalpha() or not part[0].isupper() or len(letters) < 2:
            return False
    return True


def _sample(array: pa.Array) -> list:
    """Up to SAMPLE_DISTINCT distinct values from the column's first rows, without missing ones."""
    head = array.slice(0, SAMPLE_ROWS)
    values = pc.unique(pc.drop_null(head)).slice(0, SAMPLE_DISTINCT).to_pylist()
    return [value for value in values if value is not None and str(value).strip()]


def _share(values: list, pattern: re.Pattern) -> float:
    if not values:
        return 0.0
    return sum(1 for value in values if pattern.search(str(value).strip())) / len(values)


def _not_counts(values: list) -> list:
    """The values, with those whose word after the number is a unit ("1000 Tablets") made blank."""
    return [
        "" if len(str(value).split()) > 1 and str(value).split()[1].lower() in UNIT_WORDS else value for value in values
    ]


def _digits(value) -> int:
    return sum(char.isdigit() for char in str(value))


def _looks_like_birth_dates(values: list) -> bool:
    """Dates of people's births, not of a trial's visits: spread over decades, mostly before 1990."""
    years = sorted(value.year for value in values if isinstance(value, datetime.date))
    if len(years) < 10:
        return False
    return years[len(years) // 2] <= 1990 and years[-1] - years[0] >= 20


def detect(name: str, label: str, kind: str, array: pa.Array) -> str | None:
    """Why the column looks like personal data, or None. `kind` is its dictionary type."""
    hints = _name_hints(name, label)
    text = kind == "text"
    values = _sample(array) if kind in ("text", "date", "datetime", "integer") else []
    if hints & IDENTITY_WORDS or (text and values and _share(values, SSN_VALUE) >= VALUE_SHARE):
        return IDENTITY_NUMBERS
    if hints & RECORD_WORDS:
        return RECORD_NUMBERS
    if (hints & EMAIL_WORDS and text and _share(values, EMAIL_PLACEHOLDER) > 0) or (
        text and values and _share(values, EMAIL_VALUE) >= 0.5
    ):
        return EMAILS
    if hints & BIRTH_WORDS:
        if kind in ("date", "datetime") or (text and _share(values, FULL_DATE_TEXT) >= 0.5):
            return BIRTH_DATES
        if kind in ("integer", "text") and values and _share(values, COMPACT_DATE_VALUE) >= VALUE_SHARE:
            return BIRTH_DATES  # 19560312: a date of birth kept as a number, as SAS and Stata files often do
    elif kind in ("date", "datetime") and not hints & EVENT_DATE_WORDS and _looks_like_birth_dates(values):
        return BIRTH_DATES
    if hints & PHONE_WORDS and kind in ("text", "integer") and any(_digits(value) >= 6 for value in values):
        return PHONES
    if text and values and _share(values, PHONE_VALUE) >= VALUE_SHARE and all(_digits(v) >= 9 for v in values):
        return PHONES
    if hints & ADDRESS_WORDS and kind in ("text", "integer"):
        return ADDRESSES
    if (
        text
        and values
        and (
            _share(values, POSTCODE_VALUE) >= VALUE_SHARE
            or _share(_not_counts(values), POSTCODE_TOWN_VALUE) >= VALUE_SHARE
            or _share(values, STREET_VALUE) >= 0.5
        )
    ):
        return ADDRESSES
    if text and _is_person_name_hint(hints, name, label) and any(re.search(r"[^\W\d_]", str(v)) for v in values):
        return NAMES
    if text and not _names_something_else(name, label) and _looks_like_person_names(values, array):
        return NAMES
    return None


def _looks_like_person_names(values: list, array: pa.Array) -> bool:
    """Capitalised words in twos to fours ("Ana López", "SMITH, John"), most of them different from each other."""
    if len(values) < 5 or sum(map(_is_person_name, values)) < VALUE_SHARE * len(values):
        return False
    head = pc.drop_null(array.slice(0, SAMPLE_ROWS))
    return len(pc.unique(head)) >= 0.5 * len(head)
