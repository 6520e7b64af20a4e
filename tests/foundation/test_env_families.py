"""Env families declare their extra, dataset and prompt text in their own register.py (issue 19 item 7)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import gymnasium as gym
import pytest

import turnrl  # noqa: F401  (registers the envs)
from turnrl import datadir
from turnrl.agents.prompts import build_messages, family_of
from turnrl.envs import registration
from turnrl.envs.registration import families
from turnrl.types import AgentInput

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_every_family_names_a_pyproject_extra_and_the_modules_it_installs():
    assert list(families()) == ["textworld", "alfworld", "webshop", "scienceworld", "rideshare", "games"]
    for family in families().values():
        assert family.extra in EXTRAS, family
        assert family.modules and all("." not in m for m in family.modules), family  # top-level names


def test_datasets_keep_their_names_variables_and_downloaders():
    assert {name: (s.env_var, s.downloader) for name, s in datadir.datasets().items()} == {
        "alfworld": ("ALFWORLD_DATA", "turnrl.envs.alfworld.data:download"),
        "webshop": ("WEBSHOP_DATA", "turnrl.envs.webshop.data:download"),
        "nyc_taxi": ("NYC_TAXI_DATA", "turnrl.envs.rideshare.data:download"),
    }


def test_dataset_paths_are_looked_up_as_before(tmp_path, monkeypatch):
    for var in ("ALFWORLD_DATA", "TURNRL_DATA", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TURNRL_DATA", str(tmp_path / "all"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(datadir.MissingData, match="turnrl data download alfworld"):
        datadir.data_dir("alfworld")
    (tmp_path / "cache" / "turnrl" / "alfworld").mkdir(parents=True)
    assert datadir.data_dir("alfworld") == tmp_path / "cache" / "turnrl" / "alfworld"  # the user cache, last
    (tmp_path / "all" / "alfworld").mkdir(parents=True)
    assert datadir.data_dir("alfworld") == tmp_path / "all" / "alfworld"  # $TURNRL_DATA/<name>
    (tmp_path / "own").mkdir()
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "own"))
    assert datadir.data_dir("alfworld") == tmp_path / "own"  # the dataset's own variable first


def test_the_family_of_an_env_id_comes_from_its_registration():
    built_in = [i for i in registration.turnrl_env_ids()  # other tests may have registered user envs (credit maze)
                if str(gym.spec(i).entry_point).startswith("turnrl.")]
    assert len(built_in) >= 17
    for env_id in built_in:
        assert registration.family_of(env_id) is not None, env_id
    assert registration.family_of("turnrl/TextWorld-Coin-v0").name == "textworld"
    assert registration.family_of("turnrl/RideShareDispatch-v0").name == "rideshare"
    assert registration.family_of("turnrl/NoSuchEnv-v0") is None
    assert registration.family_of(None) is None


def test_a_user_env_gets_no_family_and_the_generic_prompt(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import credit_maze  # noqa: F401  (registers turnrl/CreditMaze-v0 from outside turnrl)

    assert "turnrl/CreditMaze-v0" in gym.registry
    assert registration.family_of("credit_maze:turnrl/CreditMaze-v0") is None
    assert family_of("credit_maze:turnrl/CreditMaze-v0") == "generic"


def test_a_new_family_is_one_register_py_listed_once(tmp_path, monkeypatch):
    """Everything the family declares reaches the prompt, the data commands and `turnrl list`."""
    package = tmp_path / "toyfamily"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "register.py").write_text(textwrap.dedent('''
        import gymnasium

        from turnrl.datadir import DatasetSpec
        from turnrl.envs.family import EnvFamily, PromptText

        FAMILY = EnvFamily(name="toy", extra="games", modules=("gymnasium",),
                           prompt=PromptText(system="You are a toy.", setting="Toy actions only."),
                           dataset=DatasetSpec("toydata", "TOYDATA", "toyfamily.data:download", "toy files"))
        __getattr__ = FAMILY.lazy_classes(ToyEnv="toyfamily.env")

        gymnasium.register(id="toy/Toy-v0", entry_point=f"{__name__}:ToyEnv", max_episode_steps=3)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registration, "FAMILIES", [*registration.FAMILIES, "toyfamily.register"])
    monkeypatch.setenv("TOYDATA", str(tmp_path))
    try:
        registration.register_all()
        assert registration.family_of("toy/Toy-v0").name == "toy"
        x = AgentInput(observation="obs", task="task", history=[], admissible_actions=[], step=0, env_id="toy/Toy-v0")
        system, user = (m["content"] for m in build_messages(x))
        assert system == "You are a toy." and "Toy actions only." in user
        assert datadir.data_dir("toydata") == tmp_path
        from turnrl.cli.cmd_list import env_row

        assert env_row("toy/Toy-v0") == {"id": "toy/Toy-v0", "family": "toy", "max_steps": 3, "extra": "games",
                                         "extra_installed": True, "dataset": "toydata", "data_path": str(tmp_path)}
    finally:
        gym.registry.pop("toy/Toy-v0", None)
        sys.modules.pop("toyfamily.register", None)
        sys.modules.pop("toyfamily", None)


def test_envs_import_no_agents_trainers_or_torch():
    code = ("import sys, turnrl, turnrl.envs.registration as r, turnrl.datadir as d\n"
            "r.families(); d.datasets(); [r.family_of(i) for i in r.turnrl_env_ids()]\n"
            "bad = [m for m in sys.modules if m.startswith(('turnrl.agents', 'turnrl.trainers', 'torch'))]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300)
