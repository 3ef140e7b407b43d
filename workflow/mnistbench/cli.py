"""``python -m mnistbench <step>``: each workflow step as a command, runnable without Snakemake.

Errors in the user's input (data, config, plugins) print one line,
``mnistbench <step>: error: <what and why>``, and exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import threading
import traceback
from pathlib import Path

from mnistbench import __version__
from mnistbench.errors import MnistbenchError, Stopped

log = logging.getLogger("mnistbench")


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object")
    return value


def _target(text: str) -> tuple[str, float]:
    variant, _, value = text.partition("=")
    try:
        accuracy = float(value)
    except ValueError:
        accuracy = -1.0
    if not variant or not 0 < accuracy <= 1:
        raise argparse.ArgumentTypeError(
            f"expected VARIANT=ACCURACY with 0 < ACCURACY <= 1: {text}"
        )
    return variant, accuracy


def _role_digest(text: str) -> tuple[str, str]:
    from mnistbench.data.datasets import ROLES

    role, _, digest = text.partition("=")
    if role not in ROLES:
        raise argparse.ArgumentTypeError(f"{text!r}: the role must be one of {', '.join(ROLES)}")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise argparse.ArgumentTypeError(f"{text!r}: expected ROLE=<64 lowercase hex digits>")
    return role, digest


def _add_digest_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sha256",
        type=_role_digest,
        action="append",
        default=[],
        metavar="ROLE=HEX",
        help="pinned SHA-256 of a data file, e.g. test_labels=<hex>; repeat for each role; "
        "a file that differs is refused",
    )


def cmd_fetch(args) -> None:
    from mnistbench.data import fetch

    policy = fetch.FetchPolicy(timeout=args.timeout, retries=args.retries, backoff=args.backoff)
    fetch.fetch(
        args.file, args.sha256, args.out, args.mirror, args.gz_sha256, policy, size=args.size
    )


def _add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        help="CPU threads for every library the step uses (BLAS, PyTorch, XLA), set before any "
        "starts (default: MNISTBENCH_THREADS, else OMP_NUM_THREADS, else the libraries choose)",
    )


def _compute_step(args) -> dict:
    """Set up a step that computes with a backend (train, evaluate): limit every library's
    threads first, before the step loads NumPy (else threadpoolctl limits it), and return the
    arguments both steps take: the data, its pinned digests, the output, backend and device."""
    from mnistbench.plugin import threads

    threads.limit(args.threads)
    return {
        "data": args.data,
        "sha256": dict(args.sha256),
        "out": args.out,
        "backend": args.backend,
        "device": args.device,
    }


def cmd_train(args) -> None:
    common = _compute_step(args)
    from mnistbench.data.shapes import Conventions
    from mnistbench.training import train

    train.run(
        **common,
        dataset=args.dataset,
        variant=args.variant,
        seed=args.seed,
        hyperparameters=args.hparams,
        conventions=Conventions(
            args.classes,
            args.label_offset,
            args.transpose,
            args.image_size and tuple(args.image_size),
        ),
        train_limit=args.train_limit,
        test_limit=args.test_limit,
        checkpoint_dir=args.checkpoint,
        point=args.point,
        curve_points=args.curve_points,
    )


def cmd_evaluate(args) -> None:
    common = _compute_step(args)
    from mnistbench.evaluation import evaluate

    evaluate.run(**common, run_dir=args.run)


def cmd_aggregate(args) -> None:
    from mnistbench.report import aggregate

    aggregate.run(args.metrics, args.out, allow_missing=args.allow_missing)


def cmd_report(args) -> None:
    from mnistbench.report import render

    settings = render.Settings(
        baseline=args.baseline,
        time_to_accuracy=dict(args.time_to_accuracy),
        configfiles=args.configfile,
        overrides=args.override,
        planned_out=args.planned_out,
        seed_looks=args.seed_look,
    )
    render.run(args.tables, args.out, settings, csv_dir=args.csv_dir)


def cmd_decide_seeds(args) -> None:
    from mnistbench.plan import seed_plan
    from mnistbench.report import seed_look

    plan = seed_plan.SeedPlan(**args.rule)
    seed_look.write(seed_look.decide(args.runs, args.count, plan, args.baseline), args.out)


def cmd_compare(args) -> int:
    from mnistbench.report import compare

    changes = compare.run(
        args.before, args.after, args.threshold, args.time_threshold, args.html, args.alpha
    )
    flagged = (changes["flagged"] != "").any()
    return compare.FLAGGED_EXIT if args.fail_on_flag and flagged else 0


def cmd_backends(args) -> None:
    from mnistbench.plugin.backend import implementations
    from mnistbench.plugin.registry import load_backends
    from mnistbench.plugin.variant_registry import left_out

    registry = load_backends()
    if args.json:
        print(json.dumps(registry.describe(), indent=2))
    else:
        for name, backend in sorted(registry.backends.items()):
            reason = backend.unavailable_reason()
            where = (
                f"unavailable: {reason}" if reason else "devices: " + ", ".join(backend.devices())
            )
            variants = ", ".join(sorted(backend.variants))
            offered = ", ".join(implementations(backend))
            print(
                f"{name} {backend.version} "
                f"({where}; variants: {variants}; implementations: {offered})"
            )
        for failure in registry.failures:
            print(f"{failure.plugin}: failed to load: {failure.error}")
    for name in registry.available():  # listing its variants above checked their step modules
        for line in left_out(name):
            print(f"warning: {line}", file=sys.stderr)


def cmd_variants(args) -> None:
    from mnistbench.plugin import contract
    from mnistbench.plugin.registry import load_backends
    from mnistbench.plugin.variant_registry import installed_variants

    if args.json:
        implemented_by: dict[str, list[str]] = {}
        for name, backend in load_backends().backends.items():
            for variant in backend.variants:
                implemented_by.setdefault(variant, []).append(name)
        print(json.dumps(installed_variants().describe(implemented_by), indent=2))
        return
    chosen = contract.shipped_with(args.distribution) if args.distribution else None
    print(contract.document(chosen), end="")
    for failure in installed_variants().failures:
        print(f"{failure.plugin}: failed to load: {failure.error}", file=sys.stderr)


def _add_step(steps, name: str, command, help: str) -> argparse.ArgumentParser:
    """A step's subcommand ``name``, run by ``command(args)``."""
    p = steps.add_parser(name, help=help)
    p.set_defaults(func=command)
    return p


