from django.db import migrations, models


def keep_one_default(apps, schema_editor):
    """Leave at most one default (the most recently updated) so the constraint can be added."""
    provider = apps.get_model("providers", "Provider")
    defaults = provider.objects.filter(is_default=True).order_by("-updated_at", "-pk")
    keep = defaults.first()
    if keep is not None:
        defaults.exclude(pk=keep.pk).update(is_default=False)


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]

    operations = [
        migrations.RunPython(keep_one_default, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="provider",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_default", True)),
                fields=("is_default",),
                name="providers_single_default",
            ),
        ),
    ]
