import os
import subprocess
import sys

from kepkreator.space import space_files
from tests.conftest import ROOT


def test_the_space_gets_the_app_the_package_and_the_app_weights_only():
    files = {str(f) for f in space_files()}
    assert {"app.py", "requirements.txt", "README.md", "RESULTS.md", "docs/serving.md", "kepkreator/handwriting.py",
            "docs/images/tab-faces.png",
            "weights/cgan-mnist/model.safetensors", "weights/gcn-qmnist/classifier/model.safetensors",
            "weights/gcn-yale/config.json", "weights/judge-mnist/model.safetensors"} <= files  # the pad's reader
    kept_out = ("tests/", "train/", "weights/judge-qmnist", "weights/judge-yale", "weights/fisherfaces")
    assert not any(f.startswith(kept_out) or "checkpoint" in f for f in files)


def test_readme_front_matter_makes_the_repository_a_gradio_space():
    head = (ROOT / "README.md").read_text().split("---")[1]
    assert "sdk: gradio" in head and "app_file: app.py" in head


def test_dry_run_lists_exactly_what_would_be_uploaded_and_offline_push_fails_clearly():
    dry = subprocess.run([sys.executable, "-m", "kepkreator.space", "me/demo", "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    listed = [line.split()[-1] for line in dry.stdout.splitlines()[:-1]]
    assert dry.returncode == 0 and listed == [str(f) for f in space_files()]
    assert f"in {len(listed)} files would be uploaded to spaces/me/demo (requirements.txt with torch's CPU build)" \
        in dry.stdout
    push = subprocess.run([sys.executable, "-m", "kepkreator.space", "me/demo"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_secret123"})
    assert push.returncode == 2 and "could not update spaces/me/demo" in push.stderr
    assert "Nothing local was changed" in push.stderr and "hf_secret123" not in push.stdout + push.stderr


def test_the_space_installs_torchs_cpu_build_with_the_projects_other_pins():
    from kepkreator.space import space_requirements

    lines = space_requirements().splitlines()
    local = [line for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert lines[0].startswith("--extra-index-url ") and lines[0].endswith("/cpu")
    assert "torch==2.14.1+cpu" in lines and "torchvision==0.29.1+cpu" in lines
    assert [line for line in lines[1:] if "+cpu" not in line] == [line for line in local if "torch" not in line
                                                                   or line.startswith("#")]
    assert "python_version" in (ROOT / "README.md").read_text().split("---")[1]
