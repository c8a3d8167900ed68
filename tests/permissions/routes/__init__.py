"""The matrix's entries, one module per app: each holds ROUTES, a list of tests.permissions.matrix.Route, and
registers with `builds` the objects its routes need."""
