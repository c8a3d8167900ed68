"""Columns that look like personal data are named in the dictionary with a reason, and the version page warns."""

import datetime

import openpyxl
import pandas as pd
import pyarrow as pa
import pyreadstat
import pytest

from apps.datasets import personal

from .conftest import client_for

pytestmark = pytest.mark.django_db


def reasons(version) -> dict:
    return {entry.name: entry.personal_data for entry in version.dictionary.all()}


ENGLISH = (
    b"patid,full_name,Email,mobile_phone,date_of_birth,postcode,home_address,age,arm,nhs_number,drug_name,site_name\n"
    b"001,Ana Lopez,ana.lopez@example.org,07700 900123,1956-04-03,SW1A 1AA,12 High Street,67,A,485 777 3456,"
    b"Aspirin,Leeds\n"
    b"002,John Smith,j.smith@example.com,07700 900456,1961-11-20,M1 1AE,3 Elm Road,62,B,943 476 5919,Placebo,York\n"
    b"003,Mei Chen,mei@example.net,07700 900789,1949-02-14,B33 8TH,7 Park Lane,74,A,401 023 2137,Aspirin,Leeds\n"
)


def test_names_emails_phones_birth_dates_addresses_and_ids_are_flagged_by_name_and_value(ingest):
    version = ingest("contacts.csv", ENGLISH)
    assert version.status == "parsed", version.error
    assert reasons(version) == {
        "patid": None,
        "full_name": "looks like personal names",
        "Email": "e-mail addresses",
        "mobile_phone": "telephone numbers",
        "date_of_birth": "full dates of birth",
        "postcode": "postal addresses",
        "home_address": "postal addresses",
        "age": None,
        "arm": None,
        "nhs_number": "national identity numbers",
        "drug_name": None,
        "site_name": None,
    }


def test_names_in_other_languages(ingest):
    content = (
        "Nachname;Prénom;fecha_nacimiento;Téléphone;code_postal;Straße;gewicht\n"
        "Müller;Élodie;03.04.1950;+33 6 12 34 56 78;75001;Hauptstraße 5;70,5\n"
        "Schmidt;José;12.11.1962;+33 6 98 76 54 32;69002;Ringweg 12;81,2\n"
    ).encode()
    version = ingest("daten.csv", content)
    assert reasons(version) == {
        "Nachname": "looks like personal names",
        "Prénom": "looks like personal names",
        "fecha_nacimiento": "full dates of birth",
        "Téléphone": "telephone numbers",
        "code_postal": "postal addresses",
        "Straße": "postal addresses",
        "gewicht": None,
    }


def test_values_alone_give_personal_data_away_under_uninformative_names(ingest):
    rows = [
        ("Ana López", "ana@example.org", "+44 20 7946 0958", "SW1A 1AA"),
        ("SMITH, John", "john@example.com", "+1 (555) 123-4567", "EC1A 1BB"),
        ("Jean-Pierre Dupont", "jp@example.fr", "+33 1 23 45 67 89", "W1A 0AX"),
        ("Li Wei", "li@example.cn", "+86 10 1234 5678", "M1 1AE"),
        ("Maria Rossi", "maria@example.it", "+39 06 1234 5678", "B33 8TH"),
        ("Hans Müller", "hans@example.de", "+49 30 123456789", "CR2 6XH"),
    ]
    lines = ["v1,v2,v3,v4,v5"] + [f"{a},{b},{c},{d},{index}" for index, (a, b, c, d) in enumerate(rows)]
    content = "\n".join(line.replace("SMITH, John", '"SMITH, John"') for line in lines).encode()
    version = ingest("codes.csv", content)
    assert reasons(version) == {
        "v1": "looks like personal names",
        "v2": "e-mail addresses",
        "v3": "telephone numbers",
        "v4": "postal addresses",
        "v5": None,
    }


def test_birth_years_and_visit_dates_are_not_dates_of_birth(ingest):
    content = b"id,birth_year,visit_date,birth_weight\n1,1956,2021-03-04,3.2\n2,1961,2021-04-05,2.9\n"
    version = ingest("years.csv", content)
    assert reasons(version) == {"id": None, "birth_year": None, "visit_date": None, "birth_weight": None}


