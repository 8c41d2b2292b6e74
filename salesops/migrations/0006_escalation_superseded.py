"""Superseded escalations (a newer run of the SOP on the record replaced the result) and the
reason an event started no run (stale against the record mirror)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("salesops", "0005_explicit_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="superseded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="superseded",
                to="salesops.run",
            ),
        ),
        migrations.AlterField(
            model_name="escalation",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Open"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                    ("superseded", "Superseded"),
                ],
                default="open",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="skip_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
