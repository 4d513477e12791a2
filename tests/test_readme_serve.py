"""The README's ``curl`` examples work: each ``lstmkit serve`` line of its shell blocks is started for
real (``serve_helpers.running_server``, a loopback port), its ``--run`` names given tiny runs of the
tasks their folders name (``runs/forecast-…``, …), and every ``curl`` line after it is sent as curl sends
it (``--json``, ``-H``, ``--data-binary @FILE``, ``-X``): each answers 200 with what its comment says.
A ``…`` in a JSON list ("…at least lookback values…") is the model's ``min_history`` values. An example
that stops working, or a README that names a field, model or header the service does not take, fails
here instead of in a reader's terminal."""
import http.client
import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("soundfile")

from forecast_data import FAST  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)
from serve_helpers import running_server, tiny_text_classifier  # noqa: E402
from test_readme import ROOT, shell_blocks  # noqa: E402
from translate_data import TINY  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")


def serve_examples(text: str) -> list[tuple[list[str], list[tuple[list[str], str]]]]:
    """``(serve arguments, [(curl arguments, comment), ...])`` for each ``lstmkit serve`` line of the
    shell blocks of ``text`` and the ``curl`` lines that follow it (continuation lines joined)."""
    found = []
    for block in shell_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True) if line.strip() else []
            comment = line.split(" # ", 1)[1].strip() if " # " in line else ""
            if words[:2] == ["lstmkit", "serve"]:
                found.append((words[2:], []))
            elif words[:1] == ["curl"]:
                assert found, f"a curl line before any lstmkit serve line: {line}"
                found[-1][1].append((words[1:], comment))
    return found


EXAMPLES = serve_examples(README)
# what each README run folder's name stands for; a classify run named in the README as "a numeric classifier"
KINDS = {"forecast": "forecast", "classify": "text", "translate": "translate", "speech": "speech", "lm": "lm"}
NUMERIC = "sensors"


def test_the_readme_shows_curl_examples_for_every_task_the_service_runs():
    names = {w.split("=")[0] for args, _ in EXAMPLES for w in args if "=runs/" in w}
    assert {"sales", "reviews", NUMERIC, "de-en", "asr", "lm"} <= names
    assert sum(len(curls) for _, curls in EXAMPLES) >= 10
    assert any("audio/flac" in " ".join(c) for _, curls in EXAMPLES for c, _ in curls)


def test_the_parser_reads_curl_lines_under_their_serve_line():
    text = ("```bash\nlstmkit serve --run a=runs/lm-… --port 8000   # one\n"
            "curl -s localhost:8000/predict --json '{\"texts\": [\"a b\"]}'  # scores\n"
            "curl -si -X OPTIONS localhost:8000/predict \\\n     -H 'Origin: x'\n```\n")
    assert serve_examples(text) == [(["--run", "a=runs/lm-…", "--port", "8000"], [
        (["-s", "localhost:8000/predict", "--json", '{"texts": ["a b"]}'], "scores"),
        (["-si", "-X", "OPTIONS", "localhost:8000/predict", "-H", "Origin: x"], "")])]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One tiny finished run of each kind the README serves, and the files its uploads name."""
    import soundfile as sf

    import lstmkit
    from lstmkit.tasks.speech.synthetic import RATE, tiny_run, tone_clip
    from translate_data import make_pairs
    d = tmp_path_factory.mktemp("readme_serve")
    t = np.arange(120)
    sales = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=120, freq="D"),
                          "units": 400 + 10 * np.sin(2 * np.pi * t / 7)})
    forecast = lstmkit.Forecaster(**{**FAST, "max_epochs": 1, "hidden_size": 4, "lookback": 14, "horizon": 3}).fit(
        sales, out=d / "forecast")
    rng = np.random.default_rng(0)
    seqs = [list(rng.normal(size=5) + (1 if k % 2 else -1)) for k in range(16)]
    numeric = lstmkit.SequenceClassifier(hidden_size=4, max_epochs=1, progress="off", tensorboard=False,
                                         unequal_length=True, seed=0).fit(
        seqs, ["up" if k % 2 else "down" for k in range(16)], out=d / "sensors")
    pairs = list(dict.fromkeys([*make_pairs(30, max_len=5), ("ein Hund läuft .", "a dog runs .")]))   # no pair twice
    translate = lstmkit.Translator(**{**TINY, "max_epochs": 1, "max_len": 12}).fit(pairs, out=d / "translate")
    lm = lstmkit.LanguageModel(level="char", embed_dim=4, hidden_size=4, max_epochs=1, progress="off",
                               tensorboard=False, doctor=False, seed=0).fit(["the old dog sleeps", "the cat"] * 5,
                                                                          out=d / "lm")
    clip = tone_clip("ab", seconds=0.5)
    sf.write(d / "hello.wav", clip, RATE, subtype="PCM_16")
    sf.write(d / "hello.flac", clip, RATE, format="FLAC")
    return d, {"forecast": forecast.run_dir_, "text": tiny_text_classifier(d / "classify").run_dir_,
               "numeric": numeric.run_dir_, "translate": translate.run_dir_, "lm": lm.run_dir_,
               "speech": tiny_run(d / "speech", n=12, max_epochs=1)}


def served(args: list[str], runs: dict) -> list[str]:
    """The README's ``lstmkit serve`` arguments with each ``--run`` folder a tiny run of its task (a
    name as the README gives it), ``--port`` left to the helper."""
    out, words = [], iter(args)
    for word in words:
        if word == "--port":
            next(words)
            continue
        if word == "--run" or word.startswith("--run="):
            spec = next(words) if word == "--run" else word.split("=", 1)[1]
            name, _, folder = spec.rpartition("=")
            task = re.fullmatch(r"runs/([a-z]+)-…", folder)[1]
            kind = "numeric" if name == NUMERIC else KINDS[task]
            out += ["--run", f"{name}={runs[kind]}" if name else str(runs[kind])]
        else:
            out.append(word)
    return out


def as_curl_sends(args: list[str], folder, port: int, min_history) -> tuple[str, str, dict, bytes | None]:
    """``(method, path, headers, body)`` of a curl command line; ``@FILE`` read from ``folder``, a JSON
    list's ``…`` filled to ``min_history(path)`` values."""
    method, headers, body, path, words = None, {}, None, None, iter(args)
    for word in words:
        if word in ("-s", "-si", "-i"):
            continue
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "--json":
            body = filled(next(words), lambda: min_history(path)).encode()
            headers.setdefault("Content-Type", "application/json")
            headers.setdefault("Accept", "application/json")
        elif word == "--data-binary":
            value = next(words)
            body = (folder / value[1:]).read_bytes() if value.startswith("@") else value.encode()
        else:
            assert word.startswith("localhost:8000/"), f"a curl word the test does not read: {word}"
            path = word[len("localhost:8000"):]
    return method or ("POST" if body is not None else "GET"), path, headers, body


