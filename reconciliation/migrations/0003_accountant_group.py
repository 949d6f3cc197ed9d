"""The "Accountant" group: view everything; reverse, reclassify, create organizations and run
reconciliation; delete nothing, change nothing directly."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Accountant"

VIEWED = {
    "accounting": ["account", "journalentry", "journalline", "accountbalance", "balancedelta",
                   "balancechange"],
    "organizations": ["organization"],
    "webhooks": ["payment", "delivery", "bankimitation"],
    "reconciliation": ["reconciliationreport"],
}  # fmt: skip

ACTIONS = [
    ("accounting", "reverse_journalentry"),
    ("accounting", "reclassify_journalentry"),
    ("organizations", "add_organization"),
    ("reconciliation", "run_reconciliation"),
]


def accountant_permissions():
    for app_label, models in VIEWED.items():
        for model in models:
            yield app_label, f"view_{model}"
    yield from ACTIONS


def create_group(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in accountant_permissions()
    ]
    group.permissions.set(permissions)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounting", "0003_alter_journalentry_options"),
        ("organizations", "0001_initial"),
        ("webhooks", "0003_bank_imitation"),
        ("reconciliation", "0002_alter_reconciliationreport_options"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
