"""The common schema, mappings and their rules, the apply job, harmonised tables and the log; API and pages."""

import json

from apps.harmonisation import services
from apps.harmonisation.models import MappingRule
from tests.checks.data import VARIABLES
from tests.permissions.matrix import READ_ALL, Call, Route, builds, codes, literal


@builds("schema", level="review")
def schema(scope) -> dict:
    """The checks' schema, each variable by name."""
    return {
        variable.name: services.schema_variable_create(
            review=scope.review,
            actor=scope.author,
            name=variable.name,
            role=variable.role,
            type=variable.type,
            unit=variable.unit,
            allowed_values=list(variable.allowed_values),
            minimum=variable.minimum,
            maximum=variable.maximum,
        )
        for variable in VARIABLES
    }


@builds("variable", level="review")
def variable(scope):
    """A variable the mappings' rules use."""
    return scope.schema["AGE"]


@builds("spare_variable", level="review")
def spare_variable(scope):
    """A variable no rule uses, which may be deleted."""
    return services.schema_variable_create(review=scope.review, actor=scope.author, name="NOTES", type="text")


@builds("mapping")
def mapping(scope):
    """The parsed version mapped to the schema, each variable from its column, by the scope's author."""
    made = services.mapping_create(trial=scope.trial, source_version=scope.version, actor=scope.author)
    for name, target in scope.schema.items():
        services.mapping_rule_set(
            mapping=made, target=target, actor=scope.author, category="direct", source_variables=[name]
        )
    made.refresh_from_db()
    return made


@builds("rule")
def rule(scope):
    return MappingRule.objects.get(mapping=scope.mapping, target=scope.variable, superseded_at=None)


@builds("table")
def table(scope):
    return services.harmonised_table_build(mapping=scope.mapping, actor=scope.author)


@builds("bare_mapping")
def bare_mapping(scope):
    """A second mapping of the parsed version with no rule yet: its suggestions may be accepted."""
    scope.table  # noqa: B018  (numbered after the trial's mapping, whose table the other objects use)
    return services.mapping_create(trial=scope.trial, source_version=scope.version, actor=scope.author)


def sbp_rule(o) -> dict:
    """A new revision of SBP's rule: the same mapping with a rationale."""
    return {"target": o.schema["SBP"].pk, "category": "direct", "source_variables": ["SBP"], "rationale": "Checked"}


def sbp_rule_form(o) -> dict:
    return {**sbp_rule(o), "source_variables": "SBP", "parameters": "", "query_reference": "", "status": ""}


def sbp_suggestion(o) -> dict:
    suggestion = {"category": "direct", "source_variables": ["SBP"], "parameters": {}, "reason": "same name"}
    return {"target": o.schema["SBP"].pk, "suggestion": json.dumps(suggestion)}


def new_variable_form(o) -> dict:
    return {"name": "BMI", "label": "", "role": "covariate", "type": "number", "unit": "kg/m2"}


def age_form(o) -> dict:
    return {"name": "AGE", "label": "Age (years)", "role": "covariate", "type": "integer", "unit": "year"} | {
        "allowed_values": "",
        "minimum": "18",
        "maximum": "100",
        "description": "At randomisation",
    }


EDITORS = codes(201, 201, 403, 403)
EDITORS_CHANGE = codes(200, 200, 403, 403)
PAGE_EDITORS = codes(302, 302, 403, 403)
TEAM_READS = codes(200, 200, 200, 403)

