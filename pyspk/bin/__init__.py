"""Command-line entry points, one per step script: parse options, call the floors below."""
