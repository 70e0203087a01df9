"""What a job announces, for the parts that follow it (the pages' push, task callbacks).

The model sends; the apps that care subscribe in their `ready()`, so the model imports none
of them.
"""

from django.dispatch import Signal

# Sent with `generation_id` when a job was cancelled (the state is already written).
job_cancelled = Signal()