ROUTES = [
    Route(
        "api-schema-list",
        {"review_id": "review"},
        get=READ_ALL,
        post=Call(EDITORS, body=lambda o: {"name": "BMI", "type": "number", "unit": "kg/m2"}),
    ),
    Route(
        "api-schema-variable-detail",
        {"pk": "variable"},
        get=READ_ALL,
        patch=Call(EDITORS_CHANGE, body=lambda o: {"label": "Age (years)"}),
    ),
    Route("api-schema-variable-detail", {"pk": "spare_variable"}, delete=codes(204, 204, 403, 403)),
    Route(
        "api-mapping-list",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(EDITORS, body=lambda o: {"source_version": o.version.pk}),
    ),
    Route("api-mapping-detail", {"pk": "mapping"}, get=READ_ALL),
    Route("api-mapping-rules", {"pk": "mapping"}, get=READ_ALL, post=Call(EDITORS, body=sbp_rule)),
    Route("api-mapping-rule-remove", {"pk": "mapping", "target_id": "variable"}, delete=codes(204, 204, 403, 403)),
    Route("api-mapping-review", {"pk": "mapping"}, post=EDITORS_CHANGE),
    Route("api-mapping-suggestions", {"pk": "mapping"}, get=READ_ALL),
    Route("api-mapping-suggestions-accept", {"pk": "bare_mapping"}, post=Call(EDITORS, body=lambda o: {})),
    Route("api-mapping-preview", {"pk": "mapping"}, get=READ_ALL),
    # Applying queues a job: the job row records who asked and when.
    Route("api-mapping-apply", {"pk": "mapping"}, post=Call(codes(202, 202, 403, 403), audited=False)),
    Route("api-mapping-jobs", {"pk": "mapping"}, get=READ_ALL),
    Route("api-mapping-tables", {"pk": "mapping"}, get=READ_ALL),
    Route("api-rule-detail", {"pk": "rule"}, get=READ_ALL),
    Route("api-harmonised-table-download", {"pk": "table", "kind": literal("parquet")}, get=READ_ALL),
    Route("api-harmonised-table-download", {"pk": "table", "kind": literal("csv")}, get=READ_ALL),
    Route("api-trial-log", {"trial_id": "trial"}, get=READ_ALL),
    Route("api-trial-log-csv", {"trial_id": "trial"}, get=READ_ALL),
    Route("api-review-log", {"review_id": "review"}, get=TEAM_READS),
    Route("api-review-log-csv", {"review_id": "review"}, get=TEAM_READS),
    # The pages ----------------------------------------------------------------------------------------------
    Route(
        "harmonisation:schema", {"review_id": "review"}, get=READ_ALL, post=Call(PAGE_EDITORS, body=new_variable_form)
    ),
    Route(
        "harmonisation:schema-variable-edit",
        {"variable_id": "variable"},
        get=codes(200, 200, 403, 403),
        post=Call(PAGE_EDITORS, body=age_form, label="save"),
    ),
    Route(
        "harmonisation:schema-variable-edit",
        {"variable_id": "spare_variable"},
        post=Call(PAGE_EDITORS, body=lambda o: {"delete": "1"}, label="delete"),
    ),
    Route(
        "harmonisation:trial-mappings",
        {"trial_id": "trial"},
        get=READ_ALL,
        post=Call(PAGE_EDITORS, body=lambda o: {"source_version": o.version.pk, "copy_rules_from": "", "note": ""}),
    ),
    Route("harmonisation:mapping-editor", {"mapping_id": "mapping"}, get=READ_ALL),
    Route("harmonisation:mapping-rule-set", {"mapping_id": "mapping"}, post=Call(PAGE_EDITORS, body=sbp_rule_form)),
    Route(
        "harmonisation:mapping-suggestion-use", {"mapping_id": "mapping"}, post=Call(PAGE_EDITORS, body=sbp_suggestion)
    ),
    Route("harmonisation:mapping-suggestions-accept", {"mapping_id": "bare_mapping"}, post=PAGE_EDITORS),
    Route("harmonisation:mapping-rule-remove", {"mapping_id": "mapping", "target_id": "variable"}, post=PAGE_EDITORS),
    Route("harmonisation:mapping-apply", {"mapping_id": "mapping"}, post=Call(PAGE_EDITORS, audited=False)),
    Route("harmonisation:mapping-review", {"mapping_id": "mapping"}, post=PAGE_EDITORS),
    Route("harmonisation:trial-log", {"trial_id": "trial"}, get=READ_ALL),
    Route("harmonisation:review-log", {"review_id": "review"}, get=TEAM_READS),
]