def filled(text: str, need) -> str:
    """JSON ``text`` with each list ending ``…`` (``[412.3, 415.0, …]``) grown to ``need()`` values."""
    def grow(m):
        given = [float(v) for v in m[1].split(",")]
        values = [given[k % len(given)] + k % 7 for k in range(need())]
        return json.dumps(values)
    return re.sub(r"\[([-\d.,\s]+?),\s*…[^\]]*\]", grow, text)


def call(port: int, method: str, path: str, headers: dict, body: bytes | None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw


# what each comment promises, by the answer's keys (the forecaster's: its target's values)
PROMISED = {"forecast": "predictions", "label, probabilities": "predictions", "a numeric classifier": "predictions",
            "transcript": "transcript", "any format transcribe reads": "transcript", "a sample": "text",
            "log-probabilities": "logprobs"}


@pytest.mark.parametrize("k", range(len(EXAMPLES)), ids=lambda k: " ".join(EXAMPLES[k][0][:2]))
def test_every_curl_example_answers_as_the_readme_says(k, runs):
    folder, tiny = runs
    args, curls = EXAMPLES[k]
    with running_server(*served(args, tiny), "--engine", "torch") as (_, port):
        def min_history(path):                        # GET /model, or /models/NAME, of the model asked
            return json.loads(call(port, "GET", path.removesuffix("/predict") or "/model", {}, None)[2])["min_history"]
        for curl, comment in curls:
            method, path, headers, body = as_curl_sends(curl, folder, port, min_history)
            status, got, raw = call(port, method, path, headers, body)
            shown = f"curl {shlex.join(curl)}"
            if method == "OPTIONS":                  # the preflight: what the comment under it says
                said = re.search(r"^# (\d+), Access-Control-Allow-Origin: (\S+), Access-Control-Allow-Methods: (.+)$",
                                 README.split(curl[-1], 1)[1], flags=re.M)
                assert (status, got.get("access-control-allow-origin"), got.get("access-control-allow-methods")) == \
                    (int(said[1]), said[2], said[3]), (shown, status, got, raw[:300])
                continue
            assert status == 200, (shown, status, raw[:500])
            answer = json.loads(raw)
            want = PROMISED.get(comment) or ("predictions" if "--json" in curl and '"instances"' in
                                             curl[curl.index("--json") + 1] else "translations")
            assert want in answer, (shown, comment, answer)
