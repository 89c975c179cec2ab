"""Pure rules of the public edge: API keys and usage event validation."""
