"""Every shipped model card's figures come back from a fresh run of the command the card names."""
import json

import pytest

from kepkreator.evaluate import main as evaluate_main
from tests.conftest import ROOT

TIMING = "Rendering the "  # a speed figure in the cGAN's notes: measured afresh each run, never equal


@pytest.mark.parametrize("model, folder", [("judge", "judge-mnist"), ("cgan", "cgan-mnist"), ("gcn", "gcn-qmnist")])
def test_the_card_is_what_the_evaluation_measures(model, folder, capsys):
    evaluate_main([model])
    printed = capsys.readouterr().out.splitlines()
    recorded = json.loads((ROOT / "weights" / folder / "metrics.json").read_text())
    for row in recorded["rows"]:
        values = [str(v) for v in row.values()]
        assert any(all(v in line for v in values) for line in printed), f"row not measured again: {values}"
    notes = [line for line in recorded["notes"].splitlines() if line and not line.startswith(TIMING)]
    assert [line for line in printed if line and line in notes] == notes
