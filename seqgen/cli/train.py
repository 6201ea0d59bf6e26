"""The CLI's `train`: one process, or each process of a `torchrun` launch (seqgen.training.distributed)."""
from __future__ import annotations

import logging
import os
import platform
import shlex
import signal
import sys
import time
from pathlib import Path

from ..locale import N_
from .common import _


def add_train_parser(sub) -> None:
    from ..configurator import add_setting_arguments
    from ..domains import KINDS, domain_names
    from ..models import FAMILIES
    from ..presets import PRESETS

    s = sub.add_parser("train", help="train a model and write a checkpoint",
                       description="Train a model. Start from a preset (--preset, or --domain with --family); "
                                   "any flag below overrides the preset. Runs unchanged under "
                                   "`torchrun --nproc_per_node=N -m seqgen train ...` (one checkpoint, "
                                   "written by process 0).")
    s.add_argument("--preset", choices=sorted(PRESETS), help="named configuration (see seqgen/presets.py)")
    s.add_argument("--domain", choices=domain_names())
    s.add_argument("--family", choices=FAMILIES, help="vae | gan (lm and classifier are metric references)")
    s.add_argument("--name", help="checkpoint name (default: PRESET-mine, or DOMAIN-FAMILY-mine; with "
                   "--out checkpoints, the preset's own name)")
    s.add_argument("--out", help="folder to write into (default: user_models/; use checkpoints/ to ship)")
    s.add_argument("--force", action="store_true", help="replace an existing checkpoint of that name")
    s.add_argument("--resume", action="store_true", help="continue the run that wrote this checkpoint from "
                   "where it stopped (weights, optimizer state, batches); give the same model settings and "
                   "a larger --steps or --minutes")
    s.add_argument("--description", help="one line for the model card")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    add_setting_arguments(s)
    # --data also takes the learner's own files (seqgen.domains.own): a file, a .zip or a folder
    data = next(a for a in s._actions if a.dest == "data")
    data.choices, data.metavar = None, "bundled|full|PATH"
    data.help = (f"{data.help}; or your own data: a file, a .zip or a folder of them, read as --kind says "
                 "(a list of words, MIDI files, drawings, recordings)")
    s.add_argument("--kind", choices=KINDS, help="with --data PATH: what the files hold (text: .txt/.csv, one per "
                   "line; melody: .mid; image: .png/.jpg; sound: .wav/.flac/.ogg)")
    s.add_argument("--title", help="with --data PATH: the data set's name (default: the file or folder's name)")
    s.add_argument("--characters", action="store_true", help="with --data PATH --kind text: keep words in the "
                   "characters they are written in (each one a token) instead of reading them as letters a-z "
                   "(Chinese through its pinyin)")
    s.set_defaults(fn=cmd_train)


def _target(args, model_cfg):
    from .. import checkpoints
    from ..training.publish import check_save_name

    out_dir = Path(args.out) if args.out else checkpoints.user_dir()
    shipping = out_dir.resolve() == checkpoints.SHIPPED_DIR.resolve()
    base = args.preset or f"{model_cfg.domain}-{model_cfg.family}"
    # Shipped names belong to checkpoints/ (the user folder is searched after it), so a user run's default
    # name is its own: the live page's check_save_name policy, with --force for 'replace'.
    name = args.name if args.name is not None else (base if shipping else f"{base}-mine")
    target = check_save_name(name, replace=args.force or args.resume, folder=out_dir,
                             how_to_replace=N_("pass --force to replace it"))
    if args.resume and not target.is_dir():
        raise ValueError(f"--resume: there is no model {target.name!r} in {out_dir} to continue")
    return target


_REPORTED = "SEQGEN_DATA_REPORTED"


def _own_data(args) -> None:
    """With --data PATH: read the learner's files, say what was kept and dropped, and train on them as a domain
    of their own, from the live preset of the data's kind (made for small data sets)."""
    if args.data in (None, "bundled", "full"):
        return
    from ..domains import get_domain, register
    from ..domains.own import files_at, own_domain, read_data, templates
    from ..presets import live_preset

    if args.kind is None or not args.family:
        raise ValueError("--data PATH needs --kind (text, melody, image or sound: what the files hold) and "
                         "--family (vae or gan)")
    if args.domain is not None or args.preset is not None:
        raise ValueError("--data PATH trains on your files: leave out --domain and --preset")
    reading = read_data(get_domain(templates()[args.kind]), files_at(Path(args.data)), characters=args.characters)
    if os.environ.get("RANK", "0") == "0" and not os.environ.get(_REPORTED):
        os.environ[_REPORTED] = "1"            # the processes torchrun starts from here read it again, quietly
        print(f"read {args.data}: kept {len(reading.kept)} items, dropped {len(reading.dropped)}; labels: "
              f"{reading.label_source}", file=sys.stderr)
        for why, n, examples in reading.reasons():
            print(f"  dropped {n}: {why} (e.g. {', '.join(examples)})", file=sys.stderr)
    domain = register(own_domain(reading.data(args.title or Path(args.data).stem)))
    args.domain, args.data = domain.name, "bundled"
    args.preset = live_preset(domain.name, args.family)
    args.name = args.name or f"{domain.stem}-{args.family}"
    args.description = args.description or f"{args.family.upper()} trained on {domain.title!r}, your own data."


