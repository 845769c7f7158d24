"""A-MAML in PyTorch, written the way the paper's authors run it: the comparison for `amaml bench`.

Per-task Python loop, eager autograd, classic RK4 forward storing every state, explicit
Euler backward sweep of the adjoint with Hessian-vector products by double backward
(K steps, not the K + 1 of the authors' code). On the same inputs it computes the same
meta-gradient as ``amaml.AdjointMAML(K, h, forward=RK4(), backward=Euler(),
checkpoints=None)``.

Run as a worker: ``python benchmarks/torch_amaml.py --data W.npz --steps 200`` prints one
JSON line with the median seconds per meta-update and the peak RSS; `amaml bench --against
torch` writes the workload file and checks that both sides give the same meta-gradient.
This file is not part of the package; it needs the ``bench-torch`` extra (torch 2.13.0,
CPU build).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import numpy as np
import torch


def peak_rss_bytes() -> int:  # as amaml.cli._bench_worker's; importing amaml would load JAX here
    """This process's peak resident memory. VmHWM resets at exec; ru_maxrss inherits the
    parent's high-water mark across fork + exec on Linux, so it is only the fallback."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def unflatten(flat: torch.Tensor, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views of a flat vector as [(b, w)] per layer, in amaml's flat order (b before w)."""
    layers, offset = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        b = flat[offset : offset + fan_out]
        offset += fan_out
        w = flat[offset : offset + fan_in * fan_out].view(fan_in, fan_out)
        offset += fan_in * fan_out
        layers.append((b, w))
    return layers


def mlp(flat: torch.Tensor, sizes: list[int], x: torch.Tensor) -> torch.Tensor:
    layers = unflatten(flat, sizes)
    for b, w in layers[:-1]:
        x = torch.tanh(x @ w + b)
    b, w = layers[-1]
    return x @ w + b


def loss(flat, sizes, x, y):
    return 0.5 * ((mlp(flat, sizes, x) - y) ** 2).sum() / y.shape[0]


def vector_field(u, sizes, x, y):
    u = u.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(u, sizes, x, y), u)
    return -g


def hvp(u, v, sizes, x, y):
    u = u.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(u, sizes, x, y), u, create_graph=True)
    (hv,) = torch.autograd.grad(g, u, v)
    return hv


def task_meta_grad(theta, sizes, xs, ys, xq, yq, steps, h):
    states = [theta]
    u = theta
    for _ in range(steps):  # classic RK4 on du/dt = -grad L_tr(u)
        k1 = vector_field(u, sizes, xs, ys)
        k2 = vector_field(u + 0.5 * h * k1, sizes, xs, ys)
        k3 = vector_field(u + 0.5 * h * k2, sizes, xs, ys)
        k4 = vector_field(u + h * k3, sizes, xs, ys)
        u = u + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        states.append(u)
    u_final = states[-1].detach().requires_grad_(True)
    value = loss(u_final, sizes, xq, yq)
    (a,) = torch.autograd.grad(value, u_final)
    for j in reversed(range(steps)):  # explicit Euler backward: a_j = a_{j+1} - h H(u_{j+1}) a_{j+1}
        a = a - h * hvp(states[j + 1], a, sizes, xs, ys)
    return value.detach(), a


def meta_value_and_grad(theta, sizes, tasks, steps, h):
    """Mean meta-loss and A-MAML meta-gradient over the task batch, one task at a time."""
    support_x, support_y, query_x, query_y = tasks
    total_value, total_grad = 0.0, torch.zeros_like(theta)
    batch = support_x.shape[0]
    for i in range(batch):
        value, grad = task_meta_grad(theta, sizes, support_x[i], support_y[i], query_x[i], query_y[i], steps, h)
        total_value += value
        total_grad += grad
    return total_value / batch, total_grad / batch


def load(path: str):
    """The workload written by `amaml bench` (the JAX side reads the same file)."""
    with np.load(path) as data:
        sizes = [int(v) for v in data["sizes"]]
        theta = torch.from_numpy(data["theta"])
        tasks = tuple(torch.from_numpy(data[k]) for k in ("support_x", "support_y", "query_x", "query_y"))
    return theta, sizes, tasks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--data", required=True, help="workload .npz written by `amaml bench`")
    parser.add_argument("--step-size", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grad-out", help="also save the meta-gradient here (.npy), for the equality check")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    theta, sizes, tasks = load(args.data)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        _, grad = meta_value_and_grad(theta, sizes, tasks, args.steps, args.step_size)
        times.append(time.perf_counter() - start)
    if args.grad_out:
        np.save(args.grad_out, grad.numpy())
    print(
        json.dumps(
            {
                "status": "ok",
                "seconds": statistics.median(times),
                "compile_seconds": 0.0,
                "peak_rss_bytes": peak_rss_bytes(),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
