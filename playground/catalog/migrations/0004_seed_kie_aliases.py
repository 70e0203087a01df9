from django.db import migrations


def seed(apps, schema_editor):
    from playground.catalog.seed import seed_aliases

    seed_aliases(apps.get_model("catalog", "ModelAlias"), apps.get_model("catalog", "ImageModel"))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_model_alias")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