def _settings(args):
    """(ModelConfig, TrainConfig, Preset) of this command: the preset with the flags given on top."""
    from ..configurator import overrides
    from ..presets import configure

    _own_data(args)
    model_over, train_over = overrides(args)
    model_cfg, train_cfg, preset = configure(args.preset, args.domain, args.family, model_over, train_over)
    train_cfg.validate()
    return model_cfg, train_cfg, preset


def _build(args, processes):
    """(model, trainer, target folder, preset) for this command, resumed when asked."""
    import torch

    from .. import checkpoints
    from ..devices import resolve_device
    from ..domains import get_domain
    from ..models import build_model
    from ..training import Trainer, resume, seed_everything
    from ..training.trainer import take_start_weights

    model_cfg, train_cfg, preset = _settings(args)
    target = _target(args, model_cfg)
    state = resume.read(target) if args.resume else None
    if train_cfg.threads:
        torch.set_num_threads(train_cfg.threads)
    device = resolve_device(train_cfg.device, processes.local_rank)
    processes.join(device)
    seed_everything(train_cfg.seed)  # the weight initialisation too, not only the batches
    model = build_model(model_cfg)
    if state is None:
        take_start_weights(model, train_cfg)
    if processes.is_main:
        print(f"training {target.name}: {model_cfg.domain} {model_cfg.family} ({model.num_parameters():,} "
              f"parameters, {model_cfg.cell} {model_cfg.hidden}) for {train_cfg.steps} steps"
              + (f" or {train_cfg.max_minutes} min" if train_cfg.max_minutes else "")
              + (f" on {processes.world} processes" if processes.active else "")
              + (f", resuming at step {state.meta['step']}" if state else ""), file=sys.stderr)
    trainer = Trainer(model, get_domain(model_cfg.domain), train_cfg, device=device, processes=processes,
                      progress=not args.quiet, callbacks=[_eval_printer(model)])
    if state is not None:
        trainer.resume_from(state, checkpoints.load(target).model.state_dict())
    return model, trainer, target, preset


MIN_EXAMPLES_PER_PROCESS = 32   # below this an LSTM step is mostly overhead, and more processes stop paying


