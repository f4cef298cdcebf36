"""Evaluations behind `python -m kepkreator.evaluate`: each returns rows for a table and notes for a model card."""
