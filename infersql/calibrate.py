"""``infersql calibrate``: fit the engine's cost model on this machine and store it.

    infersql calibrate [--model M] [--device D] [--dtype T] [--database DB]

Runs iterations of varied shapes on the model (decode batches, chunked prefills, cached
prefixes, mixes), fits the cost model's coefficients by least squares, prints the error on
held-out iterations, and stores the model in the database's catalog per (model, device,
dtype), where the optimizer, the scheduler and EXPLAIN read it (``load_cost_model``). Without
``--database`` the fit is printed and not stored.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

log = logging.getLogger(__name__)


def _resolve_model(name: str | None, con) -> str:
    """A folder or GGUF file, a model registered in the database's catalog, or the built-in
    model."""
    if name is None:
        from .demo_model import default_model_path

        return str(default_model_path())
    if os.path.isdir(name):
        return os.path.abspath(name)
    if os.path.isfile(name):
        from executor.models import check_model_path

        try:
            check_model_path(name)              # a GGUF file passes; any other file says why
        except Exception as exc:                # noqa: BLE001 - its message names the fix
            raise SystemExit(f"infersql calibrate: {exc}") from exc
        return os.path.abspath(name)
    if con is not None:
        from catalog import Catalog

        entry = Catalog(con).model(name)
        if entry is not None:
            return entry.path
    raise SystemExit(f"infersql calibrate: model {name!r} is neither a model folder nor a "
                     "model registered in the database; pass a Hugging Face model folder or a "
                     "GGUF file")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="infersql calibrate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model folder, GGUF file or registered name (default: the "
                    "built-in model)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    ap.add_argument("--dtype", choices=["float32", "bfloat16", "float16"],
                    help="default: float32 on CPU, bfloat16 on CUDA")
    ap.add_argument("--compile", action="store_true",
                    help="calibrate the engine as compile=True runs it (fused norms and MLPs)")
    ap.add_argument("--database", help="DuckDB database file whose catalog stores the result")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="workload size factor (smaller: faster, noisier)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="time each forward pass this many times and keep the fastest")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: CPU seconds at one torch thread, for a machine other processes "
                         "keep busy (the model then predicts CPU seconds)")
    args = ap.parse_args(argv)
    logging.getLogger("transformers").setLevel(logging.ERROR)

    import duckdb

    con = duckdb.connect(args.database) if args.database else None
    try:
        path = _resolve_model(args.model, con)
        from executor.engine import Engine, EngineConfig, EngineError
        from executor.engine.cost_fit import calibrate
        from executor.engine.geometry import default_dtype

        dtype = args.dtype or default_dtype(args.device)
        clock = time.perf_counter
        import torch

        threads = torch.get_num_threads()
        if args.clock == "cpu":
            torch.set_num_threads(1)
            clock = time.process_time
        try:
            engine = Engine(EngineConfig(model=path, device=args.device, dtype=dtype,
                                         kv_cache_bytes=1 << 30, decode_batch="max",
                                         compile=args.compile))
        except EngineError as exc:
            print(f"infersql calibrate: {exc}", file=sys.stderr)
            return 1
        print(f"calibrating {path} on {args.device} ({dtype}) ...", file=sys.stderr)
        try:
            result = calibrate(engine, seed=args.seed, scale=args.scale, repeats=args.repeats,
                               source=f"{args.device} {dtype}{', compiled' if args.compile else ''}, "
                                      f"{args.clock} clock", clock=clock)
        finally:
            torch.set_num_threads(threads)
        model = result.model
        print(f"iterations measured: {len(result.train) + len(result.held_out)} "
              f"({len(result.held_out)} held out)")
        print(f"MAPE: {100 * result.train_mape:.1f}% on fitted iterations, "
              f"{100 * result.held_out_mape:.1f}% on held-out iterations")
        for term, value in model.coefficients.items():
            print(f"  {term:17s} {value:.3e} s")
        print(f"  knee: the first {model.tokens_knee} tokens of an iteration cost "
              "tokens_below_knee more each (small batches: weights packed per product)"
              if model.tokens_knee else "  knee: none (each token costs the same)")
        print(f"T* (break-even idle time of one cached block): "
              f"{model.break_even_seconds(engine.config.block_size, engine.num_blocks):.3g} s "
              f"for a pool of {engine.num_blocks} blocks")
        if con is None:
            print("not stored: pass --database DB to keep it in that database's catalog")
        else:
            from catalog.cost_coefficients import CostCoefficients
            from executor.engine.cost_model import calibration_key

            CostCoefficients(con).put(path, args.device, calibration_key(dtype, args.compile),
                                      model.to_dict(),
                                      len(result.train) + len(result.held_out))
            print(f"stored in {args.database}")
        return 0
    finally:
        if con is not None:
            con.close()


if __name__ == "__main__":
    sys.exit(main())
