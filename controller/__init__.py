"""arctl: unattended, tamper-proof autoresearch for tabular machine learning."""

__version__ = "0.1.0"
