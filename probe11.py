import numpy as np, torch, pandas as pd, traceback, shutil
from lstmkit import Forecaster
y = pd.read_csv("/work/shared/data/forecasting/embedded/aeon_sktime_airline_monthly.csv").Passengers.to_numpy().astype(float)
f = Forecaster.load("/tmp/exp-torchstate42/saved-arr")
base = f.predict(y).iloc[:, -1].to_numpy()
f.net_.to(torch.float64)
def t(name, fn):
    try: r = fn(); print(name, "ok", r)
    except Exception as e: print(name, "EXC", type(e).__name__, str(e).splitlines()[0][:300])
t("predict f64 net", lambda: (f.predict(y).iloc[:, -1].to_numpy() - base))
t("evaluate", lambda: f.evaluate(y)["lstm"]["MAE"])
def st():
    s = f.stream()
    for v in y[-30:]: o = s.step(float(v))
    return o
t("stream", st)
shutil.rmtree("/tmp/exp-torchstate42/f64net", ignore_errors=True)
t("save", lambda: f.save("/tmp/exp-torchstate42/f64net"))
t("load dtype", lambda: next(Forecaster.load("/tmp/exp-torchstate42/f64net").net_.parameters()).dtype)
t("export onnx", lambda: f.export("onnx", "/tmp/exp-torchstate42/f64net.onnx"))
t("update", lambda: f.update(np.concatenate([y, y[-12:]*1.05]), epochs=1).last_update_["accepted"])
f.net_.to(torch.float16)
t("predict f16 net", lambda: (f.predict(y).iloc[:, -1].to_numpy() - base))
