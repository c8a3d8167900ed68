"""The world the matrix runs in: our review, with a user in every role, a trial assigned to the contributor and
one that is not, and another review where none of those users is a member. Each scope holds every registered
object (tests/permissions/matrix.py: builds), built through the services as the app builds them."""

from apps.accounts.models import Membership, Role
from tests.factories import MembershipFactory, ReviewFactory, TrialFactory, UserFactory
from tests.permissions.matrix import BUILDERS, ROLES, all_routes


class Scope:
    """One of own / unassigned / other: a review, a trial of it, and its objects by name (`scope.version`)."""

    def __init__(self, name: str, *, review, trial, author, shared: dict, contributor: Membership | None):
        self.name = name
        self.review = review
        self.trial = trial
        # A member who is none of the users the matrix acts as: the rules and uploads are theirs, so that anyone
        # else may review a mapping.
        self.author = author
        self._shared = shared  # review-level objects, one set per review
        self._own = {}
        self._contributor = contributor  # set in the scope whose trials are assigned to the contributor

    def assign(self, trial):
        """Give `trial` to the contributor when this scope's trials are theirs."""
        if self._contributor is not None:
            self._contributor.trials.add(trial)
        return trial

    def get(self, name: str):
        if name in ("review", "trial"):
            return getattr(self, name)
        builder = BUILDERS[name]
        store = self._shared if builder.level == "review" else self._own
        if name not in store:
            store[name] = builder.build(self)
        return store[name]

    def on_trial(self, trial) -> "Scope":
        """A scope of the same review on another of its trials (not the contributor's): its trial-level objects
        are its own, its review-level ones this scope's. For objects that need more trials of the review, such as
        the included trials an analysis pools."""
        return Scope(
            f"{self.name}/{trial.pk}",
            review=self.review,
            trial=trial,
            author=self.author,
            shared=self._shared,
            contributor=None,
        )

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    def build_all(self) -> None:
        for name in BUILDERS:
            self.get(name)


class World:
    def __init__(self):
        all_routes()  # the route modules register how to build their objects
        review = ReviewFactory(title="Our review")
        self.users = {role: UserFactory(username=f"matrix-{role}") for role in ROLES}
        memberships = {
            role: MembershipFactory(review=review, user=user, role=role) for role, user in self.users.items()
        }
        author = MembershipFactory(review=review, role=Role.ANALYST, user=UserFactory(username="matrix-author")).user
        shared = {}
        self.own = Scope(
            "own",
            review=review,
            trial=TrialFactory(review=review, title="Assigned trial"),
            author=author,
            shared=shared,
            contributor=memberships[Role.CONTRIBUTOR],
        )
        self.own.assign(self.own.trial)
        self.unassigned = Scope(
            "unassigned",
            review=review,
            trial=TrialFactory(review=review, title="Unassigned trial"),
            author=author,
            shared=shared,
            contributor=None,
        )
        other_review = ReviewFactory(title="Another review")
        other_author = MembershipFactory(review=other_review, role=Role.COORDINATOR).user
        self.other = Scope(
            "other",
            review=other_review,
            trial=TrialFactory(review=other_review, title="Trial of another review"),
            author=other_author,
            shared={},
            contributor=None,
        )
        self.newcomer = UserFactory(username="matrix-newcomer")  # a user in no review
        for scope in self.scopes.values():
            scope.build_all()

    @property
    def scopes(self) -> dict:
        return {"own": self.own, "unassigned": self.unassigned, "other": self.other}
