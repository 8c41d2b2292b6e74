"""Explicit permissions (decide escalations, publish SOP versions) and a read-only "viewers" group.

Staff who could change escalations or SOPs before keep deciding and publishing: the new
permissions go to every user and group that held the old one, so an upgrade takes nothing away.
"""

from django.conf import settings
from django.db import migrations

VIEWERS = "viewers"
# new permission -> the permission that granted the ability before it existed
INHERITED = {
    ("escalation", "decide_escalation", "Can approve or reject an escalation"): "change_escalation",
    ("sopversion", "publish_sopversion", "Can publish an SOP version"): "change_sop",
}


def _permission(apps, model_name, codename, name):
    content_type = apps.get_model("contenttypes", "ContentType").objects.get_for_model(
        apps.get_model("salesops", model_name)
    )
    permission, _ = apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def viewers_group_create(apps, schema_editor):
    """The "viewers" group: every salesops view permission, nothing else. Idempotent."""
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=VIEWERS)
    for model in apps.get_app_config("salesops").get_models():
        name = model._meta.model_name
        label = f"Can view {model._meta.verbose_name_raw}"
        group.permissions.add(_permission(apps, name, f"view_{name}", label))


def explicit_permissions_grant(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    for (model_name, codename, name), before in INHERITED.items():
        new = _permission(apps, model_name, codename, name)
        old = Permission.objects.filter(content_type__app_label="salesops", codename=before).first()
        if old is None:  # a fresh database: permissions appear after migrate
            continue
        for group in Group.objects.filter(permissions=old):
            group.permissions.add(new)
        for user in User.objects.filter(user_permissions=old):
            user.user_permissions.add(new)


class Migration(migrations.Migration):

    dependencies = [
        ("salesops", "0004_escalation_overrides"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="escalation",
            options={
                "ordering": ["status", "-created_at"],
                "permissions": [("decide_escalation", "Can approve or reject an escalation")],
            },
        ),
        migrations.AlterModelOptions(
            name="sopversion",
            options={
                "ordering": ["sop", "-number"],
                "permissions": [("publish_sopversion", "Can publish an SOP version")],
            },
        ),
        migrations.RunPython(explicit_permissions_grant, migrations.RunPython.noop),
        migrations.RunPython(viewers_group_create, migrations.RunPython.noop),
    ]
