#!/usr/bin/python3
"""The Q-network workloads of bench/nn.ts in PyTorch (Debian python3-torch, CPU),
for a side-by-side speed ratio. Same network (3 hidden conv layers of 10
filters, 15x15 kernels, leaky ReLU 0.2, tanh output, biases), same settings
(A: 42x37 periodic S=1, B: 60x60 non-periodic S=3), same workloads: forward of
one state (24 atoms), one Adam step over 256 samples (64 states x 4 copies,
paper eq. 2 loss on 3 output cells: action + 2 spillover), episode = 24
forwards + 1 step. Prints JSON.

  /usr/bin/python3 bench/torch_qnet.py [--threads 1,2] [--steps 3] [--settings A,B]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--threads', default='1,2')
p.add_argument('--steps', type=int, default=3)
p.add_argument('--settings', default='A,B')
args = p.parse_args()

SETTINGS = {'A': (42, 37, True, 1), 'B': (60, 60, False, 3)}


class QNet(torch.nn.Module):
    def __init__(self, S, periodic, filters=(10, 10, 10), k=15):
        super().__init__()
        widths = [S, *filters, S]
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv2d(widths[i], widths[i + 1], k, padding=0) for i in range(len(widths) - 1))
        self.pad = k // 2
        self.periodic = periodic

    def forward(self, x):
        n = len(self.convs)
        for i, c in enumerate(self.convs):
            q = self.pad
            x = F.pad(x, (q, q, q, q), mode='circular' if self.periodic else 'constant')
            x = c(x)
            x = torch.tanh(x) if i == n - 1 else F.leaky_relu(x, 0.2)
        return x


def states(g, count, S, n0, n1, atoms=24):
    x = torch.zeros(count, S, n0, n1)
    for b in range(count):
        pos = torch.randperm(n0 * n1, generator=g)[:atoms]
        sp = torch.randint(0, S, (atoms,), generator=g)
        x[b, sp, pos // n1, pos % n1] = 1
    return x


results = []
for key in args.settings.split(','):
    n0, n1, periodic, S = SETTINGS[key]
    for threads in [int(t) for t in args.threads.split(',')]:
        torch.set_num_threads(threads)
        torch.manual_seed(1)
        g = torch.Generator().manual_seed(1)
        net = QNet(S, periodic)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
        base = states(g, 64, S, n0, n1)
        copies = [base]
        for k in range(1, 4):
            copies.append(torch.roll(base, shifts=(k * 5, k * 3), dims=(2, 3)) if periodic else torch.flip(base, dims=[2 + (k & 1)]))
        X = torch.cat(copies)  # 256 samples
        m = X.shape[0]
        c = torch.randint(0, S, (m,), generator=g)
        i0 = torch.randint(1, n0 - 1, (m,), generator=g)
        i1 = torch.randint(1, n1 - 1, (m,), generator=g)
        cells = torch.stack([torch.stack([c, i0, i1], 1), torch.stack([c, i0, i1 + 1], 1), torch.stack([c, i0 + 1, i1], 1)], 1)
        w = torch.tensor([1.0, 0.1, 0.1])
        T = torch.rand(m, generator=g) * 2 - 1
        bidx = torch.arange(m)[:, None].expand(m, 3)

        def step():
            opt.zero_grad()
            Q = net(X)
            q = Q[bidx, cells[..., 0], cells[..., 1], cells[..., 2]]
            loss = (((q - T[:, None]) * w).sum(1) ** 2).mean()
            loss.backward()
            opt.step()
            return loss.item()

        xs = states(g, 24, S, n0, n1)

        def fwd(x):
            with torch.no_grad():
                return net(x[None])

        step()
        for i in range(5):
            fwd(xs[i])
        fw = []
        for r in range(3):
            for x in xs:
                t0 = time.perf_counter()
                fwd(x)
                fw.append((time.perf_counter() - t0) * 1000)
        fw.sort()
        times = []
        for s in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        t0 = time.perf_counter()
        for x in xs:
            fwd(x)
        step()
        episode_ms = (time.perf_counter() - t0) * 1000
        results.append({'engine': 'pytorch', 'setting': key, 'grid': f'{n0}x{n1}', 'periodic': [periodic, periodic],
                        'species': S, 'threads': threads, 'forward_ms': round(fw[len(fw) // 2], 3), 'forward_ms_min': round(fw[0], 3),
                        'train_step_ms': round(times[len(times) // 2], 1), 'train_step_ms_min': round(times[0], 1), 'train_step_ms_all': [round(t, 1) for t in times],
                        'episode_ms': round(episode_ms, 1)})
print(json.dumps({'torch': torch.__version__, 'results': results}, indent=1))
