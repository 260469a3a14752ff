"""The in-container side: `run_job.py` is mounted read-only at /harness and run by each job.

It is never imported on the host, and it imports nothing of arctl's host code.
"""
