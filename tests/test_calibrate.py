"""``infersql calibrate`` measures real iterations, fits, reports held-out error, and stores the
model where ``load_cost_model`` finds it."""
from __future__ import annotations

import re

import duckdb

from executor.engine.cost_model import load_cost_model
from infersql.calibrate import main


def test_calibrate_stores_a_model_that_predicts_the_engine(tiny_model, tmp_path, capsys):
    db = str(tmp_path / "cal.duckdb")
    assert main(["--model", tiny_model, "--database", db, "--scale", "0.15", "--repeats", "1",
                 "--clock", "cpu"]) == 0
    out = capsys.readouterr().out
    held = float(re.search(r"([\d.]+)% on held-out", out).group(1))
    assert 0 <= held < 100                      # a real, finite error (10% is a bench target)
    assert "stored in" in out and "T*" in out
    con = duckdb.connect(db)
    model = load_cost_model(con, tiny_model, "cpu")
    assert model.calibrated and abs(model.mape - held / 100) < 0.001
    assert model.coefficients["tokens"] > 0 or model.coefficients["iteration"] > 0
    assert model.coefficients["swap_blocks"] > 0
    assert 0 < model.coefficients["request"] < 0.1   # per request, outside the iterations
    row = con.execute("SELECT iterations FROM infersql_catalog.cost_coefficients").fetchone()
    assert row[0] > 20


def test_calibrate_names_a_missing_model(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit, match="neither a model folder"):
        main(["--model", str(tmp_path / "nope")])


def test_the_infersql_command_dispatches_calibrate(capsys):
    import pytest

    from infersql.cli import main as cli

    with pytest.raises(SystemExit) as done:
        cli(["calibrate", "--help"])
    assert done.value.code == 0
    assert "infersql calibrate" in capsys.readouterr().out
