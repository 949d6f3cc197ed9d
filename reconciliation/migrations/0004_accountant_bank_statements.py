"""The "Accountant" group also reads bank statements, imports them, and books the lines that
no webhook announced."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Accountant"

PERMISSIONS = [
    ("bankstatements", "view_bankstatement"),
    ("bankstatements", "view_statementline"),
    ("bankstatements", "import_bankstatement"),
    ("bankstatements", "book_statementline"),
]


def _permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in PERMISSIONS
    ]


def grant(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0003_accountant_group"),
        ("bankstatements", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