def test_categories_that_look_like_capitalised_words_are_not_names(ingest):
    arms = ["Usual Care", "Exercise Programme"]
    lines = ["id,arm,site"] + [f"{index},{arms[index % 2]},St Mary" for index in range(40)]
    version = ingest("arms.csv", "\n".join(lines).encode())
    assert reasons(version) == {"id": None, "arm": None, "site": None}


def test_labels_of_a_statistical_file_count_too(ingest, tmp_path):
    path = tmp_path / "d.sav"
    frame = pd.DataFrame({"v1": ["Ana Lopez", "Bo Li"], "v2": [datetime.date(1950, 1, 2), datetime.date(1960, 3, 4)]})
    pyreadstat.write_sav(frame, str(path), column_labels=["Participant's name", "Date of birth"])
    version = ingest("d.sav", path.read_bytes())
    assert reasons(version) == {"v1": "looks like personal names", "v2": "full dates of birth"}


def test_a_workbooks_personal_columns_are_flagged(ingest, tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["id", "Surname", "DOB", "arm"])
    workbook.active.append([1, "Lopez", datetime.datetime(1950, 1, 2), "A"])
    workbook.active.append([2, "Smith", datetime.datetime(1962, 5, 6), "B"])
    path = tmp_path / "b.xlsx"
    workbook.save(path)
    version = ingest("b.xlsx", path.read_bytes())
    assert reasons(version) == {
        "id": None,
        "Surname": "looks like personal names",
        "DOB": "full dates of birth",
        "arm": None,
    }


def test_the_api_gives_the_reason_and_the_page_warns(ingest, analyst, client):
    version = ingest("contacts.csv", ENGLISH)
    dictionary = client_for(analyst).get(f"/api/v1/datasets/{version.pk}/").json()["dictionary"]
    by_name = {item["name"]: item["personal_data"] for item in dictionary}
    assert by_name["Email"] == "e-mail addresses" and by_name["age"] is None
    client.force_login(analyst)
    page = client.get(f"/datasets/{version.pk}/").content.decode()
    assert 'id="personal-data"' in page
    assert "7 variables look like personal data" in page
    assert '<span class="mono">Email</span> (e-mail addresses)' in page
    assert "data minimisation is the receiving side's duty (GDPR)" in page
    assert "Personal data: telephone numbers" in page


def test_a_version_without_personal_data_shows_no_warning(ingest, analyst, client):
    version = ingest("plain.csv", b"id,age\n1,30\n2,41\n")
    client.force_login(analyst)
    assert 'id="personal-data"' not in client.get(f"/datasets/{version.pk}/").content.decode()


def test_a_sample_bounds_the_work_on_a_large_column():
    emails = pa.array([f"person{index}@example.org" for index in range(200_000)])
    assert personal.detect("contact", "", "text", emails) == "e-mail addresses"
    assert len(personal._sample(emails)) == personal.SAMPLE_DISTINCT


OLD_DATES = [datetime.date(1950 + index, 1 + index % 12, 1 + index) for index in range(30)]