def _add_flag(parser: argparse.ArgumentParser, flag: str, help: str) -> None:
    """An on/off option, off unless given."""
    parser.add_argument(flag, action="store_true", help=help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnistbench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mnistbench {__version__}")
    parser.add_argument("--log", type=Path, help="also write the log to this file")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    add_fetch_parser(steps)
    add_train_parser(steps)
    add_evaluate_parser(steps)
    add_aggregate_parser(steps)
    add_report_parser(steps)
    add_compare_parser(steps)
    add_decide_seeds_parser(steps)
    add_listing_parsers(steps)
    return parser


def add_fetch_parser(steps) -> None:
    """The ``fetch`` step's arguments: the file, its digests, the mirrors, retries."""
    p = _add_step(steps, "fetch", cmd_fetch, "fetch and verify one dataset file from mirrors")
    p.add_argument(
        "--file", required=True, help="file name on the mirrors, e.g. t10k-labels-idx1-ubyte.gz"
    )
    p.add_argument("--sha256", required=True, help="SHA-256 of the decompressed IDX payload")
    p.add_argument("--gz-sha256", help="SHA-256 of the .gz a mirror serves (optional)")
    p.add_argument(
        "--size",
        type=int,
        help="size in bytes of the decompressed IDX file (optional; else its header's)",
    )
    p.add_argument(
        "--mirror",
        action="append",
        default=[],
        help="URL or directory; repeat for more; MNISTBENCH_MIRROR is tried first",
    )
    p.add_argument("--out", required=True, type=Path, help="where the verified IDX file goes")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds without data (default 30)")
    p.add_argument("--retries", type=int, default=3, help="retries per mirror on transient errors")
    p.add_argument("--backoff", type=float, default=1.0, help="seconds before the first retry")


def add_train_parser(steps) -> None:
    """The ``train`` step's arguments: the run, its data, settings and checkpoint."""
    p = _add_step(steps, "train", cmd_train, "train one (dataset, variant, backend, seed) run")
    p.add_argument("--data", required=True, type=Path, help="directory of fetched IDX files")
    p.add_argument("--dataset", required=True, help="dataset name, recorded in the outputs")
    p.add_argument("--variant", required=True)
    p.add_argument("--backend", required=True)
    p.add_argument("--seed", required=True, type=int)
    p.add_argument("--out", required=True, type=Path, help="run directory to write")
    p.add_argument("--hparams", type=_json_object, default={}, help="JSON object of overrides")
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument(
        "--point", type=_json_object, default={}, help="JSON object: the run's swept settings"
    )
    p.add_argument(
        "--classes",
        type=int,
        help="number of classes, checked against the labels (default: the largest label + 1)",
    )
    p.add_argument(
        "--label-offset", type=int, default=0, help="subtracted from every label (default 0)"
    )
    _add_flag(p, "--transpose", "images are stored column-major (EMNIST)")
    p.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("ROWS", "COLS"),
        help="image size the dataset declares, checked against the IDX header",
    )
    p.add_argument("--train-limit", type=int, help="use only the first N training images")
    p.add_argument("--test-limit", type=int, help="use only the first N test images")
    _add_digest_option(p)
    p.add_argument(
        "--checkpoint",
        type=Path,
        help="folder for a checkpoint after every epoch, resumed from when run again and "
        "removed once the outputs are written (default: none)",
    )
    p.add_argument(
        "--curve-points",
        type=int,
        default=25,
        help="how many epochs score the test set for the learning curve: evenly spaced, the "
        "last always (default 25)",
    )
    _add_threads_option(p)


