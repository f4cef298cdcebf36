"""The package as a newcomer installs it: the wheel `pip install .` builds, in a fresh virtualenv, offline, used from
another folder than the checkout: the README's Python snippets and the `kepkreator` command on the shipped weights."""
import re
import subprocess
import sys
import venv

from tests.conftest import ROOT


def test_the_built_wheel_works_outside_the_checkout(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves no build/ or *.egg-info in the checkout
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist")], cwd=source, check=True, capture_output=True)
    wheel, = (tmp_path / "dist").glob("kepkreator-*.whl")
    # The dependencies are this machine's (the same pins); the package itself comes from the wheel alone.
    venv.create(tmp_path / "env", system_site_packages=True, with_pip=True)
    python, command = tmp_path / "env" / "bin" / "python", tmp_path / "env" / "bin" / "kepkreator"
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from tests.test_hands import SEVEN, pad
    pad(SEVEN).save(elsewhere / "my-seven.png")  # the digit a reader of the README drew
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    where = subprocess.run([python, "-c", "import kepkreator.hub as h; print(h.__file__, h.WEIGHTS_DIR)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and "site-packages/kepkreator/weights" in where
    snippets = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(snippets) >= 2
    for snippet in snippets:
        result = subprocess.run([python, "-c", snippet], cwd=elsewhere, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{snippet}\n{result.stderr[-2000:]}"
    assert (elsewhere / "phone.png").exists() and (elsewhere / "2026-in-my-hand.png").exists()
    drawn = subprocess.run([command, "face", "face.png", "--condition", "happy"], cwd=elsewhere, env=env,
                           capture_output=True, text=True)
    assert drawn.returncode == 0 and (elsewhere / "face.png").exists(), drawn.stderr
    assert not list(ROOT.glob("*.egg-info")) and not (ROOT / "build").exists()


def test_the_package_declares_what_it_needs_to_run():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {re.split(r"[<>=!~ ]", line)[0].lower() for line in project["dependencies"]}
    pinned = {re.split(r"[<>=!~ ]", line)[0].lower() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    assert needed == pinned  # every package the app's requirements install, the package declares
    assert project["scripts"] == {"kepkreator": "kepkreator.cli:main"}
