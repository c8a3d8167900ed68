from django.core.management.base import BaseCommand, CommandError

from apps.core.stored_files import storage_verify


class Command(BaseCommand):
    help = "Re-hash every stored file against its recorded SHA-256; report any that is missing or altered."

    def handle(self, *args, **options):
        report = storage_verify()
        for line in report.as_dict()["missing"]:
            self.stdout.write(f"MISSING  {line}")
        for line in report.as_dict()["altered"]:
            self.stdout.write(f"ALTERED  {line}")
        summary = f"{report.checked} stored files checked: {len(report.missing)} missing, {len(report.altered)} altered"
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
