"""Run by tests/test_distributed.py under `torchrun --nproc_per_node=2`: train a toy model with the real Trainer
and write, per process, which examples it trained on, a fingerprint of its final weights and how it ended.

    torchrun --nproc_per_node=2 tests/distributed_worker.py OUT_DIR FAMILY [stop | diverge | ""] [EXCHANGE]

stop: only process 1 is asked to stop; diverge: only process 1's data is NaN. EXCHANGE: the
gradient_exchange setting (default auto). Each process also records how many times training called
torch.distributed.all_reduce and each shared-memory channel.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from toy_domains import ToyRows  # noqa: E402

from seqgen.models import ModelConfig, TrainConfig, build_model  # noqa: E402
from seqgen.training import Trainer, TrainingDiverged  # noqa: E402
from seqgen.training.distributed import Processes  # noqa: E402


class PoisonedRows(ToyRows):
    """Training data that makes every loss NaN: what one process sees when its shard is broken."""

    def dataset(self, split):
        x, y = super().dataset(split)
        return (torch.full_like(x, float("nan")) if split == "train" else x), y


def main(out: Path, family: str, mode: str, exchange: str) -> None:
    processes = Processes.from_environment()
    processes.join(torch.device("cpu"))
    torch.manual_seed(processes.rank)  # different initial weights: the trainer must make them the same
    domain = PoisonedRows() if mode == "diverge" and processes.rank == 1 else ToyRows()
    model = build_model(ModelConfig.for_domain(domain, family, hidden=16, embed=8))
    train = TrainConfig(steps=8 if mode != "stop" else 10**6, batch_size=16, eval_every=4, lr=5e-3,
                        gradient_exchange=exchange)
    trainer = Trainer(model, domain, train, device="cpu", processes=processes)
    seen = []
    shard = processes.shard

    def recording_shard(batch):
        part = shard(batch)
        seen.append(part.tolist())
        if mode == "stop" and processes.rank == 1 and len(seen) == 5:
            trainer.stop_event.set()  # only one process is asked; both must stop at the same step
        return part

    processes.shard = recording_shard
    all_reduce, all_reduces = dist.all_reduce, []
    dist.all_reduce = lambda *a, **k: all_reduces.append(1) or all_reduce(*a, **k)
    try:
        result = trainer.fit()
        ending = {"status": result.status, "steps": result.steps, "evaluated": bool(result.validation)}
    except TrainingDiverged as e:
        ending = {"status": "diverged", "message": str(e)}
    dist.all_reduce = all_reduce
    channels = {}
    for (name, _, _), channel in (processes.exchange._channels.items() if processes.exchange else ()):
        channels[name] = channels.get(name, 0) + channel._calls
    weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    (out / f"rank{processes.rank}.json").write_text(json.dumps(
        {"seen": seen, "weights": weights.tolist()[:64], "weight_sum": float(weights.double().sum()),
         "all_reduce_calls": len(all_reduces), "channel_calls": channels, **ending}))
    processes.leave()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "",
         sys.argv[4] if len(sys.argv) > 4 else "auto")
