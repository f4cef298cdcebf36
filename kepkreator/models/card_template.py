"""The model card template shared by every KepKreator model (filled by the training and evaluation commands)."""

MODEL_CARD_TEMPLATE = """---
{{ card_data }}
---

# {{ title | default("KepKreator model", true) }}

{{ summary | default("", true) }}

{{ body | default("", true) }}
"""
