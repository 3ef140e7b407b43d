"""Seed 000 (``000_d9262ed16cdd3653.txt``), PyTorch: cells [4]-[5]'s training loop for ``mnn``.

As the notebook: ``net`` clamps the state to the image and the bias neuron in place, then
``relu(s @ A)``, three ticks from a zero state, cross-entropy of the last 10 neurons, Adam on the
whole 895 x 895 ``A`` through autograd, and the per-step accuracy. The seed's bias index bug
(``s[:, inputs] = 1`` writes the first hidden neuron) is kept: it costs what the fix would.

Fixed, because the loop cannot run without it: ``net`` wrote into a state that autograd saved
for ``relu``'s backward (PyTorch refuses the backward); it now clones the state first, a
64 x 895 copy per tick.

The batches come through a ``DataLoader`` as in cell [3]: each sample made a PIL image, then
``ToTensor`` and ``Normalize`` one at a time, and collated by 64 (:class:`SeedMNIST` inlines what
torchvision's ``MNIST`` dataset and those transforms do for an 8-bit grey image, so the
benchmark needs no torchvision). That per-sample work is part of the seed's epoch, about a
fifth of it here.

Departures: the loader visits the core's shuffled order (a sampler) instead of its own shuffle;
the images are the core's (its normalised inputs turned back into the 8-bit pixels they came
from); the initial ``A`` is the core's, ``U(0, init_scale)``; the printing every 200 steps is
left out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from PIL import Image

from mnistbench.data.shapes import MNIST
from mnistbench.plugin.backend import TrainSpec
from mnistbench.variants.mnn import MEAN, STD, n_neurons


class SeedMNIST(torch.utils.data.Dataset):
    """torchvision's ``MNIST(transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))``
    for 8-bit grey images, inlined: what the seed's DataLoader does per sample."""

    def __init__(self, pixels: np.ndarray, labels: np.ndarray):
        self.data = torch.from_numpy(pixels.reshape(-1, 28, 28))
        self.targets = torch.from_numpy(labels)
        self.mean = torch.tensor([MEAN]).view(-1, 1, 1)
        self.std = torch.tensor([STD]).view(-1, 1, 1)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy())  # mode "L"
        # ToTensor: the image's bytes as a (1, 28, 28) float tensor in [0, 1]
        tensor = torch.from_numpy(np.array(img, np.uint8, copy=True))
        tensor = tensor.view(img.size[1], img.size[0], 1).permute((2, 0, 1)).contiguous()
        tensor = tensor.to(dtype=torch.get_default_dtype()).div(255)
        # Normalize (not in place: torchvision clones first)
        tensor = tensor.clone()
        tensor.sub_(self.mean).div_(self.std)
        return tensor, target


def pixels_of(x: np.ndarray) -> np.ndarray:
    """The 8-bit pixels the variant's normalised inputs were made from."""
    return np.rint((x * np.float32(STD) + np.float32(MEAN)) * 255).astype(np.uint8)


def prepare(spec: TrainSpec) -> Callable[[int], float]:
    hp = spec.hyperparameters
    inputs = MNIST.pixels + 1  # the notebook's 785: it reads MNIST only
    hidden, ticks = int(hp["hidden"]), int(hp["ticks"])
    neurons = n_neurons(hp)
    A = torch.from_numpy(spec.initial_weights["A"].copy()).requires_grad_(True)
    optimizer = torch.optim.Adam([A], lr=float(hp["lr"]))
    loss_fn = torch.nn.CrossEntropyLoss()
    dataset = SeedMNIST(pixels_of(spec.x_train), spec.y_train)

    def net(s, x):
        s = s.clone()
        s[:, 0 : inputs - 1] = x
        s[:, inputs] = 1
        t = torch.matmul(s, A)
        s = torch.relu(t)
        return s

    def run_epoch(epoch: int) -> float:
        first = None
        sampler = spec.epochs[epoch].tolist()
        train_loader = torch.utils.data.DataLoader(dataset, spec.batch_size, sampler=sampler)
        for batch_X, batch_y in train_loader:
            state = torch.zeros(batch_X.shape[0], neurons)
            for _ in range(0, ticks):
                state = net(state, batch_X.view(-1, 28 * 28))

            outs = state[:, inputs + hidden : neurons]
            loss = loss_fn(outs, batch_y)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            acc = (outs.max(1).indices == batch_y).float().mean()  # noqa: F841 (the seed's)
            first = loss.item() if first is None else first
        return first

    return run_epoch
