"""The ``lstmkit`` command. Each task mounts its own sub-app; errors become one line + exit 2."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from lstmkit.errors import LstmkitError
from lstmkit.tasks.forecast.cli import app as forecast_app, _report
from lstmkit.train import TrainingInterrupted

app = typer.Typer(help="lstmkit: LSTM-family sequence models, from the gate equations to deployment.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(forecast_app, name="forecast")


@app.command()
def demo(out: Path = typer.Option(Path("runs"), help="Folder that receives the run folder."),
         epochs: int = typer.Option(100, help="Maximum epochs (early stopping ends sooner).")):
    """Forecast weekly Mauna Loa CO2 (ships with statsmodels) and compare with the baselines."""
    from lstmkit.tasks.forecast.demo import run_demo
    _report(run_demo(out=out, max_epochs=epochs))


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=False)
    except LstmkitError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except TrainingInterrupted as e:
        where = f" --resume {e.run_dir}" if e.run_dir else ""
        print(f"interrupted after epoch {e.epoch}; checkpoint saved. Continue with: "
              f"lstmkit forecast train{where}", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except Exception as e:  # click usage errors
        import click
        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
