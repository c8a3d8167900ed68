"""What a trial's team should do next, for the contributor's home page.

The trials app knows the tracking (status, agreements); the apps downstream (datasets, harmonisation, checks) know
the data. Each registers a provider here from its AppConfig.ready, so this app imports none of them (as with
list_filters). A provider is a function (trials: list[Trial]) -> dict[trial id, list[Step]] that reads all the
trials at once: a fixed number of queries whatever their number.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    label: str  # what to do or what is happening, e.g. "Upload your data"
    url: str  # where to do it or see it
    detail: str = ""
    action: bool = False  # True: the trial's team must act; False: something to look at or wait for
    links: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (text, url) of the items the step names


_PROVIDERS: dict[str, Callable] = {}


def register(name: str, provider: Callable) -> None:
    _PROVIDERS[name] = provider


def steps_for(trials: list) -> dict[int, list[Step]]:
    """Every provider's steps per trial, those that ask the trial's team to act first."""
    steps: dict[int, list[Step]] = {trial.pk: [] for trial in trials}
    if not trials:
        return steps
    for name in sorted(_PROVIDERS):
        for trial_id, found in _PROVIDERS[name](trials).items():
            steps.setdefault(trial_id, []).extend(found)
    for found in steps.values():
        found.sort(key=lambda step: not step.action)
    return steps
