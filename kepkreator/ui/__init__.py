"""The Gradio tabs of app.py: each builds its controls and wires them to the package; no model logic here."""