def processes_for(train_cfg, cores: int | None = None, gpus: int | None = None) -> int:
    """How many processes `python -m seqgen train` starts: --processes if given; one when --threads is given
    alone (the commands in the model cards); one per GPU when it trains on GPUs (each process takes the GPU of
    its local rank); else one per core it may run on (`seqgen.devices.usable_cores`); in the last two cases
    only as long as each gets 32 examples of every batch. On a CPU, processes of one thread each beat one
    process of several threads on this kind of model (see benchmarks/README.md, "Training on every core"):
    they need no spinning OpenMP threads, so they stay fast when something else runs beside them."""
    if train_cfg.processes:
        return train_cfg.processes
    if train_cfg.threads:
        return 1
    from ..devices import resolve_device, usable_cores

    if gpus is None:
        import torch
        gpus = torch.cuda.device_count() if resolve_device(train_cfg.device).type == "cuda" else 0
    workers = gpus or cores or usable_cores()
    return max(1, min(workers, train_cfg.batch_size // MIN_EXAMPLES_PER_PROCESS))


def _launch(args, n: int, target: Path) -> int:
    """Run this same command as n processes on this machine under torchrun, and wait for them."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    from ..devices import usable_cores

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, usable_cores() // n)))
    logging.getLogger("torch.distributed.elastic").setLevel(logging.ERROR)  # its notes on signals, not ours
    started = time.time()
    try:
        run(parse_args(["--standalone", f"--nproc_per_node={n}", "-m", "seqgen", *args.argv]))
    except ChildFailedError as e:  # the process has printed its own one-line error above
        _, failure = e.get_first_failure()
        return failure.exitcode if isinstance(failure.exitcode, int) and failure.exitcode > 0 else 1
    except SignalException:  # Ctrl-C: torchrun passed it on, and process 0 saved what it had
        saved = (target / "config.json").exists() and (target / "config.json").stat().st_mtime >= started
        return 0 if saved else 130
    return 0


def cmd_train(args) -> int:
    from ..training import TrainingDiverged, resume, save_trained
    from ..training.distributed import Processes
    from ..training.memory import keep_freed_memory

    processes = Processes.from_environment()
    if getattr(args, "entry_point", False) and not processes.active:
        model_cfg, train_cfg, _preset = _settings(args)
        n = processes_for(train_cfg)
        if n > 1:  # a bad name, a missing run or a missing GPU: one line, before any process starts
            from ..devices import resolve_device
            resolve_device(train_cfg.device)
            return _launch(args, n, _target(args, model_cfg))
    keep_freed_memory()
    together = False  # every process has finished training, so they can wait for each other before leaving
    try:
        model, trainer, target, preset = _build(args, processes)
        t0 = time.time()
        first_step = trainer.step
        earlier_seconds = _earlier_seconds(target) if first_step else 0.0

        def stop_gracefully(signum, frame):  # first Ctrl-C: finish the step, keep the best weights, save
            if processes.is_main:
                print("\nstopping after this step and saving (Ctrl-C again to abandon)", file=sys.stderr)
            trainer.stop_event.set()
            signal.signal(signal.SIGINT, signal.default_int_handler)

        previous = signal.signal(signal.SIGINT, stop_gracefully)
        try:
            result = trainer.fit()
        except TrainingDiverged as e:  # seen by every process at the same step
            together = True
            if processes.is_main:
                print(_("error: {error} Nothing was written.").format(error=e), file=sys.stderr)
            return 3
        except KeyboardInterrupt:
            print(_("interrupted: nothing was written"), file=sys.stderr)
            return 130
        finally:
            signal.signal(signal.SIGINT, previous)
        together = True
        if not processes.is_main:
            return 0
        info = _card_info(args, preset, trainer, result, earlier_seconds + time.time() - t0, first_step)
        trainer.domain.keep()          # a learner's data set is stored with the model that needs it
        path = save_trained(model, target, info, replace=args.force or args.resume,   # the state with the weights
                            extra_files={resume.FILE: resume.to_bytes(trainer.last_state)})
    finally:
        processes.leave(wait_for_the_others=together)
    shown = {k: round(v, 4) for k, v in info["validation"].items()
             if isinstance(v, float) and not k.startswith("kl_dim")}
    print(f"saved {path} after {result.steps} steps in {info['train_seconds']:.0f} s ({result.status}); "
          f"validation: {shown}")
    return 0


def _earlier_seconds(target: Path) -> float:
    from ..checkpoints import read_info
    seconds = read_info(target)[2].get("train_seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else 0.0


def _launch_command(args, processes) -> str:
    """How to run it again: under torchrun, the torchrun line."""
    command = "python -m seqgen " + shlex.join(args.argv)
    if processes.active:
        per_node = processes.local_world or processes.world
        nodes = max(1, processes.world // per_node)
        command = (f"torchrun --nproc_per_node={per_node}" + (f" --nnodes={nodes}" if nodes > 1 else " --standalone")
                   + " -m seqgen " + shlex.join(args.argv))
    return command


def _card_info(args, preset, trainer, result, seconds: float, first_step: int) -> dict:
    """What the checkpoint and its card record about a command-line training run."""
    import torch

    train_cfg, processes = trainer.train, trainer.processes
    command = _launch_command(args, processes)
    if result.status == "stopped":
        command += f"  # stopped by hand after {result.steps} steps: add --steps {result.steps} to reproduce"
    if first_step:
        command += f"  # resumed at step {first_step}"
    machine = (f"{os.cpu_count()}-core {platform.machine()} CPU, torch threads={torch.get_num_threads()}"
               + (f", {processes.world} processes" if processes.active else "")
               + (f", {torch.cuda.get_device_name(trainer.device)}" if trainer.device.type == "cuda" else "")
               + (", bfloat16 autocast" if trainer.bf16 else ", float32"))
    return {
        "description": args.description or preset.description,
        "command": command,
        "train": train_cfg.to_dict(),
        "train_seconds": round(seconds, 1),
        "steps": result.steps, "status": result.status, "machine": machine,
        "data_split": ("the domain's full installed training set, fixed seeded split" if train_cfg.data == "full"
                       else trainer.domain.data_note()) + "; trained on 'train', best weights chosen on 'val', "
                      "metrics on 'test'",
        "validation": result.best or (result.validation[-1] if result.validation else {}),
        "limitations": list(preset.limitations),
        "tried": list(preset.tried),
    }


def _eval_printer(model):
    """Print validation figures (and cheap sample quality) at each eval, so long runs can be watched."""
    from .. import evaluation

    def show(event):
        if event.kind != "eval":
            return
        figures = {k: v for k, v in event.stats.items() if isinstance(v, float) and not k.startswith("kl_dim")}
        figures.update(evaluation.quick(model))
        text = " ".join(f"{k}={v:.4g}" for k, v in figures.items() if isinstance(v, float))
        print(f"[eval] step {event.step}: {text}", file=sys.stderr, flush=True)

    return show