def add_evaluate_parser(steps) -> None:
    """The ``evaluate`` step's arguments: a trained run and the data to score."""
    p = _add_step(
        steps, "evaluate", cmd_evaluate, "predict the test set with a trained run's weights"
    )
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--run", required=True, type=Path, help="run directory written by train")
    p.add_argument("--out", type=Path, help="metrics file (default: RUN/metrics.json)")
    p.add_argument("--backend", help="evaluate with this backend (default: the one that trained)")
    p.add_argument(
        "--device",
        help="auto, cpu or cuda (default: the training device, or auto for another backend)",
    )
    _add_digest_option(p)
    _add_threads_option(p)


def add_aggregate_parser(steps) -> None:
    """The ``aggregate`` step's arguments: the metrics files and the output."""
    p = _add_step(steps, "aggregate", cmd_aggregate, "collect runs' metrics into CSV tables")
    p.add_argument("metrics", nargs="+", type=Path, help="metrics.json files")
    p.add_argument("--out", required=True, type=Path, help="directory for the CSV tables")
    _add_flag(
        p,
        "--allow-missing",
        "list runs without metrics as failed or missing, with the reason from their logs",
    )


def add_decide_seeds_parser(steps) -> None:
    """The ``decide-seeds`` step's arguments: one cell's runs, the seeds so far and the rule."""
    p = _add_step(
        steps, "decide-seeds", cmd_decide_seeds, "look at a cell's comparisons under a seed plan"
    )
    p.add_argument("runs", nargs="+", type=Path, help="the cell's run folders")
    p.add_argument("--count", required=True, type=int, help="the seeds run so far")
    p.add_argument("--rule", required=True, type=_json_object, help="JSON: the seeds rule")
    p.add_argument("--baseline", default="numpy", help="backend compared with (default numpy)")
    p.add_argument("--out", required=True, type=Path, help="the look's JSON file to write")


