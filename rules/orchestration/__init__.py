"""Analyzers for the YAML that runs a project: docker compose, Kubernetes and Helm, GitHub Actions."""
