"""The ``neurotwin`` command: parses arguments and hands over to the Python API; no logic here.

Exit status: 0 on success, 2 on bad input (one line naming the problem and the valid choices),
1 on a runtime failure, 130 when interrupted (rerun the same command to finish the run).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from rich.console import Console
from rich.table import Table

from neurotwin import __version__, tasks
from neurotwin.core.device import DEVICE_CHOICES
from neurotwin.errors import ConfigError, DataError, NeurotwinError
from neurotwin.experiment import memory as memory_experiment
from neurotwin.experiment import simulate as simulation
from neurotwin.experiment.runner import MAX_SEED, check_epochs, compare, default_out
from neurotwin.learners.base import MAX_EPOCHS
from neurotwin.learners.registry import available, get
from neurotwin.report import print_summary
from neurotwin.report.memory import summary_lines as memory_lines
from neurotwin.report.simulation import print_simulation


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's signature
        raise ConfigError(f"{message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="neurotwin",
        description="Artificial and brain-like neural networks side by side on the same task.",
    )
    parser.add_argument("--version", action="version", version=f"neurotwin {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    cmp = sub.add_parser(
        "compare",
        help="train and compare learners on one task over several seeds",
        description="Train every learner (and its controls) on the task for each seed, measure "
        "them with the same probes, and write OUT/results.json and OUT/report.html.",
    )
    cmp.add_argument(
        "--task", default="digits", help="dataset name, or a .csv/.npz file (default: digits)"
    )
    cmp.add_argument("--target", help="label column of a .csv task")
    cmp.add_argument(
        "--kind", choices=("classification", "regression"), help="force the kind of a file task"
    )
    cmp.add_argument(
        "--models", default=None, help="comma-separated learners, or 'all' (default: mlp,hebbian)"
    )
    cmp.add_argument(
        "--seeds",
        default="0,1,2",
        help=f"comma-separated run seeds, each 0 to {MAX_SEED} (default: 0,1,2)",
    )
    cmp.add_argument(
        "--epochs", default=None, help=f"override every learner's epochs (1 to {MAX_EPOCHS})"
    )
    cmp.add_argument(
        "--quick", action="store_true", help="smoke-test presets: fewer epochs, same code"
    )
    cmp.add_argument(
        "--out",
        help="run folder (default: runs/<task>[-quick]); rerun to resume; one run at a time",
    )
    cmp.add_argument(
        "--device", default="auto", help=f"one of {', '.join(DEVICE_CHOICES)} (default: auto)"
    )
    cmp.add_argument(
        "--data-dir", help="folder of MNIST-style IDX files (else $NEUROTWIN_DATA, cache)"
    )
    cmp.add_argument(
        "--json", action="store_true", help="print only the results document on stdout"
    )
    cmp.add_argument("--no-report", action="store_true", help="skip report.html")
    cmp.add_argument(
        "--positive",
        help="class that sensitivity/specificity call positive (default: the task's own, e.g. "
        "malignant for breast_cancer, else the second class of two)",
    )
    cmp.add_argument(
        "--threshold",
        help="P(positive) from which a sample is called positive, in (0, 1) (default: 0.5)",
    )

    pred = sub.add_parser(
        "predict",
        help="apply a model saved by a run to new rows (CSV or NPZ)",
        description="Predict the rows of FILE with the model in MODEL_DIR (RUN_DIR/models/<row>). "
        "FILE must have the training columns (the target column may be present; it is ignored). "
        "Writes the predicted label and, where the model has them, one probability per class.",
    )
    pred.add_argument("model_dir", metavar="MODEL_DIR", help="a saved model: RUN_DIR/models/<row>")
    pred.add_argument(
        "file", metavar="FILE", help="new rows: a .csv with a header, or a .npz with X"
    )
    pred.add_argument(
        "--out", help="output CSV (default: FILE's folder, <FILE stem>-predictions.csv)"
    )
    pred.add_argument(
        "--device", default="cpu", help=f"one of {', '.join(DEVICE_CHOICES)} (default: cpu)"
    )

    les = sub.add_parser(
        "lesion",
        help="brain health of a finished run: damage curves, ageing and recovery",
        description="Damage every saved model of a finished compare run (random or targeted "
        "synapse loss, neuron death, synaptic noise), age it with and without its own "
        "plasticity, and measure recovery by retraining; writes RUN_DIR/health.json and "
        "RUN_DIR/health.html.",
    )
    les.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by neurotwin compare")
    les.add_argument(
        "--kind",
        default=None,
        help="comma-separated damage kinds: random, targeted, neurons, noise (default: all)",
    )
    les.add_argument("--no-ageing", action="store_true", help="skip the ageing curves")
    les.add_argument("--no-recovery", action="store_true", help="skip the recovery measurement")
    les.add_argument("--json", action="store_true", help="print only health.json on stdout")

    lst = sub.add_parser("list", help="list learners (with their defaults) and tasks")
    lst.add_argument("--json", action="store_true", help="print the listing as JSON")

    sim = sub.add_parser(
        "simulate",
        help="simulate one neuron model (step current, f-I curve) or an E/I network",
        description="Simulate a neuron model under a step current (with its f-I curve from one "
        "batched run) or an E/I network under Poisson input, and write OUT/summary.json, "
        "OUT/figures/*.png and OUT/simulation.html.",
    )
    sim.add_argument("model", nargs="?", metavar="MODEL", help="lif, izhikevich, hh or network")
    sim.add_argument(
        "--preset",
        metavar="NAME",
        help="a parameter set: izhikevich regular_spiking (default), fast_spiking, chattering, "
        "intrinsically_bursting, low_threshold_spiking; hh squid_axon; network w1",
    )
    sim.add_argument(
        "--current",
        type=float,
        metavar="VALUE",
        help="step current, >= 0: nA (lif), dimensionless I (izhikevich), uA/cm^2 (hh)",
    )
    sim.add_argument("--duration", type=float, metavar="MS", help="simulated time in ms")
    sim.add_argument("--dt", type=float, metavar="MS", help="integration step in ms")
    sim.add_argument(
        "--seed", default="0", metavar="N", help="seed of every random draw (default: 0)"
    )
    sim.add_argument(
        "--out", metavar="DIR", help="output folder (default: runs/simulate-<model>[-<preset>])"
    )
    sim.add_argument("--json", action="store_true", help="print only the summary as JSON")

    mem = sub.add_parser("memory", help="associative memory experiments (capacity)")
    mem_sub = mem.add_subparsers(dest="memory_command", parser_class=_Parser, metavar="EXPERIMENT")
    cap = mem_sub.add_parser(
        "capacity",
        help="Hopfield recall against load, and pattern completion on digits",
        description="Store P random patterns for a range of loads P/N, recall them from clean "
        "and noisy cues, complete binarised digits, and write OUT/summary.json, "
        "OUT/figures/*.png and OUT/memory.html.",
    )
    cap.add_argument("--rule", default="hebbian", help="hebbian (default), storkey or modern")
    cap.add_argument("--n", default="200", metavar="N", help="units (default: 200)")
    cap.add_argument("--trials", default="3", metavar="K", help="trials per load (default: 3)")
    cap.add_argument("--seed", default="0", metavar="S", help="seed (default: 0)")
    cap.add_argument(
        "--out", metavar="DIR", help="output folder (default: runs/memory-capacity-<rule>)"
    )
    cap.add_argument("--json", action="store_true", help="print only the summary as JSON")
    parser.set_defaults(command_names=list(sub.choices))
    return parser


def _compare(args) -> int:
    epochs = check_epochs(args.epochs)
    out = args.out or str(default_out(args.task, quick=args.quick, epochs=epochs))
    doc = compare(
        args.task,
        args.models,
        seeds=args.seeds,
        epochs=epochs,
        quick=args.quick,
        out=out,
        device=args.device,
        data_dir=args.data_dir,
        target=args.target,
        kind=args.kind,
        report=not args.no_report,
        command=shlex.join(["neurotwin", *sys.argv[1:]]),
        positive=args.positive,
        threshold=args.threshold,
    )
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    console = Console()
    print_summary(doc, console)
    console.print(f"results: {os.path.join(out, 'results.json')}")
    if not args.no_report:
        console.print(f"report:  {os.path.join(out, 'report.html')}")
    return 0


def _predict(args) -> int:
    from neurotwin.experiment.predict import predict

    result = predict(args.model_dir, args.file, out=args.out, device=args.device)
    Console().print(
        f"{len(result['labels'])} predictions: {result['out']}", highlight=False, soft_wrap=True
    )
    return 0


def _lesion(args) -> int:
    from neurotwin.experiment.health import lesion_run

    options = {} if args.kind is None else {"kinds": args.kind}
    doc = lesion_run(
        args.run_dir,
        ageing=not args.no_ageing,
        recovery=not args.no_recovery,
        show_progress=not args.json,
        command=shlex.join(["neurotwin", *sys.argv[1:]]),
        **options,
    )
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    console = Console()
    for line in doc.get("findings", []):
        console.print(f"• {line}", highlight=False)
    for label, name in (("results", "health.json"), ("page", "health.html")):
        console.print(
            f"{label + ':':9}{os.path.join(args.run_dir, name)}", highlight=False, soft_wrap=True
        )
    return 0


def _simulate(args) -> int:
    if args.model is None:
        raise ConfigError(f"no model given; choose one of: {', '.join(simulation.MODELS)}")
    out = args.out or str(simulation.default_out(args.model, args.preset))
    result = simulation.simulate(
        args.model,
        preset=args.preset,
        current=args.current,
        duration_ms=args.duration,
        dt_ms=args.dt,
        seed=args.seed,
        out=out,
    )
    if args.json:
        sys.stdout.write(json.dumps(result.summary, indent=2) + "\n")
        return 0
    print_simulation(result.summary, out, Console())
    return 0


def _memory(args) -> int:
    if args.memory_command != "capacity":
        raise ConfigError("no memory experiment given; choose one of: capacity")
    rule = memory_experiment.check_rule(args.rule)
    out = args.out or str(memory_experiment.default_out(rule))
    result = memory_experiment.capacity(rule, n=args.n, trials=args.trials, seed=args.seed, out=out)
    if args.json:
        sys.stdout.write(json.dumps(result.summary, indent=2) + "\n")
        return 0
    console = Console()
    for line in memory_lines(result.summary):
        console.print(line, highlight=False, soft_wrap=True)
    for label, name in (("summary", "summary.json"), ("page", "memory.html")):
        console.print(f"{label + ':':9}{os.path.join(out, name)}", highlight=False, soft_wrap=True)
    return 0


def listing() -> dict:
    """Learners (name, description, paradigm, rule, variants, controls, defaults with what
    ``auto`` resolves to, quick) and tasks."""
    learners = []
    for name in available():
        cls = get(name)
        learners.append(
            {
                "name": name,
                "description": cls.description,
                "paradigm": cls.paradigm,
                "rule": cls.rule,
                "encoding": cls.encoding,
                "variants": [
                    {
                        "name": v,
                        "rule": cls.variant_rules.get(v, cls.rule),
                        "encoding": cls.variant_encodings.get(v, cls.encoding),
                        "about": cls.variant_notes.get(v, ""),
                    }
                    for v in cls.variants
                    if v is not None
                ],
                "controls": {str(k): v for k, v in cls.controls.items()},
                "kinds": list(cls.supported_kinds),
                "defaults": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in cls.defaults.items()
                },
                "auto": dict(cls.auto_defaults),
                "quick": cls.quick,
            }
        )
    return {
        "learners": learners,
        "tasks": [{"name": n, "description": d} for n, d in tasks.DESCRIPTIONS.items()],
    }


def _list(args) -> int:
    info = listing()
    if args.json:
        sys.stdout.write(json.dumps(info, indent=2) + "\n")
        return 0
    console = Console()
    for item in info["learners"]:
        console.print(
            f"[bold]{item['name']}[/]: {item['paradigm']}, rule {item['rule']}, "
            f"{item['encoding']} encoding. {item['description']}",
            highlight=False,
        )
        table = Table()
        for col in ("option", "default", "--quick"):
            table.add_column(col, overflow="fold")
        for key, value in item["defaults"].items():
            shown = f"{value} → {item['auto'][key]}" if key in item["auto"] else str(value)
            table.add_row(key, shown, str(item["quick"].get(key, "")))
        console.print(table)
        console.print(_learner_notes(item), highlight=False)
        console.print()
    tasks_table = Table(title="tasks (--task NAME, or a .csv/.npz file)", title_justify="left")
    tasks_table.add_column("name", no_wrap=True)
    tasks_table.add_column("description")
    for item in info["tasks"]:
        tasks_table.add_row(item["name"], item["description"])
    console.print(tasks_table)
    return 0


def _learner_notes(item: dict) -> str:
    lines = [f"tasks: {', '.join(item['kinds'])}"]
    for variant in item["variants"]:
        lines.append(
            f"row '{variant['name']}' (rule {variant['rule']}, {variant['encoding']} encoding): "
            f"{variant['about']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurotwin`` console script; returns the exit status."""
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command == "compare":
            return _compare(args)
        if args.command == "list":
            return _list(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "memory":
            return _memory(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "lesion":
            return _lesion(args)
        parser.print_usage()  # stdout: what to type; stderr: the one-line error
        raise ConfigError(
            f"no command given; choose one of: {', '.join(args.command_names)} "
            "(see 'neurotwin --help')"
        )
    except (ConfigError, DataError) as exc:
        print(f"neurotwin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neurotwin: interrupted; rerun the same command to finish the run", file=sys.stderr)
        return 130
    except NeurotwinError as exc:
        print(f"neurotwin: failed: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a runtime failure: one line, the traceback only on request
        if os.environ.get("NEUROTWIN_DEBUG"):
            raise
        print(
            f"neurotwin: failed: {type(exc).__name__}: {exc} (set NEUROTWIN_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
