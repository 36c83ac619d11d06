"""``infersql calibrate`` measures real iterations, fits, reports held-out error, and stores the
model where ``load_cost_model`` finds it."""
from __future__ import annotations

import re

import duckdb
import pytest

from executor.engine.cost_fit import request_seconds
from executor.engine.cost_model import CostModel, IterationShape, load_cost_model
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
    assert 0 <= model.coefficients["request"] < 0.1  # per request, beyond its iterations' price
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


def test_the_per_request_term_is_what_whole_calls_take_beyond_their_iterations_price():
    """Fitted on whole generate calls: their seconds less the model's price of their
    iterations, per request, from the fastest call; never negative."""
    model = CostModel({"tokens": 1e-3, "iteration": 1e-2}, calibrated=True)
    shapes = [IterationShape(tokens=100), IterationShape(tokens=50)]      # priced 0.11 + 0.06
    calls = [(0.17 + 8 * 0.005, shapes), (0.17 + 8 * 0.002, shapes)]
    assert request_seconds(model, calls, 8) == pytest.approx(0.002)
    assert request_seconds(model, [(0.1, shapes)], 8) == 0.0


def test_a_compiled_engine_has_its_own_calibration_and_falls_back_to_the_eager_one(tiny_model):
    """``calibrate --compile`` is stored apart (``float32+compile``): a compiled engine reads it,
    an eager one never does; a compiled engine with only an eager calibration reads that one."""
    from catalog.cost_coefficients import CostCoefficients
    from executor.engine.cost_model import calibration_key

    con = duckdb.connect()
    eager = CostModel({"tokens": 1e-3}, True, "eager")
    fused = CostModel({"tokens": 5e-4}, True, "compiled")
    table = CostCoefficients(con)
    table.put(tiny_model, "cpu", "float32", eager.to_dict(), 10)
    assert load_cost_model(con, tiny_model, "cpu", compiled=True).source == "eager"
    table.put(tiny_model, "cpu", calibration_key("float32", True), fused.to_dict(), 10)
    assert load_cost_model(con, tiny_model, "cpu", compiled=True).source == "compiled"
    assert load_cost_model(con, tiny_model, "cpu").source == "eager"
