"""Casework pages. Each validates a form and calls one service; every page showing patient data is audited."""
