"""The report step: one self-contained HTML page from the aggregated tables.

    python -m mnistbench report --tables results --out results/report.html

Every number on the page is read from the tables that ``aggregate`` wrote from the runs' own
measurements; each column says its unit and what was timed.
"""

from __future__ import annotations

import base64
import datetime
import io
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no global state, no display backend

from mnistbench import artifacts
from mnistbench.aggregate import RUN_KEYS
from mnistbench.errors import MnistbenchError
from mnistbench.variants import VARIANTS

GROUP_KEYS = ["dataset", "variant", "backend", "device"]
RUN_COLUMNS = {
    "dataset": "dataset",
    "variant": "variant",
    "backend": "backend",
    "seed": "seed",
    "device": "device",
    "test_accuracy": "test accuracy",
    "final_train_loss": "last-epoch train loss",
    "epochs": "epochs",
    "train_seconds": "train time (s, inside backend.train, all epochs)",
    "samples_per_second": "training throughput (samples/s)",
    "predict_seconds": "predict time (s, test set, median of 3)",
    "peak_rss_mb": "train peak memory (MiB, resident)",
    "job_wall_seconds": "train job wall time (s, Snakemake benchmark)",
    "backend_version": "framework version",
}


def accuracy_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy, mean ± sd over seeds, one column per backend, beside the seed's figure."""
    runs = summary.assign(where=summary["backend"] + " (" + summary["device"] + ")")
    stats = runs.groupby(["dataset", "variant", "where"])["test_accuracy"].agg(["mean", "std"])
    cells = stats.apply(
        lambda r: f"{r['mean']:.4f}" + ("" if pd.isna(r["std"]) else f" ± {r['std']:.4f}"), axis=1
    )
    table = cells.unstack("where").fillna("").reset_index()
    table.columns.name = None
    # The seed notebooks trained on MNIST: their figures mean nothing beside another dataset.
    table["seed notebook's test accuracy"] = [
        _seed_figure(VARIANTS[v].seed_accuracy) if v in VARIANTS and d == "mnist" else ""
        for d, v in zip(table["dataset"], table["variant"])
    ]
    known = table["variant"].map(VARIANTS.get)
    table["seed bug fixed here"] = known.map(lambda v: v.seed_fix if v else "")
    table["departs from the seed's recipe"] = known.map(lambda v: v.departure if v else "")
    return table


def _seed_figure(accuracy: float) -> str:
    return "none reported" if np.isnan(accuracy) else f"{accuracy:.4f}"


def speed_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Means over seeds of what each backend took, per (dataset, variant, backend, device)."""
    runs = summary.assign(seconds_per_epoch=summary["train_seconds"] / summary["epochs"])
    return (
        runs.groupby(GROUP_KEYS)
        .agg(
            runs=("seed", "count"),
            train_s=("train_seconds", "mean"),
            epoch_s=("seconds_per_epoch", "mean"),
            throughput=("samples_per_second", "mean"),
            predict_s=("predict_seconds", "mean"),
            memory=("peak_rss_mb", "mean"),
        )
        .reset_index()
        .rename(
            columns={
                "train_s": "train time (s, inside backend.train, all epochs)",
                "epoch_s": "time per epoch (s)",
                "throughput": "training throughput (samples/s)",
                "predict_s": "predict time (s, test set, median of 3)",
                "memory": "train peak memory (MiB, resident)",
            }
        )
    )


def learning_curves(history: pd.DataFrame) -> str:
    """A PNG (base64) of test accuracy per epoch, one line per run."""
    runs = list(history.groupby(RUN_KEYS))
    variants = sorted(history["variant"].unique())
    columns = min(3, len(variants))
    rows = -(-len(variants) // columns)
    fig = Figure(figsize=(5 * columns, 3.5 * rows), layout="tight")
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat[len(variants) :]:
        ax.set_visible(False)
    for ax, variant in zip(axes.flat, variants):
        for (dataset, v, backend, seed), run in runs:
            if v == variant:
                ax.plot(
                    run["epoch"],
                    run["test_accuracy"],
                    marker=".",
                    label=f"{dataset} {backend} seed {seed}",
                )
        ax.set(title=variant, xlabel="epoch", ylabel="test accuracy (fraction)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return base64.b64encode(buffer.getvalue()).decode()


def confusion_tables(confusion: pd.DataFrame) -> list[tuple[str, str]]:
    """One shaded HTML table per run: true class on rows, predicted on columns."""
    out = []
    for (dataset, variant, backend, seed), run in confusion.groupby(RUN_KEYS):
        matrix = run.pivot(index="true", columns="predicted", values="count")
        # Shade the mistakes only: the diagonal would otherwise take the whole colour scale.
        mistakes = matrix.to_numpy().copy()
        np.fill_diagonal(mistakes, 0)
        styled = (
            matrix.style.background_gradient(cmap="Reds", axis=None, gmap=mistakes)
            .apply(
                lambda m: np.where(np.eye(len(m), dtype=bool), "font-weight: bold", ""), axis=None
            )
            .set_table_attributes('class="confusion"')
            .set_caption("rows: true class; columns: predicted class; cells: test images")
        )
        out.append((f"{dataset} / {variant} / {backend} / seed {seed}", styled.to_html()))
    return out


def _format(column: str):
    """Digits that match what a column measures: 4 for accuracies, 2 for seconds, 0 for rates."""
    if "accuracy" in column or "loss" in column:
        return "{:.4f}".format
    if "samples/s" in column:
        return "{:,.0f}".format
    if "(s" in column or "MiB" in column:
        return "{:.2f}".format
    return str


def _html_table(table: pd.DataFrame, css_class: str = "table") -> str:
    formatters = {c: _format(c) for c in table.columns if pd.api.types.is_float_dtype(table[c])}
    return table.to_html(index=False, formatters=formatters, na_rep="", classes=css_class)


def render(tables_dir: str | Path) -> str:
    """The report as one HTML string."""
    tables_dir = Path(tables_dir)
    try:
        summary = pd.read_csv(tables_dir / "summary.csv")
        confusion = pd.read_csv(tables_dir / "confusion.csv")
        history = pd.read_csv(tables_dir / "history.csv")
    except (OSError, pd.errors.ParserError) as error:
        raise MnistbenchError(
            f"cannot read the aggregated tables in {tables_dir} ({error})"
        ) from None
    template = jinja2.Environment(
        loader=jinja2.PackageLoader("mnistbench", "templates"),
        autoescape=True,
    ).get_template("report.html.j2")
    status = summary["status"].fillna("ok") if "status" in summary else "ok"
    not_ok = summary[status != "ok"][[*RUN_KEYS, "status", "reason"]]
    summary = summary[status == "ok"]
    runs = summary[list(RUN_COLUMNS)].rename(columns=RUN_COLUMNS)
    return template.render(
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_runs=len(summary),
        not_ok=_html_table(not_ok) if len(not_ok) else "",
        accuracy=_html_table(accuracy_table(summary), "table accuracy"),
        speed=_html_table(speed_table(summary)),
        runs=_html_table(runs),
        curves=learning_curves(history),
        confusions=confusion_tables(confusion),
        variants=[VARIANTS[v] for v in sorted(summary["variant"].unique()) if v in VARIANTS],
        used=summary.groupby("variant")["hyperparameters"].unique().map(sorted).to_dict(),
    )


def run(tables_dir: str | Path, out: str | Path) -> None:
    html = render(tables_dir)
    artifacts.write_atomically(Path(out).parent, Path(out).name, lambda p: p.write_text(html))
