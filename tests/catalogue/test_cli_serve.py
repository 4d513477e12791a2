"""Bad-input catalogue, `lstmkit serve --run`: a value is a path (which may hold '=') or NAME=PATH;
`--cors-origin`: a web page's origin (scheme, host, port) or '*'. Each case fails before anything
is loaded or listens: one line, exit 2."""
import pytest

from catalogue_helpers import check, fake_run

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("serve_data")
    fake_run(d)
    (d / "a=b" / "empty").mkdir(parents=True)
    return d


CASES = [
    # a name with a '/' was read as the path 'a/b=...': "run folder not found"
    (["serve", "--run", "a/b={d}/forecast_run"], 2, "its name 'a/b' holds a '/', which names may not"),
    (["serve", "--run", "sales/v2={d}/nope"], 2, "its name 'sales/v2' holds a '/'"),
    # a value that names a path is that path, '=' or not
    (["serve", "--run", "{d}/a=b/empty"], 2, "not an lstmkit run folder"),
    (["serve", "--run", "{d}/a=b"], 2, "cannot serve a model named 'a=b'"),
    # an origin the browser never sends as its Origin header would match no page, silently
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "localhost:3000"], 2,
     "'localhost:3000' has no scheme — pass --cors-origin http://localhost:3000"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "http://localhost:3000/app"], 2,
     "holds more than an origin (a path, query or user name) — pass the scheme, host and port alone: "
     "--cors-origin http://localhost:3000"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "https://Example.com/"], 2,
     "--cors-origin https://example.com"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "http://a.example?x=1"], 2, "holds more than an origin"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", ""], 2, "--cors-origin must name a web page's origin"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "   "], 2, "--cors-origin must name a web page's origin"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "http://"], 2, "names no host"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "http://localhost:99999"], 2, "a port outside 0-65535"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "file:///home/me/ui.html"], 2,
     "is not an http or https origin"),
    (["serve", "--run", "{d}/forecast_run", "--cors-origin", "http://localhost:3000", "--cors-origin", "ws://x"], 2,
     "'ws://x' is not an http or https origin"),
]


@pytest.mark.parametrize("argv, code, needle", CASES, ids=[f"{k}:{c[2]}" for k, c in enumerate(CASES)])
def test_serve_bad_input(argv, code, needle, d, tmp_path, capsys):
    check(argv, code, needle, tmp_path, capsys, d)


def test_a_name_with_a_slash_is_told_a_name_that_serves(d, tmp_path, capsys):
    line = check(["serve", "--run", "sales/v2={d}/forecast_run"], 2, "holds a '/'", tmp_path, capsys, d)
    assert line.endswith(f"— name it with letters, digits, '.', '_' or '-': --run sales-v2={d}/forecast_run"), line
