"""Accounts ("portals") on every local CRM row, per-account idempotency keys, tombstones."""

import django.utils.timezone
from django.db import migrations, models


def _account() -> models.CharField:
    return models.CharField(db_index=True, default="local", max_length=64)


class Migration(migrations.Migration):
    dependencies = [
        ("localcrm", "0001_initial"),
    ]

    operations = [
        *[
            migrations.AddField(model_name=name, name="account", field=_account())
            for name in ("owner", "company", "contact", "deal", "activity", "note", "task")
        ],
        migrations.AlterField(
            model_name="note",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name="task",
            name="idempotency_key",
            field=models.CharField(max_length=200),
        ),
        migrations.AddConstraint(
            model_name="note",
            constraint=models.UniqueConstraint(
                fields=("account", "idempotency_key"), name="note_account_key_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(
                fields=("account", "idempotency_key"), name="task_account_key_unique"
            ),
        ),
        migrations.CreateModel(
            name="DeletedRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("account", _account()),
                ("object_type", models.CharField(max_length=20)),
                ("record_id", models.CharField(max_length=64)),
                (
                    "deleted_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["account", "object_type", "deleted_at", "id"],
                        name="localcrm_deleted_feed_idx",
                    )
                ],
            },
        ),
    ]
