"""A partial index of blocking check steps, for the dashboard's failing checks (issue 12)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("salesops", "0009_evals")]

    operations = [
        migrations.AddIndex(
            model_name="runstep",
            index=models.Index(
                condition=models.Q(
                    ("kind", "check"), ("status__in", ["failed", "error", "escalate"])
                ),
                fields=["run", "name"],
                name="runstep_blocking",
            ),
        ),
    ]
