from django.db import migrations


def seed(apps, schema_editor):
    from playground.catalog.seed import catalog_fields, reference_models

    ImageModel = apps.get_model("catalog", "ImageModel")
    for spec in reference_models():
        ImageModel.objects.update_or_create(model_id=spec["id"], defaults=catalog_fields(spec))


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
