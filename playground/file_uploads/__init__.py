"""Kie.ai's File Upload API: reference images uploaded for the task API, kept three days."""
