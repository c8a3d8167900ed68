"""The one error type of the engine."""


class AnalysisError(ValueError):
    """An analysis that cannot be run; str(error) is a sentence a reviewer understands (names the column,
    trial or value)."""
