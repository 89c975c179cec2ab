"""The cloudbill product entry points: the embedded one-process platform and the CLI."""
