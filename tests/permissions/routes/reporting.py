"""PRISMA-IPD: the flow diagram and its downloads, the checklist, the report draft and the reproducibility bundle;
the API and the pages.

Coordinators, analysts and reviewers read them and edit the checklist; the bundle, which holds participant data,
is for coordinators and analysts; contributors get 403 in their review (apps.reporting.access). The review's
analysis and its succeeded run (routes/analyses.py) give the diagram its analysed boxes, the report its forest
plot and the bundle something to reproduce.
"""

from tests.permissions.matrix import Call, Route, codes, literal

READERS = codes(200, 200, 200, 403)
CHECKLIST_EDITORS = codes(200, 200, 200, 403)
BUNDLE_TAKERS = codes(200, 200, 403, 403)
ITEM = literal("5")  # Protocol and registration


ROUTES = [
    Route("api-prisma-ipd", {"review_id": "review"}, get=READERS),
    Route("api-prisma-svg", {"review_id": "review"}, get=READERS),
    Route("api-prisma-png", {"review_id": "review"}, get=READERS),
    Route("api-prisma-pdf", {"review_id": "review"}, get=READERS),
    Route("api-prisma-csv", {"review_id": "review"}, get=READERS),
    Route("api-checklist", {"review_id": "review"}, get=READERS),
    Route("api-checklist-completion", {"review_id": "review"}, get=READERS),
    Route("api-checklist-csv", {"review_id": "review"}, get=READERS),
    Route(
        "api-checklist-item",
        {"review_id": "review", "item": ITEM},
        get=READERS,
        patch=Call(CHECKLIST_EDITORS, body=lambda o: {"status": "drafted", "location": "Methods, paragraph 2"}),
    ),
    Route("api-report-docx", {"review_id": "review"}, get=READERS),
    Route("api-bundle", {"review_id": "review"}, get=BUNDLE_TAKERS),
    # The pages ----------------------------------------------------------------------------------------------
    Route("reporting:prisma", {"review_id": "review"}, get=READERS),
    # One view for every kind, access checked before the kind is read: the SVG and the CSV (the API's entries
    # above take the PNG and the PDF, each a second of drawing).
    *(
        Route("reporting:prisma-download", {"review_id": "review", "kind": literal(kind)}, get=READERS)
        for kind in ("svg", "csv")
    ),
    Route("reporting:checklist", {"review_id": "review"}, get=READERS),
    Route("reporting:checklist-csv", {"review_id": "review"}, get=READERS),
    Route(
        "reporting:checklist-item",
        {"review_id": "review", "item": ITEM},
        post=Call(
            codes(302, 302, 302, 403), body=lambda o: {"status": "drafted", "location": "Methods", "note": "Registered"}
        ),
    ),
    Route("reporting:report", {"review_id": "review"}, get=READERS),
    Route("reporting:report-docx", {"review_id": "review"}, get=READERS),
    Route("reporting:bundle", {"review_id": "review"}, get=BUNDLE_TAKERS),
]
