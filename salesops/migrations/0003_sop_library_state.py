# What the SOP library last delivered per SOP and fragment, so load_sops never replaces admin edits.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("salesops", "0002_agentbatch_agentbatchitem"),
    ]

    operations = [
        migrations.AddField(
            model_name="sop",
            name="library_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="fragment",
            name="library_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
