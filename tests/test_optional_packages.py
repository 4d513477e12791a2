"""An install without the optional extras: ``lstmkit.errors.optional_import`` turns a missing or broken
package into one MissingPackage (exit 1), the Python API and the service say so, and importing lstmkit,
its CLI and its estimators imports none of the extras' packages (see also tests/catalogue/test_missing_packages.py)."""
import io
import subprocess
import sys

import pytest

from lstmkit.errors import EnvironmentProblem, MissingPackage, optional_import


def test_a_package_not_installed_names_the_feature_the_package_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "soundfile", None)
    with pytest.raises(MissingPackage) as e:
        optional_import("soundfile", "reading audio files", "speech")
    assert str(e.value) == ("reading audio files needs the soundfile package, which is not installed "
                            "— pip install 'lstmkit[speech]'")
    assert isinstance(e.value, EnvironmentProblem) and e.value.exit_code == 1 and e.value.package == "soundfile"
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(MissingPackage, match=r"needs the zstandard package, which is not installed — pip install "
                                             r"zstandard, or decompress it$"):
        optional_import("zstandard", "a .zst file", otherwise="decompress it")


@pytest.mark.parametrize("body, reason", [
    ("import lstmkit_no_such_dependency\n", "no module named 'lstmkit_no_such_dependency'"),
    ("raise OSError(\"cannot load library 'libsndfile.so': no such file\")\n", "cannot load library 'libsndfile.so'"),
    ("raise ImportError('numpy.core.multiarray failed to import')\n", "numpy.core.multiarray failed to import"),
], ids=["its-dependency", "its-shared-library", "its-build"])
def test_an_installed_package_that_does_not_import_is_told_with_the_reason(body, reason, tmp_path, monkeypatch):
    """Not 'not installed' (pip would say it is): the reason Python gives, and a reinstall."""
    (tmp_path / "lstmkit_broken_pkg").mkdir()
    (tmp_path / "lstmkit_broken_pkg" / "__init__.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingPackage) as e:
        optional_import("lstmkit_broken_pkg", "reading audio files", "speech")
    assert e.value.message.startswith("reading audio files needs the lstmkit_broken_pkg package, which is installed "
                                      "but does not import here (") and reason in e.value.message, e.value.message
    assert e.value.hint == "reinstall it: pip install -U --force-reinstall lstmkit_broken_pkg"


def test_a_module_that_imports_is_returned():
    import json
    assert optional_import("json", "anything", "serve") is json


def test_a_client_stream_without_websockets_is_the_environment(monkeypatch):
    """Was an LstmkitError of exit 2, as if the caller's input were wrong."""
    from catalogue_helpers import without
    from lstmkit.serve import Client
    without(monkeypatch, "websockets")
    with pytest.raises(MissingPackage, match=r"^streaming needs the websockets package, which is not installed "
                                             r"— pip install 'lstmkit\[serve\]'$"):
        Client("http://127.0.0.1:9").stream()


def test_an_audio_upload_to_a_service_without_soundfile_is_a_501_naming_it(tmp_path, monkeypatch):
    """The service's machine lacks the speech extra: a 500 with no word (the traceback in the service's
    log), never a 422 that blames the client's file; JSON samples, which need no soundfile, are answered."""
    pytest.importorskip("fastapi")
    sf = pytest.importorskip("soundfile")
    from asgi_client import Client
    from catalogue_helpers import without
    from lstmkit.deploy.server import create_app
    from lstmkit.tasks.speech.synthetic import RATE, tiny_run, tone_clip
    run = tiny_run(tmp_path, n=12, max_epochs=1)
    wav = io.BytesIO()
    sf.write(wav, tone_clip("ab"), RATE, format="WAV", subtype="PCM_16")
    without(monkeypatch, "soundfile")
    client = Client(create_app(run, engine="torch"))
    try:
        status, body = client.request("POST", "/predict", wav.getvalue(), "audio/wav")
        assert status == 501, (status, body)
        assert body.decode() == ('{"detail":"reading audio files needs the soundfile package, which is not installed '
                                 'on the server — pip install \'lstmkit[speech]\' where the service runs"}')
        status, answer = client.post_json({"audio": [tone_clip("ab").tolist()], "sample_rate": RATE})
        assert status == 200 and "transcript" in answer["predictions"][0], answer
    finally:
        client.close()


EXTRAS = ("onnx", "onnxruntime", "fastapi", "uvicorn", "websockets", "soundfile", "jiwer", "zstandard", "matplotlib")


def test_importing_lstmkit_its_cli_and_estimators_imports_no_optional_package():
    """Training, predicting and --help work without the extras: none is imported before a feature asks
    for it (matplotlib, a dependency, only once a plot is drawn)."""
    code = ("import sys, lstmkit, lstmkit.cli, lstmkit.serve, lstmkit.deploy.onnx, lstmkit.deploy.server, "
            "lstmkit.deploy.quantize\n"
            "from lstmkit import Forecaster, TextClassifier, SequenceClassifier, Translator, LanguageModel, "
            "SpeechRecognizer\n"
            f"print(sorted(m for m in {EXTRAS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_websocket_handshake_to_a_service_without_websockets_is_a_501_naming_it(tmp_path):
    """uvicorn without a WebSocket library hands the handshake on as plain HTTP: it was the 426 for plain
    HTTP, 'connect to it with a WebSocket client', said to a client that did."""
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from catalogue_helpers import forecast_run
    from lstmkit.deploy.server import NO_WEBSOCKETS, create_app
    client = Client(create_app(forecast_run(tmp_path), engine="torch"))
    try:
        status, body = client.request("GET", "/stream", None, None, headers={"Connection": "Upgrade",
                                                                              "Upgrade": "websocket"})
        assert status == 501 and body.decode() == '{"detail":"%s"}' % NO_WEBSOCKETS, (status, body)
        assert "pip install 'lstmkit[serve]' there" in NO_WEBSOCKETS
        status, body = client.request("GET", "/stream", None, None)          # plain HTTP: as before
        assert status == 426 and b"connect to it with a WebSocket client" in body, (status, body)
    finally:
        client.close()
