"""The shared kernel: roles, errors, the API conventions, live push and base models.

Everything here may be imported by every app; it imports none of them.
"""
