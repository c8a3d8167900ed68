"""Fixtures for harmonisation: a review with members in every role, a schema, and a parsed version of a trial."""

import hashlib
import io
import shutil

import pandas as pd
import pyarrow as pa
import pytest
from django.core.files.base import ContentFile

from apps.datasets.dictionary import dictionary_entry
from apps.datasets.inference import type_declared_column
from apps.datasets.models import DatasetVersion, DictionaryEntry
from apps.datasets.storage import dataset_storage
from apps.harmonisation import services
from tests.factories import ReviewFactory, TrialFactory


@pytest.fixture(autouse=True)
def dataset_root(settings, tmp_path):
    """Each test stores its files in its own directory."""
    root = tmp_path / "datasets"
    settings.STORAGES = {
        **settings.STORAGES,
        "datasets": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    from django.core.files.storage import storages

    storages._storages.pop("datasets", None)
    yield root
    storages._storages.pop("datasets", None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def review(db):
    return ReviewFactory(title="Glucose lowering and cardiovascular events")


@pytest.fixture
def trial(review):
    return TrialFactory(review=review, registry_id="NCT01000001", title="GLUCO-1")


@pytest.fixture
def other_trial(review):
    return TrialFactory(review=review, registry_id="NCT01000002", title="GLUCO-2")


SOURCE = pd.DataFrame(
    {
        "patid": pd.array(["007", "008", "009", "010", "011", "012"], dtype="string"),
        "sexn": pd.array([1, 2, 1, 2, 9, 3], dtype="Int64"),
        "age": pd.array([54, 61, 17, 70, None, 45], dtype="Int64"),
        "glu_mgdl": [126.1, 180.16, None, 90.08, 540.48, 99.0],
        "arm": pd.array(["Drug A", "Placebo", "Drug A", "Placebo", "Drug A", "Placebo"], dtype="string"),
        "cnsr": pd.array([0, 1, 1, 0, 0, 1], dtype="Int64"),
        "futime": [120.0, 365.0, 30.0, 200.0, 10.0, 365.0],
        "randdt": pd.to_datetime(["2019-01-05", "2019-02-11", "2019-03-02", "2019-03-20", "2019-04-01", "2019-05-09"]),
    }
)
LABELS = {
    "patid": "Patient identifier",
    "sexn": "Sex",
    "age": "Age at randomisation (years)",
    "glu_mgdl": "Fasting glucose (mg/dL)",
    "arm": "Randomised arm",
    "cnsr": "Censoring flag",
    "futime": "Follow-up (days)",
    "randdt": "Date of randomisation",
}
VALUE_LABELS = {"sexn": {"1": "Male", "2": "Female", "9": "Unknown"}}


def parsed_version(trial, frame: pd.DataFrame = SOURCE, number: int = 1) -> DatasetVersion:
    """A version as the parse job leaves it: the Parquet table stored and the dictionary written."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    content = buffer.getvalue()
    sha256 = hashlib.sha256(content + str(number).encode()).hexdigest()
    name = dataset_storage().save(f"parsed/{sha256}.parquet", ContentFile(content))
    version = DatasetVersion.objects.create(
        trial=trial,
        number=number,
        sha256=sha256,
        size=len(content),
        original_name=f"gluco_v{number}.sav",
        storage_name=f"uploads/{sha256}",
        detected_format=DatasetVersion.Format.SAV,
        status=DatasetVersion.Status.PARSED,
        parquet_name=name,
        n_rows=len(frame),
        n_columns=len(frame.columns),
    )
    # The dictionary as the parse writes it: typed and summarised from the table's own columns.
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for position, column in enumerate(frame.columns):
        entry = dictionary_entry(
            position=position,
            name=column,
            column=type_declared_column(table.column(column)),
            label=LABELS.get(column, ""),
            value_labels=VALUE_LABELS.get(column, {}),
        )
        DictionaryEntry.objects.create(version=version, **entry)
    return version


@pytest.fixture
def version(trial):
    return parsed_version(trial)


@pytest.fixture
def schema(review, coordinator):
    """The review's common schema, with CDISC-style names."""
    specs = [
        dict(name="USUBJID", role="participant_id", type="text", description="Participant identifier"),
        dict(name="SEX", role="covariate", type="category", allowed_values=["M", "F"]),
        dict(name="AGE", role="covariate", type="integer", unit="year", minimum=18, maximum=100),
        dict(
            name="GLUC", role="covariate", type="number", unit="mmol/L", minimum=2, maximum=25, label="Fasting glucose"
        ),
        dict(name="TRT01P", role="treatment", type="category", allowed_values=["intervention", "control"]),
        dict(name="EVENT", role="event", type="integer", allowed_values=[0, 1]),
        dict(name="AVAL", role="time", type="number", unit="day", minimum=0),
        dict(name="RANDDT", role="randomisation_date", type="date"),
        dict(name="ITTFL", role="other", type="category", allowed_values=["Y", "N"]),
    ]
    return {spec["name"]: services.schema_variable_create(review=review, actor=coordinator, **spec) for spec in specs}


@pytest.fixture
def mapping(trial, version, analyst):
    return services.mapping_create(trial=trial, source_version=version, actor=analyst)


def set_rules(mapping, schema, actor):
    """A complete mapping of SOURCE to the schema."""
    rules = [
        ("USUBJID", "direct", ["patid"], {}, ""),
        ("SEX", "recode", ["sexn"], {"map": {"1": "M", "2": "F"}, "missing": [9]}, "9 = unknown in the SPSS labels"),
        ("AGE", "direct", ["age"], {}, ""),
        ("GLUC", "unit_conversion", ["glu_mgdl"], {"from": "mg/dL", "analyte": "glucose"}, "Trial reports mg/dL"),
        ("TRT01P", "treatment_arms", ["arm"], {"arms": {"Drug A": "intervention", "Placebo": "control"}}, ""),
        ("EVENT", "expression", [], {"expression": "1 - cnsr"}, "CNSR = 1 means censored"),
        ("AVAL", "direct", ["futime"], {}, ""),
        ("RANDDT", "direct", ["randdt"], {}, ""),
    ]
    return {
        target: services.mapping_rule_set(
            mapping=mapping,
            target=schema[target],
            actor=actor,
            category=category,
            source_variables=sources,
            parameters=parameters,
            rationale=rationale,
        )
        for target, category, sources, parameters, rationale in rules
    }
