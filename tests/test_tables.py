"""The tables every consumer derives from: a row added at run time reaches all of them.

A DQN variant (:data:`homl_rl.variants.VARIANTS`) gets training, its figures, its named run,
its comparison label, the command line's choice and its cross-check row; a study
(:data:`homl_rl.experiments.STUDIES`) gets its named run, its figure, the command line's
choice, and its figure drawn from a real (tiny) run. The new rows are added before the
consumers are imported, in a fresh interpreter, as a program extending homl_rl would.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from homl_rl.experiments import CHAPTER_AGENT, STUDIES, Study, add_study, studies_of
from homl_rl.variants import CHAPTER_VARIANTS, VARIANTS, Variant, add_variant

ROOT = Path(__file__).resolve().parents[1]


def _python(code, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOML_RL_TMP=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_variant_row_added_at_run_time_reaches_every_consumer(tmp_path):
    seen = _python("""
        import json
        from homl_rl.variants import Variant, add_variant
        add_variant(Variant("dueling_dqn", "Dueling DQN", "Keras Dueling DQN", 5e-3,
                            dueling=True))  # fixed Q-value targets with the dueling network

        from homl_rl import cli, runs
        from homl_rl.crosscheck.checks import CHECKS
        from homl_rl.crosscheck.checks.dqn import _defining_variant
        from homl_rl.crosscheck.hints import training_step_mistakes
        from homl_rl.dqn import FixedQTargetsDQN, agent_class, build_dueling_q_network, \\
            q_network_builder, train_dqn
        from homl_rl.experiments import compare
        from homl_rl.figures import FIGURES
        from homl_rl.variants import VARIANTS

        history, agent = train_dqn("dueling_dqn", n_episodes=3, progress=False, return_agent=True)
        args = cli.parse_args(["dqn", "--variant", "dueling_dqn", "--episodes", "3"])
        print(json.dumps({
            "rewards": len(history.episode_rewards), "agent": type(agent) is FixedQTargetsDQN,
            "target": agent.target is not None,
            "builder": q_network_builder("dueling_dqn") is build_dueling_q_network,
            "figures": [f for f in FIGURES if f.startswith("dueling_dqn_")],
            "run": "dueling_dqn" in runs.RUNS, "label": compare.label("dueling_dqn"),
            "compared": "dueling_dqn" in compare.all_agents(), "cli": args.variant,
            "check": "training_step (Dueling DQN)" in CHECKS,
            "defined_by": _defining_variant("dueling_dqn").name,
            "hints": len(training_step_mistakes(VARIANTS["dueling_dqn"])),
        }))
    """, tmp_path)
    assert seen == {"rewards": 3, "agent": True, "target": True,
                    "builder": True, "figures": ["dueling_dqn_rewards_plot", "dueling_dqn_animation"],
                    "run": True, "label": "Keras Dueling DQN", "compared": True,
                    "cli": "dueling_dqn", "check": True, "defined_by": "fixed_q_targets",
                    "hints": 6}


def test_the_live_views_see_a_row_added_after_import(monkeypatch):
    from homl_rl.dqn import OLDER_REVISION
    from homl_rl.experiments import compare

    row = Variant("slow_dqn", "slow DQN", "Keras slow DQN", 1e-3, target_network=False,
                  older_revision=dict(optimizer="adam", learning_rate=1e-3, loss="mse",
                                      training_starts_after=50))
    monkeypatch.setitem(VARIANTS, row.name, row)
    assert list(CHAPTER_VARIANTS)[-1] == "slow_dqn"
    assert OLDER_REVISION["slow_dqn"]["learning_rate"] == 1e-3
    assert compare.groups()[1][1][-1] == "slow_dqn" and compare.label("slow_dqn") == "Keras slow DQN"
    assert compare.CompareConfig().agents[-2:] == ("slow_dqn", "rl_zoo_dqn")


def test_a_bad_row_is_refused():
    with pytest.raises(ValueError, match="already in the table"):
        add_variant(VARIANTS["dqn"])
    with pytest.raises(ValueError, match="Double DQN needs a target network"):
        Variant("x", "x", "x", 1e-2, target_network=False, double_dqn=True)
    with pytest.raises(ValueError, match="needs its learning rate > 0"):
        Variant("x", "x", "x")
    with pytest.raises(ValueError, match="already in the table"):
        add_study(studies_of(CHAPTER_AGENT)["batch_size"])
    with pytest.raises(ValueError, match="quick grid varies the full grid's parameters"):
        Study("gamma", CHAPTER_AGENT, {"discount_factor": [0.9]}, (0,), {"gamma": [0.9]}, (0,),
              "gamma_study", "gamma_study_plot")


def test_the_tables_hold_what_the_figures_and_runs_name():
    from homl_rl.figures import FIGURES
    from homl_rl.runs import RUNS

    assert all(study.figure in FIGURES and study.run in RUNS for study in STUDIES)
    assert all(f"{name}_rewards_plot" in FIGURES and name in RUNS for name in CHAPTER_VARIANTS)


def test_a_study_row_added_at_run_time_is_run_and_drawn(tmp_path):
    seen = _python("""
        import json, os
        from homl_rl.experiments import CHAPTER_AGENT, Study, add_study
        add_study(Study("discount_factor", CHAPTER_AGENT, {"discount_factor": [0.9, 0.95, 0.99]},
                        (0, 1), {"discount_factor": [0.9, 0.99]}, (0,), "discount_factor_study",
                        "discount_factor_study_plot", "discount factor"))

        from homl_rl import cli, runs
        from homl_rl.figures import FIGURES

        code = cli.main(["studies", "--parameter", "discount_factor", "--episodes", "2",
                         "--jobs", "1", "--out", "out", "--quiet"])
        data = json.load(open("out/data/discount_factor_study_plot.json"))
        print(json.dumps({"code": code, "figure": "discount_factor_study_plot" in FIGURES,
                          "run": "discount_factor_study" in runs.RUNS,
                          "png": os.path.getsize("out/discount_factor_study_plot.png") > 0,
                          "values": data["values"], "config": data["run"]["config"]}))
    """, tmp_path)
    assert seen == {"code": 0, "figure": True, "run": True, "png": True, "values": [0.9, 0.99],
                    "config": {"parameter": "discount_factor", "values": [0.9, 0.99],
                               "seeds": [0], "n_episodes": 2, "seed": None}}
