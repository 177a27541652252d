"""vectorbt and backtrader on the orders stockpilot's simulator produced, for `make bench`.

    simulate_peers.py DIR ENGINE

DIR holds what `cargo run --release --example simulate_bench` wrote: open.csv, close.csv
(date × symbol), orders.csv (fill_date,symbol,size) and params.json. ENGINE is `vectorbt` or
`backtrader`. Prints JSON: seconds per run (warm; vectorbt's first, compiling call apart), the
bars, and the final value (to show both engines did the same work).
"""
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
folder, engine = sys.argv[1], sys.argv[2]
open_ = pd.read_csv(f"{folder}/open.csv", index_col="date", parse_dates=["date"])
close = pd.read_csv(f"{folder}/close.csv", index_col="date", parse_dates=["date"])
orders = pd.read_csv(f"{folder}/orders.csv", parse_dates=["fill_date"])
params = json.load(open(f"{folder}/params.json"))
bars = int(close.notna().to_numpy().sum())
size = pd.DataFrame(np.nan, index=close.index, columns=close.columns)
rows = close.index.get_indexer(orders["fill_date"])
cols = close.columns.get_indexer(orders["symbol"])
values = size.to_numpy().copy()
values[rows, cols] = orders["size"].to_numpy()
size = pd.DataFrame(values, index=close.index, columns=close.columns)


def vectorbt_run():
    import vectorbt as vbt

    pf = vbt.Portfolio.from_orders(
        close=close, size=size, size_type="amount", price=open_,
        fees=params["fees"], fixed_fees=0.0, slippage=params["slippage"],
        init_cash=params["init_cash"], cash_sharing=True, group_by=True,
        call_seq="auto", freq="1D",
    )
    return float(pf.value().iloc[-1])


def backtrader_run():
    import backtrader as bt

    class Replay(bt.Strategy):
        """Places each precomputed order the bar before its fill day (market orders fill at
        the next bar's open, as stockpilot's next_open)."""

        def __init__(self):
            self.by_day = {}
            index = {d: i for i, d in enumerate(close.index)}
            for r in orders.itertuples():
                self.by_day.setdefault(index[r.fill_date] - 1, []).append((r.symbol, r.size))
            self.names = {d._name: d for d in self.datas}

        def next(self):
            for symbol, amount in self.by_day.get(len(self) - 1, []):
                data = self.names[symbol]
                if amount > 0:
                    self.buy(data=data, size=amount)
                else:
                    self.sell(data=data, size=-amount)

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(params["init_cash"])
    cerebro.broker.setcommission(commission=params["fees"])
    cerebro.broker.set_slippage_perc(params["slippage"], slip_open=True, slip_match=True, slip_out=True)
    cerebro.broker.set_coc(False)
    cerebro.broker.set_checksubmit(False)
    for symbol in close.columns:
        frame = pd.DataFrame({
            "open": open_[symbol], "high": np.fmax(open_[symbol], close[symbol]),
            "low": np.fmin(open_[symbol], close[symbol]), "close": close[symbol], "volume": 1e12,
        }).ffill().bfill()
        cerebro.adddata(bt.feeds.PandasData(dataname=frame), name=symbol)
    cerebro.addstrategy(Replay)
    cerebro.run(runonce=True, preload=True)
    return float(cerebro.broker.getvalue())


run = {"vectorbt": vectorbt_run, "backtrader": backtrader_run}[engine]
began = time.perf_counter()
value = run()
first = time.perf_counter() - began
# vectorbt compiles on its first call: the best of 5 warm calls is its speed. backtrader has
# nothing to warm up; one run is its speed.
times = [first]
if engine == "vectorbt":
    times = []
    for _ in range(5):
        began = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - began)
warm = min(times)
out = {"engine": engine, "bars": bars, "seconds": warm, "first_call_seconds": first,
       "final_value": value, "orders": len(orders)}
if engine == "vectorbt":
    import vectorbt as vbt
    out["version"] = vbt.__version__
    out["compile_seconds"] = max(first - warm, 0.0)
else:
    import backtrader as bt
    out["version"] = bt.__version__
print(json.dumps(out))
