"""LeNet-5 for mnistbench, as a variant plugin an outside author would write.

- :mod:`mnistbench_lenet.variant`: the declaration (defaults, inputs, initial weights, plan,
  float64 reference, cost, contract), registered in the ``mnistbench.variants`` entry-point group.
- :mod:`mnistbench_lenet.reference`: the float64 arithmetic the conformance suite checks against.
- :mod:`mnistbench_lenet.numpy_steps`, :mod:`mnistbench_lenet.torch_steps`,
  :mod:`mnistbench_lenet.jax_steps`: one implementation per backend, each written to that
  backend's step protocol, version 1 (mnistbench's ``docs/step-protocol.md``).

Only public APIs of mnistbench are used: :mod:`mnistbench.variants.base`,
:mod:`mnistbench.variants.parts` and :mod:`mnistbench.variants.float64`.
"""
