"""The simulator's orders replayed through vectorbt's Portfolio.from_orders, for the parity test.

Usage: vectorbt_parity.py DIR
DIR holds open.csv and close.csv (adjusted prices, date × symbol, empty where no bar),
orders.csv (fill_date,symbol,size: signed adjusted shares) and params.json (fees, slippage,
init_cash). Prints JSON: the daily value, every order vectorbt filled, and its version.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import vectorbt as vbt

warnings.filterwarnings("ignore")
folder = sys.argv[1]
open_ = pd.read_csv(f"{folder}/open.csv", index_col="date", parse_dates=["date"])
close = pd.read_csv(f"{folder}/close.csv", index_col="date", parse_dates=["date"])
orders = pd.read_csv(f"{folder}/orders.csv", parse_dates=["fill_date"])
params = json.load(open(f"{folder}/params.json"))

size = pd.DataFrame(np.nan, index=close.index, columns=close.columns)
for row in orders.itertuples():
    size.loc[row.fill_date, row.symbol] = row.size

pf = vbt.Portfolio.from_orders(
    close=close,
    size=size,
    size_type="amount",
    price=open_,
    fees=params["fees"],
    fixed_fees=0.0,
    slippage=params["slippage"],
    init_cash=params["init_cash"],
    cash_sharing=True,
    group_by=True,
    call_seq="auto",
    freq="1D",
)
records = pf.orders.records_readable
print(
    json.dumps(
        {
            "version": vbt.__version__,
            "value": [float(v) for v in pf.value().values],
            "orders": [
                {
                    "date": str(r["Timestamp"].date()),
                    "symbol": r["Column"],
                    "size": float(r["Size"]),
                    "price": float(r["Price"]),
                    "fees": float(r["Fees"]),
                    "side": r["Side"].lower(),
                }
                for _, r in records.iterrows()
            ],
        }
    )
)
