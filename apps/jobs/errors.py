"""Errors a job's work raises to end it."""


class JobInputError(Exception):
    """The input is wrong (a malformed file, a missing column): the job fails at once, without retries.

    The message is shown to the person who started the job, so it says what is wrong and, where it can,
    where (row, column) and what to do.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