def add_report_parser(steps) -> None:
    """The ``report`` step's arguments: the tables, baseline, targets and config."""
    p = _add_step(steps, "report", cmd_report, "write the HTML report from the aggregated tables")
    p.add_argument("--tables", required=True, type=Path, help="directory of aggregate's CSVs")
    p.add_argument("--out", required=True, type=Path, help="the HTML file to write")
    p.add_argument("--csv-dir", type=Path, help="also write the report's own tables here as CSV")
    p.add_argument(
        "--baseline", default="numpy", help="backend the speed-ups refer to (default numpy)"
    )
    p.add_argument(
        "--time-to-accuracy",
        type=_target,
        action="append",
        default=[],
        metavar="VARIANT=ACCURACY",
        help="target test accuracy of a variant for the time-to-accuracy table; repeat",
    )
    p.add_argument(
        "--configfile", action="append", default=[], help="a config file of the run, to show"
    )
    p.add_argument(
        "--override", action="append", default=[], help="a --config entry of the run, to show"
    )
    p.add_argument(
        "--planned-out", type=Path, help="the runs the plan left out, to list (planned_out.csv)"
    )
    p.add_argument(
        "--seed-look", action="append", default=[], help="a seed plan's last look of a cell"
    )


def add_compare_parser(steps) -> None:
    """The ``compare`` command's arguments: two result folders and thresholds."""
    p = _add_step(steps, "compare", cmd_compare, "what changed between two result folders, per run")
    p.add_argument("before", type=Path, help="a results folder (with summary.csv)")
    p.add_argument("after", type=Path, help="another results folder")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.005,
        help="flag a test accuracy change above this (fraction of the test set; default 0.005)",
    )
    p.add_argument(
        "--time-threshold",
        type=float,
        default=1.5,
        help="flag a time ratio beyond this factor either way (default 1.5)",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="flag a change past a threshold only where its test is significant at this level, "
        "after Benjamini-Hochberg over every test (default 0.05)",
    )
    p.add_argument("--html", type=Path, help="also write the comparison as an HTML page")
    _add_flag(
        p,
        "--fail-on-flag",
        "exit with status 3 when any run is flagged (for CI); 1 still means an error",
    )


def add_listing_parsers(steps) -> None:
    """The ``backends`` and ``variants`` listings."""
    p = _add_step(
        steps, "backends", cmd_backends, "list installed backends, their versions and devices"
    )
    _add_flag(p, "--json", "as JSON, failed plugins included")

    p = _add_step(
        steps, "variants", cmd_variants, "print what every backend computes for each variant"
    )
    _add_flag(
        p, "--json", "list each variant with its distribution and the backends that implement it"
    )
    p.add_argument("--distribution", help="only the variants this distribution provides")


def _configure_logging(log_file: Path | None, quiet: bool) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        handlers=handlers,
    )


def _fail(args, reason: str, cause: BaseException | None = None) -> int:
    """Print the step's one error line to stderr and to its log; return the exit status.

    The log also gets the traceback of ``cause`` (a bug, or what a plugin raised), above the line.
    """
    message = f"mnistbench {args.step}: error: {reason}"
    print(message, file=sys.stderr)
    if args.log:
        try:
            with args.log.open("a") as f:
                if cause is not None:
                    traceback.print_exception(cause, file=f)
                print(message, file=f)
        except OSError:
            pass  # the log itself cannot be written: stderr has the line
    return 1


def _stop_on_sigterm(signum, frame) -> None:
    """SIGTERM (a time limit, a cancelled job) unwinds like Ctrl-C, so temporary files go."""
    raise Stopped(signal.Signals(signum))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _configure_logging(args.log, args.quiet)
    except OSError as error:
        log_file, args.log = args.log, None
        return _fail(args, f"{log_file}: cannot write the log file ({error.strerror or error})")
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if in_main_thread else None
    try:
        status = args.func(args) or 0
    except MnistbenchError as error:
        return _fail(args, str(error), error.__cause__)
    except KeyboardInterrupt as interrupt:
        stop = Stopped.from_interrupt(interrupt)
        _fail(args, f"stopped by {stop.signum.name}" + (f" {stop.where}" if stop.where else ""))
        return 128 + stop.signum
    except Exception as error:  # noqa: BLE001 - a bug here or in a plugin: traceback to the log
        text = str(error).strip().splitlines()
        return _fail(args, f"unexpected {type(error).__name__}: {text[0] if text else ''}", error)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return status
