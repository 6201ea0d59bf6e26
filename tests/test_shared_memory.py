"""The shared-memory exchange between training processes: every caller gets every vector of the same call,
a missing peer is an error and not a hang, and the exchange is only chosen where it is safe."""
import mmap
import random
import threading

import pytest
import torch

from seqgen.training import shared_memory
from seqgen.training.distributed import Processes
from seqgen.training.shared_memory import Channel


def channels(world: int, numel: int, dtype=torch.float32) -> list[Channel]:
    """One channel per pretend process over one anonymous map (threads stand in for the processes)."""
    memory = mmap.mmap(-1, Channel.bytes_needed(world, numel, dtype))
    return [Channel(rank, world, numel, dtype, memory) for rank in range(world)]


@pytest.mark.parametrize("world", [2, 3])
def test_every_process_gets_every_vector_of_the_same_call(world):
    calls, numel = 300, 1000
    seen = [[] for _ in range(world)]

    def process(channel: Channel):
        jitter = random.Random(channel.rank)
        for call in range(calls):
            if jitter.random() < 0.1:  # some processes run late, as one does when the OS takes its core
                threading.Event().wait(jitter.random() / 1000)
            mine = torch.full((numel,), float(call * world + channel.rank))
            everyone = channel.gather(mine)
            seen[channel.rank].append(everyone[:, [0, -1]].clone())

    threads = [threading.Thread(target=process, args=(c,)) for c in channels(world, numel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    for call in range(calls):
        expected = torch.tensor([[call * world + r] * 2 for r in range(world)], dtype=torch.float32)
        for rank in range(world):  # never a vector from another call, never half of one
            assert torch.equal(seen[rank][call], expected), (rank, call)


def test_the_mean_is_the_same_bits_in_every_process():
    a, b = channels(2, 5, torch.float64)
    exchange = [shared_memory.SharedMemoryExchange(r, 2) for r in (0, 1)]
    for e, c in zip(exchange, (a, b)):
        e._channels[("g", 5, torch.float64)] = c
    values = [torch.tensor([0.1, 0.2, 0.3, 1e-300, -4.0], dtype=torch.float64), torch.arange(5.0).double()]
    results = [None, None]

    def process(r):
        results[r] = exchange[r].mean_("g", values[r].clone())

    threads = [threading.Thread(target=process, args=(r,)) for r in (0, 1)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert torch.equal(results[0], results[1])
    assert torch.allclose(results[0], (values[0] + values[1]) / 2)


def test_a_peer_that_never_comes_is_an_error_not_a_hang(monkeypatch):
    monkeypatch.setattr(shared_memory, "TIMEOUT_SECONDS", 0.05)
    first, _ = channels(2, 4)
    with pytest.raises(RuntimeError, match=r"process\(es\) \[1\] did not reach exchange 1"):
        first.gather(torch.ones(4))


def test_the_exchange_is_chosen_only_where_it_is_safe(monkeypatch):
    cpu = torch.device("cpu")
    lone = Processes()
    lone.choose_exchange("shared-memory", cpu)
    assert lone.exchange is None                                   # nothing to exchange with
    two_machines = Processes(rank=0, world=4, local_rank=0, local_world=2)
    two_machines.choose_exchange("auto", cpu)
    assert two_machines.exchange is None
    with pytest.raises(ValueError, match="needs every process on one machine"):
        two_machines.choose_exchange("shared-memory", cpu)
    with pytest.raises(ValueError, match="for CPU processes"):
        Processes(rank=0, world=2).choose_exchange("shared-memory", torch.device("cuda"))
    monkeypatch.setattr(shared_memory.platform, "machine", lambda: "aarch64")
    arm = Processes(rank=0, world=2)
    arm.choose_exchange("auto", cpu)
    assert arm.exchange is None
    with pytest.raises(ValueError, match="x86-64 memory ordering, and this machine is aarch64"):
        arm.choose_exchange("shared-memory", cpu)
    monkeypatch.undo()
    if shared_memory.supported():
        here = Processes(rank=0, world=2)
        here.choose_exchange("auto", cpu)
        assert here.exchange is not None
        here.choose_exchange("backend", cpu)
        assert here.exchange is None
