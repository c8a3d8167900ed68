"""A value the parse could not read (a date in another form, a number under a declared decimal mark) is missing in
the typed table; a rule that reads its column flags the row with the text that was sent, in the harmonised table,
the preview and the log, rather than passing it on as a plain missing value."""

import io

import pandas as pd
import pytest

from apps.datasets import services as dataset_services
from apps.datasets.selectors import version_column_names, version_frame
from apps.datasets.storage import dataset_storage
from apps.datasets.tasks import dataset_parse_task
from apps.harmonisation import selectors, services
from apps.jobs.models import Job
from tests.harmonisation.test_from_upload import upload_and_parse

pytestmark = pytest.mark.django_db

ROWS = [
    ("001", "5,5", "03/01/2020"),
    ("002", "6,1", "14/01/2020"),
    ("003", "72.5", "21/01/2020"),  # not a number under the declared decimal comma
    ("004", "7,0", "2020-02-03"),  # not a date of this column's form
    ("005", "", "18/02/2020"),  # missing, and nothing to flag
    ("006", "4,9", "25/02/2020"),
    ("007", "5,2", "03/03/2020"),
    ("008", "6,6", "10/03/2020"),
    ("009", "5,8", "17/03/2020"),
    ("010", "6,0", "24/03/2020"),
]
CSV = ("id,gluc,randdate\n" + "\n".join(f'{a},"{b}",{c}' for a, b, c in ROWS) + "\n").encode()


def parsed_with(trial, actor, name: str, content: bytes, declarations: dict, callbacks):
    """The file uploaded and parsed, then read again with `declarations`."""
    version = upload_and_parse(trial, actor, name, content, callbacks)
    with callbacks(execute=False):
        dataset_services.dataset_declarations_set(version=version, actor=actor, declarations=declarations)
    dataset_parse_task(Job.objects.filter(target_id=str(version.pk)).latest("id").pk)
    version.refresh_from_db()
    assert version.status == version.Status.PARSED, version.error
    return version


@pytest.fixture
def declared_version(trial, analyst, django_capture_on_commit_callbacks):
    declarations = {"variables": {"gluc": {"decimal": ","}}}
    return parsed_with(trial, analyst, "glucose.csv", CSV, declarations, django_capture_on_commit_callbacks)


def test_the_typed_table_hides_what_it_could_not_read_from_everything_but_the_rules(declared_version):
    assert version_column_names(declared_version) == ["id", "gluc", "randdate"]
    frame = version_frame(declared_version)
    assert list(frame.columns) == ["id", "gluc", "randdate"]
    assert frame["gluc"].isna().tolist() == [False, False, True, False, True, False, False, False, False, False]
    entries = {entry.name: entry for entry in declared_version.dictionary.all()}
    assert (entries["gluc"].n_invalid, entries["randdate"].n_invalid) == (1, 1)


def test_rules_flag_the_rows_the_parse_could_not_read_with_what_was_sent(declared_version, schema, analyst):
    mapping = services.mapping_create(trial=declared_version.trial, source_version=declared_version, actor=analyst)
    for target, source in (("USUBJID", "id"), ("GLUC", "gluc"), ("RANDDT", "randdate")):
        services.mapping_rule_set(
            mapping=mapping, target=schema[target], actor=analyst, category="direct", source_variables=[source]
        )
    preview = selectors.mapping_preview(mapping)
    flags = preview["columns"].index("GLUC__flag")
    assert preview["rows"][2][flags] == "gluc not read as a number (decimal \",\" (declared)): '72.5'"
    assert preview["rows"][4][flags] is None  # a missing value is not flagged
    table = services.harmonised_table_build(mapping=mapping, actor=analyst)
    with dataset_storage().open(table.storage_name, "rb") as handle:
        frame = pd.read_parquet(io.BytesIO(handle.read()))
    assert frame["GLUC__flag"].notna().tolist() == [False, False, True, False, False, False, False, False, False, False]
    assert frame["RANDDT__flag"][3] == "randdate not read as a date (%d/%m/%Y): '2020-02-03'"
    assert (table.flags["GLUC"], table.flags["RANDDT"], table.n_flagged_rows) == (1, 1, 2)
    by_target = {rule.target.name: rule for rule in mapping.rules.all()}
    stats = table.rule_stats[str(by_target["RANDDT"].pk)]
    assert stats["flag_examples"] == [["randdate not read as a date (%d/%m/%Y): '2020-02-03'", 1]]


def test_the_version_counts_the_files_columns_only(declared_version):
    assert declared_version.n_columns == 3


def test_what_could_not_be_read_of_a_personal_variable_is_withheld_from_the_flags(
    trial, schema, analyst, django_capture_on_commit_callbacks
):
    content = b"id,date_of_birth\n001,03/04/1950\n002,1961-11-20\n003,14/02/1949\n004,21/07/1955\n"
    declarations = {"variables": {"date_of_birth": {"date_format": "%d/%m/%Y"}}}
    version = parsed_with(trial, analyst, "dob.csv", content, declarations, django_capture_on_commit_callbacks)
    mapping = services.mapping_create(trial=trial, source_version=version, actor=analyst)
    services.mapping_rule_set(
        mapping=mapping, target=schema["RANDDT"], actor=analyst, category="direct",
        source_variables=["date_of_birth"], rationale="Age at randomisation is derived from it, then dropped.",
    )  # fmt: skip
    preview = selectors.mapping_preview(mapping)
    flags = [row[preview["columns"].index("RANDDT__flag")] for row in preview["rows"]]
    assert flags[1] == "date_of_birth not read as a date (%d/%m/%Y): '(withheld: personal data)'"
    assert "1961" not in str(preview)
