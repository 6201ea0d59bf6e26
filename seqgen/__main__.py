"""`python -m seqgen ...` (and `torchrun -m seqgen train ...`): the command line's entry point.

It decides how torch's OpenMP threads wait for work before torch is imported (OMP_WAIT_POLICY is read once,
when torch loads). Spinning (ACTIVE) is what lets one training process use several threads at all: threads
that sleep between the small matmuls of a recurrent step make two threads slower than one. But spinning
threads make anything that shares the CPU with them several times slower. So only `train` spins, and only
in a process that will run several threads; every other command waits passively. `train` usually runs one
single-threaded process per core (seqgen/cli/train.py), where nothing spins. An OMP_WAIT_POLICY already set
wins.
"""
import os
import sys


def wait_policy(args: list[str]) -> str:
    """OMP_WAIT_POLICY for a command line (the arguments after `python -m seqgen`)."""
    spins = bool(args) and args[0] == "train" and os.environ.get("OMP_NUM_THREADS", "") != "1"
    return "ACTIVE" if spins else "PASSIVE"


os.environ.setdefault("OMP_WAIT_POLICY", wait_policy(sys.argv[1:]))

from seqgen.cli import main  # noqa: E402 - after the thread policy, which torch reads when it loads

sys.exit(main(entry_point=True))
