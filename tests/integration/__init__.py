"""Integration tests: a real Celery worker subprocess, driven through the REST API."""
