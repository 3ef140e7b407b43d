"""The built-in variants as people write them in PyTorch: a forward pass and a loss, nothing else.

Each module follows the autograd protocol (``docs/step-protocol.md``): ``forward(w, x, hp)``, the
scores ``predict`` returns, and ``loss(w, x, y, extras, hp)``, one batch's training loss as a
differentiable function of the weights. PyTorch's autograd takes the gradients and
``torch.optim`` applies the optimiser the variant declares (:mod:`mnistbench_torch.autograd`):
the ``autograd`` and ``compiled`` implementations, beside the hand-written ``tuned`` steps.
"""