@pytest.mark.parametrize(
    ("name", "values", "kind", "reason"),
    [
        ("contact", ["05 13 27 99 74", "06.12.34.56.78", "0612345678", "01 45 67 89 10", "07 11 22 33 44"], "text",
         personal.PHONES),
        ("info", ["218-736-5020", "555-123-4567", "312.555.0199", "646 555 0100", "415-555-0133"], "text",
         personal.PHONES),
        ("field7", ["Hauptstraße 25", "Gartenweg 20", "Schillerstr. 40", "Am Markt 3", "Lindenallee 7"], "text",
         personal.ADDRESSES),
        ("field8", ["Via Roma 18", "Calle de Alcalá 51", "Via Garibaldi 4", "Corso Italia 12", "Rua Augusta 2"],
         "text", personal.ADDRESSES),
        ("ort", ["38312 Berlin", "75001 Paris", "10115 Berlin", "80331 München", "2000 Antwerpen"], "text",
         personal.ADDRESSES),
        ("dob", [19560312, 19611120, 19490214, 19700101, 19821231], "integer", personal.BIRTH_DATES),
        ("NIR", ["1 85 05 78 006 084 36", "2 90 12 75 112 034 21"], "text", personal.IDENTITY_NUMBERS),
        ("d1", OLD_DATES, "date", personal.BIRTH_DATES),
        # Not personal: things named in other languages, old dates of another event, terms and countries
        ("Nome farmaco", ["Aspirina Bayer", "Paracetamolo Zentiva", "Ibuprofene Teva", "Omeprazolo Mylan",
                          "Amoxicillina Sandoz"], "text", None),
        ("Name des Medikaments", ["Aspirin Bayer", "Ibuprofen Ratiopharm", "Paracetamol Hexal", "Metformin Stada",
                                  "Ramipril Teva"], "text", None),
        ("Naam ziekenhuis", ["Erasmus MC", "Radboud Umc", "Amsterdam UMC", "Maxima MC", "Isala Klinieken"], "text",
         None),
        ("diagnosis_date", OLD_DATES, "date", None),
        ("aeterm", ["Atrial Fibrillation", "Acute Kidney Injury", "Deep Vein Thrombosis", "Heart Failure",
                    "Chest Pain", "Pulmonary Embolism"], "text", None),
        ("country", ["New Zealand", "Costa Rica", "United Kingdom", "South Africa", "Sri Lanka", "El Salvador"],
         "text", None),
        ("site", ["St Mary Hospital", "Royal Free", "Leeds General", "Queen Elizabeth", "Kings College",
                  "Guy Thomas", "St George", "Royal London"], "text", None),
        ("comment", ["during 3 days", "rash during 2 days", "fever during 5 days", "during 1 week"], "text", None),
        ("visit_no", [19560312, 20210101], "integer", None),
    ],
)  # fmt: skip
def test_values_and_names_in_more_of_the_forms_trial_teams_use(name, values, kind, reason):
    assert personal.detect(name, "", kind, pa.array(values)) == reason


def test_the_dictionary_names_no_one_in_its_values(ingest, analyst, client):
    content = (
        "id,E-mail,Mobile,Date of Birth,Nom,arm\n"
        + "\n".join(
            f"{index},p{index}@example.org,4477009000{index:02d},19{50 + index}-03-0{1 + index % 9},"
            f"{['Taylor', 'Dupont'][index % 2]},{'AB'[index % 2]}"
            for index in range(30)
        )
    ).encode()
    version = ingest("people.csv", content)
    entries = {entry.name: entry for entry in version.dictionary.all()}
    for name in ("E-mail", "Mobile", "Date of Birth", "Nom"):
        entry = entries[name]
        assert entry.personal_data, name
        assert (entry.top_values, entry.minimum, entry.maximum, entry.invalid_examples) == ([], "", "", []), name
    assert entries["arm"].top_values  # other columns keep theirs
    client.force_login(analyst)
    response = client.get(f"/datasets/{version.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and "Date of Birth" in page and "e-mail addresses" in page
    assert "p1@example.org" not in page and "Taylor" not in page and "1951-03-02" not in page


@pytest.mark.parametrize(
    ("name", "values", "reason"),
    [
        ("column_3", ["Ana López", "John Smith", "Jean Dupont", "Li Wei", "Maria Rossi", "Hans Müller"],
         personal.NAMES),
        ("dose", ["1000 mg", "2000 mg", "10000 IU", "500 mg", "1000 Tablets"], None),
        ("subject", ["0012345678", "0012345679", "0012345680", "0012345681", "0012345682"], None),
    ],
)  # fmt: skip
def test_generic_names_do_not_hide_names_and_doses_or_ids_are_not_addresses_or_phones(name, values, reason):
    assert personal.detect(name, "", "text", pa.array(values)) == reason


def test_a_declared_date_of_birth_shows_no_examples_of_what_it_could_not_read(ingest, analyst):
    content = b"id,date_of_birth\n1,03/04/1950\n2,1961-11-20\n3,14/02/1949\n"
    version = ingest("dob.csv", content)
    from apps.datasets import services as dataset_services
    from apps.datasets.tasks import dataset_parse_task

    job = dataset_services.dataset_declarations_set(
        version=version, actor=analyst, declarations={"variables": {"date_of_birth": {"date_format": "%d/%m/%Y"}}}
    )
    dataset_parse_task(job.pk)
    entry = version.dictionary.get(name="date_of_birth")
    assert entry.personal_data == personal.BIRTH_DATES
    assert (entry.n_invalid, entry.invalid_examples) == (1, [])
