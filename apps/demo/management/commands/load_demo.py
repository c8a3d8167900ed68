from django.core.management.base import BaseCommand

from apps.demo.builder import DEMO_PASSWORD, demo_review_load, demo_summary


class Command(BaseCommand):
    help = "Create the demo review (about 25 trials at every stage) and its users; safe to run twice."

    def handle(self, *args, **options):
        result = demo_review_load()
        counts = demo_summary()
        verb = "Created" if result.created else "Already present:"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo review '{result.review.title}' (id {result.review.pk})"))
        self.stdout.write(
            f"  {counts['trials']} trials, {counts['attempts']} contact attempts, "
            f"{counts['agreements']} agreements, {counts['approvals']} ethics approvals"
        )
        self.stdout.write(
            "Log in at /accounts/login/ of the running app (make run prints its address) as (password for all: "
            + DEMO_PASSWORD
            + "):"
        )
        for user in result.users:
            role = user.memberships.filter(review=result.review).values_list("role", flat=True).first()
            self.stdout.write(f"  {user.username:<12} {role}{' (also /admin/)' if user.is_staff else ''}")
